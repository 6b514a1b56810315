"""The whole story in chat, on a real chain: a Persian borrower (right to left) onboards, links
his wallet, borrows, gets an offer and signs the listing; a Spanish newcomer finds the loan
through its share link and an English lender through /lend, and both fund it; the borrower
draws down and repays everything; the lenders collect through /portfolio. Every signing link
is followed and signed by a test wallet, every notification is delivered through the outbox,
and each person reads what happened in their own language and digits. At the end the ledger
equals the chain for every wallet."""

from __future__ import annotations

import re

import pytest
from eth_account import Account

from bot.i18n import localize_digits
from core.chain.models import ChainCursor, ChainLog
from core.ledger.models import AccountKind
from core.ledger.selectors import kind_balance, trial_balance
from core.loans.models import FundingPosition, Loan
from core.loans.states import LoanState
from core.notifications.models import OutboxMessage, OutboxStatus
from core.signing.models import SigningStatus
from core.users.models import TelegramUser
from tests import factories
from tests.bot.harness import PEOPLE, db, new_person
from tests.bot.wallets import deliver_outbox, follow_signing_link
from tests.chain import dev_key

pytestmark = pytest.mark.django_db
USD = factories.USD
KEYS = {"reza": dev_key(80), "lucia": dev_key(81), "bob": dev_key(82)}
PERSIAN_DIGIT = re.compile("[۰-۹]")
LATIN_DIGIT = re.compile("[0-9]")


# --- helpers shared with test_story_edges --------------------------------------------------------

