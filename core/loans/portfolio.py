"""A lender's portfolio: every funding position and what it means in money, from the database
(which mirrors the chain to the base unit).

Per position: what the lender put in, the principal still owed to them, what has reached them
(repayments and cover distributed to them: claimed plus claimable), what they can collect now,
and the interest the loan would bring them if repaid in full (before the platform fee and the
backstop premium, which the contract takes from interest only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Sum

from core.loans import amortization
from core.loans.models import FundingPosition, Loan, Repayment
from core.loans.selectors import lender_claimable
from core.loans.states import LoanState
from core.users.models import TelegramUser

S = LoanState
IN_ESCROW = frozenset({S.LISTED, S.FUNDING, S.FUNDED})  # funded, not yet drawn down
DRAWN = frozenset({S.ACTIVE, S.LATE, S.DEFAULTED, S.REPAID})
REFUNDABLE = frozenset({S.EXPIRED, S.CANCELLED})


@dataclass(frozen=True)
class Holding:
    loan: Loan
    funded: int  # what the lender put in (what stayed in, for refunded positions)
    in_escrow: int  # funded, still held by the LoanBook until drawdown
    principal_outstanding: int  # the lender's share of principal not repaid yet
    received: int  # distributed to the lender so far (claimed + claimable)
    claimable: int
    refundable: int
    expected_interest: int  # if the loan is repaid in full, before fee and premium


@dataclass(frozen=True)
class Portfolio:
    holdings: list[Holding] = field(default_factory=list)

    def _sum(self, name: str) -> int:
        return sum(getattr(holding, name) for holding in self.holdings)

    @property
    def funded(self) -> int:
        return self._sum("funded")

    @property
    def in_escrow(self) -> int:
        return self._sum("in_escrow")

    @property
    def principal_outstanding(self) -> int:
        return self._sum("principal_outstanding")

    @property
    def received(self) -> int:
        return self._sum("received")

    @property
    def claimable(self) -> int:
        return self._sum("claimable")

    @property
    def refundable(self) -> int:
        return self._sum("refundable")

    @property
    def expected_interest(self) -> int:
        return self._sum("expected_interest")

    def in_state(self, *states: str) -> list[Holding]:
        return [holding for holding in self.holdings if holding.loan.state in states]


def _principal_repaid(loan_ids: list[int]) -> dict[int, int]:
    rows = (Repayment.objects.filter(loan_id__in=loan_ids).values("loan_id")
            .annotate(total=Sum("principal")).order_by())
    return {row["loan_id"]: row["total"] or 0 for row in rows}


def lender_portfolio(*, lender: TelegramUser) -> Portfolio:
    positions = list(FundingPosition.objects.select_related("loan")
                     .filter(lender=lender, amount__gt=0).order_by("-loan__created_at", "-pk"))
    repaid = _principal_repaid([position.loan_id for position in positions])
    holdings = []
    for position in positions:
        loan = position.loan
        funded = position.amount - position.refunded
        outstanding = 0
        if loan.state in DRAWN and loan.state != S.REPAID and loan.funded_amount:
            still_owed = max(0, loan.principal - repaid.get(loan.pk, 0) - loan.covered_amount)
            outstanding = position.amount * still_owed // loan.funded_amount
        received = amortization.pro_rata_share(
            position=position.amount, funded_total=loan.funded_amount,
            distributed=loan.distributed_to_lenders)
        interest = (loan.total_due or loan.principal) - loan.principal
        holdings.append(Holding(
            loan=loan, funded=funded,
            in_escrow=funded if loan.state in IN_ESCROW else 0,
            principal_outstanding=outstanding, received=received,
            claimable=lender_claimable(position=position) if loan.state in DRAWN else 0,
            refundable=funded if loan.state in REFUNDABLE else 0,
            expected_interest=(position.amount * interest // loan.principal
                               if loan.state in DRAWN | IN_ESCROW else 0)))
    return Portfolio(holdings=holdings)
