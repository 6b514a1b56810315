"""Platform-wide loan figures for the public dashboard and the admins' /admin stats.

Every figure is an aggregate in SQL, so the number of queries does not grow with the number
of loans. Amounts are base units of the stable asset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from core.loans.models import FundingPosition, Installment, Loan, LoanTransition, Repayment
from core.loans.states import LoanState as S

# Loans whose money reached the borrower (or is about to): what "funded volume" counts.
FUNDED_OR_LATER = frozenset({S.FUNDED, S.ACTIVE, S.LATE, S.REPAID, S.DEFAULTED})
# Loans that were drawn down: the base of the default rate.
DISBURSED = frozenset({S.ACTIVE, S.LATE, S.REPAID, S.DEFAULTED})
# Loans whose principal the borrower still owes and that are not written off.
PERFORMING_OR_LATE = frozenset({S.ACTIVE, S.LATE})


@dataclass(frozen=True)
class PlatformStats:
    loans_by_state: dict[str, int]
    volume_funded: int
    volume_repaid: int
    outstanding_principal: int
    default_rate: float
    par30: float
    par90: float
    lenders: int
    borrowers: int


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _overdue_since(days: int, now: datetime) -> Exists:
    """An installment of the outer loan still unpaid `days` after it fell due."""
    return Exists(Installment.objects.filter(
        loan=OuterRef("pk"), due_at__lt=now - timedelta(days=days),
        cumulative_due__gt=OuterRef("repaid_amount")))


def platform_stats(*, now: datetime | None = None) -> PlatformStats:
    """Loans by state, volumes, default rate, portfolio at risk and head counts (3 queries).

    default_rate: defaulted principal over the principal of every drawn-down loan.
    par30/par90: outstanding principal of active or late loans with an installment unpaid for
    more than 30/90 days, over all outstanding principal of active or late loans.
    """
    now = now or timezone.now()
    per_state = {f"n_{state}": Count("pk", filter=Q(state=state)) for state in S.values}
    totals = Loan.objects.aggregate(
        **per_state,
        volume_funded=Coalesce(Sum("funded_amount", filter=Q(state__in=FUNDED_OR_LATER)), 0),
        volume_repaid=Coalesce(Sum("repaid_amount"), 0),
        disbursed=Coalesce(Sum("principal", filter=Q(state__in=DISBURSED)), 0),
        defaulted=Coalesce(Sum("principal", filter=Q(state=S.DEFAULTED)), 0),
        borrowers=Count("borrower", distinct=True, filter=Q(chain_loan_id__isnull=False)),
    )
    principal_repaid = Subquery(
        Repayment.objects.filter(loan=OuterRef("pk")).order_by().values("loan")
        .annotate(total=Sum("principal")).values("total")[:1], output_field=IntegerField())
    at_risk = (Loan.objects.filter(state__in=PERFORMING_OR_LATE)
               .annotate(owed=F("principal") - Coalesce(principal_repaid, 0),
                         late30=_overdue_since(30, now), late90=_overdue_since(90, now))
               .aggregate(outstanding=Coalesce(Sum("owed"), 0),
                          par30=Coalesce(Sum("owed", filter=Q(late30=True)), 0),
                          par90=Coalesce(Sum("owed", filter=Q(late90=True)), 0)))
    lenders = (FundingPosition.objects.filter(amount__gt=0).order_by()
               .values("lender").distinct().count())
    return PlatformStats(
        loans_by_state={state: totals[f"n_{state}"] for state in S.values},
        volume_funded=totals["volume_funded"],
        volume_repaid=totals["volume_repaid"],
        outstanding_principal=at_risk["outstanding"],
        default_rate=_ratio(totals["defaulted"], totals["disbursed"]),
        par30=_ratio(at_risk["par30"], at_risk["outstanding"]),
        par90=_ratio(at_risk["par90"], at_risk["outstanding"]),
        lenders=lenders,
        borrowers=totals["borrowers"],
    )


# --- time series for the charts ------------------------------------------------------------

_TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


@dataclass(frozen=True)
class VolumePoint:
    period: date
    funded: int
    repaid: int


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def volume_series(*, period: str = "month", since: datetime | None = None) -> list[VolumePoint]:
    """Principal funded (by the day the loan became funded) and amounts repaid (by the day the
    chain saw the repayment), per day, week or month, oldest first (2 queries)."""
    trunc = _TRUNC[period]
    funded_rows = LoanTransition.objects.filter(to_state=S.FUNDED)
    repaid_rows = Repayment.objects.all()
    if since is not None:
        funded_rows = funded_rows.filter(created_at__gte=since)
        repaid_rows = repaid_rows.filter(paid_at__gte=since)
    funded = {
        _as_date(row["bucket"]): row["total"]
        for row in funded_rows.annotate(bucket=trunc("created_at")).order_by()
        .values("bucket").annotate(total=Sum("loan__principal"))
    }
    repaid = {
        _as_date(row["bucket"]): row["total"]
        for row in repaid_rows.annotate(bucket=trunc("paid_at")).order_by()
        .values("bucket").annotate(total=Sum("amount"))
    }
    return [VolumePoint(period=bucket, funded=funded.get(bucket, 0), repaid=repaid.get(bucket, 0))
            for bucket in sorted(funded.keys() | repaid.keys())]


def cumulative(points: list[VolumePoint]) -> list[VolumePoint]:
    """Running totals of a series, for a 'volume to date' chart."""
    out: list[VolumePoint] = []
    funded = repaid = 0
    for point in points:
        funded += point.funded
        repaid += point.repaid
        out.append(VolumePoint(period=point.period, funded=funded, repaid=repaid))
    return out
