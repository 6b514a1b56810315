"""The story's other endings, through the bot on a real chain: a listing that expires and
refunds its lenders; a late installment and then a default that the backstop pool covers; an
admin who approves one application and rejects another; a frozen account refused; and someone
else's loan untouchable through forged buttons. Signing links are followed and signed by test
wallets, notifications delivered through the outbox, and read in each person's language."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.cache import cache
from eth_account import Account
from web3 import Web3

from core.chain.models import ChainLog
from core.ledger.models import AccountKind
from core.ledger.selectors import kind_balance, trial_balance
from core.loans.keeper import listings_expire, loans_mark_defaults
from core.loans.models import FundingPosition, Loan
from core.loans.reminders import installment_reminders_queue
from core.loans.services import loans_refresh_lateness_due
from core.loans.states import LoanState
from core.signing import actions
from core.signing.models import SigningRequest, SigningStatus
from core.users.models import KycTier, TelegramUser
from core.users.services import (
    user_get_or_create_from_telegram,
    user_set_kyc_tier,
    user_set_language,
    user_set_phone,
    user_set_roles,
)
from tests import factories
from tests.bot.harness import PEOPLE, db
from tests.bot.test_story import (
    data_of,
    delivered,
    persian_only,
    plain,
    point_at,
    scoring_runs_at_once,  # noqa: F401 - a fixture, used by name
    tap,
    with_button,
)
from tests.bot.wallets import follow_signing_link
from tests.chain import dev_key

pytestmark = pytest.mark.django_db
USD = factories.USD
KEYS = {"reza": dev_key(83), "lucia": dev_key(84), "bob": dev_key(85),
        "depositor": dev_key(86)}
KEEPER_KEY = dev_key(87)
ADA = {"id": 1900, "first_name": "Ada", "username": "ada_admin", "language_code": "en"}


def address(name: str) -> str:
    return Account.from_key(KEYS[name]).address


@pytest.fixture
def rewound_chain(chain):
    """These tests move the chain's clock by weeks: put it back afterwards."""
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    yield chain
    chain.w3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture
def world(rewound_chain, settings, tmp_path):
    """reza borrows (Persian), lucia (Spanish) and bob (English) lend, a depositor backs the
    pool; every wallet holds tokens; the keeper has its key and gas."""
    chain = rewound_chain
    settings.KEEPER_PRIVATE_KEY = KEEPER_KEY
    settings.NONCE_LOCK_DIR = str(tmp_path / "nonces")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "story-edges"}}
    cache.clear()
    chain.w3.provider.make_request("anvil_setBalance",
                                   [Account.from_key(KEEPER_KEY).address, hex(10**20)])
    balances = point_at(chain, settings, KEYS)
    people = {"balances": balances}
    people["reza"] = user_set_language(user=factories.borrower(
        telegram_id=PEOPLE["reza"]["id"], username="reza", wallet=address("reza")),
        language="fa")
    people["lucia"] = user_set_language(user=factories.lender(
        telegram_id=PEOPLE["lucia"]["id"], username="lucia", wallet=address("lucia")),
        language="es")
    people["bob"] = factories.lender(telegram_id=PEOPLE["bob"]["id"], username="bob",
                                     wallet=address("bob"))
    people["depositor"] = factories.lender(telegram_id=PEOPLE["alice"]["id"],
                                           username="alice", wallet=address("depositor"))
    return people


def listed(chain, world, *, principal: int = 300 * USD, installments: int = 3) -> Loan:
    loan = factories.approved_loan(borrower=world["reza"], principal=principal,
                                   installments=installments)
    chain.sign(KEYS["reza"], actions.open_loan_request(user=world["reza"], loan=loan))
    chain.sync()
    loan.refresh_from_db()
    assert loan.state == LoanState.LISTED
    return loan


def chain_now(chain) -> datetime:
    return datetime.fromtimestamp(chain.w3.eth.get_block("latest")["timestamp"], tz=UTC)


