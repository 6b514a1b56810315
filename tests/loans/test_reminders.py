"""Installment reminders: before, on and after the due date, once per installment and day."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from core.loans import services as loans
from core.loans.reminders import installment_reminders_queue
from core.notifications.models import OutboxMessage
from core.users.services import user_mark_unreachable, user_set_reminders
from tests import factories
from tests.concurrency import needs_postgres, race

USD = factories.USD


@pytest.fixture
def loan(clock, alice, bob):
    """Drawn down at the clock's midday: every installment falls due at 12:00 UTC."""
    return factories.active_loan(borrower=alice, lenders=[(bob, 300 * USD)],
                                 principal=300 * USD, installments=3)


def first_due(loan):
    return loan.schedule.get(number=1).due_at


def sent(loan=None):
    rows = OutboxMessage.objects.filter(dedupe_key__startswith="reminder:").order_by("pk")
    return [(m.template_key, m.params.get("days_left", m.params.get("days_late")))
            for m in rows]


@pytest.mark.django_db
def test_it_reminds_three_days_and_one_day_before_and_on_the_due_date(loan):
    due = first_due(loan)
    for days_before in (4, 3, 2, 1, 0):
        installment_reminders_queue(now=due - timedelta(days=days_before))
    assert sent() == [("installment_due_soon", 3), ("installment_due_soon", 1),
                      ("installment_due_today", None)]
    message = OutboxMessage.objects.get(template_key="installment_due_today")
    first = loan.schedule.get(number=1)
    assert message.recipient == loan.borrower
    assert message.params == {"loan_id": loan.pk, "installment": 1,
                              "due_date": first.due_at.date().isoformat(),
                              "amount": first.amount}


@pytest.mark.django_db
def test_it_reminds_every_day_while_an_installment_is_overdue(loan):
    due = first_due(loan)
    for days_late in (1, 2, 3):
        installment_reminders_queue(now=due + timedelta(days=days_late))
    assert sent() == [("installment_overdue", 1), ("installment_overdue", 2),
                      ("installment_overdue", 3)]
    assert {m.params["amount"] for m in OutboxMessage.objects.all()} == {
        loan.schedule.get(number=1).amount}


@pytest.mark.django_db
def test_the_overdue_notice_counts_everything_due_by_now_in_one_message(loan):
    second = loan.schedule.get(number=2)
    installment_reminders_queue(now=second.due_at + timedelta(days=1))
    (message,) = OutboxMessage.objects.all()
    assert message.template_key == "installment_overdue"
    assert message.params["installment"] == 1
    assert message.params["amount"] == second.cumulative_due


@pytest.mark.django_db
def test_running_again_the_same_day_queues_nothing_new(loan):
    day_before = first_due(loan).date() - timedelta(days=1)
    first = installment_reminders_queue(now=datetime.combine(day_before, time(0, 30), UTC))
    again = installment_reminders_queue(now=datetime.combine(day_before, time(23, 30), UTC))
    assert (first.queued, again.queued, again.already) == (1, 0, 1)
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_a_borrower_who_turned_reminders_off_gets_none(loan):
    user_set_reminders(user=loan.borrower, enabled=False)
    due = first_due(loan)
    for offset in (-3, -1, 0, 1, 5):
        installment_reminders_queue(now=due + timedelta(days=offset))
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_an_unreachable_borrower_gets_none(loan):
    user_mark_unreachable(user=loan.borrower)
    installment_reminders_queue(now=first_due(loan))
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_a_paid_installment_is_not_reminded_and_a_part_payment_shows_what_is_left(loan):
    first, second = loan.schedule.get(number=1), loan.schedule.get(number=2)
    loans.loan_record_repayment(loan=loan, amount=first.amount + 10 * USD, fee=0, premium=0,
                                ref="repay:early")
    installment_reminders_queue(now=first.due_at - timedelta(days=1))
    installment_reminders_queue(now=first.due_at + timedelta(days=2))
    assert OutboxMessage.objects.count() == 0
    installment_reminders_queue(now=second.due_at)
    (message,) = OutboxMessage.objects.all()
    assert message.params["amount"] == second.amount - 10 * USD


@pytest.mark.django_db
def test_a_repaid_loan_gets_no_reminder(loan):
    loans.loan_record_repayment(loan=loan, amount=loan.total_due, fee=0, premium=0,
                                ref="repay:all")
    installment_reminders_queue(now=first_due(loan))
    assert OutboxMessage.objects.count() == 0


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_running_at_once_queue_each_reminder_once(clock, alice, bob, charlie):
    loans_ = [factories.active_loan(borrower=alice, lenders=[(bob, 50 * USD)],
                                    principal=50 * USD, installments=3) for _ in range(3)]
    loans_.append(factories.active_loan(borrower=factories.borrower(telegram_id=1004,
                                                                    username="dora"),
                                        lenders=[(charlie, 80 * USD)], principal=80 * USD,
                                        installments=2))
    now = first_due(loans_[0]) + timedelta(days=1)
    runs = race(lambda: installment_reminders_queue(now=now), runners=4)
    assert sum(run.queued for run in runs) == 4 == OutboxMessage.objects.count()
    assert sorted(run.queued + run.already for run in runs) == [4, 4, 4, 4]
