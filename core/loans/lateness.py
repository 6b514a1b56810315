"""Time: a loan with an installment past due is late, and active again once caught up."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F
from django.utils import timezone

from core.loans.batch import LoanBatch, loan_unit
from core.loans.models import Loan
from core.loans.states import LoanState
from core.loans.transitions import batch_transition

S = LoanState


def refresh_lateness_in(b: LoanBatch, loan: Loan, *, now: datetime, ref: str = "") -> None:
    """The lateness rule on a batch's locked loan (a repayment may catch a late loan up)."""
    overdue = [item for item in b.schedule(loan)
               if item.due_at < now and item.cumulative_due > loan.repaid_amount]
    if loan.state == S.ACTIVE and overdue:
        first = min(overdue, key=lambda item: item.number)
        batch_transition(b, loan, S.LATE, actor_label="clock",
                    reason=f"installment {first.number} past due")
    elif loan.state == S.LATE and not overdue:
        batch_transition(b, loan, S.ACTIVE, actor_label="chain",
                    reason="caught up with the schedule", ref=ref)


def loan_refresh_lateness(*, loan: Loan, now: datetime | None = None) -> Loan:
    """Mark a loan late when an installment is past due, or active again once caught up."""
    with loan_unit(None) as b:
        refresh_lateness_in(b, b.lock(loan), now=now or timezone.now())
    loan.refresh_from_db()
    return loan


def loans_refresh_lateness_due(*, now: datetime | None = None, chunk: int = 500) -> int:
    """Mark every active loan with a past-due installment late (and late loans caught up
    active); returns how many loans changed. Safe to run twice or concurrently."""
    now = now or timezone.now()
    candidates = (Loan.objects.filter(state=S.ACTIVE, schedule__due_at__lt=now,
                                      schedule__cumulative_due__gt=F("repaid_amount"))
                  .values_list("pk", flat=True).distinct())
    changed = 0
    for pk in list(candidates)[:chunk]:
        loan = Loan.objects.get(pk=pk)
        before = loan.state
        loan_refresh_lateness(loan=loan, now=now)
        changed += loan.state != before
    return changed
