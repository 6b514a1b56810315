"""/admin through the emulator: only configured admins see it; figures, the review queue with
approve and reject (the borrower hears the outcome in their language), user lookup with a
masked phone, freeze and unfreeze with a reason, broadcasts delivered once to everyone
reachable through the outbox, pause and resume on anvil, and forged admin buttons from
anyone else changing nothing."""

from __future__ import annotations

import pytest
from eth_account import Account

from bot import callbacks
from bot.guard import FloodGate
from core.audit.models import OperatorAction
from core.loans import services as loans
from core.loans.models import Loan
from core.loans.states import LoanState
from core.notifications.models import Broadcast, OutboxMessage, OutboxStatus
from core.scoring.applications import loan_application_score
from core.signing import actions
from core.signing.models import SigningStatus
from core.users.models import TelegramUser
from core.users.services import (
    user_freeze,
    user_get_or_create_from_telegram,
    user_mark_unreachable,
    user_set_language,
)
from tests import factories
from tests.bot.harness import PEOPLE, db
from tests.bot.wallets import deliver_outbox, follow_signing_link

pytestmark = pytest.mark.django_db
USD = factories.USD
ADA = {"id": 1900, "first_name": "Ada", "username": "ada_admin", "language_code": "en"}
UNLIMITED = FloodGate(max_updates=10_000, window_s=1)


@pytest.fixture
def admin(settings):
    settings.ADMIN_TELEGRAM_IDS = [ADA["id"]]
    settings.SCORING_REVIEW_AMOUNT = 100 * USD  # the policy checks larger offers by hand
    user, _ = user_get_or_create_from_telegram(telegram_id=ADA["id"], username=ADA["username"],
                                               first_name="Ada", language_code="en")
    assert user.is_admin
    return user


def borrower(name: str, *, language: str = "en") -> TelegramUser:
    person = PEOPLE[name]
    user = factories.borrower(telegram_id=person["id"], username=name)
    return user_set_language(user=user, language=language) if language != "en" else user


def application_in_review(user: TelegramUser, principal: int = 200 * USD) -> Loan:
    """A real application that the policy sends to review (amounts above the review
    threshold are checked by a person)."""
    loan = loans.loan_application_submit(borrower=user, principal=principal, installments=3,
                                         purpose="business")
    loan_application_score(loan=loan)
    loan.refresh_from_db()
    assert loan.state == LoanState.IN_REVIEW
    return loan


def texts(messages: list[dict]) -> str:
    return "\n".join(message.get("text", message.get("caption", "")) for message in messages)


def test_someone_who_is_not_an_admin_gets_the_ordinary_help(run_bot, admin):
    async def scenario(chat):
        helped = await chat.say("bob", "/help")
        replies = await chat.say("bob", "/admin")
        assert [reply["text"] for reply in replies] == [helped[-1]["text"]]
        assert "/admin" not in helped[-1]["text"]
        # The admin's own /help does not list it either: it is not a public command.
        assert "/admin" not in (await chat.say(ADA, "/help"))[-1]["text"]

    run_bot(scenario)


def test_an_admin_sees_the_platform_figures(run_bot, admin):
    alice, bob = borrower("alice"), factories.lender(telegram_id=PEOPLE["bob"]["id"],
                                                     username="bob")
    factories.active_loan(borrower=alice, lenders=[(bob, 300 * USD)], principal=300 * USD)
    factories.approved_loan(borrower=alice, principal=100 * USD)

    async def scenario(chat):
        replies = await chat.say(ADA, "/admin")
        text = replies[-1]["text"]
        assert "Loans by state:" in text
        assert "• active: 1" in text and "• approved, not yet listed: 1" in text
        assert "Funded volume: 300.00\u00a0USDx" in text
        assert "Default rate: 0%" in text and "(PAR30): 0%" in text
        assert "Backstop pool" in text and "Borrowers: 1 · lenders: 1" in text
        assert "0 applications wait for review." in text
        labels = [b["text"] for row in replies[-1]["reply_markup"]["inline_keyboard"]
                  for b in row]
        assert "Review queue (0)" in labels and "Broadcast" in labels

    run_bot(scenario)


