"""Running a job in several threads at once, each with its own database connection, as two
workers would. Row locks only mean something on PostgreSQL: SQLite runs skip these tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent runs need PostgreSQL's row locks (set DATABASE_URL to run this)")


def race(job: Callable[[], Any], *, runners: int = 2, timeout: float = 120) -> list[Any]:
    """Start `runners` threads on `job` at the same instant; their results (or errors)."""
    barrier = threading.Barrier(runners)
    results: list[Any] = [None] * runners

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = job()
        except BaseException as exc:  # the test inspects it
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    errors = [result for result in results if isinstance(result, BaseException)]
    if errors:
        raise errors[0]
    return results
