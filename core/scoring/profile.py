"""What scoring knows about a borrower besides their loans: what they declared about
themselves, and their verified wallet's history as the chain shows it (the wallet signal the
scoring features join).

The wallet signal is read after a wallet is linked (core.users queues
`scoring.refresh_wallet_signal` by name after commit) and kept fresh by the beat's
`scoring.refresh_stale_wallet_signals`, a bounded sweep of missing and stale signals.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from web3 import Web3

from core.scoring.errors import ScoringError
from core.scoring.models import BorrowerProfile, Employment, IncomeBand, WalletSignal
from core.users.models import TelegramUser
from onchain.wallet_activity import wallet_activity

logger = logging.getLogger(__name__)


def borrower_profile_set(*, user: TelegramUser, income_band: str = "",
                         employment: str = "") -> BorrowerProfile:
    """What the borrower declares about themselves; an empty value means "prefer not to say"."""
    if income_band and income_band not in IncomeBand.values:
        raise ScoringError(_("Choose one of the offered income bands."),
                           code="bad_income_band")
    if employment and employment not in Employment.values:
        raise ScoringError(_("Choose one of the offered employment options."),
                           code="bad_employment")
    profile, _created = BorrowerProfile.objects.update_or_create(
        user=user, defaults={"income_band": income_band, "employment": employment})
    return profile


def wallet_signal_record(*, user: TelegramUser, tx_count: int, first_tx_at: datetime | None,
                         checked_at: datetime | None = None) -> WalletSignal:
    signal, _created = WalletSignal.objects.update_or_create(
        user=user, defaults={"address": user.wallet_address, "tx_count": tx_count,
                             "first_tx_at": first_tx_at,
                             "checked_at": checked_at or timezone.now()})
    return signal


def _rpc() -> Any:
    return Web3(Web3.HTTPProvider(settings.RPC_URL, request_kwargs={"timeout": 10}))


def wallet_signal_refresh(*, user: TelegramUser, w3: Any = None) -> WalletSignal | None:
    """Read the verified wallet's activity from the chain (RPC_URL) and keep it.

    A wallet's first transaction never moves, so once it is known only the count is read
    again (one RPC call instead of a bisection over the block history).
    """
    if not user.wallet_address:
        return None
    w3 = w3 or _rpc()
    address = Web3.to_checksum_address(user.wallet_address)
    known = WalletSignal.objects.filter(user=user, address=user.wallet_address,
                                        first_tx_at__isnull=False).first()
    if known is not None:
        return wallet_signal_record(user=user, tx_count=w3.eth.get_transaction_count(address),
                                    first_tx_at=known.first_tx_at)
    sent, first_ts = wallet_activity(w3, address)
    first_at = datetime.fromtimestamp(first_ts, tz=UTC) if first_ts else None
    return wallet_signal_record(user=user, tx_count=sent, first_tx_at=first_at)


def wallet_signals_stale(*, max_age: timedelta, limit: int,
                         now: datetime | None = None) -> list[TelegramUser]:
    """Borrowers with a verified wallet whose signal is missing, read for another address, or
    older than `max_age`: missing ones first, then the oldest."""
    cutoff = (now or timezone.now()) - max_age
    return list(TelegramUser.objects.filter(is_borrower=True).exclude(wallet_address="")
                .filter(Q(wallet_signal__isnull=True) | Q(wallet_signal__checked_at__lt=cutoff)
                        | ~Q(wallet_signal__address=F("wallet_address")))
                .order_by(F("wallet_signal__checked_at").asc(nulls_first=True), "pk")[:limit])


def wallet_signals_refresh_stale(*, max_age: timedelta, limit: int, w3: Any = None,
                                 now: datetime | None = None) -> int:
    """Refresh at most `limit` missing or stale wallet signals; returns how many were read.

    Idempotent and bounded, so the beat can run it often: a fresh signal is left alone, and a
    wallet the chain cannot answer for is logged and retried on a later run without holding
    up the others.
    """
    stale = wallet_signals_stale(max_age=max_age, limit=limit, now=now)
    if not stale:
        return 0
    w3 = w3 or _rpc()
    refreshed = 0
    for user in stale:
        try:
            wallet_signal_refresh(user=user, w3=w3)
        except Exception:  # one wallet's RPC failure must not stop the sweep
            logger.warning("wallet signal of user %s not refreshed", user.pk, exc_info=True)
            continue
        refreshed += 1
    return refreshed
