"""The keeper: the platform's own transactions that time makes due.

- `loans_mark_defaults`: `markDefault` on loans whose oldest unpaid installment is past its due
  time plus the loan's grace period;
- `listings_expire`: `expire` on listings whose funding deadline passed, so lenders can take
  their money back.

Both decide by the chain's clock and state (the contract is the judge; the database only
picks candidates), send through the platform's serial nonce manager with KEEPER_PRIVATE_KEY,
and change nothing off chain themselves: the indexer applies the resulting `Defaulted` /
`LoanExpired` log once, which moves the loan, posts the ledger entries and queues the messages
for the borrower and lenders (core/chain/events.py).

Idempotency: each candidate loan row is locked (`SKIP LOCKED`) for as long as its transaction
is in flight, so two keepers never send for the same loan at once; a keeper that comes later
reads the chain's new state and sends nothing. A crash between sending and the receipt leaves a
transaction the chain either mined (the next run sees the new state) or dropped (the next run
sends again): the chain accepts only one default or expiry per loan, so the money is the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.common.errors import ServiceError
from core.loans.models import Loan
from core.loans.states import OPEN_FOR_FUNDING, LoanState
from core.notifications.services import notify_admins
from onchain.contracts import Deployment
from onchain.nonces import (
    FileNonceStore,
    PermanentSendError,
    RedisNonceStore,
    SerialSender,
)
from onchain.transactions import Builder

log = logging.getLogger(__name__)

# LoanBook.LoanState, in the contract's order.
CHAIN_FUNDING, CHAIN_ACTIVE = 1, 3


class KeeperUnavailable(ServiceError):
    code = "keeper_unavailable"


@dataclass
class KeeperRun:
    action: str
    sent: dict[int, str] = field(default_factory=dict)  # loan id -> tx hash
    not_due: int = 0  # candidates the chain does not allow yet (or any more)
    busy: int = 0  # candidates another keeper holds right now
    failed: dict[int, str] = field(default_factory=dict)


def keeper_sender(*, w3: Any) -> SerialSender:
    """The keeper's sender: its key, one nonce after another across processes (Redis lock
    when REDIS_URL is set, a file lock on this host otherwise)."""
    key = settings.KEEPER_PRIVATE_KEY
    if not key:
        raise KeeperUnavailable("KEEPER_PRIVATE_KEY is not set: the keeper cannot send.")
    from eth_account import Account

    address = Account.from_key(key).address
    chain_id = w3.eth.chain_id
    if settings.REDIS_URL:
        import redis

        store = RedisNonceStore(client=redis.Redis.from_url(settings.REDIS_URL),
                                chain_id=chain_id, address=address)
    else:
        store = FileNonceStore(directory=settings.NONCE_LOCK_DIR, chain_id=chain_id,
                               address=address)
    return SerialSender(w3=w3, private_key=key, store=store)


def _chain_time(w3: Any) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def _alert_admins(loan: Loan, action: str, error: str) -> None:
    day = timezone.now().date().isoformat()
    notify_admins("keeper_action_failed", f"keeper:{action}:{loan.pk}:{day}",
                  {"loan_id": loan.pk, "action": action, "error": error[:300]})


def _keep(*, action: str, candidates: list[int], due: Callable[[int], bool],
          tx: Callable[[int], dict], sender: SerialSender) -> KeeperRun:
    run = KeeperRun(action=action)
    for pk in candidates:
        # The row lock is held while the transaction is in flight (seconds): a second keeper
        # skips this loan instead of paying gas for a call that would revert.
        with transaction.atomic():
            loan = Loan.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if loan is None:
                run.busy += 1
                continue
            if not due(loan.chain_loan_id):
                run.not_due += 1
                continue
            try:
                tx_hash = sender.send(tx(loan.chain_loan_id))
                receipt = sender.wait(tx_hash)
            except PermanentSendError as exc:
                if not due(loan.chain_loan_id):  # someone else's call landed first
                    run.not_due += 1
                    continue
                run.failed[loan.pk] = str(exc)
                log.error("keeper %s of loan %s failed: %s", action, loan.pk, exc)
                _alert_admins(loan, action, str(exc))
                continue
            if receipt["status"] != 1:
                if due(loan.chain_loan_id):
                    run.failed[loan.pk] = f"reverted in {tx_hash}"
                    _alert_admins(loan, action, f"reverted in {tx_hash}")
                else:
                    run.not_due += 1
                continue
            run.sent[loan.pk] = tx_hash
            log.info("keeper %s of loan %s sent in %s", action, loan.pk, tx_hash)
    return run


def loans_mark_defaults(*, w3: Any, deployment: Deployment,
                        sender: SerialSender | None = None) -> KeeperRun:
    """Call `markDefault` for every loan the contract lets default now."""
    loan_book = deployment.contract("LoanBook", w3)
    builder = Builder(deployment)
    now = datetime.fromtimestamp(_chain_time(w3), tz=UTC)
    candidates = list(
        Loan.objects.filter(state__in=(LoanState.ACTIVE, LoanState.LATE),
                            chain_loan_id__isnull=False, schedule__due_at__lt=now,
                            schedule__cumulative_due__gt=F("repaid_amount"))
        .order_by("pk").values_list("pk", flat=True).distinct())
    if not candidates:
        return KeeperRun(action="default")

    def due(chain_loan_id: int) -> bool:
        after = loan_book.functions.defaultableAfter(chain_loan_id).call()
        return 0 < after < _chain_time(w3)

    def tx(chain_loan_id: int) -> dict:
        step = builder.mark_default(chain_loan_id)[0]
        return {"to": step.to, "data": step.data, "value": 0}

    return _keep(action="default", candidates=candidates, due=due, tx=tx,
                 sender=sender or keeper_sender(w3=w3))


def listings_expire(*, w3: Any, deployment: Deployment,
                    sender: SerialSender | None = None) -> KeeperRun:
    """Call `expire` for every listing whose funding deadline has passed on chain."""
    loan_book = deployment.contract("LoanBook", w3)
    builder = Builder(deployment)
    now = datetime.fromtimestamp(_chain_time(w3), tz=UTC)
    candidates = list(
        Loan.objects.filter(state__in=OPEN_FOR_FUNDING, chain_loan_id__isnull=False,
                            funding_deadline__lt=now)
        .order_by("funding_deadline", "pk").values_list("pk", flat=True))
    if not candidates:
        return KeeperRun(action="expire")

    def due(chain_loan_id: int) -> bool:
        onchain = loan_book.functions.getLoan(chain_loan_id).call()
        state, funding_deadline = onchain[0], onchain[6]
        return state == CHAIN_FUNDING and _chain_time(w3) > funding_deadline

    def tx(chain_loan_id: int) -> dict:
        step = builder.expire(chain_loan_id)[0]
        return {"to": step.to, "data": step.data, "value": 0}

    return _keep(action="expire", candidates=candidates, due=due, tx=tx,
                 sender=sender or keeper_sender(w3=w3))
