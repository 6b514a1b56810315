"""Many loans at once for query-count tests: rows written with bulk_create, not the services,
so 1,000 loans take a second. Each loan looks like one the services would have made: its
history, lenders' positions, schedule and repayments are all there, so every join a page
makes has rows to walk."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

from django.utils import timezone

from core.loans import amortization
from core.loans.models import FundingPosition, Installment, Loan, LoanTransition, Repayment
from core.loans.states import LoanState as S
from core.users.models import TelegramUser
from tests.factories import USD

# A mix of the states a platform has at any time.
STATES = [S.LISTED, S.FUNDING, S.ACTIVE, S.ACTIVE, S.LATE, S.REPAID, S.DEFAULTED, S.EXPIRED]
GRADES = "ABCDE"
TERMS = [3, 6, 12]
_chain_ids = count(10**6)


def make_loans(*, n: int, borrower: TelegramUser, lenders: list[TelegramUser]) -> list[Loan]:
    now = timezone.now()
    loans = []
    for i in range(n):
        state = STATES[i % len(STATES)]
        principal = (100 + 50 * (i % 9)) * USD
        installments = TERMS[i % len(TERMS)]
        apr_bps = 1200 + 200 * (i % 5)
        total_due = amortization.annuity_total_due(principal=principal, apr_bps=apr_bps,
                                           installments=installments, interval_days=30)
        funded = {S.LISTED: 0, S.FUNDING: principal // 2}.get(state, principal)
        repaid = {S.ACTIVE: total_due // installments, S.LATE: 0,
                  S.REPAID: total_due}.get(state, 0)
        loans.append(Loan(
            borrower=borrower, state=state, principal=principal, installments=installments,
            purpose="business", grade=GRADES[i % 5], score=600 + i % 200, apr_bps=apr_bps,
            total_due=total_due, chain_loan_id=next(_chain_ids),
            funding_deadline=now + timedelta(days=7), funded_amount=funded,
            repaid_amount=repaid, offered_at=now,
            drawn_down_at=now - timedelta(days=45) if funded == principal else None))
    Loan.objects.bulk_create(loans)
    positions, transitions, schedule, repayments = [], [], [], []
    for loan in loans:
        if loan.funded_amount:
            share = loan.funded_amount // len(lenders)
            for lender in lenders:
                positions.append(FundingPosition(loan=loan, lender=lender, amount=share))
            transitions.append(LoanTransition(loan=loan, from_state=S.LISTED, to_state=S.FUNDING,
                                              actor_label="chain"))
        if loan.drawn_down_at:
            transitions.append(LoanTransition(loan=loan, from_state=S.FUNDING, to_state=S.FUNDED,
                                              actor_label="chain"))
            for row in amortization.build_schedule(
                    principal=loan.principal, total_due=loan.total_due, apr_bps=loan.apr_bps,
                    installments=loan.installments, interval_days=30):
                schedule.append(Installment(
                    loan=loan, number=row.number,
                    due_at=loan.drawn_down_at + timedelta(days=30 * row.number),
                    amount=row.amount, cumulative_due=row.cumulative_due, interest=row.interest,
                    principal=row.principal,
                    paid_at=now if row.cumulative_due <= loan.repaid_amount else None))
        if loan.repaid_amount:
            repayments.append(Repayment(
                loan=loan, ref=f"bulk:{loan.chain_loan_id}", amount=loan.repaid_amount,
                interest=loan.repaid_amount - loan.principal * loan.repaid_amount
                // loan.total_due, principal=loan.principal * loan.repaid_amount
                // loan.total_due, to_lenders=loan.repaid_amount, paid_at=now))
    FundingPosition.objects.bulk_create(positions)
    LoanTransition.objects.bulk_create(transitions)
    Installment.objects.bulk_create(schedule)
    Repayment.objects.bulk_create(repayments)
    return loans