def keeper(chain, job):
    return job(w3=Web3(Web3.HTTPProvider(chain.rpc_url)), deployment=chain.deployment)


def ledger_equals_chain(chain, world, names: tuple[str, ...]) -> None:
    for name in names:
        assert kind_balance(kind=AccountKind.WALLET, user=world[name]) == (
            chain.balance(address(name)) - world["balances"][name]), name
    assert trial_balance() == 0
    assert list(ChainLog.objects.exclude(problem="").values_list("problem", flat=True)) == []


def meet_everyone(chat) -> None:
    """Everyone has opened the chat with the bot before (Telegram knows their chats)."""
    for name in ("reza", "lucia", "bob", "alice"):
        chat.meet(name)
    chat.meet(ADA)


async def fund_from_card(chat, chain, person: str, loan: Loan, amount: int) -> None:
    """The lender opens the loan's share link and funds a preset amount from the card."""
    replies = await chat.say(person, f"/start loan_{loan.pk}")
    card = with_button(replies, rf"lend\|fund\|{loan.pk}\|{amount}$")
    replies = await tap(chat, person, card, rf"lend\|fund\|{loan.pk}\|{amount}$")
    signed = await follow_signing_link(chain, KEYS[person], replies)
    assert signed.status == SigningStatus.CONFIRMED


# --- expiry and refunds ---

def test_a_listing_that_expires_refunds_its_lenders_through_the_bot(run_bot, rewound_chain,
                                                                    world):
    chain = rewound_chain
    loan = listed(chain, world)

    async def scenario(chat):
        meet_everyone(chat)
        await fund_from_card(chat, chain, "lucia", loan, 50 * USD)
        await fund_from_card(chat, chain, "bob", loan, 100 * USD)
        await delivered(chat, PEOPLE["reza"], PEOPLE["lucia"], PEOPLE["bob"])

        # The funding deadline passes on the chain's clock; the keeper expires the listing.
        deadline = loan.funding_deadline
        await db(chain.mine_after, int((deadline - chain_now(chain)).total_seconds()) + 3600)
        run = await db(keeper, chain, listings_expire)
        assert list(run.sent) == [loan.pk] and not run.failed
        await db(chain.sync)
        assert (await db(Loan.objects.get, pk=loan.pk)).state == LoanState.EXPIRED

        reza_got, lucia_got, bob_got = await delivered(
            chat, PEOPLE["reza"], PEOPLE["lucia"], PEOPLE["bob"])
        [expired] = reza_got
        assert persian_only(expired, except_for=("/borrow",)) and "/borrow" in expired
        [refund] = lucia_got
        assert plain(refund).startswith(f"El préstamo n.º {loan.pk}") and "50,00 USDx" in plain(
            refund)
        [refund_en] = bob_got
        assert refund_en.startswith(f"Loan #{loan.pk} did not go ahead, so your 100.00")

        # Lucía takes hers back from the notification's own button, Bob from /portfolio.
        notice = chat.messages("lucia")[-1]
        replies = await tap(chat, "lucia", notice, rf"pf\|refund\|{loan.pk}$")
        signed = await follow_signing_link(chain, KEYS["lucia"], replies)
        assert signed.status == SigningStatus.CONFIRMED and signed.amount == 50 * USD
        summary = (await chat.say("bob", "/portfolio"))[0]
        assert "Back from expired or cancelled loans: 100.00 USDx" in plain(summary["text"]) or (
            "100.00 USDx" in plain(summary["text"]))
        replies = await tap(chat, "bob", summary, rf"pf\|refund\|{loan.pk}$")
        signed = await follow_signing_link(chain, KEYS["bob"], replies)
        assert signed.status == SigningStatus.CONFIRMED and signed.amount == 100 * USD

        lucia_got, bob_got = await delivered(chat, PEOPLE["lucia"], PEOPLE["bob"])
        assert [plain(t) for t in lucia_got] == [
            f"Recuperaste 50,00 USDx del préstamo n.º {loan.pk}: ya está en tu billetera."
        ] or (len(lucia_got) == 1 and "50,00 USDx" in plain(lucia_got[0]))
        assert bob_got == [f"You took back 100.00\xa0USDx from loan #{loan.pk}: it is in your "
                           "wallet."]
        # A second press of the same button: nothing more to take back.
        before = await db(SigningRequest.objects.count)
        assert await chat.press("lucia", notice, data=f"1|pf|refund|{loan.pk}") == []
        assert await db(SigningRequest.objects.count) == before

    run_bot(scenario)
    for name, amount in (("lucia", 50 * USD), ("bob", 100 * USD)):
        position = FundingPosition.objects.get(loan=loan, lender=world[name])
        assert position.refunded == position.amount == amount
    assert kind_balance(kind=AccountKind.LOAN_ESCROW, loan=loan) == 0
    ledger_equals_chain(chain, world, ("reza", "lucia", "bob"))


