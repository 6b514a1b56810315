"""The day-based rules give the same outcome whatever hour the job runs or the loan started:
reminders (and their once-a-day dedupe) and the digest's "yesterday", at 00:30 and 23:30 UTC.
The suite itself must pass at any hour; this is the cheap permanent check of that."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from core.loans.reminders import installment_reminders_queue
from core.notifications.models import OutboxMessage
from core.ops.digest import admin_digest_queue
from tests import factories

pytestmark = pytest.mark.django_db
DAY = datetime(2026, 12, 5, tzinfo=UTC).date()
HOURS = [time(0, 30), time(23, 30)]


def at(day, hour: time) -> datetime:
    return datetime.combine(day, hour, UTC)


@pytest.mark.parametrize("drawn_at", HOURS, ids=["drawn-00:30", "drawn-23:30"])
@pytest.mark.parametrize("runs_at", HOURS, ids=["runs-00:30", "runs-23:30"])
def test_reminders_depend_on_the_calendar_day_only(clock, alice, bob, drawn_at, runs_at):
    clock.move_to(at(DAY, drawn_at))
    loan = factories.active_loan(borrower=alice, lenders=[(bob, 90 * factories.USD)],
                                 principal=90 * factories.USD, installments=3)
    due_day = loan.schedule.get(number=1).due_at.astimezone(UTC).date()
    outcomes = []
    for offset in (-3, -2, -1, 0, 1):
        run = installment_reminders_queue(now=at(due_day + timedelta(days=offset), runs_at))
        outcomes.append(run.queued)
    assert outcomes == [1, 0, 1, 1, 1]
    assert [(m.template_key, m.params.get("days_left", m.params.get("days_late")))
            for m in OutboxMessage.objects.order_by("pk")] == [
        ("installment_due_soon", 3), ("installment_due_soon", 1),
        ("installment_due_today", None), ("installment_overdue", 1)]
    # The first and the last run of one day: one reminder.
    day_before = due_day - timedelta(days=1)
    first = installment_reminders_queue(now=at(day_before, time(0, 30)))
    last = installment_reminders_queue(now=at(day_before, time(23, 30)))
    assert (first.queued, last.queued, last.already) == (0, 0, 1)


@pytest.mark.parametrize("runs_at", HOURS, ids=["runs-00:30", "runs-23:30"])
def test_the_digest_reports_the_previous_utc_day_at_any_hour(clock, settings, runs_at):
    clock.move_to(at(DAY, runs_at))
    assert admin_digest_queue().day == DAY - timedelta(days=1)
