"""Webhook mode: Telegram POSTs each update to /telegram/webhook/ (Django under ASGI).

The view checks Telegram's secret-token header, records the update (a duplicate is dropped)
and answers at once; handling happens in the background, in order per chat. It answers 5xx
only when the update could not be recorded, so Telegram delivers it again.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bot.runtime import BotRuntime

log = logging.getLogger(__name__)

_runtime: BotRuntime | None = None
_lock: asyncio.Lock | None = None


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
            _runtime = await BotRuntime().start()
    return _runtime


@csrf_exempt
@require_POST
async def telegram_webhook(request: HttpRequest) -> HttpResponse:
    secret = settings.TELEGRAM_WEBHOOK_SECRET
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        return JsonResponse({"ok": False, "error": "forbidden"}, status=403)
    try:
        data = json.loads(request.body)
        int(data["update_id"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"ok": False, "error": "not an update"}, status=400)
    try:
        runtime = await get_runtime()
        await runtime.dispatcher.receive(data)
    except Exception:
        log.exception("could not record update %s; Telegram will deliver it again",
                      data.get("update_id"))
        return JsonResponse({"ok": False, "error": "try again"}, status=503)
    return JsonResponse({"ok": True})
