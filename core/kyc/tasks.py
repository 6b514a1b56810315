"""Celery jobs of identity verification."""

from celery import shared_task

from core.kyc.services import kyc_documents_purge


# Idempotent (a document already deleted is skipped): redelivered if a worker dies mid-run.
@shared_task(name="kyc.purge_documents", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def purge_documents() -> int:
    """Nightly: documents past their retention after a decision are deleted."""
    return kyc_documents_purge()
