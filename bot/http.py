"""The bot's HTTP client to the Bot API: httpx, with one race of httpcore's pool taken out.

httpcore 1.0 hands an idle HTTP/1.1 connection to every request that gets assigned in the
same pass, because the connection still looks idle until the first of them starts on it. All
but one then fail with ConnectionNotAvailable and queue again, and under steady load an
unlucky request can lose that race over and over (encode/httpcore#822): here, 1 or 2 replies
in 5,000 took 5 to 24 s under full load. A pass may also close such a connection as surplus
while it waits for its request (encode/httpcore#1110). Below, a connection handed to a
request counts as busy until that request is done with it, so neither happens.
"""

from __future__ import annotations

import httpcore
import httpx
from httpcore import AsyncConnectionInterface, Origin, Request, Response
from telegram.request import HTTPXRequest


class _Handed(AsyncConnectionInterface):
    """A pool connection that is neither available nor idle while a request holds it."""

    def __init__(self, connection: AsyncConnectionInterface, pool: HandOnceConnectionPool):
        self._connection = connection
        self._pool = pool

    async def handle_async_request(self, request: Request) -> Response:
        return await self._connection.handle_async_request(request)

    async def aclose(self) -> None:
        await self._connection.aclose()

    def info(self) -> str:
        return self._connection.info()

    def can_handle_request(self, origin: Origin) -> bool:
        return self._connection.can_handle_request(origin)

    def is_available(self) -> bool:
        return self._connection.is_available() and not self._pool.handed_out(self)

    def has_expired(self) -> bool:
        return self._connection.has_expired()

    def is_idle(self) -> bool:
        return self._connection.is_idle() and not self._pool.handed_out(self)

    def is_closed(self) -> bool:
        return self._connection.is_closed()

    def __repr__(self) -> str:
        return f"<handed-once {self._connection!r}>"


class HandOnceConnectionPool(httpcore.AsyncConnectionPool):
    """httpcore's pool, where a connection goes to one request at a time."""

    def create_connection(self, origin: Origin) -> AsyncConnectionInterface:
        return _Handed(super().create_connection(origin), self)

    def handed_out(self, connection: AsyncConnectionInterface) -> bool:
        # A request leaves the pool's list once its response is closed. The scan is short
        # because the Sender keeps the requests in flight below the pool size; with many
        # requests queued here every pass would scan them for every connection.
        return any(request.connection is connection for request in self._requests)


class BotApiTransport(httpx.AsyncHTTPTransport):
    def __init__(self, *, max_connections: int) -> None:
        limits = httpx.Limits(max_connections=max_connections,
                              max_keepalive_connections=max_connections)
        super().__init__(limits=limits)
        # httpx builds its pool in __init__ with no way to choose the class: replace it with
        # the same settings (certificate checks as httpx's defaults).
        self._pool = HandOnceConnectionPool(
            ssl_context=httpx.create_ssl_context(), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, http1=True, http2=False)


def bot_api_request(*, connections: int = 16, pool_timeout: float = 30) -> HTTPXRequest:
    """python-telegram-bot's HTTP request object for the bot's own calls. httpcore scans its
    whole pool on each request: a few connections are faster than many, and 30 messages a
    second need only a handful in flight."""
    return HTTPXRequest(connection_pool_size=connections, pool_timeout=pool_timeout,
                        httpx_kwargs={"transport": BotApiTransport(max_connections=connections)})
