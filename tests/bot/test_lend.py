"""/lend through the emulator: browsing open loans by page and filter, the loan card, funding
with a preset and a typed amount signed on a real chain, and forged buttons that change
nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from eth_account import Account

from core.chain.models import ChainCursor
from core.loans.models import Loan
from core.loans.states import LoanState
from core.notifications.models import OutboxMessage
from core.signing import actions
from core.signing.models import SigningRequest, SigningStatus
from core.users.models import KycTier
from core.users.services import user_set_language
from tests import factories
from tests.bot.harness import PEOPLE, db
from tests.bot.wallets import follow_signing_link
from tests.chain import dev_key

pytestmark = pytest.mark.django_db
USD = factories.USD


def buttons(message: dict) -> list[dict]:
    return [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def button_with(message: dict, data_prefix: str) -> dict:
    for candidate in buttons(message):
        if (candidate.get("callback_data") or "").startswith(data_prefix):
            return candidate
    raise AssertionError(f"no button {data_prefix!r} in {[b['text'] for b in buttons(message)]}")


async def press(chat, person, message: dict, data_prefix: str) -> list[dict]:
    return await chat.press(person, message, data=button_with(message, data_prefix)[
        "callback_data"])


def plain(message: dict) -> str:
    """The text with Babel's no-break spaces (between amount and symbol) as plain ones."""
    return message["text"].replace("\xa0", " ").replace("\u202f", " ")


def last_alert(chat) -> str:
    answers = chat.callback_answers()
    return answers[-1].get("text", "") if answers else ""


@pytest.fixture
def market(db):
    """Seven open loans of one borrower (who must never be named), and one not yet listed."""
    ana = factories.borrower(telegram_id=2001, username="ana_secret", tier=KycTier.ENHANCED)
    terms = [("A", 3, 50), ("B", 3, 300), ("B", 6, 300), ("C", 12, 1500), ("B", 3, 120),
             ("D", 6, 300), ("E", 12, 80)]
    loans = [factories.listed_loan(borrower=ana, grade=grade, installments=n,
                                   principal=whole * USD) for grade, n, whole in terms]
    hidden = factories.approved_loan(borrower=ana, principal=60 * USD)
    factories.lender(telegram_id=PEOPLE["bob"]["id"], username="bob")
    return {"loans": loans, "hidden": hidden}


