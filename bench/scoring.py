"""Credit-scoring benchmark: the batch scorer against a naive per-borrower implementation.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/scoring.py

Creates its own database (lendgram_bench_<pid>) on DATABASE_URL's server, migrates it, fills it
with synthetic borrowers with realistic histories (loans repaid, active, late, defaulted, in
flight; installments paid early, on time, late or not at all; declared profiles and wallet
facts for some), then:

1. scores the first 10,000 and then all 100,000 borrowers with the production batch path
   (``scores_rescore_range`` chunk by chunk: one ``INSERT ... SELECT`` per chunk computing the
   features, scoring them with the scorecard compiled to SQL and storing the rows), each in a
   fresh child process so its peak RSS is its own;
2. scores a 2,000-borrower sample the naive way: one Celery task per borrower (run in
   process), ORM round trips for the user, profile, wallet facts, each loan and its schedule,
   one INSERT per score;
3. signs the attestations of the 100k scores (a separate stage in production) for its figure;

and drops the database. The last line is JSON with the figures. Without a PostgreSQL
DATABASE_URL it says so and stops: the figures are PostgreSQL's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import scratch  # bench/scratch.py: this script's folder is first on sys.path
from scratch import postgres_url_or_exit, scratch_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BORROWERS = 100_000
NAIVE_SAMPLE = 2_000


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("REDIS_URL", None)  # the cache is not what is measured
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import logging

    import django

    django.setup()
    logging.getLogger("celery").setLevel(logging.WARNING)  # one line per naive task otherwise


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- synthetic data -----------------------------------------------------------------------

USERS_SQL = """
INSERT INTO users_telegramuser (created_at, updated_at, telegram_id, username, first_name,
    last_name, language, is_borrower, is_lender, is_admin, consented_at, terms_version, phone,
    wallet_address, wallet_verified_at, kyc_tier, is_frozen, frozen_reason, reminders_enabled,
    referral_code)
SELECT now() - (random() * 900 || ' days')::interval, now(), 5000000000 + g,
       CASE WHEN random() < 0.8 THEN 'user' || g ELSE '' END, 'Bench', '', 'en', true, false,
       false, now(), '2026-11', CASE WHEN random() < 0.9 THEN %(phone)s ELSE '' END,
       '0x' || lpad(to_hex(g), 40, '0'), now(), (1 + floor(random() * 3))::int, random() < 0.005,
       '', true, ''
FROM generate_series(1, %(n)s) g
"""
PROFILES_SQL = """
INSERT INTO scoring_borrowerprofile (user_id, income_band, employment, updated_at)
SELECT id, (ARRAY['under_500','500_1500','1500_3000','3000_plus',''])[1 + floor(random()*5)::int],
       (ARRAY['employed','self_employed','part_time','student','retired','unemployed',''])
           [1 + floor(random()*7)::int], now()
FROM users_telegramuser WHERE random() < 0.7
"""
WALLETS_SQL = """
INSERT INTO scoring_walletsignal (user_id, address, tx_count, first_tx_at, checked_at)
SELECT id, wallet_address, c, CASE WHEN c > 0 THEN now() - (random() * 1500 || ' days')::interval
                                 END, now()
FROM (SELECT id, wallet_address, floor(random() * random() * 400)::int AS c
      FROM users_telegramuser WHERE random() < 0.6) w
"""
# Up to five loans per borrower (about 2.4 on average), most of them closed.
LOANS_SQL = """
INSERT INTO loans_loan (created_at, updated_at, borrower_id, state, principal, installments,
    interval_days, purpose, grade, score, apr_bps, total_due, offer_reasons, offered_at,
    approval_nonce, funded_amount, repaid_amount, covered_amount, distributed_to_lenders,
    drawn_down_at)
SELECT start, now(), u.id, st, p, n, 30,
       (ARRAY['business','education','medical','home','vehicle','debt_consolidation','personal'])
           [1 + floor(random()*7)::int], 'C', 650, 2000, p + p / 10, '[]', start, '',
       CASE WHEN st IN ('approved', 'submitted') THEN 0 ELSE p END,
       CASE st WHEN 'repaid' THEN p + p / 10
               WHEN 'active' THEN (p + p / 10) / 3 WHEN 'late' THEN (p + p / 10) / 6
               WHEN 'defaulted' THEN (p + p / 10) / 8 ELSE 0 END,
       0, 0, CASE WHEN st IN ('approved', 'submitted') THEN NULL ELSE start END
FROM users_telegramuser u
CROSS JOIN LATERAL (
    SELECT k, now() - ((60 + random() * 700) || ' days')::interval AS start,
           (50 + floor(random() * 950))::bigint * 1000000 AS p,
           (ARRAY[3, 6, 12])[1 + floor(random()*3)::int] AS n, random() AS r
    FROM generate_series(1, 5) k WHERE random() < 0.48 + 0 * u.id
) l
CROSS JOIN LATERAL (
    SELECT CASE WHEN l.r < 0.62 THEN 'repaid' WHEN l.r < 0.8 THEN 'active'
                WHEN l.r < 0.86 THEN 'late' WHEN l.r < 0.91 THEN 'defaulted'
                WHEN l.r < 0.96 THEN 'approved' ELSE 'submitted' END AS st
) s
"""
# Installments of drawn-down loans: repaid loans paid early (70%), a little late or much late;
# active loans paid up to now; late and defaulted ones stop paying part-way.
INSTALLMENTS_SQL = """
INSERT INTO loans_installment (loan_id, number, due_at, amount, cumulative_due, interest,
    principal, paid_at)