# --- late, then default covered by the pool ---

def test_a_late_installment_is_told_and_the_default_is_covered_by_the_pool(run_bot,
                                                                          rewound_chain, world):
    chain = rewound_chain
    loan = listed(chain, world)
    for name, amount in (("lucia", 100 * USD), ("bob", 200 * USD)):
        loan.refresh_from_db()
        chain.sign(KEYS[name], actions.fund_request(user=world[name], loan=loan, amount=amount))
        chain.sync()
    loan.refresh_from_db()
    chain.sign(KEYS["reza"], actions.drawdown_request(user=world["reza"], loan=loan))
    chain.sync()
    loan.refresh_from_db()
    assert loan.state == LoanState.ACTIVE
    alice = PEOPLE["alice"]  # the pool depositor, in English

    async def scenario(chat):
        meet_everyone(chat)
        await delivered(chat)  # what the listing, funding and drawdown already said
        # A lender backs the pool through /pool.
        [overview] = await chat.say(alice, "/pool")
        await tap(chat, alice, overview, r"pool\|dep$")
        replies = await chat.say(alice, "500")
        signed = await follow_signing_link(chain, KEYS["depositor"], replies)
        assert signed.status == SigningStatus.CONFIRMED

        # The first installment's due date passes: the loan is late, the borrower is told.
        # The chain moves to midday two UTC days after the due date, whatever its hour, so
        # the notice says "2 days" at any time of day (days late are calendar days).
        first_due = (await db(loan.schedule.get, number=1)).due_at
        two_days_late = datetime.combine(first_due.astimezone(UTC).date() + timedelta(days=2),
                                         time(12), UTC)
        await db(chain.mine_after, int((two_days_late - chain_now(chain)).total_seconds()))
        now = chain_now(chain)
        assert await db(loans_refresh_lateness_due, now=now) == 1
        assert (await db(Loan.objects.get, pk=loan.pk)).state == LoanState.LATE
        await db(installment_reminders_queue, now=now)
        [[overdue]] = await delivered(chat, PEOPLE["reza"])
        assert "۲ روز عقب افتاده" in overdue and "/repay" in overdue  # "2 days overdue"
        card = (await chat.say("reza", "/loans"))[-1]
        assert "myloan|repay" in str(card["reply_markup"])

        # Past the grace period the keeper marks the default; the pool covers the lenders.
        grace = chain.deployment.contract("LoanBook", chain.w3).functions.gracePeriod().call()
        await db(chain.mine_after, grace + 3600)
        run = await db(keeper, chain, loans_mark_defaults)
        assert list(run.sent) == [loan.pk] and not run.failed
        await db(chain.sync)
        defaulted = await db(Loan.objects.get, pk=loan.pk)
        assert defaulted.state == LoanState.DEFAULTED and defaulted.covered_amount > 0

        reza_got, lucia_got, bob_got = await delivered(
            chat, PEOPLE["reza"], PEOPLE["lucia"], PEOPLE["bob"])
        [default_notice] = reza_got
        assert persian_only(default_notice, except_for=("/repay",))
        [lucia_notice] = lucia_got
        assert plain(lucia_notice).startswith(f"El préstamo n.º {loan.pk}")
        [bob_notice] = bob_got
        assert bob_notice.startswith(f"Loan #{loan.pk} is in default. The backstop pool covered")

        # Each lender collects their part of the cover: Lucía from the notice's button.
        notice = chat.messages("lucia")[-1]
        replies = await tap(chat, "lucia", notice, r"pf\|claim$")
        signed = await follow_signing_link(chain, KEYS["lucia"], replies)
        assert signed.status == SigningStatus.CONFIRMED and signed.amount > 0
        summary = (await chat.say("bob", "/portfolio"))[0]
        replies = await tap(chat, "bob", summary, r"pf\|claim$")
        signed = await follow_signing_link(chain, KEYS["bob"], replies)
        assert signed.status == SigningStatus.CONFIRMED and signed.amount > 0
        return defaulted.covered_amount

    cover = run_bot(scenario)
    loan_book = chain.deployment.contract("LoanBook", chain.w3)
    claimed = 0
    for name in ("lucia", "bob"):
        position = FundingPosition.objects.get(loan=loan, lender=world[name])
        assert loan_book.functions.positionOf(loan.chain_loan_id, address(name)).call() == [
            position.amount, position.claimed]
        assert loan_book.functions.claimable(loan.chain_loan_id, address(name)).call() == 0
        claimed += position.claimed
    assert claimed <= cover and cover - claimed < 2  # the cover, shared (dust aside)
    assert kind_balance(kind=AccountKind.LENDER_CLAIMABLE, loan=loan) == 0
    # (The ledger follows loans; the pool's own deposits are the vault's shares on chain.)
    ledger_equals_chain(chain, world, ("reza", "lucia", "bob"))


