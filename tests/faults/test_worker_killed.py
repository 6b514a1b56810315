"""A Celery worker killed in the middle of a task: the task runs again on another worker and
its effect happens exactly once (acks_late only on idempotent tasks, core/*/tasks.py)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time

import psycopg
from django.db import connection

from core.loans import services as loans
from core.loans.models import Loan
from core.loans.states import LoanState
from core.notifications.models import OutboxMessage
from core.scoring.models import Score
from core.scoring.tasks import score_application
from tests import factories
from tests.disposable import CeleryWorker, wait_until, worker_env

REGISTRY = "0x" + "ab" * 20
VISIBILITY_TIMEOUT_S = 2


@contextlib.contextmanager
def loan_row_locked(database_url: str, loan_id: int):
    """Hold a lock that the scoring transaction needs, from outside Django, so the task is
    caught in the middle of its work until the lock is let go."""
    if connection.vendor == "postgresql":
        with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
            conn.execute("SELECT id FROM loans_loan WHERE id = %s FOR UPDATE", [loan_id])
            yield conn
            conn.rollback()
    else:
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=20,
                               isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")  # the database's one write lock
        try:
            yield conn
        finally:
            conn.execute("ROLLBACK")
            conn.close()


def waiting_on_a_lock(database_url: str) -> bool:
    """PostgreSQL shows a backend of the worker blocked on our lock, mid-transaction."""
    with psycopg.connect(database_url.replace("postgres://", "postgresql://"),
                         autocommit=True) as conn:
        return bool(conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()").fetchone()[0])


def unacked(redis_server) -> list[dict]:
    client = redis_server.client()
    return [json.loads(raw)[0]["headers"] for raw in client.hvals("unacked")]


def test_a_worker_killed_mid_task_leaves_it_to_the_next_worker_which_applies_it_once(
        shared_database, redis_server, celery_broker, tmp_path):
    alice = factories.borrower(telegram_id=7101, username="alice_k")
    loan = loans.loan_submit(loan=loans.loan_request_create(
        borrower=alice, principal=200 * factories.USD, installments=3, purpose="business"),
        actor=alice)
    celery_broker(redis_server.url)
    env = worker_env(database_url=shared_database, redis_url=redis_server.url,
                     var_dir=tmp_path / "var", SCORE_REGISTRY_ADDRESS=REGISTRY,
                     CELERY_VISIBILITY_TIMEOUT_S=str(VISIBILITY_TIMEOUT_S))

    first = CeleryWorker(env, tmp_path / "first.log", name="first")
    with loan_row_locked(shared_database, loan.pk):
        score_application.delay(loan.pk)
        first.start()
        try:
            wait_until(lambda: "scoring.score_application[" in first.output(), timeout=90,
                       what="the first worker to take the task")
            if connection.vendor == "postgresql":
                wait_until(lambda: waiting_on_a_lock(shared_database), timeout=60,
                           what="the task to be blocked mid-transaction")
            first.kill()  # SIGKILL, in the middle of the task
        finally:
            first.kill()
    assert "succeeded" not in first.output()

    # Nothing of the killed attempt stayed, and the broker still holds the message.
    assert not Score.objects.filter(loan=loan).exists()
    assert Loan.objects.get(pk=loan.pk).state == LoanState.SUBMITTED
    held = unacked(redis_server)
    assert [headers["task"] for headers in held] == ["scoring.score_application"]

    # Once the visibility timeout has passed, a fresh worker takes the message again.
    client = redis_server.client()
    wait_until(lambda: all(score < time.time() - VISIBILITY_TIMEOUT_S - 0.5
                           for _, score in client.zrange("unacked_index", 0, -1,
                                                         withscores=True)),
               timeout=30, what="the visibility timeout to pass")
    second = CeleryWorker(env, tmp_path / "second.log", name="second").start()
    try:
        try:
            wait_until(lambda: Loan.objects.get(pk=loan.pk).state != LoanState.SUBMITTED,
                       timeout=90, what="the second worker to score the application")
        except BaseException:
            print(second.output()[-5000:])
            raise
        wait_until(lambda: "succeeded" in second.output(), timeout=30,
                   what="the task to be acknowledged")
    finally:
        second.stop()

    assert Score.objects.filter(loan=loan).count() == 1
    assert OutboxMessage.objects.filter(dedupe_key__startswith="scoring:",
                                        dedupe_key__endswith=f":{loan.pk}").count() == 1
    assert client.hlen("unacked") == 0 and client.llen("celery") == 0


def test_only_idempotent_tasks_acknowledge_late():
    from config.celery import app

    app.loader.import_default_modules()
    # Sends a transaction: a re-run after a crash could send it twice; beat retries instead.
    assert not app.tasks["scoring.post_attestations"].acks_late
    for name in ("scoring.score_application", "scoring.rescore_chunk", "wallets.sync_chain",
                 "loans.refresh_lateness"):
        assert app.tasks[name].acks_late and app.tasks[name].reject_on_worker_lost, name
