"""Reads about loans."""

from __future__ import annotations

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from core.loans import amortization
from core.loans.models import FundingPosition, Loan
from core.loans.states import IN_FLIGHT, OPEN_FOR_FUNDING, OUTSTANDING, LoanState
from core.users.models import TelegramUser


def borrower_exposure(*, borrower: TelegramUser) -> int:
    """Principal the borrower owes or has asked for: what counts against the KYC-tier limit.

    Outstanding loans count with their unpaid principal share; applications in flight count
    in full.
    """
    in_flight = (Loan.objects.filter(borrower=borrower, state__in=IN_FLIGHT)
                 .aggregate(total=Sum("principal"))["total"] or 0)
    owed = 0
    for principal, total_due, repaid in Loan.objects.filter(
            borrower=borrower, state__in=OUTSTANDING).values_list(
            "principal", "total_due", "repaid_amount"):
        owed += principal - repaid * principal // total_due
    return in_flight + owed


def loans_open_for_funding():
    return (Loan.objects.filter(state__in=OPEN_FOR_FUNDING, funded_amount__lt=F("principal"))
            .order_by("funding_deadline", "pk"))


def lender_claimable(*, position: FundingPosition) -> int:
    loan = position.loan
    return amortization.pro_rata_share(position=position.amount, funded_total=loan.funded_amount,
                                       distributed=loan.distributed_to_lenders) - position.claimed


def loan_next_installment(*, loan: Loan):
    return loan.schedule.filter(cumulative_due__gt=loan.repaid_amount).order_by("number").first()


def borrower_loans(*, borrower: TelegramUser, limit: int = 10) -> list[Loan]:
    """The borrower's applications and loans, newest first: open ones before closed ones."""
    from core.loans.states import TERMINAL

    loans = list(Loan.objects.filter(borrower=borrower).exclude(state="draft")
                 .order_by("-created_at", "-pk")[:limit * 2])
    return sorted(loans, key=lambda loan: loan.state in TERMINAL)[:limit]


def loan_amount_to_next_due(*, loan: Loan) -> int:
    """What clears the next unpaid installment, counting any partial payment already made."""
    item = loan_next_installment(loan=loan)
    return item.cumulative_due - loan.repaid_amount if item is not None else 0


def loan_get(*, loan_id: int) -> Loan | None:
    return Loan.objects.filter(pk=loan_id).first()


def borrower_loan(*, borrower: TelegramUser, loan_id: int) -> Loan | None:
    """The borrower's own loan, or None (someone else's loan is as good as none)."""
    return Loan.objects.filter(pk=loan_id, borrower=borrower).first()


def loan_installments(*, loan: Loan) -> list:
    """The stored schedule (empty until drawdown), first installment first."""
    return list(loan.schedule.order_by("number"))


def user_activity(*, user: TelegramUser) -> dict:
    """What an admin sees of a person's money: loans as borrower (by state) and what they
    owe, and their funding positions as a lender (two aggregate queries)."""
    owing = Q(state__in=[LoanState.ACTIVE, LoanState.LATE, LoanState.DEFAULTED])
    borrowed = Loan.objects.filter(borrower=user).aggregate(
        loans=Count("pk"), open_loans=Count("pk", filter=owing),
        late=Count("pk", filter=Q(state=LoanState.LATE)),
        defaulted=Count("pk", filter=Q(state=LoanState.DEFAULTED)),
        owed=Coalesce(Sum(F("total_due") - F("repaid_amount"), filter=owing), 0))
    lent = FundingPosition.objects.filter(lender=user, amount__gt=0).aggregate(
        positions=Count("pk"), funded=Coalesce(Sum("amount"), 0))
    return {**borrowed, **lent}
