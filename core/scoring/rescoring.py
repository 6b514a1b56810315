"""The nightly batch: every borrower rescored, chunk by chunk.

On PostgreSQL one ``INSERT ... SELECT`` per chunk computes the features, scores them with the
scorecard compiled to SQL (scorecard_sql.py) and stores the rows, so none travels to Python;
elsewhere one SQL statement for the features, the scorecard in a loop and a bulk insert.
Batch scores are signed later by the attestation job (attestations.py).
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.scoring import features as feature_sql
from core.scoring.config import kyc_limits
from core.scoring.errors import ScoringError
from core.scoring.models import PostingStatus, Score, ScoreKind
from core.scoring.scorecard import load_scorecard
from core.scoring.scorecard_sql import CompiledScorecard
from core.scoring.scores import attestation_times, scores_cache_invalidate
from core.scoring.selectors import borrower_id_ranges

# Column order of the batch writers (INSERT ... SELECT and bulk insert).
_COLUMNS = ("borrower_id", "loan_id", "kind", "batch_key", "model_version", "features", "score",
            "grade", "pd_bps", "reasons", "decision", "decision_reasons", "created_at",
            "wallet_address", "issued_at", "expiry", "chain_id", "registry_address",
            "scorer_address", "attestation_hash", "signature", "posting_status",
            "posting_attempts", "posting_error", "tx_hash", "posted_at")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def scores_rescore_range(*, first_id: int, last_id: int, batch_key: str,
                         now: datetime | None = None) -> int:
    """Score every borrower with first_id <= id <= last_id once for `batch_key`; returns how
    many scores were written. Borrowers already scored in this batch are skipped, so a chunk
    can be re-run after a crash."""
    if not batch_key:
        raise ScoringError(_("A batch needs a key."))
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        return _rescore_range_in_postgres(first_id=first_id, last_id=last_id,
                                          batch_key=batch_key, now=now)
    scorecard = load_scorecard()
    evaluate = scorecard.evaluate
    done = set(Score.objects.filter(batch_key=batch_key, borrower_id__gte=first_id,
                                    borrower_id__lte=last_id)
               .values_list("borrower_id", flat=True))
    issued_at, expiry = attestation_times(now)
    rows = []
    for values, facts in feature_sql.features_for_range(first_id=first_id, last_id=last_id,
                                                        now=now, kyc_limits=kyc_limits()):
        if facts.borrower_id in done:
            continue
        result = evaluate(values)
        rows.append((
            facts.borrower_id, None, ScoreKind.BATCH.value, batch_key, result.model_version,
            _json(values), result.score, result.grade, result.pd_bps,
            _json(result.reasons), "", "[]", now, facts.wallet_address, issued_at, expiry, None,
            "", "", "", "",
            PostingStatus.UNSIGNED.value if facts.wallet_address else PostingStatus.NO_WALLET.value,
            0, "", "", None))
    if rows:
        with transaction.atomic():
            _insert_scores(rows)
    return len(rows)


@cache
def _rescore_sql(version: int, limits: tuple[tuple[int, int], ...]) -> str:
    """INSERT ... SELECT scoring one chunk inside PostgreSQL (features -> compiled scorecard ->
    Score rows). Built once per scorecard version and KYC limits."""
    compiled = CompiledScorecard(load_scorecard(version))
    scored = compiled.select(
        feature_sql.range_sql_postgres(kyc_limits=dict(limits)),
        feature_columns=feature_sql.FEATURE_NAMES, carry=("borrower_id", "wallet_address"))
    values = {
        "borrower_id": "s.borrower_id", "loan_id": "NULL", "kind": f"'{ScoreKind.BATCH}'",
        "batch_key": "%(batch_key)s", "model_version": str(int(version)),
        "features": "s.features", "score": "s.score",
        "grade": "s.grade", "pd_bps": "s.pd_bps", "reasons": "s.reasons", "decision": "''",
        "decision_reasons": "'[]'", "created_at": "%(now)s", "wallet_address": "s.wallet_address",
        "issued_at": "%(issued_at)s", "expiry": "%(expiry)s", "chain_id": "NULL",
        "registry_address": "''", "scorer_address": "''", "attestation_hash": "''",
        "signature": "''",
        "posting_status": (f"CASE WHEN s.wallet_address <> '' THEN '{PostingStatus.UNSIGNED}'"
                           f" ELSE '{PostingStatus.NO_WALLET}' END"),
        "posting_attempts": "0", "posting_error": "''", "tx_hash": "''", "posted_at": "NULL",
    }
    # Only generated constants are formatted in; values are bound parameters.
    return (f"INSERT INTO scoring_score ({', '.join(_COLUMNS)}) "  # noqa: S608
            f"SELECT {', '.join(values[column] for column in _COLUMNS)} FROM ({scored}) s")


# A re-run of a chunk (after a crash, or racing another run) leaves out who is scored already.
# Only then: the check per row costs the first run about a tenth of its time.
_SKIP_SCORED = " ON CONFLICT (batch_key, borrower_id) WHERE batch_key <> '' DO NOTHING"


def _rescore_range_in_postgres(*, first_id: int, last_id: int, batch_key: str,
                               now: datetime) -> int:
    issued_at, expiry = attestation_times(now)
    sql = _rescore_sql(load_scorecard().model_version, tuple(sorted(kyc_limits().items())))
    params = {"first": first_id, "last": last_id, "now": now, "batch_key": batch_key,
              "issued_at": issued_at, "expiry": expiry}
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT would compile this large statement anew for every chunk, which costs more than
        # running it.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SELECT EXISTS (SELECT 1 FROM scoring_score WHERE batch_key = %(batch_key)s"
                       " AND borrower_id BETWEEN %(first)s AND %(last)s)", params)
        rerun = cursor.fetchone()[0]
        cursor.execute(sql + _SKIP_SCORED if rerun else sql, params)
        return cursor.rowcount


def _insert_scores(rows: list[tuple]) -> None:
    json_fields = {"features", "reasons", "decision_reasons"}
    positions = [i for i, name in enumerate(_COLUMNS) if name in json_fields]
    objects = []
    for row in rows:
        values = list(row)
        for i in positions:
            values[i] = json.loads(values[i])
        objects.append(Score(**dict(zip(_COLUMNS, values, strict=True))))
    Score.objects.bulk_create(objects, batch_size=500)



def scores_rescore_all(*, batch_key: str, chunk: int | None = None,
                       now: datetime | None = None) -> int:
    """Every borrower, chunk by chunk, in this process (the Celery job fans chunks out)."""
    total = 0
    for first_id, last_id in borrower_id_ranges(chunk=chunk or settings.SCORING_CHUNK):
        total += scores_rescore_range(first_id=first_id, last_id=last_id, batch_key=batch_key,
                                      now=now)
    scores_cache_invalidate()
    return total


def nightly_batch_key(*, now: datetime | None = None) -> str:
    return "nightly-" + (now or timezone.now()).strftime("%Y%m%d")

