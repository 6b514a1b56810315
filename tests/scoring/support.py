"""Building blocks of the scoring tests: an application, a repaid loan, a scoring message."""

from __future__ import annotations

from datetime import timedelta

from core.loans import services as loans
from core.notifications.models import OutboxMessage
from tests import factories

USD = factories.USD
LIMITS = {0: 0, 1: 100 * USD, 2: 1_000 * USD, 3: 10_000 * USD}


def apply(borrower, *, principal=200 * USD, installments=3, purpose="business"):
    loan = loans.loan_request_create(borrower=borrower, principal=principal,
                                     installments=installments, purpose=purpose)
    return loans.loan_submit(loan=loan, actor=borrower)


def repaid_loan(borrower, lender, *, late_days=0):
    """A 3-installment loan repaid in one payment, `late_days` after its first due date."""
    loan = factories.active_loan(borrower=borrower, lenders=[(lender, 300 * USD)])
    first_due = loan.schedule.order_by("number").first().due_at
    at = first_due + timedelta(days=late_days) if late_days else loan.drawn_down_at
    loans.loan_record_repayment(loan=loan, amount=loan.total_due, fee=0, premium=0,
                                ref=f"repay:{loan.pk}", at=at)
    return loan


def message(loan, template):
    return OutboxMessage.objects.get(dedupe_key=f"scoring:{template}:{loan.pk}")
