"""/borrow: the amount within the person's limits (asked back when it reads two ways), term,
purpose and profile as buttons, a summary with the schedule, submission and real scoring, and
the answer — offer, refusal or review — delivered through the outbox; accepting the offer
signs the listing on anvil."""

from __future__ import annotations

import pytest

from bot.guard import FloodGate
from core.loans.models import Loan
from core.loans.states import LoanState
from core.scoring.models import BorrowerProfile
from core.signing.models import SigningStatus
from core.users.models import KycTier
from core.users.services import user_set_language
from tests import factories
from tests.bot.harness import PEOPLE, db
from tests.bot.wallets import deliver_outbox, follow_signing_link
from tests.chain import dev_key, people_on_chain

pytestmark = pytest.mark.django_db
# A person clicking through a long path in a second would hit the real flood limit.
UNLIMITED = FloodGate(max_updates=10_000, window_s=1)
KEYS = {"alice": dev_key(22), "bob": dev_key(23), "charlie": dev_key(24)}


@pytest.fixture(autouse=True)
def scoring_runs_at_once(transactional_db):
    """Celery in the calling process, as CELERY_TASK_ALWAYS_EAGER does: submitting scores
    (after the submission commits, so the test's transactions really commit; committed
    scores reach the cache too, so it starts and ends empty)."""
    from django.core.cache import cache

    from config.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    cache.clear()
    yield
    cache.clear()
    app.conf.task_always_eager = saved


def borrower(name: str = "alice", *, tier: int = KycTier.VERIFIED, language: str = "en"):
    person = PEOPLE[name]
    user = factories.borrower(telegram_id=person["id"], username=name, tier=tier)
    return user_set_language(user=user, language=language) if language != "en" else user


async def apply(chat, person, amount: str, *, term: str = "3 months", purpose: str = "Business",
                income: str | None = "1,500 to 3,000 a month",
                job: str | None = "Employed") -> list[dict]:
    """Go from /borrow to the submitted application; returns the last replies."""
    await chat.say(person, "/borrow")
    replies = await chat.say(person, amount)
    replies = await chat.press(person, replies[-1], term)
    replies = await chat.press(person, replies[-1], purpose)
    if income is not None:
        replies = await chat.press(person, replies[-1], income)
        replies = await chat.press(person, replies[-1], job)
    summary = [message for message in replies if "reply_markup" in message][-1]
    return await chat.press(person, summary, "Submit the application")


def test_an_application_gets_an_offer_with_its_schedule_and_reasons(run_bot):
    alice = PEOPLE["alice"]
    borrower()

    async def scenario(chat):
        replies = await chat.say(alice, "/borrow")
        assert "up to 1,000.00\u00a0USDx" in replies[-1]["text"]
        replies = await chat.say(alice, "150")
        assert "Over how many monthly installments" in replies[-1]["text"]
        replies = await chat.press(alice, replies[-1], "3 months")
        replies = await chat.press(alice, replies[-1], "Business")
        assert "monthly income" in replies[-1]["text"]  # the profile was never declared
        replies = await chat.press(alice, replies[-1], "1,500 to 3,000 a month")
        replies = await chat.press(alice, replies[-1], "Employed")
        summary, chart = replies[-2], replies[-1]
        assert "Amount: 150.00\u00a0USDx" in summary["text"]
        assert "1. " in summary["text"] and "3. " in summary["text"]  # the installments table
        assert "interest" in chart["caption"] and "photo" in chart
        assert await db(BorrowerProfile.objects.filter(
            user__telegram_id=alice["id"], income_band="1500_3000", employment="employed").exists)

        replies = await chat.press(alice, summary, "Submit the application")
        assert "Scoring is running" in replies[-1]["text"]
        loan = await db(Loan.objects.get, borrower__telegram_id=alice["id"])
        assert loan.state == LoanState.APPROVED  # scoring really ran

        await deliver_outbox(chat)
        offer = chat.messages(alice)[-1]
        assert offer["text"].startswith(f"Good news: your loan #{loan.pk} is approved.")
        for part in (f"Grade: {loan.grade}", "Interest rate (APR):", "Total to repay:",
                     "3 monthly installments of about", "What shaped your score:"):
            assert part in offer["text"]
        assert "Accept the offer" in str(offer["reply_markup"])

        replies = await chat.press(alice, offer, "Decline")
        assert "You declined the offer" in replies[-1]["text"]
        assert (await db(Loan.objects.get, pk=loan.pk)).state == LoanState.CANCELLED

    run_bot(scenario)


def test_accepting_the_offer_lists_the_loan_on_chain(run_bot, chain, settings):
    world = people_on_chain(chain, settings, KEYS, first_telegram_id=PEOPLE["alice"]["id"],
                            suffix="b", tokens=10 * factories.USD)
    alice = PEOPLE["alice"]

    async def scenario(chat):
        await apply(chat, alice, "200")
        await deliver_outbox(chat)
        offer = chat.messages(alice)[-1]
        replies = await chat.press(alice, offer, "Accept the offer")
        assert replies[0]["text"].startswith("You accepted the offer.")
        request = await follow_signing_link(chain, KEYS["alice"], replies)
        assert request.status == SigningStatus.CONFIRMED
        return await db(Loan.objects.get, borrower=world["alice"])

    loan = run_bot(scenario)
    assert loan.state == LoanState.LISTED and loan.chain_loan_id is not None


