"""Where the bot's database work runs: a few long-lived threads of its own.

Handlers and the dispatcher are async; the ORM is sync. Django's default (one thread per
request context under ASGI) would give every webhook request, and every task it starts, a
fresh thread and so a fresh database connection. The bot instead sends all its database
calls to one small pool whose threads keep their connections, so a busy bot holds
BOT_DB_THREADS connections per process. Tests switch to Django's thread-sensitive mode, which
runs the calls on the test's own connection and transaction.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

_executor: ThreadPoolExecutor | None = None
_threads: int | None = None  # None: BOT_DB_THREADS; 0: Django's thread-sensitive mode
# function -> its async wrapper for the current pool; made once, not on every call (an
# update makes several calls, and building the wrapper cost as much as the hand-off).
_wrappers: dict[Callable, Callable] = {}


def configure(*, threads: int | None) -> None:
    """Choose the pool size (0: Django's thread-sensitive mode, as tests need)."""
    global _executor, _threads
    if _executor is not None:
        _executor.shutdown(wait=False)
    _executor, _threads = None, threads
    _wrappers.clear()


def _pool() -> ThreadPoolExecutor | None:
    global _executor
    threads = settings.BOT_DB_THREADS if _threads is None else _threads
    if threads <= 0:
        return None
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bot-db")
        _wrappers.clear()
    return _executor


def _guarded(function: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except (OperationalError, InterfaceError):
            # A pool thread keeps its connection; after a database restart its first use
            # fails on the dead socket. Reconnect and try once more, so that only a database
            # that is really down fails the call. Safe because every function sent here is
            # one unit of work (a read, or writes in one atomic block that rolled back).
            if connection.in_atomic_block:
                raise
            connection.close()
            log.info("database call failed; reconnecting and trying once more")
        except DatabaseError:
            # The connection may be broken: the next call reconnects.
            if connection.in_atomic_block is False:
                connection.close()
            raise
        try:
            return function(*args, **kwargs)
        except DatabaseError:
            if connection.in_atomic_block is False:
                connection.close()
            raise

    return call


async def run_in_db(function: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    pool = _pool()
    if pool is None:
        return await sync_to_async(function)(*args, **kwargs)
    wrapper = _wrappers.get(function)
    if wrapper is None:
        wrapper = sync_to_async(_guarded(function), thread_sensitive=False, executor=pool)
        if len(_wrappers) < 10_000:  # lambdas and partials would each add one
            _wrappers[function] = wrapper
    return await wrapper(*args, **kwargs)


def in_db(function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Decorator: an async version of a sync database function, run in the bot's pool."""

    @functools.wraps(function)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return await run_in_db(function, *args, **kwargs)

    return call
