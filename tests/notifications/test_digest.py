"""The daily admin digest: the day's figures, once per admin and day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.chain.models import ReconciliationRun
from core.loans import services as loans
from core.notifications.digest import admin_digest_queue
from core.notifications.models import OutboxMessage
from core.users.services import user_get_or_create_from_telegram
from tests import factories
from tests.concurrency import needs_postgres, race

USD = factories.USD
# "The day's figures" and "yesterday" are calendar days: the clock stands still at midday.
pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def admins(db, settings):
    settings.ADMIN_TELEGRAM_IDS = [9001, 9002]
    return [user_get_or_create_from_telegram(telegram_id=telegram_id, username=f"admin{n}")[0]
            for n, telegram_id in enumerate(settings.ADMIN_TELEGRAM_IDS)]


@pytest.fixture
def busy_day(alice, bob, charlie):
    active = factories.active_loan(borrower=alice, lenders=[(bob, 100 * USD)],
                                   principal=100 * USD, installments=1)
    repaid = factories.active_loan(borrower=alice, lenders=[(charlie, 50 * USD)],
                                   principal=50 * USD, installments=1)
    loans.loan_record_repayment(loan=repaid, amount=repaid.total_due, fee=0, premium=0,
                                ref="repay:digest")
    factories.listed_loan(borrower=alice, principal=20 * USD)
    loans.loan_refresh_lateness(loan=active, now=timezone.now() + timedelta(days=31))
    ReconciliationRun.objects.create(started_at=timezone.now(), finished_at=timezone.now(),
                                     loans_checked=3, differences_count=2, ok=False)
    return active


@pytest.mark.django_db
def test_every_admin_gets_the_days_figures_once(admins, busy_day):
    today = timezone.now().date()
    run = admin_digest_queue(day=today)
    assert run.queued == 2
    assert sorted(OutboxMessage.objects.filter(template_key="admin_digest")
                  .values_list("recipient__telegram_id", flat=True)) == [9001, 9002]
    params = run.params
    assert {key: params[key] for key in ("applications", "new_loans", "funded", "repaid",
                                         "late", "defaulted", "expired")} == {
        "applications": 3, "new_loans": 3, "funded": 2, "repaid": 1, "late": 1,
        "defaulted": 0, "expired": 0}
    assert params["late_now"] == 1 and params["outstanding"] == 100 * USD
    assert params["reconciliation"]["ok"] is False
    assert params["reconciliation"]["differences"] == 2
    assert params["pool_assets"] is None  # no chain given
    assert admin_digest_queue(day=today).queued == 0
    assert OutboxMessage.objects.count() == 2


@pytest.mark.django_db
def test_by_default_it_reports_yesterday(admins, busy_day):
    run = admin_digest_queue()
    assert run.day == timezone.now().date() - timedelta(days=1)
    assert run.params["new_loans"] == 0 and run.params["late_now"] == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_admin_one_digest(admins, busy_day):
    today = timezone.now().date()
    runs = race(lambda: admin_digest_queue(day=today), runners=3)
    assert sum(run.queued for run in runs) == 2
    assert OutboxMessage.objects.filter(template_key="admin_digest").count() == 2
