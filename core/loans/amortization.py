"""Loan math: the one place that turns offer terms into money. Integers of base units only.

Rules (design.md, "Money and loans"):
- total due is the annuity at the offered APR: n * P * r / (1 - (1 + r)^-n), rounded half up
  to the base unit, where r = APR * interval_days / 365 per installment;
- the cumulative amount due after installment k is floor(total_due * k / n), so the last one
  equals total_due; the LoanBook contract applies the very same rule on chain;
- each installment is split into interest and principal on the declining balance: the exact
  annuity's cumulative interest, scaled to the rounded total interest and floored, so the
  interest parts are never negative and sum to total_due - principal exactly;
- a payment pays, installment by installment, interest first and then principal.

Exact rational arithmetic (fractions.Fraction) is used internally so no float ever rounds money.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import floor

BPS = 10_000
DAYS_PER_YEAR = 365
MAX_INSTALLMENTS = 360


class LoanMathError(ValueError):
    """Terms or a payment that the loan math cannot accept."""


@dataclass(frozen=True, slots=True)
class ScheduledInstallment:
    number: int  # 1-based
    due_offset_days: int  # days after drawdown
    amount: int
    cumulative_due: int
    interest: int
    principal: int
    principal_balance_after: int


@dataclass(frozen=True, slots=True)
class PaymentAllocation:
    interest: int
    principal: int
    returned: int  # the part of the payment above what is still owed

    @property
    def applied(self) -> int:
        return self.interest + self.principal


def _check_terms(*, principal: int, installments: int, interval_days: int) -> None:
    for name, value in (("principal", principal), ("installments", installments),
                        ("interval_days", interval_days)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise LoanMathError(f"{name} must be an integer, got {value!r}")
    if principal <= 0:
        raise LoanMathError("principal must be positive")
    if not 1 <= installments <= MAX_INSTALLMENTS:
        raise LoanMathError(f"installments must be between 1 and {MAX_INSTALLMENTS}")
    if interval_days <= 0:
        raise LoanMathError("interval_days must be positive")


def periodic_rate(*, apr_bps: int, interval_days: int) -> Fraction:
    if not isinstance(apr_bps, int) or apr_bps < 0:
        raise LoanMathError("apr_bps must be a non-negative integer")
    return Fraction(apr_bps * interval_days, BPS * DAYS_PER_YEAR)


def _round_half_up(value: Fraction) -> int:
    return floor(value + Fraction(1, 2))


def _exact_payment(principal: int, rate: Fraction, installments: int) -> Fraction:
    if rate == 0:
        return Fraction(principal, installments)
    return principal * rate / (1 - (1 + rate) ** -installments)


def annuity_total_due(
    *, principal: int, apr_bps: int, installments: int, interval_days: int
) -> int:
    """Principal plus interest of an annuity at apr_bps, rounded half up to the base unit."""
    _check_terms(principal=principal, installments=installments, interval_days=interval_days)
    rate = periodic_rate(apr_bps=apr_bps, interval_days=interval_days)
    return _round_half_up(_exact_payment(principal, rate, installments) * installments)


def cumulative_due(*, total_due: int, k: int, installments: int) -> int:
    """What must have been repaid in all after installment k (0 <= k <= installments)."""
    if not 0 <= k <= installments:
        raise LoanMathError(f"installment {k} is outside 0..{installments}")
    return total_due * k // installments


def _exact_cumulative_interest(principal: int, rate: Fraction, installments: int) -> list[Fraction]:
    payment = _exact_payment(principal, rate, installments)
    balance = Fraction(principal)
    total = Fraction(0)
    cumulative = []
    for _ in range(installments):
        interest = balance * rate
        total += interest
        balance -= payment - interest
        cumulative.append(total)
    return cumulative


def build_schedule(
    *, principal: int, total_due: int, apr_bps: int, installments: int, interval_days: int
) -> list[ScheduledInstallment]:
    """The installment schedule: amounts by the cumulative-due rule, split on declining balance."""
    _check_terms(principal=principal, installments=installments, interval_days=interval_days)
    if total_due < principal:
        raise LoanMathError("total_due cannot be below principal")
    total_interest = total_due - principal
    rate = periodic_rate(apr_bps=apr_bps, interval_days=interval_days)
    exact = _exact_cumulative_interest(principal, rate, installments)
    exact_total = exact[-1]

    schedule = []
    previous_due = 0
    previous_interest = 0
    principal_paid = 0
    for k in range(1, installments + 1):
        due = cumulative_due(total_due=total_due, k=k, installments=installments)
        amount = due - previous_due
        if k == installments:
            interest_to_date = total_interest
        elif exact_total == 0:
            interest_to_date = 0
        else:
            target = floor(total_interest * exact[k - 1] / exact_total)
            # Never negative interest, never more interest than the installment itself.
            interest_to_date = min(max(target, previous_interest), previous_interest + amount)
        interest = interest_to_date - previous_interest
        principal_part = amount - interest
        principal_paid += principal_part
        schedule.append(
            ScheduledInstallment(
                number=k,
                due_offset_days=k * interval_days,
                amount=amount,
                cumulative_due=due,
                interest=interest,
                principal=principal_part,
                principal_balance_after=principal - principal_paid,
            )
        )
        previous_due, previous_interest = due, interest_to_date
    return schedule


def _split_paid(schedule: list[ScheduledInstallment], paid: int) -> tuple[int, int]:
    """Interest and principal covered by a cumulative amount paid, interest first each time."""
    interest = principal = 0
    remaining = paid
    for item in schedule:
        if remaining <= 0:
            break
        if remaining >= item.amount:
            interest += item.interest
            principal += item.principal
            remaining -= item.amount
            continue
        take_interest = min(remaining, item.interest)
        interest += take_interest
        principal += remaining - take_interest
        remaining = 0
    return interest, principal


def allocate_payment(
    schedule: list[ScheduledInstallment], *, paid_before: int, amount: int, refuse_overpayment: bool
) -> PaymentAllocation:
    """Split a payment into interest and principal; the excess is refused or returned."""
    if not schedule:
        raise LoanMathError("empty schedule")
    total_due = schedule[-1].cumulative_due
    if amount <= 0:
        raise LoanMathError("a payment must be positive")
    if not 0 <= paid_before <= total_due:
        raise LoanMathError("paid_before is outside the loan's total due")
    owed = total_due - paid_before
    if amount > owed and refuse_overpayment:
        raise LoanMathError(f"payment of {amount} is above the {owed} still owed")
    applied = min(amount, owed)
    interest_before, principal_before = _split_paid(schedule, paid_before)
    interest_after, principal_after = _split_paid(schedule, paid_before + applied)
    return PaymentAllocation(
        interest=interest_after - interest_before,
        principal=principal_after - principal_before,
        returned=amount - applied,
    )


def apr_bps_of(*, principal: int, total_due: int, installments: int, interval_days: int) -> int:
    """The APR (basis points, rounded half up) whose annuity gives total_due, by bisection."""
    _check_terms(principal=principal, installments=installments, interval_days=interval_days)
    if total_due < principal:
        raise LoanMathError("total_due cannot be below principal")
    low, high = 0, 1
    while annuity_total_due(principal=principal, apr_bps=high, installments=installments,
                            interval_days=interval_days) < total_due:
        high *= 2
        if high > 100 * BPS * 1000:
            raise LoanMathError("total_due implies an implausible APR")
    while high - low > 1:
        middle = (low + high) // 2
        due = annuity_total_due(principal=principal, apr_bps=middle, installments=installments,
                                interval_days=interval_days)
        if due < total_due:
            low = middle
        else:
            high = middle
    return high


@dataclass(frozen=True, slots=True)
class RepaymentSplit:
    interest_part: int
    fee: int
    premium: int
    to_lenders: int


def _interest_fee_premium(repaid: int, *, principal: int, total_due: int, fee_bps: int,
                          premium_bps: int) -> tuple[int, int, int]:
    interest = repaid * (total_due - principal) // total_due
    return interest, interest * fee_bps // BPS, interest * premium_bps // BPS


def repayment_split(
    *, repaid_before: int, amount: int, principal: int, total_due: int, fee_bps: int,
    premium_bps: int,
) -> RepaymentSplit:
    """How the LoanBook splits a repayment: fee and premium come from its interest share only.

    Exactly the contract's rule: every part is a function of the cumulative amount repaid,
    f(r) = floor(r * (total_due - principal) / total_due) for the interest share and
    floor(f(r) * bps / 10_000) for fee and premium, and a payment gets f(after) - f(before).
    So the parts of many payments add up to the parts of their sum, to the base unit, and
    lenders never lose principal to fees.
    """
    if total_due <= 0 or not 0 < principal <= total_due:
        raise LoanMathError("invalid repayment terms")
    if amount < 0 or not 0 <= repaid_before <= total_due - amount:
        raise LoanMathError("a repayment must fit within the total due")
    if fee_bps < 0 or premium_bps < 0 or fee_bps + premium_bps > BPS:
        raise LoanMathError("fee and premium must be within 0..100% of interest")
    terms = {"principal": principal, "total_due": total_due, "fee_bps": fee_bps,
             "premium_bps": premium_bps}
    before = _interest_fee_premium(repaid_before, **terms)
    after = _interest_fee_premium(repaid_before + amount, **terms)
    interest, fee, premium = (a - b for a, b in zip(after, before, strict=True))
    return RepaymentSplit(interest_part=interest, fee=fee, premium=premium,
                          to_lenders=amount - fee - premium)


def pro_rata_share(*, position: int, funded_total: int, distributed: int) -> int:
    """A lender's entitlement to what has been distributed to a loan's lenders, floored.

    The sum over lenders never exceeds `distributed`; the remainder (< number of lenders)
    stays with the loan.
    """
    if funded_total <= 0:
        return 0
    return position * distributed // funded_total
