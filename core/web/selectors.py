"""Reads for the web pages. Each page's data comes from a fixed number of queries, whatever
the number of loans (aggregates, select_related, subqueries), which the tests pin down."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import F, OuterRef, QuerySet, Subquery

from core.loans.models import FundingPosition, Grade, Installment, Loan
from core.loans.selectors import lender_claimable
from core.loans.states import OPEN_FOR_FUNDING, LoanState
from core.users.models import TelegramUser

S = LoanState
# Loans anyone may look at: those put on chain for lenders. Applications stay private.
PUBLIC_STATES = frozenset({S.LISTED, S.FUNDING, S.FUNDED, S.ACTIVE, S.LATE, S.REPAID,
                           S.DEFAULTED, S.EXPIRED, S.CANCELLED})
PAGE_SIZE = 20
TERMS = (1, 3, 6, 9, 12, 18, 24)


@dataclass(frozen=True)
class LoanFilters:
    grade: str = ""
    term: int | None = None
    min_amount: int | None = None  # base units
    max_amount: int | None = None
    show: str = "open"  # open: still taking lenders; all: every public loan

    @property
    def query(self) -> dict[str, str]:
        """The filters as query parameters, for page links (amounts in whole tokens)."""
        one = 10 ** settings.STABLE_DECIMALS
        found = {"grade": self.grade, "term": self.term or "",
                 "min": self.min_amount // one if self.min_amount is not None else "",
                 "max": self.max_amount // one if self.max_amount is not None else "",
                 "show": self.show if self.show != "open" else ""}
        return {key: str(value) for key, value in found.items() if value != ""}


def _whole_tokens(text: str | None) -> int | None:
    try:
        value = int(str(text or "").strip())
    except ValueError:
        return None
    return value * 10 ** settings.STABLE_DECIMALS if 0 <= value < 10**12 else None


def loan_filters_from(params) -> LoanFilters:
    """Filters from a query string; anything malformed is ignored rather than refused."""
    grade = params.get("grade", "")
    term = params.get("term", "")
    return LoanFilters(
        grade=grade if grade in Grade.values else "",
        term=int(term) if term.isdigit() and int(term) in TERMS else None,
        min_amount=_whole_tokens(params.get("min")),
        max_amount=_whole_tokens(params.get("max")),
        show="all" if params.get("show") == "all" else "open")


def public_loans(*, filters: LoanFilters) -> QuerySet[Loan]:
    loans = Loan.objects.filter(state__in=PUBLIC_STATES, chain_loan_id__isnull=False)
    if filters.show == "open":
        loans = loans.filter(state__in=OPEN_FOR_FUNDING, funded_amount__lt=F("principal"))
    if filters.grade:
        loans = loans.filter(grade=filters.grade)
    if filters.term:
        loans = loans.filter(installments=filters.term)
    if filters.min_amount is not None:
        loans = loans.filter(principal__gte=filters.min_amount)
    if filters.max_amount is not None:
        loans = loans.filter(principal__lte=filters.max_amount)
    return loans.order_by("funding_deadline", "-pk") if filters.show == "open" else (
        loans.order_by("-pk"))


def loan_page(*, filters: LoanFilters, page: str | int | None) -> Page:
    """One page of public loans (2 queries: a count and the rows)."""
    return Paginator(public_loans(filters=filters), PAGE_SIZE).get_page(page)


def public_loan(*, loan_id: int) -> Loan | None:
    return Loan.objects.filter(pk=loan_id, state__in=PUBLIC_STATES,
                               chain_loan_id__isnull=False).first()


# --- personal pages ------------------------------------------------------------------------

def _next_due(field: str) -> Subquery:
    return Subquery(Installment.objects.filter(
        loan=OuterRef("pk"), cumulative_due__gt=OuterRef("repaid_amount"))
        .order_by("number").values(field)[:1])


def my_loans(*, user: TelegramUser) -> list[Loan]:
    """The borrower's loans with the next installment's date and amount (1 query)."""
    return list(Loan.objects.filter(borrower=user).exclude(state=S.DRAFT)
                .annotate(next_due_at=_next_due("due_at"),
                          next_due_cumulative=_next_due("cumulative_due"))
                .order_by("-pk"))


@dataclass(frozen=True)
class PortfolioRow:
    position: FundingPosition
    claimable: int
    received: int  # claimed so far


@dataclass(frozen=True)
class Portfolio:
    rows: list[PortfolioRow]
    lent: int
    claimable: int
    received: int
    at_work: int  # positions in loans still running


def my_portfolio(*, user: TelegramUser) -> Portfolio:
    """The lender's positions with what each can collect now (1 query)."""
    positions = list(FundingPosition.objects.filter(lender=user, amount__gt=0)
                     .select_related("loan").order_by("-loan_id"))
    rows = [PortfolioRow(position=p, claimable=lender_claimable(position=p), received=p.claimed)
            for p in positions]
    running = {S.FUNDING, S.FUNDED, S.ACTIVE, S.LATE, S.LISTED}
    return Portfolio(
        rows=rows, lent=sum(p.amount - p.refunded for p in positions),
        claimable=sum(row.claimable for row in rows),
        received=sum(p.claimed for p in positions),
        at_work=sum(p.amount for p in positions if p.loan.state in running))

