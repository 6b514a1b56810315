"""Django's Redis cache, made to degrade instead of fail when Redis is unreachable.

The cache only ever holds copies (PostgreSQL is the truth), so a Redis outage must cost a
query, not an error shown to a person: a read answers "not cached", a write is skipped. Short
socket timeouts (settings) keep a dead or unreachable Redis from stalling each request. Only
`incr`/`decr` still raise: a counter that silently answers nothing would lie.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
_LOG_EVERY_S = 30.0
T = TypeVar("T")


class ResilientRedisCache(RedisCache):
    _last_warning = 0.0

    def _degrade(self, operation: str, fallback: T, call: Callable[[], T]) -> T:
        try:
            return call()
        except OUTAGE_ERRORS as error:
            now = time.monotonic()
            if now - ResilientRedisCache._last_warning >= _LOG_EVERY_S:
                ResilientRedisCache._last_warning = now
                logger.warning("cache unavailable (%s on %s); serving without it",
                               error.__class__.__name__, operation)
            return fallback

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        return self._degrade("add", False, functools.partial(
            super().add, key, value, timeout, version))

    def get(self, key, default=None, version=None) -> Any:
        return self._degrade("get", default, functools.partial(
            super().get, key, default, version))

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        return self._degrade("set", None, functools.partial(
            super().set, key, value, timeout, version))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        return self._degrade("touch", False, functools.partial(
            super().touch, key, timeout, version))

    def delete(self, key, version=None) -> bool:
        return self._degrade("delete", False, functools.partial(super().delete, key, version))

    def get_many(self, keys, version=None) -> dict:
        return self._degrade("get_many", {}, functools.partial(super().get_many, keys, version))

    def has_key(self, key, version=None) -> bool:
        return self._degrade("has_key", False, functools.partial(super().has_key, key, version))

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None) -> list:
        return self._degrade("set_many", list(data), functools.partial(
            super().set_many, data, timeout, version))

    def delete_many(self, keys, version=None) -> None:
        return self._degrade("delete_many", None, functools.partial(
            super().delete_many, keys, version))

    def clear(self) -> bool:
        return self._degrade("clear", False, super().clear)
