"""Celery jobs of the chat state."""

from __future__ import annotations

from celery import shared_task

from core.chat.services import updates_prune


@shared_task(name="chat.prune_updates", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def prune_updates() -> int:
    """Hourly: handled updates past the dedupe window (UPDATES_KEEP) are deleted, so the
    received-updates table stays the size of a week's traffic."""
    return updates_prune()