def test_an_admin_approves_from_the_queue_and_the_borrower_gets_the_offer(run_bot, admin):
    lucia = borrower("lucia", language="es")
    loan = application_in_review(lucia)

    async def scenario(chat):
        chat.meet(ADA)
        chat.meet("lucia")
        await deliver_outbox(chat)
        alert = chat.messages(ADA)[-1]
        assert f"Application #{loan.pk} needs your review" in alert["text"]
        board = (await chat.say(ADA, "/admin"))[-1]
        assert "1 application waits for review." in board["text"]
        queue = (await chat.press(ADA, board, "Review queue (1)"))[-1]
        item = (await chat.press(ADA, queue, f"#{loan.pk}"))[-1]
        assert f"Application #{loan.pk}: 200.00\u00a0USDx over 3 installments" in item["text"]
        done = await chat.press(ADA, item, "Approve")
        assert f"Application #{loan.pk} is approved" in texts(done)
        await deliver_outbox(chat)
        offer = chat.messages("lucia")[-1]
        assert offer["text"].startswith(
            f"Buenas noticias: tu préstamo n.º {loan.pk} está aprobado.")
        # The alert's own button is stale now: the loan left the queue.
        await chat.press(ADA, alert, "Approve")
        assert "no longer waiting for review" in chat.callback_answers()[-1]["text"]

    run_bot(scenario, flood_gate=UNLIMITED)
    loan.refresh_from_db()
    assert loan.state == LoanState.APPROVED
    assert loan.transitions.filter(to_state=LoanState.APPROVED, actor=admin).exists()
    assert OperatorAction.objects.values_list("kind", "operator", "loan_id", "reason").get() == (
        "approve", f"telegram:{admin.telegram_id} (@{admin.username})", loan.pk,
        "approved in chat")


def test_an_admin_rejects_with_a_typed_reason_and_the_borrower_hears_it_in_persian(run_bot,
                                                                                   admin):
    reza = borrower("reza", language="fa")
    loan = application_in_review(reza)

    async def scenario(chat):
        chat.meet(ADA)
        chat.meet("reza")
        await deliver_outbox(chat)
        alert = chat.messages(ADA)[-1]
        asked = await chat.press(ADA, alert, "Reject with a reason")
        assert "Type the reason" in texts(asked)
        done = await chat.say(ADA, "Income documents do not match the declared band")
        assert f"Application #{loan.pk} is rejected" in texts(done)
        await deliver_outbox(chat)
        refusal = chat.messages("reza")[-1]["text"]
        assert "متأسفم" in refusal  # "I am sorry" in Persian, with the reviewer's decision
        assert "کارشناس بررسی، درخواست را رد کرد." in refusal  # "A reviewer declined it"

    run_bot(scenario, flood_gate=UNLIMITED)
    loan.refresh_from_db()
    assert loan.state == LoanState.REJECTED
    transition = loan.transitions.get(to_state=LoanState.REJECTED)
    assert (transition.actor, transition.reason) == (
        admin, "Income documents do not match the declared band")
    action = OperatorAction.objects.get()
    assert (action.kind, action.admin_telegram_id, action.subject_telegram_id, action.reason) == (
        "reject", admin.telegram_id, reza.telegram_id,
        "Income documents do not match the declared band")