SELECT l.id, k, l.drawn_down_at + (k * 30 || ' days')::interval,
       l.total_due * k / l.installments - l.total_due * (k - 1) / l.installments,
       l.total_due * k / l.installments, (l.total_due - l.principal) / l.installments,
       l.total_due * k / l.installments - l.total_due * (k - 1) / l.installments
           - (l.total_due - l.principal) / l.installments,
       CASE
         WHEN l.state = 'repaid' OR (l.state = 'active'
              AND l.drawn_down_at + (k * 30 || ' days')::interval < now())
           THEN l.drawn_down_at + (k * 30 || ' days')::interval
                + (CASE WHEN r < 0.7 THEN -2 WHEN r < 0.9 THEN 3 ELSE 25 END || ' days')::interval
         WHEN l.state IN ('late', 'defaulted') AND k <= l.installments / 3
           THEN l.drawn_down_at + (k * 30 || ' days')::interval
         ELSE NULL END
FROM loans_loan l
CROSS JOIN LATERAL (SELECT k, random() AS r FROM generate_series(1, l.installments) k) i
WHERE l.drawn_down_at IS NOT NULL
"""


def generate(n: int) -> dict:
    from django.db import connection

    from core.common.encryption import encrypt_text

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(USERS_SQL, {"n": n, "phone": encrypt_text("+15550000000")})
        for sql in (PROFILES_SQL, WALLETS_SQL, LOANS_SQL, INSTALLMENTS_SQL):
            cursor.execute(sql)
        # A live database's history was vacuumed long ago (autovacuum); freshly bulk-loaded
        # rows are not yet, and would be measured as if every page were new.
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT (SELECT count(*) FROM loans_loan),"
                       " (SELECT count(*) FROM loans_installment)")
        loans, installments = cursor.fetchone()
    return {"borrowers": n, "loans": loans, "installments": installments,
            "generate_s": round(time.perf_counter() - started, 1)}


# --- the batch path (child process) -----------------------------------------------------

def worker(limit: int, batch_key: str, part: int = 0, parts: int = 1) -> dict:
    """Score the chunks numbered part, part + parts, ... of the first `limit` borrowers, as
    one of `parts` Celery workers taking rescore_chunk tasks would."""
    from django.conf import settings
    from django.utils import timezone

    from core.scoring.rescoring import scores_rescore_range
    from core.scoring.selectors import borrower_id_ranges

    now = timezone.now()
    started_at = time.time()
    started = time.perf_counter()
    written = seen = 0
    for index, (first_id, last_id) in enumerate(borrower_id_ranges(chunk=settings.SCORING_CHUNK)):
        if seen >= limit:
            break
        seen += settings.SCORING_CHUNK
        if index % parts != part:
            continue
        written += scores_rescore_range(first_id=first_id, last_id=last_id, batch_key=batch_key,
                                        now=now)
    elapsed = time.perf_counter() - started
    return {"scored": written, "seconds": round(elapsed, 2), "started_at": started_at,
            "ended_at": started_at + elapsed, "peak_rss_mb": round(_peak_rss_mb(), 1)}


def run_workers(database_url: str, limit: int, batch_key: str, parts: int) -> dict:
    """`parts` worker processes side by side; borrowers/s counts from the first start to the
    last end, so it is the whole batch's wall-clock rate, every score stored."""
    env = {**os.environ, "DATABASE_URL": database_url}
    children = [subprocess.Popen([sys.executable, __file__, "--worker", str(limit),
                                  "--batch-key", batch_key, "--part", str(part),
                                  "--parts", str(parts)],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for part in range(parts)]
    results = []
    for child in children:
        out, err = child.communicate()
        if child.returncode:
            raise RuntimeError(err[-3000:])
        results.append(json.loads(out.strip().splitlines()[-1]))
    written = sum(result["scored"] for result in results)
    elapsed = max(r["ended_at"] for r in results) - min(r["started_at"] for r in results)
    return {"scored": written, "workers": parts, "seconds": round(elapsed, 2),
            "borrowers_per_s": round(written / elapsed),
            "peak_rss_mb": max(result["peak_rss_mb"] for result in results)}


# --- the naive way ------------------------------------------------------------------------

def naive_task():
    """What a simple implementation does: a task per borrower and ORM round trips."""
    from celery import shared_task
    from django.conf import settings
    from django.utils import timezone

    from core.loans.models import Loan
    from core.scoring.models import BorrowerProfile, Score, WalletSignal
    from core.scoring.scorecard import load_scorecard
    from core.users.models import TelegramUser

    @shared_task(name="bench.score_borrower_naive")
    def score_borrower_naive(user_id: int) -> int:
        now = timezone.now()
        user = TelegramUser.objects.get(pk=user_id)
        profile = BorrowerProfile.objects.filter(user=user).first()
        wallet = WalletSignal.objects.filter(user=user).first()
        on_time = late = max_late = completed = defaults = exposure = 0
        purpose = None
        for loan in Loan.objects.filter(borrower=user).order_by("id"):
            purpose = loan.purpose
            completed += loan.state == "repaid"
            defaults += loan.state == "defaulted"
            if loan.state in {"funded", "active", "late", "defaulted"}:
                exposure += loan.principal - loan.repaid_amount * loan.principal // loan.total_due
            elif loan.state in {"draft", "submitted", "scored", "in_review", "approved",
                                "listed", "funding"}:
                exposure += loan.principal
            for item in loan.schedule.all():
                end = item.paid_at or now
                if item.paid_at and item.paid_at <= item.due_at:
                    on_time += 1
                elif end > item.due_at:
                    late += 1
                    max_late = max(max_late, (end - item.due_at).days)
        limit = settings.KYC_TIER_LIMITS.get(user.kyc_tier, 0)
        features = {
            "defaults": defaults, "on_time_installments": on_time, "late_installments": late,
            "max_days_late": max_late, "loans_completed": completed,
            "exposure_pct": -(-exposure * 100 // limit) if limit else None,
            "income_band": (profile.income_band or None) if profile else None,
            "employment": (profile.employment or None) if profile else None,
            "purpose": purpose, "phone_shared": bool(user.phone),
            "wallet_age_days": ((now - wallet.first_tx_at).days if wallet.first_tx_at else 0)
            if wallet else None,
            "wallet_tx_count": wallet.tx_count if wallet else None,
            "tenure_days": (now - user.created_at).days,
            "telegram_username": bool(user.username),
        }
        result = load_scorecard().evaluate(features)
        issued = int(now.timestamp())
        return Score.objects.create(
            borrower=user, kind="batch", batch_key="bench-naive", model_version=1,
            features=features, score=result.score, grade=result.grade,
            pd_bps=result.pd_bps, reasons=result.reasons, created_at=now,
            wallet_address=user.wallet_address, issued_at=issued, expiry=issued + 86400).pk

    return score_borrower_naive


def naive(sample: int) -> dict:
    from core.users.models import TelegramUser

    task = naive_task()
    ids = list(TelegramUser.objects.order_by("id").values_list("id", flat=True)[:sample])
    started = time.perf_counter()
    for user_id in ids:
        task.apply(args=[user_id])
    elapsed = time.perf_counter() - started
    return {"scored": len(ids), "seconds": round(elapsed, 2),
            "borrowers_per_s": round(len(ids) / elapsed)}


def sign_all() -> dict:
    from django.conf import settings

    from core.scoring.attestations import scores_sign_pending

    settings.SCORE_REGISTRY_ADDRESS = "0x" + "ab" * 20  # signing needs no chain
    started = time.perf_counter()
    signed = 0
    while batch := scores_sign_pending(limit=settings.SCORING_CHUNK):
        signed += batch
    elapsed = time.perf_counter() - started
    return {"signed": signed, "attestations_per_s": round(signed / elapsed)}


# --- main ---------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--borrowers", type=int, default=BORROWERS)
    parser.add_argument("--naive", type=int, default=NAIVE_SAMPLE)
    parser.add_argument("--no-sign", action="store_true", help="skip the signing figure")
    parser.add_argument("--workers", type=int, default=2,
                        help="worker processes scoring chunks side by side (default: 2 cores)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--batch-key", help=argparse.SUPPRESS)
    parser.add_argument("--part", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--parts", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if args.worker:
        _setup_django(url)
        print(json.dumps(worker(args.worker, args.batch_key, args.part, args.parts)))
        return 0
    url = postgres_url_or_exit("scoring")
    with scratch_database(url, "scoring") as name:
        bench_url = scratch.database_url(url, name)
        _setup_django(bench_url)
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        data = generate(args.borrowers)
        print(f"data: {data}", flush=True)
        connections.close_all()
        small = run_workers(bench_url, min(10_000, args.borrowers), "bench-10k", args.workers)
        print(f"batch 10k: {small}", flush=True)
        full = run_workers(bench_url, args.borrowers, "bench-full", args.workers)
        print(f"batch {args.borrowers}: {full}", flush=True)
        slow = naive(args.naive)
        print(f"naive {args.naive}: {slow}", flush=True)
        signing = {} if args.no_sign else sign_all()
        if signing:
            print(f"signing: {signing}", flush=True)
        connections.close_all()
    figures = {
        "borrowers_per_s": full["borrowers_per_s"],
        "naive_borrowers_per_s": slow["borrowers_per_s"],
        "ratio_vs_naive": round(full["borrowers_per_s"] / slow["borrowers_per_s"], 1),
        "peak_rss_mb_10k": small["peak_rss_mb"],
        "peak_rss_mb_100k": full["peak_rss_mb"],
    }
    if signing:
        figures["attestations_signed_per_s"] = signing["attestations_per_s"]
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
