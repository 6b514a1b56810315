"""Reads about scores: the latest score (cache first, PostgreSQL as the truth), the review
queue with its ages, and the id ranges that batch jobs work through."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from core.loans.models import Loan
from core.loans.selectors import borrower_exposure
from core.loans.states import LoanState
from core.scoring import policy
from core.scoring.models import Score
from core.users.models import TelegramUser
from core.users.selectors import kyc_tier_limit

logger = logging.getLogger(__name__)
_EPOCH_KEY = "scoring:epoch"


def _cache_epoch() -> str:
    """A token in every latest-score cache key: batch jobs replace it instead of deleting
    100k keys one by one (which the file cache of the embedded default could not afford)."""
    epoch = cache.get(_EPOCH_KEY)
    if epoch is None:
        epoch = uuid.uuid4().hex
        cache.add(_EPOCH_KEY, epoch, timeout=None)
        epoch = cache.get(_EPOCH_KEY, epoch)
    return epoch


def latest_score_cache_key(*, borrower_id: int) -> str:
    return f"scoring:latest:{_cache_epoch()}:{borrower_id}"


def score_summary(score: Score) -> dict:
    return {"score_id": score.pk, "score": score.score, "grade": score.grade,
            "pd_bps": score.pd_bps, "reasons": list(score.reasons),
            "model_version": score.model_version, "created_at": score.created_at.isoformat(),
            "expiry": score.expiry}


def score_latest(*, borrower_id: int) -> Score | None:
    """The borrower's latest score from the database (the truth)."""
    return (Score.objects.filter(borrower_id=borrower_id)
            .order_by("-created_at", "-id").first())


def score_latest_summary(*, borrower_id: int) -> dict | None:
    """The latest score as a small dict, from the cache when it has it."""
    try:
        key = latest_score_cache_key(borrower_id=borrower_id)
        cached = cache.get(key)
    except Exception:  # the cache is an optimisation: if it is down, ask the database
        logger.warning("score cache unavailable", exc_info=True)
        key, cached = None, None
    if cached is not None:
        return cached
    score = score_latest(borrower_id=borrower_id)
    if score is None:
        return None
    summary = score_summary(score)
    if key is not None:
        try:
            cache.set(key, summary, timeout=settings.SCORE_CACHE_TTL_S)
        except Exception:
            logger.warning("score cache unavailable", exc_info=True)
    return summary


def borrower_id_ranges(*, chunk: int, after_id: int = 0) -> Iterator[tuple[int, int]]:
    """(first_id, last_id) ranges of `chunk` borrowers each, by keyset, never loading them all."""
    borrowers = TelegramUser.objects.filter(is_borrower=True).order_by("id")
    while True:
        ids = list(borrowers.filter(id__gt=after_id).values_list("id", flat=True)[:chunk])
        if not ids:
            return
        yield ids[0], ids[-1]
        after_id = ids[-1]


def review_queue() -> QuerySet[Loan]:
    """Applications waiting for a person, oldest first, with when they entered review."""
    return (Loan.objects.filter(state=LoanState.IN_REVIEW)
            .annotate(review_since=Max("transitions__created_at",
                                       filter=Q(transitions__to_state=LoanState.IN_REVIEW)))
            .select_related("borrower").order_by("review_since", "pk"))


def review_overdue(*, now: datetime | None = None) -> QuerySet[Loan]:
    """Review items older than the SLA (REVIEW_SLA_HOURS)."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.REVIEW_SLA_HOURS)
    return review_queue().filter(review_since__lt=cutoff)


def applications_awaiting_score(*, older_than_s: float, now: datetime | None = None,
                                limit: int = 1000) -> list[int]:
    """Ids of applications `submitted` for longer than `older_than_s` and still unscored,
    oldest first (their scoring task never ran: a broker outage, a lost message)."""
    cutoff = (now or timezone.now()) - timedelta(seconds=older_than_s)
    return list(Loan.objects.filter(state=LoanState.SUBMITTED, updated_at__lte=cutoff)
                .order_by("updated_at", "pk").values_list("pk", flat=True)[:limit])


@dataclass(frozen=True, slots=True)
class BorrowingLimit:
    """What a borrower may ask for now: the KYC-tier room left, capped by the pricing of their
    latest grade (if they have been scored)."""

    max_principal: int  # base units; 0 means no room at all
    kyc_available: int
    grade: str  # the latest grade, "" if never scored
    grade_max_principal: int | None
    max_installments: int | None  # the latest grade's longest term, None when unknown


def borrowing_limit(*, user: TelegramUser) -> BorrowingLimit:
    available = max(kyc_tier_limit(tier=user.kyc_tier) - borrower_exposure(borrower=user), 0)
    latest = score_latest_summary(borrower_id=user.pk)
    pricing = policy.load_pricing()
    # A refused grade does not cap: a new application is scored afresh (with whatever the
    # borrower declared since), and the policy refuses it with reasons if it must.
    if latest is None or latest["grade"] in pricing.refuse_grades:
        return BorrowingLimit(max_principal=available, kyc_available=available,
                              grade=latest["grade"] if latest else "",
                              grade_max_principal=None, max_installments=None)
    terms = pricing.grades[latest["grade"]]
    return BorrowingLimit(max_principal=min(available, terms.max_principal),
                          kyc_available=available, grade=latest["grade"],
                          grade_max_principal=terms.max_principal,
                          max_installments=terms.max_installments)


def review_queue_head(*, limit: int) -> tuple[list[Loan], int]:
    """The oldest `limit` applications waiting for a reviewer, and how many wait in all."""
    queue = review_queue()
    return list(queue[:limit]), queue.count()


def review_queue_count() -> int:
    return review_queue().count()


def review_item(*, loan_id: int) -> Loan | None:
    """The application, if it still waits for a reviewer."""
    return review_queue().filter(pk=loan_id).first()
