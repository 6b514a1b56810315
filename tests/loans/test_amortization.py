"""Loan math properties, checked against an independent Decimal reference."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.loans import amortization as am

principals = st.integers(min_value=1_000, max_value=10**13)
aprs = st.integers(min_value=0, max_value=20_000)  # up to 200% APR
terms = st.integers(min_value=1, max_value=60)
intervals = st.sampled_from([7, 14, 30, 31])


def reference_total_due(principal: int, apr_bps: int, n: int, interval_days: int) -> int:
    """Textbook annuity in 80-digit decimals: an implementation independent of Fraction."""
    with localcontext() as ctx:
        ctx.prec = 80
        rate = Decimal(apr_bps) * interval_days / (Decimal(10_000) * 365)
        if rate == 0:
            return principal
        payment = Decimal(principal) * rate / (1 - (1 + rate) ** -n)
        return int((payment * n).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def reference_interest_parts(principal: int, total_due: int, apr_bps: int, n: int,
                             interval_days: int) -> list[int]:
    with localcontext() as ctx:
        ctx.prec = 80
        rate = Decimal(apr_bps) * interval_days / (Decimal(10_000) * 365)
        if rate == 0:
            return [0] * n
        payment = Decimal(principal) * rate / (1 - (1 + rate) ** -n)
        balance, cumulative = Decimal(principal), []
        for _ in range(n):
            interest = balance * rate
            balance -= payment - interest
            cumulative.append((cumulative[-1] if cumulative else 0) + interest)
        total_interest = total_due - principal
        parts, previous = [], 0
        for k, exact in enumerate(cumulative, start=1):
            to_date = (total_interest if k == n else
                       int((total_interest * exact / cumulative[-1])
                           .to_integral_value(rounding=ROUND_FLOOR)))
            parts.append(to_date - previous)
            previous = to_date
        return parts


def schedule_for(principal, apr_bps, n, interval_days):
    total_due = am.annuity_total_due(principal=principal, apr_bps=apr_bps, installments=n,
                                     interval_days=interval_days)
    return total_due, am.build_schedule(principal=principal, total_due=total_due,
                                        apr_bps=apr_bps, installments=n,
                                        interval_days=interval_days)


@settings(max_examples=300, deadline=None)
@given(principals, aprs, terms, intervals)
def test_total_due_matches_the_decimal_reference_to_the_base_unit(principal, apr, n, interval):
    assert am.annuity_total_due(principal=principal, apr_bps=apr, installments=n,
                                interval_days=interval) == reference_total_due(
        principal, apr, n, interval)


@settings(max_examples=300, deadline=None)
@given(principals, aprs, terms, intervals)
def test_schedule_sums_to_total_due_and_never_decreases(principal, apr, n, interval):
    total_due, schedule = schedule_for(principal, apr, n, interval)
    assert sum(item.amount for item in schedule) == total_due
    assert schedule[-1].cumulative_due == total_due
    dues = [item.cumulative_due for item in schedule]
    assert dues == sorted(dues)
    for k, item in enumerate(schedule, start=1):
        assert item.cumulative_due == total_due * k // n
        assert item.due_offset_days == k * interval


@settings(max_examples=300, deadline=None)
@given(principals, aprs, terms, intervals)
def test_interest_is_never_negative_and_principal_parts_sum_to_principal(
        principal, apr, n, interval):
    total_due, schedule = schedule_for(principal, apr, n, interval)
    assert all(item.interest >= 0 for item in schedule)
    assert all(item.principal >= 0 for item in schedule)
    assert sum(item.principal for item in schedule) == principal
    assert sum(item.interest for item in schedule) == total_due - principal
    assert schedule[-1].principal_balance_after == 0


@settings(max_examples=200, deadline=None)
@given(principals, aprs, terms, intervals)
def test_interest_split_matches_the_decimal_reference(principal, apr, n, interval):
    total_due, schedule = schedule_for(principal, apr, n, interval)
    assert [item.interest for item in schedule] == reference_interest_parts(
        principal, total_due, apr, n, interval)


@settings(max_examples=200, deadline=None)
@given(principals, aprs, terms, st.data())
def test_payments_in_any_pieces_split_the_same_as_one_payment(principal, apr, n, data):
    total_due, schedule = schedule_for(principal, apr, n, 30)
    cuts = sorted(data.draw(st.lists(st.integers(1, total_due - 1), max_size=6, unique=True))
                  if total_due > 1 else [])
    paid, interest, principal_paid = 0, 0, 0
    for cut in [*cuts, total_due]:
        allocation = am.allocate_payment(schedule, paid_before=paid, amount=cut - paid,
                                         refuse_overpayment=True)
        assert allocation.interest >= 0 and allocation.principal >= 0
        interest += allocation.interest
        principal_paid += allocation.principal
        paid = cut
    assert interest == total_due - principal
    assert principal_paid == principal


def test_a_payment_pays_interest_before_principal():
    _, schedule = schedule_for(1_000_000_000, 2400, 12, 30)
    first = schedule[0]
    allocation = am.allocate_payment(schedule, paid_before=0, amount=first.interest - 1,
                                     refuse_overpayment=True)
    assert (allocation.interest, allocation.principal) == (first.interest - 1, 0)
    allocation = am.allocate_payment(schedule, paid_before=0, amount=first.amount,
                                     refuse_overpayment=True)
    assert (allocation.interest, allocation.principal) == (first.interest, first.principal)


def test_an_overpayment_is_refused_or_returned():
    total_due, schedule = schedule_for(500_000_000, 1500, 6, 30)
    with pytest.raises(am.LoanMathError, match="above"):
        am.allocate_payment(schedule, paid_before=total_due - 10, amount=11,
                            refuse_overpayment=True)
    allocation = am.allocate_payment(schedule, paid_before=total_due - 10, amount=25,
                                     refuse_overpayment=False)
    assert allocation.applied == 10 and allocation.returned == 15


def test_a_known_loan_has_the_expected_figures():
    # 1,000 tokens at 24% APR over 12 monthly installments (checked by hand: 94.40 a month).
    total_due, schedule = schedule_for(1_000_000_000, 2400, 12, 30)
    assert total_due == 1_132_806_775
    assert schedule[0].interest == 19_726_027  # 1000 * 0.24 * 30 / 365
    assert am.apr_bps_of(principal=1_000_000_000, total_due=total_due, installments=12,
                         interval_days=30) == 2400


def test_zero_apr_repays_exactly_the_principal():
    total_due, schedule = schedule_for(100, 0, 3, 30)
    assert total_due == 100
    assert [item.amount for item in schedule] == [33, 33, 34]
    assert all(item.interest == 0 for item in schedule)


@pytest.mark.parametrize("bad", [
    {"principal": 0}, {"principal": -5}, {"installments": 0}, {"installments": 361},
    {"interval_days": 0}, {"principal": 1.5}, {"apr_bps": -1},
])
def test_invalid_terms_are_refused(bad):
    terms = {"principal": 1_000, "apr_bps": 1000, "installments": 3, "interval_days": 30, **bad}
    with pytest.raises(am.LoanMathError):
        am.annuity_total_due(**terms)


@settings(max_examples=300, deadline=None)
@given(principals, aprs, terms, st.integers(0, 5_000), st.integers(0, 5_000), st.data())
def test_repayment_splits_add_up_across_payments_and_never_touch_principal(
        principal, apr, n, fee_bps, premium_bps, data):
    total_due = am.annuity_total_due(principal=principal, apr_bps=apr, installments=n,
                                     interval_days=30)
    cuts = sorted(data.draw(st.lists(st.integers(0, total_due), max_size=5, unique=True)))
    terms = {"principal": principal, "total_due": total_due, "fee_bps": fee_bps,
             "premium_bps": premium_bps}
    paid = fee = premium = to_lenders = interest = 0
    for cut in [*cuts, total_due]:
        split = am.repayment_split(repaid_before=paid, amount=cut - paid, **terms)
        assert split.fee + split.premium + split.to_lenders == cut - paid
        fee, premium, to_lenders, interest, paid = (
            fee + split.fee, premium + split.premium, to_lenders + split.to_lenders,
            interest + split.interest_part, cut)
        # Floors of the cumulative interest: one payment may carry a base unit of fee beyond
        # its own interest share, but at no point have fees exceeded the interest paid so far.
        assert fee + premium <= interest
    whole = am.repayment_split(repaid_before=0, amount=total_due, **terms)
    assert (fee, premium, to_lenders) == (whole.fee, whole.premium, whole.to_lenders)
    # Lenders get at least the whole principal back out of a loan repaid in full.
    assert to_lenders >= principal


def test_a_repayment_beyond_the_total_due_cannot_be_split():
    with pytest.raises(am.LoanMathError):
        am.repayment_split(repaid_before=90, amount=11, principal=80, total_due=100, fee_bps=0,
                           premium_bps=0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 10**12), min_size=1, max_size=20), st.integers(0, 10**13))
def test_pro_rata_shares_never_exceed_what_was_distributed(positions, distributed):
    funded = sum(positions)
    shares = [am.pro_rata_share(position=p, funded_total=funded, distributed=distributed)
              for p in positions]
    assert sum(shares) <= distributed
    assert distributed - sum(shares) < len(positions)
