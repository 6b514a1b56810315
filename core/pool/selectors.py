"""Read-only figures of the LiquidityBackstopPool (an ERC-4626 vault with a withdrawal cooldown).

The chain is the truth for the pool's assets, shares and everyone's position; the ledger only
knows what the pool earned and paid. APY therefore comes from the ledger: the pool's net
income over the last 30 days (premiums and recoveries from repayments minus default cover,
the BACKSTOP_POOL postings) against today's total assets, compounded over a year. Deposits
and withdrawals are not income and never reach those postings.

Nothing here raises when the node is down or the contracts are not deployed: the overview
says `available=False` and a position read answers None, so pages and chats degrade.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext

from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone
from eth_utils import to_checksum_address
from web3.exceptions import Web3Exception

from core.common.chain import (
    TRANSIENT_RPC_ERRORS,
    DeploymentMissing,
    current_deployment,
    web3_client,
)
from core.ledger.models import AccountKind, Posting

logger = logging.getLogger(__name__)

# Shares carry 6 more decimals than the asset (the vault's _decimalsOffset against inflation).
SHARE_DECIMALS_OFFSET = 6
APY_WINDOW = timedelta(days=30)
OVERVIEW_CACHE_S = 15
_READ_ERRORS = (*TRANSIENT_RPC_ERRORS, Web3Exception, DeploymentMissing, ValueError)


@dataclass(frozen=True)
class PoolOverview:
    total_assets: int  # base units: the pool's balance plus what the LoanBook holds for it
    total_shares: int  # share units (asset decimals + 6)
    share_price: Decimal  # whole assets for one whole share
    apy: Decimal | None  # a fraction (0.0734 = 7.34 %); None without enough history or TVL
    cooldown_seconds: int
    available: bool  # False: the chain could not be read, the other figures are zero
    withdraw_window_seconds: int = 0
    deposits_paused: bool = False


@dataclass(frozen=True)
class PoolPosition:
    shares: int
    assets: int  # what the shares are worth now, base units
    withdraw_requested_shares: int
    unlock_at: datetime | None  # when the requested shares may leave; None without a request
    window_ends_at: datetime | None  # the request lapses after this
    redeemable_shares: int  # what may be withdrawn right now (the chain's own clock decides)
    redeemable_assets: int
    wallet_balance: int  # stable tokens in the wallet, what could still be deposited
    as_of: datetime  # the chain's clock (latest block), which the cooldown runs on

    @property
    def withdraw_status(self) -> str:
        """none, cooling (cooldown running), ready (withdraw now) or lapsed (window missed)."""
        if not self.withdraw_requested_shares:
            return "none"
        if self.redeemable_shares:
            return "ready"
        if self.unlock_at and self.as_of < self.unlock_at:
            return "cooling"
        return "lapsed"


UNAVAILABLE = PoolOverview(total_assets=0, total_shares=0, share_price=Decimal(0), apy=None,
                           cooldown_seconds=0, available=False)


def _one_share() -> int:
    return 10 ** (settings.STABLE_DECIMALS + SHARE_DECIMALS_OFFSET)


def pool_income(*, since: datetime) -> int | None:
    """The pool's net income recorded by the ledger since `since`; None if it never earned."""
    postings = Posting.objects.filter(account__kind=AccountKind.BACKSTOP_POOL)
    if not postings.exists():
        return None
    return postings.filter(entry__occurred_at__gte=since).aggregate(
        total=Sum("amount"))["total"] or 0


def pool_apy(*, total_assets: int, now: datetime | None = None) -> Decimal | None:
    """Last 30 days' net income over today's assets, compounded to a year."""
    if total_assets <= 0:
        return None
    income = pool_income(since=(now or timezone.now()) - APY_WINDOW)
    if income is None:
        return None
    with localcontext() as context:
        context.prec = 28
        period_return = Decimal(income) / Decimal(total_assets)
        if period_return <= -1:
            return Decimal(-1)
        periods = Decimal(365) / Decimal(APY_WINDOW.days)
        return ((1 + period_return) ** periods - 1).quantize(Decimal("0.0001"))


def _cache_key() -> str:
    deployment = current_deployment()
    return f"pool:overview:{deployment.chain_id}:{deployment.pool}"


def _read_overview() -> PoolOverview:
    pool = current_deployment().contract("LiquidityBackstopPool", web3_client()).functions
    total_assets = pool.totalAssets().call()
    total_shares = pool.totalSupply().call()
    price_units = pool.convertToAssets(_one_share()).call()
    return PoolOverview(
        total_assets=total_assets, total_shares=total_shares,
        share_price=Decimal(price_units).scaleb(-settings.STABLE_DECIMALS),
        apy=pool_apy(total_assets=total_assets),
        cooldown_seconds=pool.cooldownPeriod().call(),
        withdraw_window_seconds=pool.withdrawWindow().call(),
        deposits_paused=pool.paused().call(), available=True)


def pool_overview() -> PoolOverview:
    """The pool's figures, cached briefly (many chats and pages ask at once)."""
    try:
        key = _cache_key()
    except _READ_ERRORS as error:
        logger.warning("pool overview unavailable: %s", error)
        return UNAVAILABLE
    cached = cache.get(key)
    if isinstance(cached, PoolOverview):
        return cached
    try:
        overview = _read_overview()
    except _READ_ERRORS as error:
        logger.warning("pool overview unavailable: %s", error)
        return UNAVAILABLE
    cache.set(key, overview, OVERVIEW_CACHE_S)
    return overview


def _moment(timestamp: int) -> datetime | None:
    return datetime.fromtimestamp(timestamp, tz=UTC) if timestamp else None


def pool_position(*, address: str) -> PoolPosition | None:
    """A depositor's shares, their worth and withdrawal request; None if the chain is down."""
    try:
        owner = to_checksum_address(address)
        deployment = current_deployment()
        w3 = web3_client()
        pool = deployment.contract("LiquidityBackstopPool", w3).functions
        shares = pool.balanceOf(owner).call()
        requested, ready_at, window_end = pool.withdrawRequestOf(owner).call()
        redeemable = pool.maxRedeem(owner).call()
        return PoolPosition(
            shares=shares,
            assets=pool.convertToAssets(shares).call() if shares else 0,
            withdraw_requested_shares=requested,
            unlock_at=_moment(ready_at) if requested else None,
            window_ends_at=_moment(window_end) if requested else None,
            redeemable_shares=redeemable,
            redeemable_assets=pool.previewRedeem(redeemable).call() if redeemable else 0,
            wallet_balance=deployment.contract("MockStable", w3).functions.balanceOf(
                owner).call(),
            as_of=_moment(w3.eth.get_block("latest")["timestamp"]))
    except _READ_ERRORS as error:
        logger.warning("pool position of %s unavailable: %s", address, error)
        return None


def pool_shares_for(*, position: PoolPosition, assets: int) -> int:
    """Shares to ask for so that `assets` (at least) come out, never more than are held."""
    if position.shares == 0 or position.assets == 0 or assets <= 0:
        return 0
    return min(position.shares, -(-assets * position.shares // position.assets))
