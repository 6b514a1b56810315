"""What a load balancer and an operator need to know: is this deployment able to do its job.

Each check answers {"ok": bool, ...figures}; the deployment is healthy when every check is.
Thresholds are settings (HEALTH_*). Redis is checked only when REDIS_URL is configured, the
chain only when HEALTH_CHECK_RPC is on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.ops.logs import redact


def _public(text: str) -> str:
    """/health is public and errors quote URLs: a hosted RPC endpoint carries its API key in the
    path (/v2/<key>), a Redis URL its password (masked by `redact`)."""
    rpc = urlsplit(settings.RPC_URL or "")
    if len(rpc.path) > 1:
        text = text.replace(settings.RPC_URL, f"{rpc.scheme}://{rpc.netloc}/[redacted]")
        text = text.replace(rpc.path, "/[redacted]")
    return redact(text)


def _timed(check: Callable[[], dict]) -> dict:
    started = time.perf_counter()
    try:
        result = check()
    except Exception as exc:  # a failing part is a finding, not a crash of the endpoint
        result = {"ok": False, "error": _public(f"{type(exc).__name__}: {exc}")[:300]}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def check_redis() -> dict:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        return {"ok": bool(client.ping())}
    finally:
        client.close()


def check_chain() -> dict:
    """The RPC answers, and how many blocks the indexer is behind its head."""
    from core.chain.models import ChainCursor
    from core.common.chain import web3_client

    head = web3_client().eth.block_number
    cursor = ChainCursor.objects.filter(chain_id=settings.CHAIN_ID).first()
    if cursor is None:
        return {"ok": True, "head": head, "indexer_lag_blocks": None,
                "note": "the indexer has not run yet"}
    # next_block is the first block not applied yet; the indexer stops at head - confirmations.
    lag = max(head - settings.CHAIN.confirmations - cursor.next_block + 1, 0)
    return {"ok": lag <= settings.HEALTH_MAX_INDEXER_LAG_BLOCKS, "head": head,
            "indexer_lag_blocks": lag, "max_lag_blocks": settings.HEALTH_MAX_INDEXER_LAG_BLOCKS}


def check_outbox() -> dict:
    from core.notifications.selectors import outbox_backlog

    backlog = outbox_backlog()
    return {"ok": (backlog["pending"] <= settings.HEALTH_MAX_OUTBOX_BACKLOG
                   and backlog["oldest_age_s"] <= settings.HEALTH_MAX_OUTBOX_AGE_S),
            "pending": backlog["pending"], "oldest_age_s": round(backlog["oldest_age_s"], 1),
            "max_pending": settings.HEALTH_MAX_OUTBOX_BACKLOG,
            "max_age_s": settings.HEALTH_MAX_OUTBOX_AGE_S}


def check_review() -> dict:
    from core.scoring.selectors import review_queue

    queue = review_queue()
    oldest = queue.first()
    age_h = ((timezone.now() - oldest.review_since).total_seconds() / 3600
             if oldest is not None and oldest.review_since else 0.0)
    return {"ok": age_h <= settings.HEALTH_MAX_REVIEW_AGE_H, "waiting": queue.count(),
            "oldest_age_h": round(age_h, 1), "max_age_h": settings.HEALTH_MAX_REVIEW_AGE_H}


def health_report() -> dict[str, Any]:
    """Run every check; `ok` is true only if all of them are."""
    checks: dict[str, dict] = {"database": _timed(check_database)}
    database_ok = checks["database"]["ok"]
    if settings.REDIS_URL:
        checks["redis"] = _timed(check_redis)
    if settings.HEALTH_CHECK_RPC:
        checks["chain"] = (_timed(check_chain) if database_ok
                           else {"ok": False, "error": "database unavailable"})
    for name, check in (("outbox", check_outbox), ("review", check_review)):
        checks[name] = _timed(check) if database_ok else {"ok": False,
                                                           "error": "database unavailable"}
    return {"ok": all(check["ok"] for check in checks.values()),
            "time": timezone.now().isoformat(), "checks": checks}
