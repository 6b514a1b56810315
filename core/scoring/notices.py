"""The outbox messages scoring sends: to the borrower about their application (offer,
review, refusal) and to every admin about the review queue."""

from __future__ import annotations

from core.loans.models import Loan
from core.notifications.services import notification_enqueue
from core.scoring.models import Score


def notify_borrower(loan: Loan, template_key: str, params: dict) -> None:
    """Once per application and template (the dedupe key says which)."""
    notification_enqueue(recipient=loan.borrower, template_key=template_key,
                         dedupe_key=f"scoring:{template_key}:{loan.pk}", params=params)


def offer_params(loan: Loan, score: Score, reasons: list[str]) -> dict:
    """The terms an offer message shows."""
    return {"loan_id": loan.pk, "grade": loan.grade, "score": loan.score,
            "pd_bps": score.pd_bps, "apr_bps": loan.apr_bps, "principal": loan.principal,
            "total_due": loan.total_due, "installments": loan.installments,
            "interval_days": loan.interval_days, "reasons": reasons}

