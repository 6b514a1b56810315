"""Celery jobs of the loans app: thin wrappers around one service each."""

from celery import shared_task

from core.loans.services import loans_refresh_lateness_due


@shared_task(name="loans.refresh_lateness", ignore_result=True)
def refresh_lateness() -> int:
    return loans_refresh_lateness_due()
