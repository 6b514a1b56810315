"""Webhook mode: Telegram POSTs each update to /telegram/webhook/ (Django under ASGI).

The endpoint checks Telegram's secret-token header, records the update (a duplicate is
dropped) and answers at once; handling happens in the background, in order per chat. It
answers 5xx only when the update could not be recorded, so Telegram delivers it again.

`DirectWebhook` (wrapped around the ASGI application in core/asgi.py) answers these POSTs
before Django's middleware: under ASGI every sync middleware hook runs through a per-request
thread, which cost more than all the bot's own work on an update and added its thread
hand-offs to every reply's latency. Nothing of that stack applies to Telegram's machine
POSTs (sessions, CSRF, auth, locale, clickjacking headers). The Django view below stays on
the URL map, answering the same way, for servers that run Django without the wrapper.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bot.runtime import BotRuntime

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook/"
MAX_BODY_BYTES = 1024 * 1024  # an update is a few kB; Telegram's biggest are far below this
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)

_runtime: BotRuntime | None = None
_lock: asyncio.Lock | None = None

Receiver = Callable[[dict], Awaitable[object]]


def install_runtime(runtime: BotRuntime | None) -> None:
    """Use this (started) runtime for the view; tests and the benchmark bring their own."""
    global _runtime, _lock
    _runtime, _lock = runtime, None


async def get_runtime() -> BotRuntime:
    """The process's runtime, started on the first update (Django's ASGI has no startup hook)."""
    global _runtime, _lock
    if _runtime is not None:
        return _runtime
    if _lock is None:
        _lock = asyncio.Lock()
    async with _lock:
        if _runtime is None:
            _runtime = await BotRuntime().start(settle_heap=True)
    return _runtime


async def _receive_in_runtime(data: dict) -> object:
    runtime = await get_runtime()
    return await runtime.dispatcher.receive(data)


async def answer_update(body: bytes, given_secret: str,
                        receive: Receiver = _receive_in_runtime) -> tuple[int, dict]:
    """(HTTP status, JSON body) for one POSTed update: 403 without the right secret, 400 for
    something that is not an update, 503 when it could not be recorded, else 200."""
    secret = settings.TELEGRAM_WEBHOOK_SECRET
    if not secret or not hmac.compare_digest(given_secret.encode(), secret.encode()):
        return 403, {"ok": False, "error": "forbidden"}
    try:
        data = json.loads(body)
        update_id = data["update_id"]
    except (ValueError, KeyError, TypeError):
        return 400, {"ok": False, "error": "not an update"}
    # Telegram's update ids are positive integers; 1e999, true or "12" are not.
    if type(update_id) is not int or not 0 <= update_id < 2**63:
        return 400, {"ok": False, "error": "not an update"}
    try:
        await receive(data)
    except Exception:
        log.exception("could not record update %s; Telegram will deliver it again",
                      data.get("update_id"))
        return 503, {"ok": False, "error": "try again"}
    return 200, {"ok": True}


@csrf_exempt
@require_POST
async def telegram_webhook(request: HttpRequest) -> HttpResponse:
    status, body = await answer_update(request.body, request.headers.get(SECRET_HEADER, ""))
    return JsonResponse(body, status=status)


class DirectWebhook:
    """ASGI wrapper: POSTs to `path` go to `receive` without Django's middleware; everything
    else goes to the wrapped application."""

    def __init__(self, application, *, path: str = WEBHOOK_PATH,
                 receive: Receiver = _receive_in_runtime) -> None:
        self.application = application
        self.path = path
        self.receive = receive
        self._secret_header = SECRET_HEADER.lower().encode()

    async def __call__(self, scope, receive, send) -> None:
        if (scope["type"] != "http" or scope["path"] != self.path
                or scope["method"] != "POST"):
            await self.application(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            status, answer = 413, {"ok": False, "error": "too large"}
        else:
            given = next((value.decode("latin-1") for name, value in scope["headers"]
                          if name == self._secret_header), "")
            status, answer = await answer_update(body, given, self.receive)
        payload = json.dumps(answer).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


async def _read_body(receive) -> bytes | None:
    """The request body, or None past MAX_BODY_BYTES."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
