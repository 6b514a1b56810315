"""Platform figures: volumes, default rate, portfolio at risk, and the chart series."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.loans import amortization
from core.loans import services as loans
from core.loans.stats import cumulative, platform_stats, volume_series
from tests import factories
from tests.factories import USD, active_loan, listed_loan
from tests.loans.bulk import make_loans

# Volumes are bucketed by day and PAR counts days past due: the clock stands still.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def repay(loan, amount, ref, at=None):
    loan.refresh_from_db()
    parts = amortization.repayment_split(repaid_before=loan.repaid_amount, amount=amount,
                                         principal=loan.principal, total_due=loan.total_due,
                                         fee_bps=1000, premium_bps=500)
    return loans.loan_record_repayment(loan=loan, amount=amount, fee=parts.fee,
                                       premium=parts.premium, ref=ref, at=at)


def test_it_reports_zeros_on_an_empty_platform():
    stats = platform_stats()
    assert stats.volume_funded == stats.volume_repaid == stats.outstanding_principal == 0
    assert stats.default_rate == stats.par30 == stats.par90 == 0.0
    assert stats.lenders == stats.borrowers == 0
    assert set(stats.loans_by_state.values()) == {0}
    assert "active" in stats.loans_by_state


def test_it_sums_volumes_and_counts_people(alice, bob, charlie):
    dave = factories.borrower(telegram_id=1004, username="dave")
    first = active_loan(borrower=alice, lenders=[(bob, 200 * USD), (charlie, 100 * USD)])
    listed_loan(borrower=dave, principal=100 * USD)
    repayment = repay(first, first.total_due // 3, ref="r1")

    stats = platform_stats()
    assert stats.loans_by_state["active"] == 1
    assert stats.loans_by_state["listed"] == 1
    assert stats.volume_funded == 300 * USD
    assert stats.volume_repaid == repayment.amount
    assert stats.outstanding_principal == 300 * USD - repayment.principal
    assert stats.lenders == 2
    assert stats.borrowers == 2
    assert stats.default_rate == 0.0


def test_it_weighs_the_default_rate_by_principal(alice, bob):
    dave = factories.borrower(telegram_id=1004, username="dave")
    active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    bad = active_loan(borrower=dave, lenders=[(bob, 100 * USD)], principal=100 * USD)
    loans.loan_record_default(loan=bad, cover=10 * USD, ref="default:1")

    stats = platform_stats()
    assert stats.loans_by_state["defaulted"] == 1
    assert stats.default_rate == pytest.approx(100 / 400)
    # A written-off loan is not outstanding principal any more.
    assert stats.outstanding_principal == 300 * USD


def test_it_puts_loans_at_risk_after_30_and_90_days(alice, bob):
    dave = factories.borrower(telegram_id=1004, username="dave")
    good = active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    late = active_loan(borrower=dave, lenders=[(bob, 100 * USD)], principal=100 * USD)
    ahead = repay(good, good.total_due * 2 // 3, ref="ahead")
    # Installment k falls due 30 * k days after the drawdown.
    day_65 = timezone.now() + timedelta(days=65)
    day_125 = timezone.now() + timedelta(days=125)

    assert platform_stats().par30 == 0.0
    outstanding = 400 * USD - ahead.principal
    assert platform_stats(now=day_65).outstanding_principal == outstanding
    assert platform_stats(now=day_65).par30 == pytest.approx(100 * USD / outstanding)
    assert platform_stats(now=day_65).par90 == 0.0
    assert platform_stats(now=day_125).par30 == pytest.approx(1.0)
    assert platform_stats(now=day_125).par90 == pytest.approx(100 * USD / outstanding)

    repay(late, late.total_due // 3, ref="catch-up")
    assert platform_stats(now=day_65).par30 == 0.0


@pytest.mark.parametrize("loans_count", [10, 1000])
def test_it_asks_the_database_the_same_number_of_times_for_any_number_of_loans(
        alice, bob, charlie, loans_count, django_assert_num_queries):
    make_loans(n=loans_count, borrower=alice, lenders=[bob, charlie])
    with django_assert_num_queries(3):
        platform_stats()
    with django_assert_num_queries(2):
        volume_series(period="day")


def test_it_buckets_funded_and_repaid_volumes_by_day(alice, bob):
    loan = active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    tomorrow = timezone.now() + timedelta(days=1)
    repayment = repay(loan, loan.total_due // 3, ref="r1", at=tomorrow)

    points = volume_series(period="day")
    assert [p.funded for p in points] == [300 * USD, 0]
    assert [p.repaid for p in points] == [0, repayment.amount]
    assert points[0].period < points[1].period
    assert cumulative(points)[-1].funded == 300 * USD
    assert cumulative(points)[-1].repaid == repayment.amount
    assert volume_series(period="month", since=tomorrow + timedelta(days=40)) == []
