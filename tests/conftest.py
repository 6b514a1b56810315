"""Shared fixtures. With DATABASE_URL/REDIS_URL set (CI), those servers must answer:
an unreachable one fails the run instead of silently testing SQLite alone."""

from __future__ import annotations

import os

import pytest

from tests import factories


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


pytest_plugins = ["tests.browser", "tests.chain"]
