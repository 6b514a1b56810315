"""The bot's HTTP client: a connection goes to one request at a time, so no request is bounced
between connections (httpcore's race, encode/httpcore#822) however many are sent at once."""

from __future__ import annotations

import asyncio
import random

import httpcore
import httpx
import pytest
from aiohttp import web

from bot.app import build_application
from bot.http import BotApiTransport, HandOnceConnectionPool
from tests.bot.harness import serve_locally


@pytest.fixture
def bounces(monkeypatch):
    """Counts requests that were handed a connection another request had already taken."""
    counted = []
    handle = httpcore.AsyncHTTP11Connection.handle_async_request

    async def counting(self, request):
        try:
            return await handle(self, request)
        except httpcore.ConnectionNotAvailable:
            counted.append(request)
            raise

    monkeypatch.setattr(httpcore.AsyncHTTP11Connection, "handle_async_request", counting)
    return counted


async def _send_many(transport: httpx.AsyncBaseTransport, *, requests: int) -> list[int]:
    async def answer(request: web.Request) -> web.Response:
        await asyncio.sleep(random.uniform(0, 0.003))
        return web.json_response({"ok": True, "result": request.query["n"]})

    app = web.Application()
    app.router.add_get("/", answer)
    runner, port = await serve_locally(app)
    try:
        async with httpx.AsyncClient(transport=transport, timeout=30) as client:
            async def one(n: int) -> int:
                await asyncio.sleep(random.uniform(0, 0.05))
                response = await client.get(f"http://127.0.0.1:{port}/", params={"n": n})
                return int(response.json()["result"])

            return await asyncio.gather(*(one(n) for n in range(requests)))
    finally:
        await runner.cleanup()


def test_httpx_own_pool_bounces_requests_between_connections(bounces):
    """The race this module exists for, shown on httpx's own transport."""
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    answers = asyncio.run(_send_many(httpx.AsyncHTTPTransport(limits=limits), requests=400))
    assert sorted(answers) == list(range(400))
    assert bounces, "httpx's pool no longer bounces requests: bot/http.py may be unneeded"


def test_the_bots_pool_never_hands_a_connection_to_two_requests(bounces):
    transport = BotApiTransport(max_connections=4)
    answers = asyncio.run(_send_many(transport, requests=400))
    assert sorted(answers) == list(range(400)), "every request answered, each once"
    assert bounces == []
    assert isinstance(transport._pool, HandOnceConnectionPool)


def test_the_application_sends_through_the_bots_pool():
    application = build_application(token="1:t", base_url="http://127.0.0.1:9/bot")
    transport = application.bot.request._client._transport
    assert isinstance(transport, BotApiTransport)
    assert isinstance(transport._pool, HandOnceConnectionPool)
    assert transport._pool._max_connections == 16
    # The pool's scan stays short only while the Sender keeps requests from queueing on it.
    assert application.bot.rate_limiter.max_in_flight < transport._pool._max_connections
