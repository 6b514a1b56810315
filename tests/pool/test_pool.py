"""Backstop pool figures read from a real chain, and the APY the ledger's income gives."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from eth_account import Account

from core.ledger.models import AccountKind
from core.ledger.services import account_get_or_create, journal_post
from core.pool.selectors import pool_apy, pool_overview, pool_position
from core.signing import actions
from tests import factories
from tests.chain import dev_key

pytestmark = pytest.mark.django_db
USD = factories.USD
KEY = dev_key(30)
ADDRESS = Account.from_key(KEY).address
LOCAL_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                           "LOCATION": "pool-tests"}}


@pytest.fixture
def pool_chain(chain, settings):
    """The app reads this test chain; the cooldown moves its clock, so it is put back after."""
    settings.ONCHAIN_ADDRESSES_FILE = chain.addresses_file
    settings.RPC_URL = chain.rpc_url
    settings.CACHES = LOCAL_CACHE
    cache.clear()
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    chain.faucet(KEY, 1_000 * USD)
    yield chain
    chain.w3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture
def depositor(pool_chain):
    return factories.lender(telegram_id=4801, username="dora_pool", wallet=ADDRESS)


def pool_income(amount: int, *, days_ago: int, key: str) -> None:
    """Income reaches the pool as a repayment's premium: the payer's wallet pays it."""
    payer = factories.borrower(telegram_id=4900 + days_ago, username=f"payer{days_ago}")
    journal_post(key=key, description="premium", occurred_at=timezone.now() - timedelta(
        days=days_ago), lines=[
        (account_get_or_create(kind=AccountKind.BACKSTOP_POOL), amount),
        (account_get_or_create(kind=AccountKind.WALLET, user=payer), -amount)])


def test_a_deposit_shows_in_the_overview_and_in_the_depositors_position(pool_chain, depositor):
    before = pool_overview()
    assert before.available and before.cooldown_seconds == 7 * 86400
    assert before.withdraw_window_seconds == 2 * 86400 and not before.deposits_paused
    assert before.share_price >= 1

    pool_chain.sign(KEY, actions.pool_deposit_request(user=depositor, amount=250 * USD))
    assert pool_overview() == before, "read again within the cache's lifetime"
    cache.clear()
    after = pool_overview()
    assert after.total_assets - before.total_assets == 250 * USD
    assert after.total_shares > before.total_shares

    position = pool_position(address=ADDRESS)
    assert position.shares == after.total_shares - before.total_shares
    assert 250 * USD - 1 <= position.assets <= 250 * USD
    assert position.wallet_balance == pool_chain.balance(ADDRESS)
    assert position.withdraw_status == "none" and position.unlock_at is None


def test_a_withdrawal_unlocks_after_the_cooldown_and_lapses_after_the_window(pool_chain,
                                                                            depositor):
    pool_chain.sign(KEY, actions.pool_deposit_request(user=depositor, amount=100 * USD))
    shares = pool_position(address=ADDRESS).shares
    pool_chain.sign(KEY, actions.pool_withdraw_request(user=depositor, shares=shares // 2,
                                                       ready=False))

    cooling = pool_position(address=ADDRESS)
    assert cooling.withdraw_status == "cooling"
    assert cooling.withdraw_requested_shares == shares // 2 and cooling.redeemable_shares == 0
    assert cooling.unlock_at - cooling.as_of == timedelta(days=7)
    assert cooling.window_ends_at - cooling.unlock_at == timedelta(days=2)

    pool_chain.mine_after(7 * 86400 + 60)
    ready = pool_position(address=ADDRESS)
    assert ready.withdraw_status == "ready" and ready.redeemable_shares == shares // 2
    # ERC-4626 rounds down twice (shares on deposit, assets on redeem) once the pool has income:
    # each rounding keeps back less than one share's worth (more than a base unit when the
    # pool has earned premiums in earlier tests on this chain).
    pool = pool_chain.deployment.contract("LiquidityBackstopPool", pool_chain.w3).functions
    one_share = pool.convertToAssets(1).call() + 1
    assert 50 * USD - 2 * one_share <= ready.redeemable_assets <= 50 * USD

    wallet_before = pool_chain.balance(ADDRESS)
    pool_chain.sign(KEY, actions.pool_withdraw_request(user=depositor, shares=shares // 2,
                                                       ready=True))
    done = pool_position(address=ADDRESS)
    assert done.shares == shares - shares // 2 and done.withdraw_status == "none"
    assert pool_chain.balance(ADDRESS) - wallet_before == ready.redeemable_assets

    pool_chain.sign(KEY, actions.pool_withdraw_request(user=depositor, shares=done.shares,
                                                       ready=False))
    pool_chain.mine_after(9 * 86400 + 60)
    assert pool_position(address=ADDRESS).withdraw_status == "lapsed"


def test_it_answers_unavailable_when_the_node_is_down(pool_chain, settings):
    settings.RPC_URL = "http://127.0.0.1:9"  # nothing listens there
    overview = pool_overview()
    assert not overview.available and overview.total_assets == 0 and overview.apy is None
    assert pool_position(address=ADDRESS) is None


def test_it_answers_unavailable_when_no_contracts_are_deployed(settings, tmp_path):
    settings.ONCHAIN_ADDRESSES_FILE = tmp_path / "none.json"
    settings.CACHES = LOCAL_CACHE
    assert not pool_overview().available
    assert pool_position(address=ADDRESS) is None


def test_apy_compounds_the_last_30_days_of_pool_income(db):
    assert pool_apy(total_assets=1_000 * USD) is None, "a pool that never earned has no APY"
    pool_income(1 * USD, days_ago=10, key="premium:recent")
    pool_income(50 * USD, days_ago=45, key="premium:old")

    apy = pool_apy(total_assets=1_000 * USD)
    expected = (Decimal("1.001") ** (Decimal(365) / 30) - 1).quantize(Decimal("0.0001"))
    assert apy == expected == Decimal("0.0122")
    assert pool_apy(total_assets=0) is None


def test_apy_is_zero_when_the_pool_earned_before_but_not_lately(db):
    pool_income(5 * USD, days_ago=60, key="premium:stale")
    assert pool_apy(total_assets=1_000 * USD) == 0
