"""The admin review queue: a reviewer approves or declines an application the policy sent
to review, and admins hear of items waiting longer than REVIEW_SLA_HOURS."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit.models import OperatorActionKind
from core.audit.services import Operator, operator_action_record
from core.loans import services as loans
from core.loans.models import Loan
from core.notifications.services import notify_admins
from core.scoring.errors import ScoringError
from core.scoring.notices import notify_borrower, offer_params
from core.scoring.selectors import review_overdue
from core.users.models import TelegramUser


def _check_reviewer(reviewer: TelegramUser) -> None:
    if not reviewer.is_admin:
        raise ScoringError(_("Only an admin can decide a review."), code="not_admin")


def review_approve(*, loan: Loan, reviewer: TelegramUser, note: str = "",
                   by: Operator | None = None) -> Loan:
    """`by` says who acted when it is not the reviewer in the bot (a staff account)."""
    _check_reviewer(reviewer)
    with transaction.atomic():
        loans.loan_approve(loan=loan, actor=reviewer, reason=note or "approved in review")
        operator_action_record(by=by or Operator.telegram(reviewer),
                               kind=OperatorActionKind.APPROVE, target=f"loan #{loan.pk}",
                               reason=note, subject=loan.borrower, loan_id=loan.pk)
        score = loan.scores.order_by("-created_at", "-id").first()
        notify_borrower(loan, "offer_ready", {**offer_params(loan, score, score.reasons),
                                               "offer_reasons": ["reviewed"]})
    return loan


def review_reject(*, loan: Loan, reviewer: TelegramUser, reason: str,
                  reason_keys: list[str] | None = None, by: Operator | None = None) -> Loan:
    """A reviewer declines; `reason` is for the audit trail, `reason_keys` for the borrower."""
    _check_reviewer(reviewer)
    with transaction.atomic():
        loans.loan_reject(loan=loan, actor=reviewer, reason=reason)
        operator_action_record(by=by or Operator.telegram(reviewer),
                               kind=OperatorActionKind.REJECT, target=f"loan #{loan.pk}",
                               reason=reason, subject=loan.borrower, loan_id=loan.pk)
        score = loan.scores.order_by("-created_at", "-id").first()
        notify_borrower(loan, "application_refused", {
            "loan_id": loan.pk, "grade": loan.grade, "score": loan.score,
            "reasons": (reason_keys or ["refusal_by_reviewer"]) + (score.reasons if score else [])})
    return loan


def review_sla_alert(*, now: datetime | None = None) -> int:
    """Tell every admin, once per item, about review items older than REVIEW_SLA_HOURS."""
    now = now or timezone.now()
    alerted = 0
    for loan in review_overdue(now=now):
        waited = (now - loan.review_since).total_seconds() / 3600
        notify_admins("review_sla_breached", f"scoring:review_sla:{loan.pk}", {
            "loan_id": loan.pk, "borrower_telegram_id": loan.borrower.telegram_id,
            "waiting_hours": int(waited), "sla_hours": settings.REVIEW_SLA_HOURS,
            "principal": loan.principal, "grade": loan.grade})
        alerted += 1
    return alerted

