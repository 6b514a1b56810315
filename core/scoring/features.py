"""Set-based feature extraction: one SQL statement returns every feature of a whole chunk of
borrowers (aggregates over their loans and installments), so 100k borrowers cost a few dozen
queries, not a few per borrower. The single-application path runs the same statement for one.

Only data we really have is used; what we do not know stays None ("missing") and is scored by
the scorecard's explicit missing bins.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from core.loans.states import IN_FLIGHT, OUTSTANDING, LoanState

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class BorrowerFacts:
    """What policy needs beside the scored features."""

    borrower_id: int
    wallet_address: str
    kyc_tier: int
    is_frozen: bool
    exposure: int  # principal owed or asked for, this application excluded
    unresolved_defaults: int  # defaulted loans with money still owed
    late_loans: int  # loans late right now


def _days_between(later: str, earlier: str) -> str:
    """SQL for whole days from `earlier` to `later`, truncated, on this database."""
    if connection.vendor == "postgresql":
        return f"FLOOR(EXTRACT(EPOCH FROM ({later} - {earlier})) / {SECONDS_PER_DAY})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _in(states: Iterable[str]) -> str:
    return ", ".join(f"'{state}'" for state in sorted(states))


def _sql(where: str, loans_where: str) -> str:
    """`where` picks the users, `loans_where` the same users' loans (by the borrower index)."""
    late_days = _days_between("COALESCE(i.paid_at, %(now)s)", "i.due_at")
    tenure = _days_between("%(now)s", "u.created_at")
    wallet_age = _days_between("%(now)s", "w.first_tx_at")
    # Only constants and fixed fragments are formatted in; values are bound parameters.
    return f"""
        SELECT u.id, u.created_at, u.phone <> '', u.username <> '', u.wallet_address,
               u.kyc_tier, u.is_frozen, p.income_band, p.employment,
               w.tx_count, w.first_tx_at, {wallet_age}, {tenure},
               COALESCE(la.completed, 0), COALESCE(la.defaults, 0),
               COALESCE(la.unresolved_defaults, 0), COALESCE(la.late_loans, 0),
               COALESCE(la.in_flight, 0), COALESCE(la.owed, 0), ll.purpose,
               COALESCE(ia.on_time, 0), COALESCE(ia.late, 0), COALESCE(ia.max_days_late, 0)
        FROM users_telegramuser u
        LEFT JOIN scoring_borrowerprofile p ON p.user_id = u.id
        LEFT JOIN scoring_walletsignal w ON w.user_id = u.id AND w.address = u.wallet_address
        LEFT JOIN (
            SELECT l.borrower_id,
                   SUM(CASE WHEN l.state = '{LoanState.REPAID}' THEN 1 ELSE 0 END) AS completed,
                   SUM(CASE WHEN l.state = '{LoanState.DEFAULTED}' THEN 1 ELSE 0 END) AS defaults,
                   SUM(CASE WHEN l.state = '{LoanState.DEFAULTED}'
                            AND l.repaid_amount + l.covered_amount < l.total_due
                            THEN 1 ELSE 0 END) AS unresolved_defaults,
                   SUM(CASE WHEN l.state = '{LoanState.LATE}' THEN 1 ELSE 0 END) AS late_loans,
                   SUM(CASE WHEN l.state IN ({_in(IN_FLIGHT)}) AND l.id <> %(exclude_loan)s
                            THEN l.principal ELSE 0 END) AS in_flight,
                   SUM(CASE WHEN l.state IN ({_in(OUTSTANDING)})
                            THEN l.principal - l.repaid_amount * l.principal / l.total_due
                            ELSE 0 END) AS owed,
                   MAX(l.id) AS last_loan_id
            FROM loans_loan l
            WHERE {loans_where}
            GROUP BY l.borrower_id
        ) la ON la.borrower_id = u.id
        LEFT JOIN loans_loan ll ON ll.id = la.last_loan_id
        LEFT JOIN (
            SELECT l.borrower_id,
                   SUM(CASE WHEN i.paid_at IS NOT NULL AND i.paid_at <= i.due_at
                            THEN 1 ELSE 0 END) AS on_time,
                   SUM(CASE WHEN (i.paid_at IS NOT NULL AND i.paid_at > i.due_at)
                              OR (i.paid_at IS NULL AND i.due_at < %(now)s)
                            THEN 1 ELSE 0 END) AS late,
                   MAX(CASE WHEN COALESCE(i.paid_at, %(now)s) > i.due_at
                            THEN {late_days} ELSE 0 END) AS max_days_late
            FROM loans_installment i
            JOIN loans_loan l ON l.id = i.loan_id
            WHERE {loans_where}
            GROUP BY l.borrower_id
        ) ia ON ia.borrower_id = u.id
        WHERE {where}
        ORDER BY u.id
    """  # noqa: S608