def test_user_lookup_masks_the_phone_and_freezing_refuses_borrowing_and_funding(run_bot, admin):
    alice = borrower("alice")
    bob = factories.lender(telegram_id=PEOPLE["bob"]["id"], username="bob")
    listed = factories.listed_loan(borrower=factories.borrower(telegram_id=1950,
                                                               username="carol"))

    async def scenario(chat):
        board = (await chat.say(ADA, "/admin"))[-1]
        await chat.press(ADA, board, "Find a user")
        card = (await chat.say(ADA, "@alice"))[-1]
        assert "Telegram id 1001" in card["text"] and "Phone: +15•••••••01" in card["text"]
        assert alice.phone not in card["text"]
        await chat.press(ADA, card, "Freeze")
        replies = await chat.say(ADA, "Suspected identity fraud")
        assert "@alice is frozen." in texts(replies)
        assert "FROZEN since" in replies[-1]["text"]
        assert "Suspected identity fraud" in replies[-1]["text"]
        # Alice is refused by /borrow; frozen Bob cannot fund, at the service.
        refused = await chat.say("alice", "/borrow")
        assert "Your account is frozen" in texts(refused)
        await chat.press(ADA, replies[-1], "Unfreeze")
        replies = await chat.say(ADA, "Documents checked")
        assert "@alice is unfrozen." in texts(replies)
        # Frozen Bob finds a loan through its link but cannot fund it.
        await db(user_freeze, user=bob, reason="chargeback")
        card = [m for m in await chat.say("bob", f"/start loan_{listed.pk}")
                if "reply_markup" in m][-1]
        refused = await chat.press("bob", card, "Lend ")
        assert "Your account is frozen." in texts(refused)

    run_bot(scenario, flood_gate=UNLIMITED)
    alice.refresh_from_db()
    assert not alice.is_frozen
    assert not bob.signing_requests.exists()
    operator = f"telegram:{admin.telegram_id} (@{admin.username})"
    assert list(OperatorAction.objects.values_list("kind", "operator", "subject_telegram_id",
                                                   "reason")) == [
        ("freeze", operator, alice.telegram_id, "Suspected identity fraud"),
        ("unfreeze", operator, alice.telegram_id, "Documents checked"),
        ("freeze", "system", bob.telegram_id, "chargeback")]
    with pytest.raises(actions.ActionRefused, match="frozen"):
        actions.fund_request(user=bob, loan=listed, amount=10 * USD)


