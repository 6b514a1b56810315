"""Celery jobs of the chain indexer: each a thin wrapper around one service.

The task names keep their "wallets." prefix from before the chain app moved out of
core/wallets: beat schedules, queued messages and the task metrics are keyed by name.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from core.chain.chain_sync import chain_sync
from core.chain.reconciliation import reconciliation_run
from core.common.chain import TRANSIENT_RPC_ERRORS, current_deployment, web3_client


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


@shared_task(name="wallets.reconcile", ignore_result=True, autoretry_for=TRANSIENT_RPC_ERRORS,
             retry_backoff=30, retry_backoff_max=1800, max_retries=12, acks_late=True,
             reject_on_worker_lost=True)
def reconcile() -> int:
    """Compare the ledger with the contracts; differences alert the admins."""
    return reconciliation_run(w3=web3_client(), deployment=current_deployment()).differences_count
