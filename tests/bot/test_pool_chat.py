"""/pool through the emulator on a real chain: a deposit of a typed amount, the position it
gives, a withdrawal asked and then taken after the cooldown."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from eth_account import Account

from bot.i18n import format_amount
from core.pool.selectors import pool_position
from core.signing.models import SigningStatus
from tests import factories
from tests.bot.harness import PEOPLE, db
from tests.bot.test_lend import last_alert, plain, press
from tests.bot.wallets import follow_signing_link
from tests.chain import dev_key

pytestmark = pytest.mark.django_db
USD = factories.USD
KEY = dev_key(37)


def money(units: int) -> str:
    return format_amount(units, "en").replace("\xa0", " ")


@pytest.fixture
def depositor(chain, settings):
    """bob, a lender with 500 tokens; the chain's clock is put back after the cooldown."""
    settings.ONCHAIN_ADDRESSES_FILE = chain.addresses_file
    settings.RPC_URL = chain.rpc_url
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "pool-chat"}}
    cache.clear()
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    chain.faucet(KEY, 500 * USD)
    yield factories.lender(telegram_id=PEOPLE["bob"]["id"], username="bob",
                           wallet=Account.from_key(KEY).address)
    chain.w3.provider.make_request("evm_revert", [snapshot])


def test_a_lender_deposits_into_the_pool_and_withdraws_after_the_cooldown(run_bot, chain,
                                                                         depositor):
    address = depositor.wallet_address

    async def scenario(chat):
        [overview] = await chat.say("bob", "/pool")
        text = plain(overview)
        assert "Value of one share:" in text and "APY: not enough history yet." in text
        assert "ask first, then withdraw after 7 days, within 2 days." in text
        assert "You have no deposit in the pool yet." in text
        assert "1|pool|wd" not in str(overview["reply_markup"])

        [ask] = await press(chat, "bob", overview, "1|pool|dep")
        assert f"Your wallet holds {money(500 * USD)}" in plain(ask)
        [too_much] = await chat.say("bob", "600")
        assert plain(too_much).startswith(f"Your wallet holds only {money(500 * USD)}")
        replies = await chat.say("bob", "75")
        signed = await follow_signing_link(chain, KEY, replies)
        assert signed.status == SigningStatus.CONFIRMED

        position = await db(pool_position, address=address)
        assert 75 * USD - 1 <= position.assets <= 75 * USD
        cache.clear()
        [overview] = await chat.say("bob", "/pool")
        assert f"Your position: {money(position.assets)}" in plain(overview)

        [ask] = await press(chat, "bob", overview, "1|pool|wd")
        assert plain(ask).startswith("How much would you like to withdraw?")
        replies = await chat.say("bob", "30")
        signed = await follow_signing_link(chain, KEY, replies)
        assert signed.status == SigningStatus.CONFIRMED
        asked = await db(pool_position, address=address)
        assert asked.withdraw_status == "cooling"
        assert asked.withdraw_requested_shares * asked.assets // asked.shares >= 30 * USD

        [overview] = await chat.say("bob", "/pool")
        assert "Withdrawal asked: it opens on" in plain(overview)
        assert await press(chat, "bob", overview, "1|pool|wd") == []
        assert last_alert(chat).startswith("Your withdrawal opens on")

        chain.mine_after(7 * 86400 + 60)
        [overview] = await chat.say("bob", "/pool")
        assert "Ready to withdraw now:" in plain(overview)
        balance_before = chain.balance(address)
        replies = await press(chat, "bob", overview, "1|pool|wd")
        signed = await follow_signing_link(chain, KEY, replies)
        assert signed.status == SigningStatus.CONFIRMED
        assert chain.balance(address) - balance_before >= 30 * USD
        left = await db(pool_position, address=address)
        assert left.shares == asked.shares - asked.withdraw_requested_shares

    run_bot(scenario)


def test_pool_buttons_that_are_forged_or_stale_change_nothing(run_bot, chain, depositor):
    async def scenario(chat):
        [overview] = await chat.say("bob", "/pool")
        assert await chat.press("bob", overview, data="1|pool|nope") == []
        assert "/pool" in last_alert(chat)
        assert await chat.press("bob", overview, data="1|pool|amt|stale|5000000") == []
        assert "no longer active" in last_alert(chat)
        assert await chat.press("bob", overview, data="1|pool|wd") == []
        assert last_alert(chat) == "You have nothing in the pool to withdraw."

    run_bot(scenario)
