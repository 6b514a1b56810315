"""Reads for lenders browsing the market: open loans by grade, term and size, one page at a
time, and the public view of one loan (never a loan that was not listed on chain)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from core.loans.models import Grade, Loan
from core.loans.selectors import loans_open_for_funding
from core.loans.states import LoanState

S = LoanState
# A loan is public from its listing on chain on; before that it is the borrower's business.
PUBLIC_STATES = frozenset({S.LISTED, S.FUNDING, S.FUNDED, S.ACTIVE, S.LATE, S.REPAID,
                           S.EXPIRED, S.CANCELLED, S.DEFAULTED})
ANY = "-"
GRADES = tuple(Grade.values)
_WHOLE = 10**settings.STABLE_DECIMALS
# Monthly installments: short up to 3, medium 4 to 9, long 12 and more.
TERM_BUCKETS = {"s": (1, 3), "m": (4, 11), "l": (12, None)}
# Principal in whole tokens: small up to 100, medium above 100 up to 1,000, large above.
AMOUNT_BUCKETS = {"s": (None, 100), "m": (100, 1_000), "l": (1_000, None)}
PAGE_SIZE = 5
MAX_PAGE = 10_000


@dataclass(frozen=True)
class MarketFilter:
    grade: str = ANY
    term: str = ANY
    amount: str = ANY

    @classmethod
    def parse(cls, grade: str | None, term: str | None, amount: str | None) -> MarketFilter | None:
        """A filter from button arguments; None for anything this release does not offer."""
        if grade not in (ANY, *GRADES) or term not in (ANY, *TERM_BUCKETS) or (
                amount not in (ANY, *AMOUNT_BUCKETS)):
            return None
        return cls(grade=grade, term=term, amount=amount)

    @property
    def args(self) -> tuple[str, str, str]:
        return self.grade, self.term, self.amount

    def query(self) -> Q:
        condition = Q()
        if self.grade != ANY:
            condition &= Q(grade=self.grade)
        if self.term != ANY:
            low, high = TERM_BUCKETS[self.term]
            condition &= Q(installments__gte=low)
            if high is not None:
                condition &= Q(installments__lte=high)
        if self.amount != ANY:
            low, high = AMOUNT_BUCKETS[self.amount]
            if low is not None:
                condition &= Q(principal__gt=low * _WHOLE)
            if high is not None:
                condition &= Q(principal__lte=high * _WHOLE)
        return condition


@dataclass(frozen=True)
class MarketPage:
    loans: list[Loan]
    page: int  # 1-based
    pages: int  # at least 1, even with no loans
    total: int


def open_loans_page(*, market_filter: MarketFilter, page: int,
                    page_size: int = PAGE_SIZE) -> MarketPage | None:
    """One page of the loans open for funding, soonest deadline first; None past the end."""
    loans = loans_open_for_funding().filter(market_filter.query())
    total = loans.count()
    pages = max(1, -(-total // page_size))
    if not 1 <= page <= pages:
        return None
    start = (page - 1) * page_size
    return MarketPage(loans=list(loans[start:start + page_size]), page=page, pages=pages,
                      total=total)


def loan_public(*, loan_id: int) -> Loan | None:
    """A loan anyone may see (listed on chain at some point); None for everything else."""
    return Loan.objects.filter(pk=loan_id, state__in=PUBLIC_STATES,
                               chain_loan_id__isnull=False).first()


def fund_presets(*, loan: Loan, choices: tuple[int, ...] = (25, 50, 100, 250)) -> list[int]:
    """Amounts offered as buttons: round tickets below what is left, then all of it."""
    left = loan.left_to_fund
    if left <= 0:
        return []
    presets = [whole * _WHOLE for whole in choices if whole * _WHOLE < left][:3]
    return [*presets, left]
