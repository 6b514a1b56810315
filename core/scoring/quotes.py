"""The borrow quote: how much a borrower may ask for now, over which terms, and at what
estimated rate. A chat computes it once when an application starts and keeps it in its draft
(`as_draft` / `from_draft`), so the later steps need no database; the real terms come with the
offer, when the application is scored."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.conf import settings

from core.loans.amortization import ScheduledInstallment, annuity_total_due, build_schedule
from core.loans.applications import ALLOWED_INSTALLMENTS
from core.scoring import policy
from core.scoring.models import BorrowerProfile
from core.scoring.selectors import borrowing_limit
from core.users.models import TelegramUser

OFFERED_TERMS = (1, 3, 6, 12, 18, 24)  # monthly installments a borrower chooses from


@dataclass(frozen=True)
class BorrowQuote:
    max_principal: int  # base units; 0 means no room at all
    kyc_available: int
    grade: str  # the latest grade, "" if never scored
    grade_max_principal: int | None
    apr_bps: int  # the rate to estimate with
    terms: tuple[int, ...]  # the installment counts this borrower may choose
    profile_declared: bool  # income and employment were asked once already

    @property
    def capped_by_grade(self) -> bool:
        """The grade, not the verification level, sets the limit."""
        return self.grade_max_principal is not None and self.max_principal < self.kyc_available

    def as_draft(self) -> dict:
        return {**asdict(self), "terms": list(self.terms)}

    @classmethod
    def from_draft(cls, data: dict) -> BorrowQuote:
        return cls(**{**data, "terms": tuple(data["terms"])})


def borrow_quote(*, user: TelegramUser) -> BorrowQuote:
    """The APR to estimate with is the latest grade's or, never scored (or refused), the
    highest rate offered, so the estimate never looks cheaper than the offer can be."""
    limit = borrowing_limit(user=user)
    pricing = policy.load_pricing()
    offered = [terms.apr_bps for grade, terms in pricing.grades.items()
               if grade not in pricing.refuse_grades]
    apr = (pricing.grades[limit.grade].apr_bps
           if limit.grade and limit.grade not in pricing.refuse_grades else max(offered))
    longest = limit.max_installments or max(OFFERED_TERMS)
    terms = tuple(n for n in OFFERED_TERMS if n in ALLOWED_INSTALLMENTS and n <= longest)
    return BorrowQuote(max_principal=limit.max_principal, kyc_available=limit.kyc_available,
                       grade=limit.grade, grade_max_principal=limit.grade_max_principal,
                       apr_bps=apr, terms=terms,
                       profile_declared=BorrowerProfile.objects.filter(user=user).exists())


def quote_schedule(*, quote: BorrowQuote, principal: int,
                   installments: int) -> tuple[int, list[ScheduledInstallment]]:
    """The estimated total to repay and the installments, at the quote's rate."""
    interval = settings.LOAN_INTERVAL_DAYS
    total = annuity_total_due(principal=principal, apr_bps=quote.apr_bps,
                              installments=installments, interval_days=interval)
    return total, build_schedule(principal=principal, total_due=total, apr_bps=quote.apr_bps,
                                 installments=installments, interval_days=interval)
