"""The test wallet follows the signing links the bot really sends: it links a wallet by
signing the EIP-4361 message and lists a loan by sending its transactions on anvil."""

from __future__ import annotations

import pytest
from eth_account import Account
from telegram import Update

from bot.signing import offer_signing
from core.loans.states import LoanState
from core.signing import actions
from core.signing.models import SigningStatus
from tests import factories
from tests.bot.harness import db
from tests.bot.wallets import follow_signing_link
from tests.chain import dev_key, people_on_chain

pytestmark = pytest.mark.django_db
KEYS = {"alice": dev_key(12), "bob": dev_key(13), "charlie": dev_key(14)}


async def _send_signing(chat, person: dict, created) -> list[dict]:
    """What a journey does at its end: offer_signing to the person's chat."""
    update = Update.de_json({"update_id": 1, "message": {
        "message_id": 1, "date": 0, "chat": {"id": person["id"], "type": "private"},
        "from": {**person, "is_bot": False}, "text": "/x"}}, chat.runtime.bot)
    before = len(chat.messages(person))
    await offer_signing(update, *created)
    return chat.messages(person)[before:]


def test_it_links_a_wallet_by_signing_the_message_the_page_asks_for(run_bot):
    key = dev_key(15)
    person = {"id": 7001, "first_name": "Dana", "language_code": "en"}

    async def scenario(chat):
        chat.meet(person)
        from core.users.services import user_get_or_create_from_telegram

        user, _ = await db(user_get_or_create_from_telegram, telegram_id=7001, username="dana")
        messages = await _send_signing(chat, person,
                                       await db(actions.wallet_link_request, user=user))
        request = await follow_signing_link(None, key, messages)
        await db(user.refresh_from_db)
        return request, user

    request, user = run_bot(scenario)
    assert request.status == SigningStatus.CONFIRMED
    assert user.wallet_address == Account.from_key(key).address


def test_it_sends_the_transactions_and_indexes_them(run_bot, chain, settings):
    world = people_on_chain(chain, settings, KEYS, first_telegram_id=7101, suffix="wh",
                            tokens=100 * factories.USD)
    person = {"id": 7101, "first_name": "Alice", "language_code": "en"}
    loan = factories.approved_loan(borrower=world["alice"], principal=100 * factories.USD)

    async def scenario(chat):
        chat.meet(person)
        messages = await _send_signing(
            chat, person, await db(actions.open_loan_request, user=world["alice"], loan=loan))
        return await follow_signing_link(chain, KEYS["alice"], messages)

    request = run_bot(scenario)
    loan.refresh_from_db()
    assert request.status == SigningStatus.CONFIRMED
    assert loan.state == LoanState.LISTED
