"""The daily admin digest: what happened on the platform in one UTC day, and how it stands.

One message per admin and day (dedupe key `digest:<yyyy-mm-dd>:<admin id>`): the figures are
computed for a closed day, so a re-run or a concurrent run queues nothing new. Admins are the
users marked admin, which ADMIN_TELEGRAM_IDS grants on their first contact.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from core.chain.models import ReconciliationRun
from core.loans.models import LoanTransition
from core.loans.states import LoanState as S
from core.loans.stats import platform_stats
from core.notifications.services import notification_enqueue
from core.scoring.selectors import review_overdue, review_queue
from core.users.models import TelegramUser

log = logging.getLogger(__name__)

# Transitions counted for the day: what each figure of the digest means.
DAY_EVENTS = {"applications": S.SUBMITTED, "new_loans": S.LISTED, "funded": S.FUNDED,
              "repaid": S.REPAID, "late": S.LATE, "defaulted": S.DEFAULTED,
              "expired": S.EXPIRED}


@dataclass(frozen=True)
class DigestRun:
    day: date
    params: dict
    queued: int


def _pool_assets(w3: Any, deployment: Any) -> int | None:
    """The backstop pool's assets on chain; None when the chain cannot be asked."""
    if w3 is None or deployment is None:
        return None
    try:
        return int(deployment.contract("LiquidityBackstopPool", w3).functions.totalAssets()
                   .call())
    except Exception as exc:  # the digest still goes out without this one figure
        log.warning("admin digest: pool assets unavailable (%s)", exc)
        return None


def admin_digest_params(*, day: date, now: datetime | None = None, w3: Any = None,
                        deployment: Any = None) -> dict:
    now = now or timezone.now()
    start = datetime.combine(day, time.min, tzinfo=UTC)
    counts = LoanTransition.objects.filter(
        created_at__gte=start, created_at__lt=start + timedelta(days=1),
    ).aggregate(**{
        name: Count("loan", distinct=True, filter=Q(to_state=state))
        for name, state in DAY_EVENTS.items()})
    stats = platform_stats(now=now)
    run = ReconciliationRun.objects.filter(finished_at__isnull=False).first()
    queue = review_queue()
    oldest = queue.first()
    return {
        "day": day.isoformat(),
        **counts,
        "active": stats.loans_by_state.get(S.ACTIVE, 0),
        "late_now": stats.loans_by_state.get(S.LATE, 0),
        "outstanding": stats.outstanding_principal,
        "default_rate_bps": round(stats.default_rate * 10_000),
        "par30_bps": round(stats.par30 * 10_000),
        "pool_assets": _pool_assets(w3, deployment),
        "reconciliation": None if run is None else {
            "ok": run.ok, "differences": run.differences_count,
            "at": run.started_at.isoformat()},
        "review_waiting": queue.count(),
        "review_sla_breaches": review_overdue(now=now).count(),
        "review_oldest_hours": (int((now - oldest.review_since).total_seconds() // 3600)
                                if oldest is not None and oldest.review_since else None),
        "sla_hours": settings.REVIEW_SLA_HOURS,
    }


def admin_digest_queue(*, day: date | None = None, now: datetime | None = None,
                       w3: Any = None, deployment: Any = None) -> DigestRun:
    """Queue the digest of `day` (default: yesterday, UTC) to every admin, once."""
    now = now or timezone.now()
    day = day or (now.astimezone(UTC).date() - timedelta(days=1))
    admins = list(TelegramUser.objects.filter(is_admin=True).order_by("pk"))
    pending = [admin for admin in admins if not admin.outbox_messages.filter(
        dedupe_key=f"digest:{day.isoformat()}:{admin.pk}").exists()]
    if not pending:
        return DigestRun(day=day, params={}, queued=0)
    params = admin_digest_params(day=day, now=now, w3=w3, deployment=deployment)
    queued = 0
    for admin in pending:
        _, created = notification_enqueue(recipient=admin, template_key="admin_digest",
                                          dedupe_key=f"digest:{day.isoformat()}:{admin.pk}",
                                          params=params)
        queued += created
    return DigestRun(day=day, params=params, queued=queued)