def test_a_lender_browses_pages_and_filters_open_loans(run_bot, market):
    loans = market["loans"]

    async def scenario(chat):
        [listing] = await chat.say("bob", "/lend")
        assert plain(listing).startswith("Loans open for funding: 7 (page 1 of 2)")
        assert "Showing: any grade, any term, any amount." in plain(listing)
        shown = [f"#{loan.pk} · grade" for loan in loans[:5]]
        assert all(line in plain(listing) for line in shown)
        assert f"#{loans[5].pk} · grade" not in plain(listing)
        assert f"#{market['hidden'].pk} " not in plain(listing)
        assert "ana_secret" not in plain(listing)

        [page2] = await press(chat, "bob", listing, "1|lend|ls|-|-|-|2")
        assert page2["message_id"] == listing["message_id"]  # the list is edited in place
        assert plain(page2).startswith("Loans open for funding: 7 (page 2 of 2)")
        assert f"#{loans[6].pk} · grade E" in plain(page2)

        [menu] = await press(chat, "bob", page2, "1|lend|fg|")
        assert plain(menu).startswith("Which grade?")
        [grade_b] = await press(chat, "bob", menu, "1|lend|ls|B|-|-|1")
        assert plain(grade_b).startswith("Loans open for funding: 3 (page 1 of 1)")
        assert "Showing: grade B, any term, any amount." in plain(grade_b)

        [menu] = await press(chat, "bob", grade_b, "1|lend|ft|B|")
        [short_b] = await press(chat, "bob", menu, "1|lend|ls|B|s|-|1")
        assert plain(short_b).startswith("Loans open for funding: 2 (page 1 of 1)")
        assert "grade B, up to 3 months" in plain(short_b)

        [menu] = await press(chat, "bob", short_b, "1|lend|fa|B|s|")
        [small] = await press(chat, "bob", menu, "1|lend|ls|B|s|s|1")
        assert plain(small).startswith("Loans open for funding: 0 (page 1 of 1)")
        assert "No loan matches these filters right now." in plain(small)

        [cleared] = await press(chat, "bob", small, "1|lend|ls|-|-|-|1")
        assert plain(cleared).startswith("Loans open for funding: 7 (page 1 of 2)")

        replies = await press(chat, "bob", cleared, f"1|lend|card|{loans[1].pk}")
        card = replies[-1]
        assert plain(card).startswith(f"Loan #{loans[1].pk} · grade B")
        assert "300.00 USDx at 18% a year, 3 months" in plain(card)
        assert "Purpose: Business" in plain(card)
        assert "Funded: 0.00 USDx of 300.00 USDx ░░░░░░░░░░ 0%" in plain(card)
        assert "Left to fund: 300.00 USDx" in plain(card)
        assert "Funding closes on" in plain(card)
        assert "ana_secret" not in plain(card) and "Alice" not in plain(card)
        labels = [plain(b) for b in buttons(card)]
        assert labels[:4] == ["Lend 25.00 USDx", "Lend 50.00 USDx", "Lend 100.00 USDx",
                              "Lend all that is left: 300.00 USDx"]
        share = next(b["url"] for b in buttons(card) if plain(b) == "Share")
        assert share.startswith("https://t.me/share/url?")
        assert parse_qs(urlsplit(share).query)["url"] == [
            f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start=loan_{loans[1].pk}"]
        web = next(b["url"] for b in buttons(card) if plain(b) == "Web page")
        assert web == f"{settings.PUBLIC_BASE_URL}/loans/{loans[1].pk}/"

    run_bot(scenario)


def test_forged_list_and_card_buttons_change_nothing(run_bot, market):
    hidden = market["hidden"]

    async def scenario(chat):
        [listing] = await chat.say("bob", "/lend")
        for forged in ("1|lend|ls|-|-|-|999999", "1|lend|ls|-|-|-|3", "1|lend|ls|Z|-|-|1",
                       "1|lend|ls|-|-|-", "1|lend|nope"):
            assert await chat.press("bob", listing, data=forged) == []
            assert "out of date" in last_alert(chat)

        replies = await chat.press("bob", listing, data=f"1|lend|card|{hidden.pk}")
        assert f"I could not find loan #{hidden.pk} among the listed loans" in plain(replies[-1])
        assert await chat.press("bob", listing, data=f"1|lend|fund|{hidden.pk}|{60 * USD}") == []
        assert last_alert(chat) == "This loan is not listed for funding."
        assert await db(SigningRequest.objects.count) == 0

    run_bot(scenario)


def test_a_borrower_who_is_not_a_lender_cannot_fund(run_bot, market):
    loan = market["loans"][1]
    factories.borrower(telegram_id=PEOPLE["alice"]["id"], username="alice")

    async def scenario(chat):
        replies = await chat.say("alice", f"/start loan_{loan.pk}")
        card = next(m for m in replies if plain(m).startswith(f"Loan #{loan.pk}"))
        assert await press(chat, "alice", card, f"1|lend|fund|{loan.pk}|{25 * USD}") == []
        assert "Funding loans is for lenders" in last_alert(chat)
        assert await db(SigningRequest.objects.count) == 0

    run_bot(scenario)


def test_the_channel_is_told_of_a_new_listing_once(settings, db):
    from bot.notifications import render
    from core.loans.announcements import loan_listing_announce

    settings.LOANS_CHANNEL_ID = -100123
    settings.LOANS_CHANNEL_LANGUAGE = "es"
    ana = factories.borrower(telegram_id=2001, username="ana_secret")
    loan = factories.listed_loan(borrower=ana, principal=200 * USD, installments=6)
    assert loan_listing_announce(loan=loan) is True
    assert loan_listing_announce(loan=loan) is False
    [message] = OutboxMessage.objects.filter(chat_id=-100123)
    assert message.recipient is None and message.template_key == "loan_listing_announcement"

    rendered = render(message.template_key, message.params, "en")
    assert rendered.text.startswith(f"Nuevo préstamo #{loan.pk} abierto a financiación")
    assert "200,00\xa0USDx" in rendered.text and "ana_secret" not in rendered.text
    [[open_button]] = rendered.markup.inline_keyboard
    assert open_button.url == (
        f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start=loan_{loan.pk}")


def test_no_channel_means_no_announcement(settings, db):
    from core.loans.announcements import loan_listing_announce

    settings.LOANS_CHANNEL_ID = 0
    ana = factories.borrower(telegram_id=2001, username="ana_secret")
    assert loan_listing_announce(loan=factories.listed_loan(borrower=ana)) is False
    assert not OutboxMessage.objects.exists()


# --- money on a real chain -----------------------------------------------------------------------

KEYS = {"alice": dev_key(31), "lucia": dev_key(32), "reza": dev_key(33)}


def wallet(name: str) -> str:
    return Account.from_key(KEYS[name]).address


@pytest.fixture
def listed_on_chain(chain, settings):
    """alice's loan of 300 listed on the test chain; lucia (es) and reza (fa) are lenders with
    funded wallets."""
    settings.ONCHAIN_ADDRESSES_FILE = chain.addresses_file
    settings.RPC_URL = chain.rpc_url
    settings.LOANS_CHANNEL_ID = -100777
    ChainCursor.objects.create(chain_id=31337, next_block=chain.w3.eth.block_number + 1)
    for key in KEYS.values():
        chain.faucet(key, 1_000 * USD)
    alice = factories.borrower(telegram_id=PEOPLE["alice"]["id"], username="alice",
                               wallet=wallet("alice"))
    for name in ("lucia", "reza"):
        lender = factories.lender(telegram_id=PEOPLE[name]["id"], username=name,
                                  wallet=wallet(name))
        user_set_language(user=lender, language={"lucia": "es", "reza": "fa"}[name])
    loan = factories.approved_loan(borrower=alice, principal=300 * USD, installments=3)
    chain.sign(KEYS["alice"], actions.open_loan_request(user=alice, loan=loan))
    chain.sync()
    loan.refresh_from_db()
    assert loan.state == LoanState.LISTED
    return loan


def test_lenders_fund_with_a_preset_in_spanish_and_a_typed_amount_in_persian(
        run_bot, chain, listed_on_chain):
    loan = listed_on_chain
    assert OutboxMessage.objects.filter(chat_id=-100777, template_key="loan_listing_announcement",
                                        params__loan_id=loan.pk).count() == 1

    async def scenario(chat):
        [listing] = await chat.say("lucia", "/lend")
        assert plain(listing).startswith("Préstamos abiertos a financiación: 1")
        card = (await press(chat, "lucia", listing, f"1|lend|card|{loan.pk}"))[-1]
        assert "Financiado: 0,00 USDx de 300,00 USDx" in plain(card)
        replies = await press(chat, "lucia", card, f"1|lend|fund|{loan.pk}|{50 * USD}")
        assert plain(replies[0]).startswith(f"Financia el préstamo #{loan.pk} con 50,00 USDx.")
        signed = await follow_signing_link(chain, KEYS["lucia"], replies)
        assert signed.status == SigningStatus.CONFIRMED
        assert (await db(Loan.objects.get, pk=loan.pk)).funded_amount == 50 * USD

        [listing] = await chat.say("lucia", "/lend")
        card = (await press(chat, "lucia", listing, f"1|lend|card|{loan.pk}"))[-1]
        assert "Financiado: 50,00 USDx de 300,00 USDx ▓░░░░░░░░░ 16" in plain(card)

        [listing] = await chat.say("reza", "/lend")
        card = (await press(chat, "reza", listing, f"1|lend|card|{loan.pk}"))[-1]
        assert "۲۵۰٫۰۰ USDx" in plain(card)  # what is left, in Persian digits
        [ask] = await press(chat, "reza", card, f"1|lend|type|{loan.pk}")
        [unreadable] = await chat.say("reza", "صد")
        assert plain(unreadable) != plain(ask)
        [question] = await chat.say("reza", "1.250")  # a thousand and a quarter, or 1.25?
        assert "۱٬۲۵۰٫۰۰ USDx" in plain(question) and "۱٫۲۵ USDx" in plain(question)
        replies = await press(chat, "reza", question, "1|lend|amt|")
        assert "۲۵۰٫۰۰ USDx" in plain(replies[0])  # capped at what is left
        signed = await follow_signing_link(chain, KEYS["reza"], replies)
        assert signed.status == SigningStatus.CONFIRMED and signed.amount == 250 * USD

        funded = await db(Loan.objects.get, pk=loan.pk)
        assert (funded.funded_amount, funded.state) == (300 * USD, LoanState.FUNDED)
        replies = await chat.say("reza", f"/start loan_{loan.pk}")  # the shared deep link
        card = next(m for m in replies if "▓" in plain(m))
        assert "▓▓▓▓▓▓▓▓▓▓" in plain(card) and "1|lend|fund" not in str(card["reply_markup"])

    run_bot(scenario)
