"""Celery jobs of signing requests: each a thin wrapper around one service.

The names are those of the wallets app this one was (core/signing keeps its label).
"""

from __future__ import annotations

from celery import shared_task

from core.common.chain import TRANSIENT_RPC_ERRORS, web3_client
from core.signing.services import signing_requests_expire, signing_requests_settle_failed


@shared_task(name="wallets.expire_signing_requests", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def expire_signing_requests() -> int:
    return signing_requests_expire()


@shared_task(name="wallets.settle_failed_transactions", ignore_result=True,
             autoretry_for=TRANSIENT_RPC_ERRORS, retry_backoff=5, retry_backoff_max=300,
             max_retries=10, acks_late=True, reject_on_worker_lost=True)
def settle_failed_transactions() -> int:
    """Mark submitted requests whose transaction reverted as failed (reverts emit no logs)."""
    return signing_requests_settle_failed(w3=web3_client())
