"""/loans and /repay on a real chain: funding progress, drawdown, the schedule, repaying the
next installment, a typed amount and the payoff through signing links; cancelling before
funding; and nobody acts on someone else's loan through a forged button."""

from __future__ import annotations

import pytest

from bot.guard import FloodGate
from bot.i18n import format_amount
from core.loans.models import Installment, Loan
from core.loans.states import LoanState
from core.signing import actions
from core.signing.models import SigningRequest
from tests import factories
from tests.bot.harness import PEOPLE, db, new_person
from tests.bot.wallets import follow_signing_link
from tests.chain import dev_key, people_on_chain

pytestmark = pytest.mark.django_db
USD = factories.USD
KEYS = {"alice": dev_key(25), "bob": dev_key(26), "charlie": dev_key(27)}
UNLIMITED = FloodGate(max_updates=10_000, window_s=1)


@pytest.fixture
def world(chain, settings):
    return people_on_chain(chain, settings, KEYS, first_telegram_id=PEOPLE["alice"]["id"],
                           suffix="l", tokens=1_000 * USD)


def listed(chain, world, **terms) -> Loan:
    loan = factories.approved_loan(borrower=world["alice"], **terms)
    chain.sign(KEYS["alice"], actions.open_loan_request(user=world["alice"], loan=loan))
    chain.sync()
    loan.refresh_from_db()
    return loan


def fund(chain, world, loan: Loan, name: str, amount: int) -> None:
    loan.refresh_from_db()
    chain.sign(KEYS[name], actions.fund_request(user=world[name], loan=loan, amount=amount))
    chain.sync()


def test_a_borrower_follows_funding_draws_down_and_repays_on_chain(run_bot, chain, world):
    alice = PEOPLE["alice"]
    loan = listed(chain, world, principal=300 * USD, installments=3, apr_bps=1800)

    async def scenario(chat):
        card = (await chat.say(alice, "/loans"))[-1]
        assert f"Loan #{loan.pk}: 300.00\u00a0USDx over 3 months — listed for lenders" in card[
            "text"]
        assert "Funded: 0.00\u00a0USDx of 300.00\u00a0USDx ░░░░░░░░░░ 0%" in card["text"]
        assert "Cancel" in str(card["reply_markup"]) and "Repay" not in str(card["reply_markup"])

        await db(fund, chain, world, loan, "bob", 100 * USD)
        card = (await chat.say(alice, "/loans"))[-1]
        assert "being funded" in card["text"] and "▓▓▓░░░░░░░ 33%" in card["text"]

        await db(fund, chain, world, loan, "charlie", 200 * USD)
        card = (await chat.say(alice, "/loans"))[-1]
        assert "funded, ready to draw down" in card["text"]
        replies = await chat.press(alice, card, "Draw down")
        assert replies[0]["text"].startswith("Receive 300.00\u00a0USDx into your wallet.")
        await follow_signing_link(chain, KEYS["alice"], replies)

        first = await db(Installment.objects.get, loan=loan, number=1)
        card = (await chat.say(alice, "/loans"))[-1]
        assert "— active" in card["text"]
        assert f"Next: {format_amount(first.amount, 'en')} due on" in card["text"]

        replies = await chat.press(alice, card, "Schedule")
        assert replies[0]["text"].startswith(f"Schedule of loan #{loan.pk}:")
        assert replies[0]["text"].count("(interest") == 3 and "photo" in replies[1]

        # The next installment, through /repay.
        options = (await chat.say(alice, "/repay"))[-1]
        replies = await chat.press(alice, options, "Next installment")
        await follow_signing_link(chain, KEYS["alice"], replies)
        assert (await db(Loan.objects.get, pk=loan.pk)).repaid_amount == first.amount

        # A partial amount, typed.
        options = (await chat.say(alice, "/repay"))[-1]
        replies = await chat.press(alice, options, "Another amount")
        assert "Type the amount you would like to repay" in replies[-1]["text"]
        replies = await chat.say(alice, "10")
        await follow_signing_link(chain, KEYS["alice"], replies)
        assert (await db(Loan.objects.get, pk=loan.pk)).repaid_amount == first.amount + 10 * USD

        # The payoff: everything that is left, early.
        options = (await chat.say(alice, "/repay"))[-1]
        replies = await chat.press(alice, options, "Everything")
        await follow_signing_link(chain, KEYS["alice"], replies)
        repaid = await db(Loan.objects.get, pk=loan.pk)
        assert repaid.state == LoanState.REPAID and repaid.repaid_amount == repaid.total_due
        assert "nothing to repay" in (await chat.say(alice, "/repay"))[-1]["text"]

    run_bot(scenario, flood_gate=UNLIMITED)