# The features every path produces, in this order (the keys of Score.features).
FEATURE_NAMES = ("defaults", "on_time_installments", "late_installments", "max_days_late",
                 "loans_completed", "exposure_pct", "income_band", "employment", "purpose",
                 "phone_shared", "wallet_age_days", "wallet_tx_count", "tenure_days",
                 "telegram_username")


def range_sql_postgres(*, kyc_limits: dict[int, int]) -> str:
    """PostgreSQL only: the finished features of every borrower with %(first)s <= id <=
    %(last)s at %(now)s, one column per FEATURE_NAMES after borrower_id and wallet_address.

    The same values as `_sql` + `_rows_to_features` (tests/scoring/test_batch_sql.py holds
    them together), planned for a chunk: installments are read per loan through the loan
    index (a join lets the planner pick a full scan of all installments for every chunk),
    profiles and wallet facts by the same id range, and each chunk borrower's loans in one
    pass. The worst lateness is taken as an interval and turned into days once per
    borrower: FLOOR is monotonic, so the maximum of floors is the floor of the maximum.
    """
    days = "FLOOR(EXTRACT(EPOCH FROM {}) / " + str(SECONDS_PER_DAY) + ")"
    whens = " ".join(f"WHEN {int(tier)} THEN {int(cap)}" for tier, cap in kyc_limits.items())
    limit = f"CASE u.kyc_tier {whens} ELSE 0 END" if whens else "0"
    late = "(i.paid_at > i.due_at OR (i.paid_at IS NULL AND i.due_at < %(now)s))"
    owed = "l.principal - l.repaid_amount * l.principal / l.total_due"
    # Python's // exactly (numeric `/` rounds, div() truncates towards zero).
    share = "COALESCE(la.exposure, 0) * 100 + u.limit_cap - 1"
    floor_div = (f"(div({share}, u.limit_cap) - (mod({share}, u.limit_cap) < 0)::int)"
                 "::bigint")
    return f"""
        SELECT u.id AS borrower_id, u.wallet_address,
               COALESCE(la.defaults, 0) AS defaults,
               COALESCE(la.on_time, 0)::bigint AS on_time_installments,
               COALESCE(la.late, 0)::bigint AS late_installments,
               COALESCE(GREATEST({days.format("la.max_late")}, 0), 0)::bigint AS max_days_late,
               COALESCE(la.completed, 0) AS loans_completed,
               CASE WHEN u.limit_cap > 0 THEN {floor_div} END AS exposure_pct,
               NULLIF(p.income_band, '') AS income_band,
               NULLIF(p.employment, '') AS employment,
               NULLIF(ll.purpose, '') AS purpose,
               COALESCE(u.phone <> '', false) AS phone_shared,
               CASE WHEN w.tx_count IS NULL THEN NULL WHEN w.first_tx_at IS NULL THEN 0
                    ELSE GREATEST({days.format("%(now)s - w.first_tx_at")}, 0)::bigint
               END AS wallet_age_days,
               w.tx_count AS wallet_tx_count,
               GREATEST({days.format("%(now)s - u.created_at")}, 0)::bigint AS tenure_days,
               COALESCE(u.username <> '', false) AS telegram_username
        FROM (SELECT u.id, u.wallet_address, u.phone, u.username, u.created_at,
                     {limit} AS limit_cap
              FROM users_telegramuser u
              WHERE u.id BETWEEN %(first)s AND %(last)s AND u.is_borrower) u
        LEFT JOIN scoring_borrowerprofile p
               ON p.user_id = u.id AND p.user_id BETWEEN %(first)s AND %(last)s
        LEFT JOIN scoring_walletsignal w
               ON w.user_id = u.id AND w.address = u.wallet_address
                  AND w.user_id BETWEEN %(first)s AND %(last)s
        LEFT JOIN (
            SELECT l.borrower_id,
                   COUNT(*) FILTER (WHERE l.state = '{LoanState.REPAID}') AS completed,
                   COUNT(*) FILTER (WHERE l.state = '{LoanState.DEFAULTED}') AS defaults,
                   COALESCE(SUM(l.principal) FILTER (WHERE l.state IN ({_in(IN_FLIGHT)})), 0)
                   + COALESCE(SUM({owed}) FILTER (WHERE l.state IN ({_in(OUTSTANDING)})), 0)
                       AS exposure,
                   MAX(l.id) AS last_loan_id,
                   SUM(i.on_time) AS on_time, SUM(i.late) AS late, MAX(i.max_late) AS max_late
            FROM loans_loan l
            CROSS JOIN LATERAL (
                SELECT COUNT(*) FILTER (WHERE i.paid_at <= i.due_at) AS on_time,
                       COUNT(*) FILTER (WHERE {late}) AS late,
                       MAX(COALESCE(i.paid_at, %(now)s) - i.due_at) FILTER (WHERE {late})
                           AS max_late
                FROM loans_installment i
                WHERE i.loan_id = l.id
            ) i
            WHERE l.borrower_id BETWEEN %(first)s AND %(last)s
            GROUP BY l.borrower_id
        ) la ON la.borrower_id = u.id
        LEFT JOIN loans_loan ll ON ll.id = la.last_loan_id
    """  # noqa: S608