def buttons(message: dict) -> list[dict]:
    return [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def data_of(message: dict, pattern: str) -> str:
    """The callback data of the button whose data matches `pattern` (labels are translated,
    the data is not)."""
    for candidate in buttons(message):
        if re.search(pattern, candidate.get("callback_data") or ""):
            return candidate["callback_data"]
    raise AssertionError(f"no button {pattern!r} in "
                         f"{[b.get('callback_data') or b.get('url') for b in buttons(message)]}")


async def tap(chat, person, message: dict, pattern: str) -> list[dict]:
    return await chat.press(person, message, data=data_of(message, pattern))


def with_button(messages: list[dict], pattern: str) -> dict:
    """The latest of these messages with a button matching `pattern`."""
    for message in reversed(messages):
        if any(re.search(pattern, b.get("callback_data") or "") for b in buttons(message)):
            return message
    raise AssertionError(f"no message with a button {pattern!r}")


def plain(text: str) -> str:
    """Babel's no-break spaces (between an amount and its symbol) as plain ones."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


async def delivered(chat, *people: dict) -> list[list[str]]:
    """Deliver the outbox; the texts each person received from it, oldest first."""
    counts = [len(chat.messages(person)) for person in people]
    await deliver_outbox(chat)
    return [[m.get("text", m.get("caption", "")) for m in chat.messages(person)[count:]]
            for person, count in zip(people, counts, strict=True)]


def persian_only(text: str, *, except_for: tuple[str, ...] = ()) -> bool:
    """Persian digits and no Latin ones (links and commands aside)."""
    for allowed in except_for:
        text = text.replace(allowed, "")
    return bool(PERSIAN_DIGIT.search(text)) and not LATIN_DIGIT.search(text)


async def onboard(chat, person: dict, key: str, *, role: str, phone: str,
                  first: list[dict] | None = None) -> None:
    """/start to a linked wallet: the language Telegram gave (preselected), the role, the
    terms, the person's own contact, and the wallet-linking signature."""
    replies = first or await chat.say(person, "/start")
    replies = await tap(chat, person, replies[-1], rf"\|lang\|{person['language_code']}$")
    replies = await tap(chat, person, replies[-1], rf"\|role\|{role}$")
    replies = await tap(chat, person, replies[-1], r"\|terms\|yes$")
    replies = await chat.send(person, kind="contact", phone=phone)
    assert any("photo" in message for message in replies)  # the signing page's QR code
    request = await follow_signing_link(None, key, replies)
    assert request.status == SigningStatus.CONFIRMED
    user = await db(TelegramUser.objects.get, telegram_id=person["id"])
    assert user.wallet_address == Account.from_key(key).address and user.consented_at


@pytest.fixture
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


def point_at(chain, settings, keys: dict[str, str], tokens: int = 1_000 * USD) -> dict:
    """The app uses the test chain and indexes from now on; each wallet holds `tokens` and
    gas. Returns each wallet's token balance now."""
    settings.ONCHAIN_ADDRESSES_FILE = chain.addresses_file
    settings.RPC_URL = chain.rpc_url
    settings.LOANS_CHANNEL_ID = 0
    ChainCursor.objects.create(chain_id=31337, next_block=chain.w3.eth.block_number + 1)
    for key in keys.values():
        chain.faucet(key, tokens)
    return {name: chain.balance(Account.from_key(key).address) for name, key in keys.items()}


# --- the story ------------------------------------------------------------------------------------

def test_the_whole_story_in_persian_spanish_and_english(run_bot, chain, settings,
                                                       scoring_runs_at_once):
    start_balances = point_at(chain, settings, KEYS)
    reza = PEOPLE["reza"]  # the borrower, in Persian
    lucia = new_person("es")  # a newcomer who arrives through the share link
    bob = PEOPLE["bob"]  # a lender who browses /lend, in English

    async def scenario(chat):
        # --- the borrower onboards and links his wallet -------------------------------------
        first = await chat.say(reza, "/start")
        assert first[0]["text"].startswith("سلام رضا!")
        await onboard(chat, reza, KEYS["reza"], role="b", phone="+989121234567", first=first)
        [[linked]] = await delivered(chat, reza)
        assert linked.startswith("کیف پول شما") and "/borrow" in linked

        # --- he borrows, typing Persian digits ----------------------------------------------
        replies = await chat.say(reza, "/borrow")
        assert "۱۰۰٫۰۰" in plain(replies[-1]["text"])  # his limit (basic tier), his digits
        replies = await chat.say(reza, "۱۰۰")
        replies = await tap(chat, reza, replies[-1], r"\|term\|3$")
        replies = await tap(chat, reza, replies[-1], r"\|purpose\|")
        replies = await tap(chat, reza, replies[-1], r"\|income\|1500_3000$")
        replies = await tap(chat, reza, replies[-1], r"\|job\|employed$")
        summary = with_button(replies, r"\|submit\|yes$")
        assert "۱۰۰٫۰۰" in plain(summary["text"])
        assert any("photo" in message for message in replies)  # the repayments chart
        await tap(chat, reza, summary, r"\|submit\|yes$")
        loan = await db(Loan.objects.get, borrower__telegram_id=reza["id"])
        assert loan.state == LoanState.APPROVED  # scoring really ran

        await deliver_outbox(chat)
        offer = with_button(chat.messages(reza), rf"offer\|acc\|{loan.pk}$")
        assert persian_only(offer["text"])
        replies = await tap(chat, reza, offer, rf"offer\|acc\|{loan.pk}$")
        signed = await follow_signing_link(chain, KEYS["reza"], replies)
        assert signed.status == SigningStatus.CONFIRMED
        loan = await db(Loan.objects.get, pk=loan.pk)
        assert loan.state == LoanState.LISTED and loan.chain_loan_id is not None

        [[listed]] = await delivered(chat, reza)
        share = f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start=loan_{loan.pk}"
        assert share in listed and persian_only(listed, except_for=(share,))

        # --- a Spanish newcomer opens the shared link, onboards as a lender and funds ----------
        replies = await chat.say(lucia, f"/start loan_{loan.pk}")
        card = next(m for m in replies if f"#{loan.pk}" in m.get("text", ""))
        assert "Financiado: 0,00 USDx de 100,00 USDx" in plain(card["text"])
        assert "رضا" not in card["text"] and "reza" not in card["text"]  # nothing personal
        await onboard(chat, lucia, KEYS["lucia"], role="l", phone="+34600111222", first=replies)
        # The card came before she was a lender; its buttons check again and work now.
        replies = await tap(chat, lucia, card, rf"lend\|fund\|{loan.pk}\|{50 * USD}$")
        assert plain(replies[0]["text"]).startswith(
            f"Financia el préstamo #{loan.pk} con 50,00 USDx.")
        signed = await follow_signing_link(chain, KEYS["lucia"], replies)
        assert signed.status == SigningStatus.CONFIRMED
        assert (await db(Loan.objects.get, pk=loan.pk)).funded_amount == 50 * USD
        [lucia_got] = await delivered(chat, lucia)
        assert plain(lucia_got[-1]).startswith(
            f"Tus 50,00 USDx para el préstamo n.º {loan.pk} están confirmados en la cadena.")

        # --- an English lender finds it in /lend and funds what is left ------------------------
        await onboard(chat, bob, KEYS["bob"], role="l", phone="+15550001002")
        [listing] = await chat.say(bob, "/lend")
        assert plain(listing["text"]).startswith("Loans open for funding: 1")
        card = (await tap(chat, bob, listing, rf"lend\|card\|{loan.pk}$"))[-1]
        assert "Funded: 50.00 USDx of 100.00 USDx" in plain(card["text"])
        replies = await tap(chat, bob, card, rf"lend\|fund\|{loan.pk}\|{50 * USD}$")
        signed = await follow_signing_link(chain, KEYS["bob"], replies)
        assert signed.status == SigningStatus.CONFIRMED
        loan = await db(Loan.objects.get, pk=loan.pk)
        assert (loan.state, loan.funded_amount) == (LoanState.FUNDED, 100 * USD)

        reza_got, bob_got = await delivered(chat, reza, bob)
        assert plain(bob_got[-1]).startswith(
            f"Your 50.00 USDx for loan #{loan.pk} is confirmed on the chain.")
        [funded_text] = reza_got
        assert "۱۰۰٫۰۰" in plain(funded_text) and persian_only(funded_text, except_for=(
            "/loans",))

        # --- he draws down from the button of the "funded" message ----------------------------
        funded = chat.messages(reza)[-1]
        replies = await tap(chat, reza, funded, rf"myloan\|draw\|{loan.pk}$")
        signed = await follow_signing_link(chain, KEYS["reza"], replies)
        assert signed.status == SigningStatus.CONFIRMED
        assert (await db(Loan.objects.get, pk=loan.pk)).state == LoanState.ACTIVE
        [[drawn]] = await delivered(chat, reza)
        assert "۱۰۰٫۰۰" in plain(drawn) and persian_only(drawn, except_for=("/repay",))

        # --- he repays the next installment, then everything that is left -------------------
        options = (await chat.say(reza, "/repay"))[-1]
        replies = await tap(chat, reza, options, rf"repay\|next\|{loan.pk}$")
        await follow_signing_link(chain, KEYS["reza"], replies)
        options = (await chat.say(reza, "/repay"))[-1]
        replies = await tap(chat, reza, options, rf"repay\|all\|{loan.pk}$")
        await follow_signing_link(chain, KEYS["reza"], replies)
        loan = await db(Loan.objects.get, pk=loan.pk)
        assert loan.state == LoanState.REPAID and loan.repaid_amount == loan.total_due

        reza_got, lucia_got, bob_got = await delivered(chat, reza, lucia, bob)
        number = localize_digits(str(loan.pk), "fa")
        assert len(reza_got) == 2
        assert all(f"وام شماره {number} دریافت شد" in text for text in reza_got)
        assert all(persian_only(text, except_for=("/repay",)) for text in reza_got)
        assert "وام به طور کامل بازپرداخت شد" in reza_got[1]  # "the loan is fully repaid"
        assert len(lucia_got) == 2 and all(text.startswith(
            f"El prestatario del préstamo n.º {loan.pk} pagó ") for text in lucia_got)
        assert len(bob_got) == 2 and all(text.startswith(
            f"The borrower of loan #{loan.pk} repaid ") for text in bob_got)

        # --- the lenders collect through /portfolio, one signature each ----------------------
        for lender, key in ((lucia, KEYS["lucia"]), (bob, KEYS["bob"])):
            summary = (await chat.say(lender, "/portfolio"))[0]
            replies = await tap(chat, lender, summary, r"pf\|claim$")
            signed = await follow_signing_link(chain, key, replies)
            assert signed.status == SigningStatus.CONFIRMED and signed.amount > 50 * USD
        lucia_got, bob_got = await delivered(chat, lucia, bob)
        assert [plain(text)[:9] for text in lucia_got] == ["Cobraste "]
        assert f"del préstamo n.º {loan.pk}: ya está en tu billetera." in lucia_got[0]
        assert len(bob_got) == 1 and bob_got[0].startswith("You collected ")
        assert f"from loan #{loan.pk}: it is in your wallet." in bob_got[0]
        summary = (await chat.say(bob, "/portfolio"))[0]
        assert "pf|claim" not in str(summary.get("reply_markup"))
        return loan.pk

    loan = Loan.objects.get(pk=run_bot(scenario))

    # Everything queued was delivered, and the indexer applied every log it saw.
    assert not OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists()
    assert list(ChainLog.objects.exclude(problem="").values_list("problem", flat=True)) == []
    # The ledger equals the chain, to the base unit, for every wallet and for the loan.
    loan_book = chain.deployment.contract("LoanBook", chain.w3)
    for name in ("lucia", "bob"):
        address = Account.from_key(KEYS[name]).address
        position = FundingPosition.objects.get(loan=loan, lender__wallet_address=address)
        assert loan_book.functions.positionOf(loan.chain_loan_id, address).call() == [
            position.amount, position.claimed]
        assert position.amount == 50 * USD and position.claimed > 50 * USD
        assert loan_book.functions.claimable(loan.chain_loan_id, address).call() == 0
    for name, key in KEYS.items():
        address = Account.from_key(key).address
        user = TelegramUser.objects.get(wallet_address=address)
        assert kind_balance(kind=AccountKind.WALLET, user=user) == (
            chain.balance(address) - start_balances[name]), name
    assert loan.distributed_to_lenders == loan_book.functions.distributed(
        loan.chain_loan_id).call()
    assert kind_balance(kind=AccountKind.LOAN_ESCROW, loan=loan) == 0
    assert kind_balance(kind=AccountKind.LENDER_CLAIMABLE, loan=loan) == 0
    assert trial_balance() == 0
