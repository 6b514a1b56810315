"""Shared fixtures. With DATABASE_URL/REDIS_URL set (CI), those servers must answer:
an unreachable one fails the run instead of silently testing SQLite alone."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from tests import factories

# The instant the `clock` fixture stops at: midday, so that "a day before" or "hours later"
# never crosses a UTC midnight unless a test moves the clock there on purpose.
FROZEN_AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def pytest_sessionstart(session) -> None:
    problems = []
    if os.environ.get("DATABASE_URL"):
        import psycopg

        from config.envconfig import database_from_url

        db = database_from_url(os.environ["DATABASE_URL"])
        if db["ENGINE"].endswith("postgresql"):
            try:
                psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"],
                                password=db["PASSWORD"], dbname=db["NAME"],
                                connect_timeout=5).close()
            except psycopg.Error as exc:
                problems.append(f"DATABASE_URL is set but PostgreSQL does not answer: {exc}")
    if os.environ.get("REDIS_URL"):
        import redis

        try:
            redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=5).ping()
        except redis.RedisError as exc:
            problems.append(f"REDIS_URL is set but Redis does not answer: {exc}")
    if problems:
        pytest.exit("\n".join(problems), returncode=3)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """Stop the wall clock at FROZEN_AT for the test (and its other fixtures, when listed
    before them); `clock.move_to(instant)` and `clock.shift(timedelta)` move it. For every
    test that reasons about days or hours: the suite must pass at any time of day."""
    with time_machine.travel(FROZEN_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def alice(db):
    """A verified borrower."""
    return factories.borrower(telegram_id=1001, username="alice")


@pytest.fixture
def bob(db):
    """A lender."""
    return factories.lender(telegram_id=1002, username="bob")


@pytest.fixture
def charlie(db):
    """Another lender."""
    return factories.lender(telegram_id=1003, username="charlie")


pytest_plugins = ["tests.browser", "tests.chain", "tests.kyc.fixtures"]