# --- admin review ---

async def apply(chat, person: str, amount: str) -> list[dict]:
    """/borrow to a submitted application, by the buttons' data (labels are translated)."""
    replies = await chat.say(person, "/borrow")
    replies = await chat.say(person, amount)
    replies = await tap(chat, person, replies[-1], r"\|term\|3$")
    replies = await tap(chat, person, replies[-1], r"\|purpose\|")
    replies = await tap(chat, person, replies[-1], r"\|income\|3000_plus$|\|income\|1500_3000$")
    replies = await tap(chat, person, replies[-1], r"\|job\|employed$")
    return await tap(chat, person, with_button(replies, r"\|submit\|yes$"), r"\|submit\|yes$")


def test_an_admin_approves_one_application_and_rejects_another(run_bot, chain, world, settings,
                                                               scoring_runs_at_once):  # noqa: F811
    settings.ADMIN_TELEGRAM_IDS = [ADA["id"]]
    settings.SCORING_REVIEW_AMOUNT = 100 * USD  # larger offers are checked by a person
    user_get_or_create_from_telegram(telegram_id=ADA["id"], username=ADA["username"],
                                     first_name="Ada", language_code="en")
    # Lucía borrows too: both roles, her own phone, verified.
    lucia_user = user_set_roles(user=world["lucia"], borrower=True, lender=True)
    user_set_phone(user=lucia_user, phone="+34600111222", contact_user_id=lucia_user.telegram_id)
    user_set_kyc_tier(user=lucia_user, tier=KycTier.VERIFIED)
    lucia, reza = PEOPLE["lucia"], PEOPLE["reza"]

    async def scenario(chat):
        meet_everyone(chat)
        await apply(chat, "lucia", "200")
        await apply(chat, "reza", "150")
        approved = await db(Loan.objects.get, borrower__telegram_id=lucia["id"])
        refused = await db(Loan.objects.get, borrower__telegram_id=reza["id"])
        assert approved.state == refused.state == LoanState.IN_REVIEW

        lucia_got, reza_got, ada_got = await delivered(chat, lucia, reza, ADA)
        assert "revis" in lucia_got[-1]  # told what happens next, in Spanish
        assert persian_only(reza_got[-1])
        assert sum(f"Application #{approved.pk} needs your review" in t for t in ada_got) == 1

        # Approve from /admin's queue; reject from the alert, with a typed reason.
        board = (await chat.say(ADA, "/admin"))[-1]
        assert "2 applications wait for review." in board["text"]
        queue = (await tap(chat, ADA, board, r"adm\|q$"))[-1]
        item = (await tap(chat, ADA, queue, rf"adm\|it\|{approved.pk}$"))[-1]
        done = await tap(chat, ADA, item, rf"adm\|ap\|{approved.pk}$")
        assert any(f"Application #{approved.pk} is approved" in m["text"] for m in done)
        alert = with_button(chat.messages(ADA), rf"adm\|rj\|{refused.pk}$")
        await tap(chat, ADA, alert, rf"adm\|rj\|{refused.pk}$")
        done = await chat.say(ADA, "The declared income does not fit the documents")
        assert any(f"Application #{refused.pk} is rejected" in m["text"] for m in done)
        # The approve button of a decided application changes nothing.
        await tap(chat, ADA, alert, rf"adm\|ap\|{refused.pk}$")
        assert "no longer waiting for review" in chat.callback_answers()[-1]["text"]

        lucia_got, reza_got = await delivered(chat, lucia, reza)
        [offer_text] = lucia_got
        assert offer_text.startswith(f"Buenas noticias: tu préstamo n.º {approved.pk}")
        [refusal] = reza_got
        assert "متأسفم" in refusal and "کارشناس بررسی، درخواست را رد کرد." in refusal

        # Lucía accepts and lists the approved loan on the chain.
        offer = chat.messages(lucia)[-1]
        replies = await tap(chat, lucia, offer, rf"offer\|acc\|{approved.pk}$")
        signed = await follow_signing_link(chain, KEYS["lucia"], replies)
        assert signed.status == SigningStatus.CONFIRMED
        return approved.pk, refused.pk

    approved_pk, refused_pk = run_bot(scenario)
    assert Loan.objects.get(pk=approved_pk).state == LoanState.LISTED
    refused = Loan.objects.get(pk=refused_pk)
    assert refused.state == LoanState.REJECTED
    assert refused.transitions.get(to_state=LoanState.REJECTED).reason == (
        "The declared income does not fit the documents")