def _rows_to_features(rows, *, kyc_limits: dict[int, int], purpose: str | None
                      ) -> Iterator[tuple[dict, BorrowerFacts]]:
    for (user_id, _created, phone_shared, has_username, wallet, tier, frozen, income,
         employment, tx_count, first_tx_at, wallet_age, tenure, completed, defaults,
         unresolved, late_loans, in_flight, owed, last_purpose, on_time, late,
         max_days_late) in rows:
        exposure = int(in_flight) + int(owed)
        limit = kyc_limits.get(tier, 0)
        if tx_count is None:  # never read from the chain: unknown, not "new"
            age = None
        elif first_tx_at is None:  # read, and it never sent a transaction
            age = 0
        else:
            age = max(int(wallet_age), 0)
        features = {
            "defaults": int(defaults),
            "on_time_installments": int(on_time),
            "late_installments": int(late),
            "max_days_late": max(int(max_days_late), 0),
            "loans_completed": int(completed),
            "exposure_pct": (exposure * 100 + limit - 1) // limit if limit > 0 else None,
            "income_band": income or None,
            "employment": employment or None,
            "purpose": purpose or last_purpose or None,
            "phone_shared": bool(phone_shared),
            "wallet_age_days": age,
            "wallet_tx_count": None if tx_count is None else int(tx_count),
            "tenure_days": max(int(tenure), 0),
            "telegram_username": bool(has_username),
        }
        yield features, BorrowerFacts(
            borrower_id=user_id, wallet_address=wallet or "", kyc_tier=tier,
            is_frozen=bool(frozen), exposure=exposure, unresolved_defaults=int(unresolved),
            late_loans=int(late_loans))


def features_for_range(*, first_id: int, last_id: int, now: datetime,
                       kyc_limits: dict[int, int]) -> list[tuple[dict, BorrowerFacts]]:
    """Features of every borrower with first_id <= id <= last_id, in id order."""
    sql = _sql("u.id BETWEEN %(first)s AND %(last)s AND u.is_borrower",
               "l.borrower_id BETWEEN %(first)s AND %(last)s")
    params = {"first": first_id, "last": last_id, "exclude_loan": -1,
              "now": connection.ops.adapt_datetimefield_value(now)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(_rows_to_features(cursor.fetchall(), kyc_limits=kyc_limits, purpose=None))


def features_for_borrower(*, borrower_id: int, now: datetime, kyc_limits: dict[int, int],
                          exclude_loan_id: int | None = None, purpose: str | None = None
                          ) -> tuple[dict, BorrowerFacts]:
    """Features of one borrower, for an application (its own loan left out of exposure)."""
    sql = _sql("u.id = %(first)s", "l.borrower_id = %(first)s")
    params = {"first": borrower_id, "exclude_loan": exclude_loan_id or -1,
              "now": connection.ops.adapt_datetimefield_value(now)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        raise LookupError(f"no user {borrower_id}")
    return next(_rows_to_features(rows, kyc_limits=kyc_limits, purpose=purpose))
