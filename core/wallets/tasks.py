"""Celery jobs of the wallets app: each a thin wrapper around one service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from core.common.chain import TRANSIENT_RPC_ERRORS, current_deployment, web3_client
from core.wallets.chain_sync import chain_sync
from core.wallets.reconciliation import reconciliation_run
from core.wallets.services import signing_requests_expire, signing_requests_settle_failed


# Every job here is idempotent (logs stored once, states set not toggled, alerts deduped):
# acks_late + reject_on_worker_lost make a worker killed mid-task mean "run it again".
@shared_task(name="wallets.sync_chain", ignore_result=True, autoretry_for=TRANSIENT_RPC_ERRORS,
             retry_backoff=2, retry_backoff_max=300, retry_jitter=True, max_retries=None,
             acks_late=True, reject_on_worker_lost=True)
def sync_chain() -> int:
    """Index new contract logs. A dead RPC retries with backoff; the cursor only moves after
    a batch is stored and applied, so a retry resumes exactly where the last one stopped."""
    result = chain_sync(w3=web3_client(), deployment=current_deployment(),
                        confirmations=settings.CHAIN.confirmations,
                        batch_blocks=settings.CHAIN.log_batch_blocks)
    return result.logs


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


@shared_task(name="wallets.reconcile", ignore_result=True, autoretry_for=TRANSIENT_RPC_ERRORS,
             retry_backoff=30, retry_backoff_max=1800, max_retries=12, acks_late=True,
             reject_on_worker_lost=True)
def reconcile() -> int:
    """Compare the ledger with the contracts; differences alert the admins."""
    return reconciliation_run(w3=web3_client(), deployment=current_deployment()).differences_count
