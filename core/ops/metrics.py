"""Prometheus metrics of the web and worker processes, and the `/metrics` exposition.

Every process registers its own metrics at import (the bot's live in bot/metrics.py); figures
that belong to the deployment rather than a process (indexer lag, outbox backlog, review queue)
are computed when scraped. With several processes per host (gunicorn/uvicorn workers, Celery
prefork children, a bot process), set PROMETHEUS_MULTIPROC_DIR to one empty directory shared by
all of them, emptied at each deployment: `/metrics` of any web process then reports the sum
over all of them (prometheus_client's multiprocess mode). Without it each process reports only
itself, and `manage.py runbot` can serve the bot's own on BOT_METRICS_PORT.
"""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

TASKS = Counter("lendgram_tasks_total", "Celery tasks finished, by task and final state.",
                ["task", "state"])
TASK_SECONDS = Histogram("lendgram_task_duration_seconds", "Celery task run time.", ["task"],
                         buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800))

_started: dict[str, float] = {}


def _task_prerun(task_id: str | None = None, **_kwargs) -> None:
    if task_id:
        _started[task_id] = time.perf_counter()


def _task_postrun(task_id: str | None = None, task=None, state: str | None = None,
                  **_kwargs) -> None:
    name = getattr(task, "name", "unknown")
    TASKS.labels(task=name, state=(state or "unknown").lower()).inc()
    started = _started.pop(task_id or "", None)
    if started is not None:
        TASK_SECONDS.labels(task=name).observe(time.perf_counter() - started)


def connect_celery_signals() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_prerun, weak=False, dispatch_uid="lendgram-metrics-prerun")
    task_postrun.connect(_task_postrun, weak=False, dispatch_uid="lendgram-metrics-postrun")


class DeploymentCollector(Collector):
    """Figures read at scrape time from the database and the chain (via the health checks)."""

    def collect(self):
        from core.ops import health

        outbox = health._timed(health.check_outbox)
        if "pending" in outbox:
            yield GaugeMetricFamily("lendgram_outbox_pending", "Outbox messages not sent yet.",
                                    value=outbox["pending"])
            yield GaugeMetricFamily("lendgram_outbox_oldest_age_seconds",
                                    "Age of the oldest unsent outbox message.",
                                    value=outbox["oldest_age_s"])
        review = health._timed(health.check_review)
        if "waiting" in review:
            yield GaugeMetricFamily("lendgram_review_waiting", "Applications waiting for review.",
                                    value=review["waiting"])
            yield GaugeMetricFamily("lendgram_review_oldest_age_hours",
                                    "Age of the oldest review item.", value=review["oldest_age_h"])
        from django.conf import settings

        if not settings.HEALTH_CHECK_RPC:
            return
        chain = health._timed(health.check_chain)
        yield GaugeMetricFamily("lendgram_rpc_up", "1 when the chain's RPC answers.",
                                value=1 if "head" in chain else 0)
        if chain.get("indexer_lag_blocks") is not None:
            yield GaugeMetricFamily("lendgram_indexer_lag_blocks",
                                    "Blocks between the chain head and the indexer.",
                                    value=chain["indexer_lag_blocks"])


_deployment_registry = CollectorRegistry(auto_describe=False)
_deployment_registry.register(DeploymentCollector())


def exposition() -> bytes:
    """The text exposition: this process's (or all processes') metrics, plus the deployment's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_deployment_registry)
