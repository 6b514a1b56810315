"""Celery jobs of scoring: thin wrappers taking ids, each calling one service."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from core.common.chain import TRANSIENT_RPC_ERRORS
from core.loans.models import Loan
from core.scoring import applications, attestations, profile, rescoring, review
from core.scoring.scores import scores_cache_invalidate
from core.scoring.selectors import borrower_id_ranges
from core.users.models import TelegramUser
from onchain.nonces import TransientSendError

logger = logging.getLogger(__name__)


# acks_late + reject_on_worker_lost on the idempotent tasks below: a worker killed mid-task
# leaves the message unacknowledged, so it runs again; post_attestations keeps the early ack
# (a re-run after a crash could send a transaction twice) and relies on its beat schedule.
@shared_task(name="scoring.score_application", ignore_result=True,
             autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=60,
             max_retries=5, acks_late=True, reject_on_worker_lost=True)
def score_application(loan_id: int) -> int:
    """Run right after the borrower submits: the offer is queued within seconds."""
    return applications.loan_application_score(loan=Loan.objects.get(pk=loan_id)).pk


@shared_task(name="scoring.score_pending_applications", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def score_pending_applications() -> int:
    """Periodic safety net: applications whose scoring task was lost (broker down) get one."""
    return applications.applications_score_pending(
        older_than_s=settings.SCORING_PENDING_AFTER_S)


@shared_task(name="scoring.rescore_all", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def rescore_all() -> int:
    """Nightly: fan the borrowers out in chunks; each chunk task is idempotent per night."""
    batch_key = rescoring.nightly_batch_key()
    chunks = 0
    for first_id, last_id in borrower_id_ranges(chunk=settings.SCORING_CHUNK):
        rescore_chunk.delay(first_id, last_id, batch_key)
        chunks += 1
    return chunks


@shared_task(name="scoring.rescore_chunk", ignore_result=True, autoretry_for=(OperationalError,),
             retry_backoff=True, retry_backoff_max=300, max_retries=5, acks_late=True,
             reject_on_worker_lost=True)
def rescore_chunk(first_id: int, last_id: int, batch_key: str) -> int:
    written = rescoring.scores_rescore_range(first_id=first_id, last_id=last_id,
                                             batch_key=batch_key)
    scores_cache_invalidate()
    return written


@shared_task(name="scoring.sign_attestations", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def sign_attestations() -> int:
    total = 0
    while signed := attestations.scores_sign_pending(limit=settings.SCORING_CHUNK):
        total += signed
    return total


@shared_task(name="scoring.post_attestations", ignore_result=True,
             autoretry_for=(TransientSendError, OperationalError, ConnectionError),
             retry_backoff=True, retry_backoff_max=600, max_retries=8)
def post_attestations() -> dict:
    return attestations.scores_post_pending()


@shared_task(name="scoring.review_sla_alert", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def review_sla_alert() -> int:
    return review.review_sla_alert()


@shared_task(name="scoring.refresh_wallet_signal", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def refresh_wallet_signal(user_id: int) -> None:
    """After a wallet is linked. With the node away the signal stays missing, and the
    periodic sweep (refresh_stale_wallet_signals) reads it later: no retry loop here."""
    try:
        profile.wallet_signal_refresh(user=TelegramUser.objects.get(pk=user_id))
    except TRANSIENT_RPC_ERRORS as error:
        logger.warning("wallet signal of user %s left for the sweep: %s", user_id, error)


@shared_task(name="scoring.refresh_stale_wallet_signals", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def refresh_stale_wallet_signals() -> int:
    """Periodic: missing wallet signals (a lost after-link message) and ones older than
    WALLET_SIGNAL_MAX_AGE_HOURS, at most WALLET_SIGNAL_REFRESH_BATCH per run."""
    return profile.wallet_signals_refresh_stale(
        max_age=timedelta(hours=settings.WALLET_SIGNAL_MAX_AGE_HOURS),
        limit=settings.WALLET_SIGNAL_REFRESH_BATCH)