# --- a frozen account ---

def test_a_frozen_account_is_refused_until_an_admin_unfreezes_it(run_bot, chain, world,
                                                                  settings):
    settings.ADMIN_TELEGRAM_IDS = [ADA["id"]]
    user_get_or_create_from_telegram(telegram_id=ADA["id"], username=ADA["username"],
                                     first_name="Ada", language_code="en")
    loan = listed(chain, world, principal=100 * USD)

    async def scenario(chat):
        meet_everyone(chat)
        async def freeze(username: str, reason: str, action: str) -> None:
            board = (await chat.say(ADA, "/admin"))[-1]
            await tap(chat, ADA, board, r"adm\|find$")
            card = (await chat.say(ADA, f"@{username}"))[-1]
            await tap(chat, ADA, card, rf"adm\|{action}\|")
            await chat.say(ADA, reason)

        await freeze("lucia", "Chargeback under investigation", "fz")
        await freeze("reza", "Identity check", "fz")
        assert await db(TelegramUser.objects.filter(is_frozen=True).count) == 2

        # The frozen lender's fund button: refused in Spanish, nothing to sign.
        replies = await chat.say("lucia", f"/start loan_{loan.pk}")
        card = with_button(replies, rf"lend\|fund\|{loan.pk}\|{25 * USD}$")
        replies = await tap(chat, "lucia", card, rf"lend\|fund\|{loan.pk}\|{25 * USD}$")
        assert [m["text"] for m in replies] == ["Tu cuenta está bloqueada."]
        # The frozen borrower cannot apply, and is told so in Persian.
        replies = await chat.say("reza", "/borrow")
        assert replies[-1]["text"] == "حساب شما مسدود است؛ اکنون نمی‌توانید درخواست وام بدهید."
        assert await db(SigningRequest.objects.filter(user__username="lucia").count) == 0
        assert await db(Loan.objects.filter(borrower__username="reza").count) == 1

        # Unfrozen, the same button works and the funding lands on the chain.
        await freeze("lucia", "Chargeback resolved", "uf")
        replies = await tap(chat, "lucia", card, rf"lend\|fund\|{loan.pk}\|{25 * USD}$")
        signed = await follow_signing_link(chain, KEYS["lucia"], replies)
        assert signed.status == SigningStatus.CONFIRMED

    run_bot(scenario)
    loan.refresh_from_db()
    assert loan.funded_amount == 25 * USD