def test_a_broadcast_reaches_every_reachable_person_once(run_bot, admin):
    people = [PEOPLE[name] for name in ("alice", "lucia", "reza", "priya")]
    for person in people:
        user_get_or_create_from_telegram(telegram_id=person["id"], username=person["username"],
                                         language_code=person["language_code"])
    blocked, _ = user_get_or_create_from_telegram(telegram_id=PEOPLE["bob"]["id"],
                                                  username="bob", language_code="en")
    user_mark_unreachable(user=blocked)

    async def scenario(chat):
        for person in [ADA, *people]:
            chat.meet(person)
        board = (await chat.say(ADA, "/admin"))[-1]
        await chat.press(ADA, board, "Broadcast")
        preview = await chat.say(ADA, "Scheduled maintenance tonight 22:00-23:00 UTC.")
        assert "Scheduled maintenance" in preview[-2]["text"]
        assert "Send it to 5 people who can be reached?" in preview[-1]["text"]
        done = await chat.press(ADA, preview[-1], "Send it")
        assert "is queued for 5 people" in texts(done)
        # A second press of the same button (a double tap) queues nothing more.
        await chat.press(ADA, preview[-1], "Send it")
        assert await deliver_outbox(chat) == 5
        assert await deliver_outbox(chat) == 0
        for person in people:
            received = [m["text"] for m in chat.messages(person) if "maintenance" in m["text"]]
            assert len(received) == 1, person["username"]
        assert chat.messages("lucia")[-1]["text"].startswith("Mensaje del equipo de Lendgram:")
        assert not [m for m in chat.messages("bob") if "maintenance" in m.get("text", "")]

    run_bot(scenario, flood_gate=UNLIMITED)
    broadcast = Broadcast.objects.get()
    assert broadcast.recipients == 5 and broadcast.author == admin
    sent = OutboxMessage.objects.filter(template_key="broadcast")
    assert sent.count() == 5 and set(sent.values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_forged_admin_buttons_from_anyone_else_change_nothing(run_bot, admin):
    lucia = borrower("lucia", language="es")
    loan = application_in_review(lucia)
    bob, _ = user_get_or_create_from_telegram(telegram_id=PEOPLE["bob"]["id"], username="bob",
                                              language_code="en")
    forged = [callbacks.encode("adm", "ap", loan.pk), callbacks.encode("adm", "rj", loan.pk),
              callbacks.encode("adm", "fz", lucia.pk), callbacks.encode("adm", "bc"),
              callbacks.encode("adm", "bcs", "x"), callbacks.encode("adm", "ps"),
              callbacks.encode("adm", "home"), callbacks.encode("adm", "u", lucia.pk)]

    async def scenario(chat):
        menu = (await chat.say("bob", "/help"))[-1]
        for data in forged:
            replies = await chat.press("bob", menu, data=data)
            assert replies == []
            answer = chat.callback_answers()[-1]
            assert answer["text"] == ("This button is no longer active. Please use the latest "
                                      "message.")
        # Bob's next message is not taken as a rejection reason or a broadcast.
        replies = await chat.say("bob", "Approve everything")
        assert "I did not understand that" in texts(replies)

    run_bot(scenario, flood_gate=UNLIMITED)
    loan.refresh_from_db()
    lucia.refresh_from_db()
    assert loan.state == LoanState.IN_REVIEW and not lucia.is_frozen
    assert not Broadcast.objects.exists() and bob.signing_requests.count() == 0


def test_an_admin_pauses_and_resumes_the_contracts_with_their_own_wallet(run_bot, admin, chain,
                                                                          settings):
    from tests.chain import dev_key

    deployer = dev_key(0)  # the deploy script grants PAUSER_ROLE to the deployer
    settings.ONCHAIN_ADDRESSES_FILE = chain.addresses_file
    settings.RPC_URL = chain.rpc_url
    from core.chain.models import ChainCursor
    from core.users.services import user_link_wallet

    ChainCursor.objects.create(chain_id=31337, next_block=chain.w3.eth.block_number + 1)
    user_link_wallet(user=admin, address=Account.from_key(deployer).address)
    loan_book = chain.deployment.contract("LoanBook", chain.w3)
    pool = chain.deployment.contract("LiquidityBackstopPool", chain.w3)

    async def scenario(chat):
        board = (await chat.say(ADA, "/admin"))[-1]
        assert "Contracts: running" in board["text"]
        replies = await chat.press(ADA, board, "Pause the contracts")
        assert "Sign this with your admin wallet" in texts(replies)
        request = await follow_signing_link(chain, deployer, replies)
        assert request.status == SigningStatus.CONFIRMED
        assert loan_book.functions.paused().call() and pool.functions.paused().call()
        await deliver_outbox(chat)
        assert chat.messages(ADA)[-1]["text"].startswith("The contracts are paused")
        board = (await chat.say(ADA, "/admin"))[-1]
        assert "Contracts: PAUSED" in board["text"]
        replies = await chat.press(ADA, board, "Resume the contracts")
        request = await follow_signing_link(chain, deployer, replies)
        assert request.status == SigningStatus.CONFIRMED
        await deliver_outbox(chat)
        assert chat.messages(ADA)[-1]["text"] == "The contracts are running again."

    try:
        run_bot(scenario, flood_gate=UNLIMITED)
    finally:
        # The session's chain is shared: never leave it paused for the next test.
        from onchain.transactions import Builder

        for name, contract in (("LoanBook", loan_book), ("LiquidityBackstopPool", pool)):
            if contract.functions.paused().call():
                chain.send(deployer, Builder(chain.deployment).pause(name, paused=False))
    assert not loan_book.functions.paused().call() and not pool.functions.paused().call()
    assert list(OperatorAction.objects.values_list("kind", "admin_telegram_id")) == [
        ("pause", admin.telegram_id), ("unpause", admin.telegram_id)]


def test_a_wallet_without_the_pauser_role_is_refused_before_signing(admin, chain, settings):
    from core.users.services import user_link_wallet
    from tests.chain import dev_key

    settings.ONCHAIN_ADDRESSES_FILE = chain.addresses_file
    settings.RPC_URL = chain.rpc_url
    user_link_wallet(user=admin, address=Account.from_key(dev_key(41)).address)
    with pytest.raises(actions.ActionRefused, match="pauser role"):
        actions.pause_request(user=admin)
    someone = factories.lender(telegram_id=1960, username="someone")
    with pytest.raises(actions.ActionRefused, match="Only an admin"):
        actions.pause_request(user=someone)
