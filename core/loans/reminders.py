"""Installment reminders: 3 days and 1 day before the due date, on the day, and every day
while an installment stays unpaid.

Days are UTC calendar days. Each message's outbox dedupe key is
`reminder:<installment id>:<yyyy-mm-dd>`, so however often the job runs in a day, in however
many workers at once, or again after a crash, a borrower gets at most one reminder per
installment and day. Borrowers who switched reminders off (`user_set_reminders`) and people
Telegram says the bot cannot reach get none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import F
from django.utils import timezone

from core.loans.models import Installment
from core.loans.states import LoanState
from core.notifications.services import notification_enqueue

DAYS_BEFORE = (3, 1)
LIVE = (LoanState.ACTIVE, LoanState.LATE)


@dataclass(frozen=True)
class ReminderRun:
    day: date
    queued: int  # new outbox messages
    already: int  # reminders of this day queued by an earlier (or concurrent) run


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _left_of(installment: Installment, repaid: int) -> int:
    """What is still unpaid of this one installment."""
    previous = installment.cumulative_due - installment.amount
    return installment.cumulative_due - max(repaid, previous)


def _reachable(queryset):
    return queryset.filter(loan__state__in=LIVE, loan__borrower__reminders_enabled=True,
                           loan__borrower__unreachable_since__isnull=True,
                           cumulative_due__gt=F("loan__repaid_amount"))


def installment_reminders_queue(*, now: datetime | None = None) -> ReminderRun:
    """Queue today's reminders; safe to run any number of times, concurrently."""
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    queued = already = 0

    def send(installment: Installment, template_key: str, **params) -> None:
        nonlocal queued, already
        _, created = notification_enqueue(
            recipient=installment.loan.borrower, template_key=template_key,
            dedupe_key=f"reminder:{installment.pk}:{today.isoformat()}",
            params={"loan_id": installment.loan_id, "installment": installment.number,
                    "due_date": installment.due_at.date().isoformat(), **params})
        queued += created
        already += not created

    # Before and on the due date.
    days = (*DAYS_BEFORE, 0)
    upcoming = (_reachable(Installment.objects)
                .filter(due_at__gte=_start_of(today),
                        due_at__lt=_start_of(today + timedelta(days=max(days) + 1)))
                .select_related("loan__borrower").order_by("due_at", "pk"))
    for installment in upcoming:
        days_left = (installment.due_at.astimezone(UTC).date() - today).days
        if days_left not in days:
            continue
        amount = _left_of(installment, installment.loan.repaid_amount)
        if days_left:
            send(installment, "installment_due_soon", amount=amount, days_left=days_left)
        else:
            send(installment, "installment_due_today", amount=amount)

    # Overdue: one message a day per loan, about its oldest unpaid installment, with
    # everything that is due by now.
    overdue = (_reachable(Installment.objects).filter(due_at__lt=_start_of(today))
               .select_related("loan__borrower").order_by("loan_id", "number"))
    seen: set[int] = set()
    for installment in overdue:
        if installment.loan_id in seen:
            continue
        seen.add(installment.loan_id)
        loan = installment.loan
        due_by_now = (loan.schedule.filter(due_at__lt=now).order_by("-number")
                      .values_list("cumulative_due", flat=True).first() or 0)
        send(installment, "installment_overdue",
             amount=max(due_by_now - loan.repaid_amount, 0),
             days_late=(today - installment.due_at.astimezone(UTC).date()).days)
    return ReminderRun(day=today, queued=queued, already=already)