# --- someone else's loan ---

def test_someone_elses_loan_is_untouchable_through_forged_buttons(run_bot, chain, world):
    funded = listed(chain, world, principal=100 * USD)
    chain.sign(KEYS["bob"], actions.fund_request(user=world["bob"], loan=funded,
                                                 amount=100 * USD))
    chain.sync()
    other = listed(chain, world, principal=60 * USD)  # being funded: lucia has 20 in it
    chain.sign(KEYS["lucia"], actions.fund_request(user=world["lucia"], loan=other,
                                                   amount=20 * USD))
    chain.sync()
    offer = factories.approved_loan(borrower=world["reza"], principal=50 * USD)
    loan_book = chain.deployment.contract("LoanBook", chain.w3)

    def chain_states():
        return [loan_book.functions.getLoan(loan.chain_loan_id).call()[:2]
                for loan in (funded, other)]

    before_chain = chain_states()
    reza = PEOPLE["reza"]

    async def scenario(chat):
        meet_everyone(chat)
        await delivered(chat, reza)
        funded_notice = with_button(chat.messages(reza), r"myloan\|draw\|")
        draw = data_of(funded_notice, r"myloan\|draw\|")
        assert draw == f"1|myloan|draw|{funded.pk}"
        requests = await db(SigningRequest.objects.count)
        mine = (await chat.say("bob", "/portfolio"))[0]
        # Bob replays the borrower's real button and makes up others on her loans.
        for data in (draw, f"1|myloan|cancel2|{other.pk}", f"1|repay|all|{funded.pk}",
                     f"1|offer|acc|{offer.pk}", f"1|offer|dec|{offer.pk}",
                     f"1|pf|refund|{other.pk}"):
            assert await chat.press("bob", mine, data=data) == [], data
            answer = chat.callback_answers()[-1]["text"]
            assert (answer and "#" not in answer) or "not" in answer, (data, answer)
        # Lucía, in Spanish, is told in Spanish that the borrower's button is not hers.
        spanish = (await chat.say("lucia", "/portfolio"))[0]
        assert await chat.press("lucia", spanish, data=draw) == []
        assert chat.callback_answers()[-1]["text"].startswith("Este préstamo no es tuyo")
        assert await db(SigningRequest.objects.count) == requests
        # The borrower's own press still works: the button was real, only the presser wrong.
        replies = await chat.press(reza, funded_notice, data=draw)
        assert any("/s/" in str(m.get("reply_markup")) for m in replies)

    run_bot(scenario)
    assert chain_states() == before_chain
    assert [Loan.objects.get(pk=loan.pk).state for loan in (funded, other, offer)] == [
        LoanState.FUNDED, LoanState.FUNDING, LoanState.APPROVED]
    ledger_equals_chain(chain, world, ("reza", "lucia", "bob"))
