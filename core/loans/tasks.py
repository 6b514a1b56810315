"""Celery jobs of the loans app: thin wrappers around one service each."""

from celery import shared_task

from core.common.chain import TRANSIENT_RPC_ERRORS, current_deployment, web3_client
from core.loans.lateness import loans_refresh_lateness_due
from onchain.nonces import TransientSendError


# Idempotent (the state follows from the schedule and the clock): redelivered if a worker
# dies mid-run.
@shared_task(name="loans.refresh_lateness", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def refresh_lateness() -> int:
    return loans_refresh_lateness_due()


# --- jobs that time makes due (core/loans/reminders.py, core/loans/keeper.py) ---------------
# All idempotent (outbox dedupe keys; the chain accepts one default or expiry per loan), so
# a worker killed mid-run leaves the message to run again.

@shared_task(name="loans.send_reminders", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def send_reminders() -> int:
    from core.loans.reminders import installment_reminders_queue

    return installment_reminders_queue().queued


_KEEPER_RETRY = (*TRANSIENT_RPC_ERRORS, TransientSendError)  # node down or nonce lock busy


@shared_task(name="loans.expire_listings", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True, autoretry_for=_KEEPER_RETRY, retry_backoff=5,
             retry_backoff_max=300, retry_jitter=True, max_retries=10)
def expire_listings() -> int:
    """Expire on chain the listings whose funding deadline passed; the indexer tells people."""
    from core.loans.keeper import listings_expire

    return len(listings_expire(w3=web3_client(), deployment=current_deployment()).sent)


@shared_task(name="loans.mark_defaults", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True, autoretry_for=_KEEPER_RETRY, retry_backoff=5,
             retry_backoff_max=300, retry_jitter=True, max_retries=10)
def mark_defaults() -> int:
    """Mark defaulted on chain the loans past their grace period; the indexer tells people."""
    from core.loans.keeper import loans_mark_defaults

    return len(loans_mark_defaults(w3=web3_client(), deployment=current_deployment()).sent)
