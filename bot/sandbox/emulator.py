"""A local Telegram Bot API: the methods the bot uses, with Telegram's request and answer shapes.

Bot side (what python-telegram-bot calls): `POST /bot<token>/<method>` with form-encoded,
multipart or JSON bodies; answers `{"ok": true, "result": ...}` or
`{"ok": false, "error_code": .., "description": .., "parameters": {"retry_after": ..}}`.
Updates reach the bot through `getUpdates` (long polling) or, after `setWebhook`, by POSTs to
the webhook URL with the secret-token header, retried until the bot answers 2xx.

People side (tests and the sandbox page): a small control API under `/_emu/` to speak as a
user (text, commands, button presses, stickers, photos and image files with their bytes,
contacts, edits), read everything the bot sent (files included), block the bot, inject faults
(429 storms, 5xx) and switch on Telegram's flood limits. Files people send are fetched by the
bot as from Telegram: `getFile`, then `GET /file/bot<token>/<file_path>`.

Run alone: `python -m bot.sandbox.emulator --port 8081`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from bot.sandbox.control import PeopleControl
from bot.sandbox.methods import BotApiMethods
from bot.sandbox.state import (
    BOT_USER,
    JSON_FIELDS,
    SENDING_METHODS,
    ApiError,
    EmulatorState,
    Fault,
    SentCall,
)

# Tests and benchmarks take these from here, with the emulator.
__all__ = ["BOT_USER", "BotApiEmulator", "EmulatorState", "EmulatorThread", "Fault"]

log = logging.getLogger(__name__)

class BotApiEmulator(BotApiMethods, PeopleControl):
    """The HTTP application, fault and flood checks and webhook delivery; the Bot API methods
    (bot/sandbox/methods.py) and the people's side (bot/sandbox/control.py) are its parts."""

    def __init__(self, *, token: str | None = None, poll_wait_cap_s: float = 10.0) -> None:
        self.state = EmulatorState(token=token)
        self.poll_wait_cap_s = poll_wait_cap_s
        self._new_update = asyncio.Event()
        self._webhook_queue: asyncio.Queue[dict] | None = None
        self._webhook_tasks: list[asyncio.Task] = []
        self._http: aiohttp.ClientSession | None = None
        self._delivered_ok = 0
        # Called with every call the bot makes (benchmarks time replies with it).
        self.observer: Callable[[SentCall], None] | None = None

    # --- the HTTP application ---------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=20 * 1024 * 1024, middlewares=[_cors])
        app.router.add_route("*", "/bot{token}/{method}", self.handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self.handle_file)
        app.router.add_get("/_emu/health", _health)
        app.router.add_post("/_emu/updates", self.handle_control_update)
        app.router.add_get("/_emu/calls", self.handle_control_calls)
        app.router.add_get("/_emu/chats/{chat_id}", self.handle_control_chat)
        app.router.add_get("/_emu/files/{file_id}", self.handle_control_file)
        app.router.add_post("/_emu/faults", self.handle_control_faults)
        app.router.add_post("/_emu/limits", self.handle_control_limits)
        app.router.add_post("/_emu/people/{user_id}/block", self.handle_control_block)
        app.router.add_post("/_emu/reset", self.handle_control_reset)
        app.router.add_get("/_emu/webhook", self.handle_control_webhook)
        app.on_cleanup.append(self._cleanup)
        return app

    async def _cleanup(self, _app: web.Application) -> None:
        await self._stop_webhook()

    async def handle_api(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        if self.state.token is not None and token != self.state.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        params, uploads = await _read_params(request)
        call = SentCall(seq=next(self.state.seq), at=time.time(), method=method,
                        params=_loggable(params), ok=False)
        try:
            self._check_faults(method)
            self._check_flood(method, params.get("chat_id"))
            handler = getattr(self, f"api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params, uploads)
        except ApiError as error:
            call.error_code = error.code
            if method != "getUpdates":
                self.state.calls.append(call)
            return web.json_response(error.body(), status=error.code)
        call.ok, call.result = True, result
        if method != "getUpdates":
            self.state.calls.append(call)
            if self.observer is not None:
                self.observer(call)
        return web.json_response({"ok": True, "result": result})

    def _check_faults(self, method: str) -> None:
        for fault in self.state.faults:
            if fault.count > 0 and fault.method in (method, "*") and method != "getUpdates":
                fault.count -= 1
                raise ApiError(fault.code, fault.description, fault.retry_after)
        self.state.faults = [fault for fault in self.state.faults if fault.count > 0]

    def _check_flood(self, method: str, chat_id: Any) -> None:
        """Telegram's limits, when switched on: answer 429 with how long to wait."""
        if method not in SENDING_METHODS or method == "sendChatAction":
            return
        now = time.monotonic()
        windows = []
        if self.state.limit_global_per_s:
            windows.append((self.state.sends_global, self.state.limit_global_per_s))
        if self.state.limit_chat_per_s and chat_id is not None:
            windows.append((self.state.sends_chat[chat_id], self.state.limit_chat_per_s))
        for sends, per_s in windows:
            while sends and sends[0] <= now - 1.0:
                sends.popleft()
            if len(sends) >= max(1, math.floor(per_s)):
                wait = max(1, math.ceil(sends[0] + 1.0 - now))
                raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        for sends, _ in windows:
            sends.append(now)

    # --- webhook delivery ---------------------------------------------------------------------

    def _start_webhook(self) -> None:
        self._webhook_queue = asyncio.Queue()
        for update in self.state.updates:
            self._webhook_queue.put_nowait(update)
        self.state.updates.clear()
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self._webhook_tasks = [asyncio.create_task(self._deliver_forever())
                               for _ in range(self.state.webhook["max_connections"])]

    async def _stop_webhook(self) -> None:
        for task in self._webhook_tasks:
            task.cancel()
        for task in self._webhook_tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._webhook_tasks = []
        if self._webhook_queue is not None:
            while not self._webhook_queue.empty():
                self.state.updates.append(self._webhook_queue.get_nowait())
            self.state.updates.sort(key=lambda update: update["update_id"])
            self._webhook_queue = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _deliver_forever(self) -> None:
        """Like Telegram: POST each update, and redeliver it later until the bot answers 2xx."""
        assert self._webhook_queue is not None and self._http is not None
        queue, http = self._webhook_queue, self._http
        while True:
            update = await queue.get()
            headers = {}
            if self.state.webhook["secret_token"]:
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.state.webhook["secret_token"]
            try:
                async with http.post(self.state.webhook["url"], json=update,
                                     headers=headers) as response:
                    delivered = 200 <= response.status < 300
            except (aiohttp.ClientError, TimeoutError):
                delivered = False
            if delivered:
                self._delivered_ok += 1
            else:
                await asyncio.sleep(0.2)
                queue.put_nowait(update)

async def _health(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@web.middleware
async def _cors(request: web.Request, handler):
    """The sandbox page is served by Django on another port; it may call the control API."""
    if request.method == "OPTIONS":
        response = web.Response()
    else:
        response = await handler(request)
    if request.path.startswith(("/_emu/", "/file/")):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    return response


async def _read_params(request: web.Request) -> tuple[dict, dict]:
    """Decode a Bot API request body the way Telegram does: query, form, multipart or JSON."""
    params: dict[str, Any] = dict(request.query)
    uploads: dict[str, tuple[bytes, str]] = {}
    if request.content_type == "application/json":
        if request.can_read_body:
            params.update(await request.json())
        return params, uploads
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if part.filename is not None:
                uploads[part.name] = (await part.read(), part.headers.get("Content-Type",
                                                                          "image/png"))
                params.setdefault("_filenames", {})[part.name] = part.filename
            else:
                params[part.name] = await part.text()
    elif request.can_read_body:
        params.update((await request.post()).items())
    for key, value in list(params.items()):
        if key in JSON_FIELDS and isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                params[key] = json.loads(value)
    return params, uploads


def _loggable(params: dict) -> dict:
    return {key: value for key, value in params.items() if isinstance(value, str | int | float
                                                                      | bool | dict | list)}


class EmulatorThread:
    """The emulator on its own event loop in a background thread (tests, benchmarks)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                 poll_wait_cap_s: float = 1.0) -> None:
        self.host, self.port = host, port
        self.emulator = BotApiEmulator(token=token, poll_wait_cap_s=poll_wait_cap_s)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="bot-api-emulator", daemon=True)
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.url}/bot"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self._ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.emulator.make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def start(self) -> EmulatorThread:
        self._thread.start()
        self._ready.wait(10)
        return self

    def call(self, function, *args, **kwargs):
        """Run a function on the emulator's loop and return its result (thread-safe)."""
        async def run():
            result = function(*args, **kwargs)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(30)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=None, help="Accept only this bot token.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    emulator = BotApiEmulator(token=args.token)
    web.run_app(emulator.make_app(), host=args.host, port=args.port, access_log=None,
                print=lambda _message: log.info("Bot API emulator on http://%s:%s",
                                                args.host, args.port))


if __name__ == "__main__":
    main()