def test_an_amount_that_reads_two_ways_is_asked_back_and_limits_are_explained(run_bot):
    lucia = PEOPLE["lucia"]
    borrower("lucia", tier=KycTier.BASIC, language="es")

    async def scenario(chat):
        replies = await chat.say(lucia, "/borrow")
        assert "100,00\u00a0USDx" in replies[-1]["text"]
        replies = await chat.say(lucia, "1.500")  # in Spanish: 1.5 or 1500?
        assert replies[-1]["text"] == "¿Querías decir 1.500,00\u00a0USDx o 1,50\u00a0USDx?"
        replies = await chat.press(lucia, replies[-1], "1.500,00")
        assert "es más de lo que puedes pedir" in replies[-1]["text"]
        assert "nivel de verificación" in replies[-1]["text"]
        replies = await chat.say(lucia, "abc")
        assert "No he podido leer" in replies[-1]["text"]
        replies = await chat.say(lucia, "80")
        assert "cuotas mensuales" in replies[-1]["text"]

    run_bot(scenario)


def test_a_refused_application_says_why(run_bot):
    alice = PEOPLE["alice"]
    borrower(tier=KycTier.BASIC)

    async def scenario(chat):
        await apply(chat, alice, "90", term="24 months", income="Prefer not to say",
                    job="Prefer not to say")
        await deliver_outbox(chat)
        refusal = chat.messages(alice)[-1]["text"]
        loan = await db(Loan.objects.get, borrower__telegram_id=alice["id"])
        assert loan.state == LoanState.REJECTED
        assert refusal.startswith(f"I am sorry: we cannot offer loan #{loan.pk} now.")
        assert "The term is too long for your grade" in refusal

    run_bot(scenario)


def test_a_large_application_goes_to_review_and_the_borrower_hears_what_next(run_bot):
    alice = PEOPLE["alice"]
    borrower()

    async def scenario(chat):
        await apply(chat, alice, "1000", income="3,000 or more a month")
        await deliver_outbox(chat)
        text = chat.messages(alice)[-1]["text"]
        loan = await db(Loan.objects.get, borrower__telegram_id=alice["id"])
        assert loan.state == LoanState.IN_REVIEW
        assert "needs a check by a person" in text and "Large amounts are checked" in text
        assert "you will hear from me here within about 24 hours" in text

    run_bot(scenario)


def test_borrowing_needs_onboarding_first(run_bot):
    async def scenario(chat):
        replies = await chat.say("bob", "/borrow")
        assert "Still missing: your role, accepting the terms" in replies[-1]["text"]
        assert "/start" in replies[-1]["text"]

    run_bot(scenario)


def test_someone_elses_offer_cannot_be_accepted_or_declined(run_bot):
    borrower()
    factories.lender(telegram_id=PEOPLE["bob"]["id"], username="bob")

    async def scenario(chat):
        alice, bob = PEOPLE["alice"], PEOPLE["bob"]
        await apply(chat, alice, "100")
        loan = await db(Loan.objects.get, borrower__telegram_id=alice["id"])
        mine = await chat.say(bob, "/help")
        for data in (f"1|offer|acc|{loan.pk}", f"1|offer|dec|{loan.pk}", "1|offer|acc|x"):
            assert await chat.press(bob, mine[-1], data=data) == []
            assert "not yours" in chat.callback_answers()[-1]["text"]
        assert (await db(Loan.objects.get, pk=loan.pk)).state == LoanState.APPROVED
        # A stale press by the borrower after declining changes nothing either.
        await deliver_outbox(chat)
        offer = chat.messages(alice)[-1]
        await chat.press(alice, offer, "Decline")
        await chat.press(alice, offer, data=f"1|offer|acc|{loan.pk}")
        assert "can no longer be answered" in chat.callback_answers()[-1]["text"]
        assert (await db(Loan.objects.get, pk=loan.pk)).state == LoanState.CANCELLED

    run_bot(scenario)


def test_cancel_in_the_middle_of_every_step_submits_nothing(run_bot):
    alice = PEOPLE["alice"]
    borrower()
    path = ["150", "3 months", "Business", "1,500 to 3,000 a month", "Employed"]

    async def scenario(chat):
        for depth in range(len(path) + 1):
            replies = await chat.say(alice, "/borrow")
            for step, answer in enumerate(path[:depth]):
                replies = (await chat.say(alice, answer) if step == 0 else
                           await chat.press(alice, replies[-1], answer))
            last = [message for message in replies if "reply_markup" in message]
            stopped = await chat.say(alice, "/cancel")
            assert stopped[-1]["text"].startswith("Cancelled.")
            if last:
                button = last[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
                assert await chat.press(alice, last[-1], data=button) == []
                assert "no longer active" in chat.callback_answers()[-1]["text"]
        assert not await db(Loan.objects.exists)

    run_bot(scenario, flood_gate=UNLIMITED)