def test_a_repayment_above_what_is_owed_is_refused_in_plain_words(run_bot, world):
    alice = PEOPLE["alice"]
    loan = factories.active_loan(borrower=world["alice"], lenders=[(world["bob"], 100 * USD)],
                                 principal=100 * USD, installments=1)

    async def scenario(chat):
        options = (await chat.say(alice, "/repay"))[-1]
        await chat.press(alice, options, "Another amount")
        replies = await chat.say(alice, "5000")
        assert replies[-1]["text"].startswith("Choose an amount up to")
        assert not await db(SigningRequest.objects.filter(loan=loan).exists)

    run_bot(scenario)


def test_cancelling_before_funding_off_chain_and_on_chain(run_bot, chain, world):
    alice = PEOPLE["alice"]
    approved = factories.approved_loan(borrower=world["alice"], principal=50 * USD)
    on_chain = listed(chain, world, principal=60 * USD)

    async def scenario(chat):
        cards = await chat.say(alice, "/loans")
        card = next(c for c in cards if f"Loan #{approved.pk}:" in c.get("text", ""))
        confirm = (await chat.press(alice, card, "Cancel"))[-1]
        assert "Cancel this loan?" in confirm["text"]
        done = await chat.press(alice, confirm, "Yes, cancel the loan")
        assert done[-1]["text"] == f"Loan #{approved.pk} is cancelled."

        cards = await chat.say(alice, "/loans")
        card = next(c for c in cards if f"Loan #{on_chain.pk}:" in c.get("text", ""))
        confirm = (await chat.press(alice, card, "Cancel"))[-1]
        replies = await chat.press(alice, confirm, "Yes, cancel the loan")
        await follow_signing_link(chain, KEYS["alice"], replies)

    run_bot(scenario)
    approved.refresh_from_db()
    on_chain.refresh_from_db()
    assert approved.state == LoanState.CANCELLED and on_chain.state == LoanState.CANCELLED


def test_forged_or_stale_buttons_on_someone_elses_loan_change_nothing(run_bot, world):
    bob = PEOPLE["bob"]
    loan = factories.active_loan(borrower=world["alice"], lenders=[(world["bob"], 100 * USD)],
                                 principal=100 * USD, installments=2)
    funded = factories.listed_loan(borrower=world["alice"], principal=20 * USD)

    async def scenario(chat):
        mine = (await chat.say(bob, "/loans"))[-1]
        for data in (f"1|myloan|repay|{loan.pk}", f"1|myloan|sched|{loan.pk}",
                     f"1|myloan|cancel2|{funded.pk}", f"1|myloan|draw|{loan.pk}",
                     f"1|repay|all|{loan.pk}", f"1|repay|next|{loan.pk}",
                     f"1|repay|other|{loan.pk}", "1|repay|amt|forged|100", "1|myloan|x|y"):
            assert await chat.press(bob, mine, data=data) == []
            answer = chat.callback_answers()[-1]["text"]
            assert "not yours" in answer or "no longer active" in answer
        assert not await db(SigningRequest.objects.exists)
        assert (await db(Loan.objects.get, pk=funded.pk)).state == LoanState.LISTED
        # The borrower's own stale button: the loan moved on, the button says so.
        alice = PEOPLE["alice"]
        assert await chat.press(alice, mine, data=f"1|myloan|draw|{loan.pk}") == []
        assert "not possible now" in chat.callback_answers()[-1]["text"]

    run_bot(scenario)


def test_cancel_while_typing_a_repayment_leaves_nothing_behind(run_bot, world):
    alice = PEOPLE["alice"]
    factories.active_loan(borrower=world["alice"], lenders=[(world["bob"], 100 * USD)],
                          principal=100 * USD, installments=2)

    async def scenario(chat):
        options = (await chat.say(alice, "/repay"))[-1]
        await chat.press(alice, options, "Another amount")
        assert (await chat.say(alice, "/cancel"))[-1]["text"].startswith("Cancelled.")
        assert "did not understand" in (await chat.say(alice, "10"))[-1]["text"]
        assert not await db(SigningRequest.objects.exists)

    run_bot(scenario)


def test_a_share_link_opens_the_loan_card_and_a_newcomer_is_onboarded_next(run_bot, world):
    loan = factories.listed_loan(borrower=world["alice"], principal=40 * USD)
    newcomer = new_person("en")

    from core.users.services import user_set_phone

    bob = world["bob"]
    user_set_phone(user=bob, phone="+15550001002", contact_user_id=bob.telegram_id)

    async def scenario(chat):
        replies = await chat.say(PEOPLE["bob"], f"/start loan_{loan.pk}")
        assert len(replies) == 1 and f"#{loan.pk}" in replies[0]["text"]
        replies = await chat.say(newcomer, f"/start loan_{loan.pk}")
        assert f"#{loan.pk}" in replies[0]["text"]
        assert "Which language should I use?" in replies[-1]["text"]

    run_bot(scenario)
