"""Fixtures of the fault tests: disposable servers, and a database that worker processes
started by the test share with it."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from tests.disposable import DisposableRedis


@pytest.fixture
def redis_server(tmp_path):
    server = DisposableRedis(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def shared_database(transactional_db, tmp_path) -> str:
    """A DATABASE_URL that subprocesses (Celery workers, the web server) can open and that
    this test reads and writes through the ORM, committing as it goes.

    On PostgreSQL that is the test database itself. SQLite's test database lives in this
    process's memory, so it is copied (schema included) to a file, and the test's default
    connection points at that file until the test ends.
    """
    from django.db import connections
    from django.db.backends.sqlite3.base import DatabaseWrapper

    original = connections["default"]
    if original.vendor == "postgresql":
        s = original.settings_dict
        password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
        yield (f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:"
               f"{s['PORT'] or 5432}/{s['NAME']}")
        return
    path: Path = tmp_path / "shared.sqlite3"
    original.ensure_connection()
    with contextlib.closing(sqlite3.connect(path)) as target:
        original.connection.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    settings_dict = {**original.settings_dict, "NAME": str(path),
                     "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20,
                                 "init_command": "PRAGMA journal_mode=WAL;"}}
    swapped = DatabaseWrapper(settings_dict, alias="default")
    connections["default"] = swapped
    try:
        yield f"sqlite:///{path}"
    finally:
        swapped.close()
        connections["default"] = original


@pytest.fixture
def celery_broker(settings):
    """Point this process's Celery app (the publishing side) at a broker URL."""
    from config.celery import app

    saved = (app.conf.broker_url, dict(app.conf.broker_transport_options or {}),
             app.conf.task_always_eager)

    def use(url: str) -> None:
        _drop_pools(app)
        settings.CELERY_TASK_ALWAYS_EAGER = False
        app.conf.broker_url = url
        app.conf.broker_transport_options = {"visibility_timeout": 3600,
                                             "socket_connect_timeout": 2}
        app.conf.task_always_eager = False

    yield use
    _drop_pools(app)
    app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_always_eager = saved


def _drop_pools(app) -> None:
    """Forget this process's broker connections. kombu keeps its pools in a registry keyed
    by broker URL: closing one without clearing the registry would leave a closed pool that
    every later publish to that URL acquires ("Acquire on closed pool")."""
    from kombu import pools

    pools.reset()
    app._pool = None
    with contextlib.suppress(Exception):
        app.amqp._producer_pool = None
