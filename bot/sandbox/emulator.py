"""A local Telegram Bot API: the methods the bot uses, with Telegram's request and answer shapes.

Bot side (what python-telegram-bot calls): `POST /bot<token>/<method>` with form-encoded,
multipart or JSON bodies; answers `{"ok": true, "result": ...}` or
`{"ok": false, "error_code": .., "description": .., "parameters": {"retry_after": ..}}`.
Updates reach the bot through `getUpdates` (long polling) or, after `setWebhook`, by POSTs to
the webhook URL with the secret-token header, retried until the bot answers 2xx.

People side (tests and the sandbox page): a small control API under `/_emu/` to speak as a
user (text, commands, button presses, stickers, photos, contacts, edits), read everything the
bot sent, block the bot, inject faults (429 storms, 5xx) and switch on Telegram's flood limits.

Run alone: `python -m bot.sandbox.emulator --port 8081`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
import json
import logging
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)

BOT_USER = {"id": 7_000_000_001, "is_bot": True, "first_name": "Lendgram",
            "username": "lendgram_bot", "can_join_groups": False,
            "can_read_all_group_messages": False, "supports_inline_queries": False}

# Parameters python-telegram-bot sends JSON-encoded in form bodies; everything else is a raw
# string (so a text "123" stays text).
JSON_FIELDS = {
    "chat_id", "message_id", "reply_markup", "disable_notification", "protect_content",
    "offset", "limit", "timeout", "allowed_updates", "show_alert", "cache_time",
    "max_connections", "drop_pending_updates", "link_preview_options", "reply_parameters",
    "entities", "caption_entities", "commands", "scope", "message_thread_id", "user_id",
    "from_chat_id", "has_spoiler", "show_caption_above_media", "disable_web_page_preview",
    "allow_sending_without_reply", "reply_to_message_id", "menu_button",
}
SENDING_METHODS = {"sendMessage", "sendPhoto", "sendDocument", "editMessageText",
                   "editMessageReplyMarkup", "editMessageCaption", "copyMessage",
                   "forwardMessage", "sendChatAction"}


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def body(self) -> dict:
        body: dict[str, Any] = {"ok": False, "error_code": self.code,
                                "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass
class Fault:
    """Answer the next `count` calls of `method` ("*" for any) with this error."""

    method: str
    count: int
    code: int
    description: str
    retry_after: int | None = None


@dataclass
class Person:
    id: int
    first_name: str
    username: str = ""
    language_code: str = "en"
    blocked_bot: bool = False

    def as_user(self) -> dict:
        user = {"id": self.id, "is_bot": False, "first_name": self.first_name,
                "language_code": self.language_code}
        if self.username:
            user["username"] = self.username
        return user

    def as_chat(self) -> dict:
        chat = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass
class SentCall:
    """One call the bot made, as received, and what it was answered."""

    seq: int
    at: float
    method: str
    params: dict
    ok: bool
    result: Any = None
    error_code: int | None = None

    def as_dict(self) -> dict:
        return {"seq": self.seq, "at": self.at, "method": self.method, "params": self.params,
                "ok": self.ok, "result": self.result, "error_code": self.error_code}


@dataclass
class EmulatorState:
    token: str | None = None  # None accepts any token (the sandbox); tests may pin one
    people: dict[int, Person] = field(default_factory=dict)
    updates: list[dict] = field(default_factory=list)  # not yet confirmed by getUpdates
    update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    message_ids: dict[int, itertools.count] = field(default_factory=dict)
    messages: dict[int, dict[int, dict]] = field(default_factory=lambda: defaultdict(dict))
    timeline: dict[int, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    calls: list[SentCall] = field(default_factory=list)
    callback_answers: dict[str, dict] = field(default_factory=dict)
    callback_chats: dict[str, int] = field(default_factory=dict)  # query id -> who pressed
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    webhook: dict = field(default_factory=lambda: {"url": "", "secret_token": "",
                                                   "max_connections": 40})
    commands: list = field(default_factory=list)
    limit_global_per_s: float | None = None
    limit_chat_per_s: float | None = None
    sends_global: deque = field(default_factory=deque)
    sends_chat: dict[int, deque] = field(default_factory=lambda: defaultdict(deque))
    seq: itertools.count = field(default_factory=lambda: itertools.count(1))


class BotApiEmulator:
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

    # --- Bot API methods ----------------------------------------------------------------------

    async def api_getMe(self, params: dict, uploads: dict) -> dict:
        return BOT_USER

    async def api_logOut(self, params: dict, uploads: dict) -> bool:
        return True

    async def api_close(self, params: dict, uploads: dict) -> bool:
        return True

    async def api_setMyCommands(self, params: dict, uploads: dict) -> bool:
        self.state.commands = params.get("commands") or []
        return True

    async def api_getMyCommands(self, params: dict, uploads: dict) -> list:
        return self.state.commands

    async def api_setWebhook(self, params: dict, uploads: dict) -> bool:
        url = params.get("url", "")
        await self._stop_webhook()
        if params.get("drop_pending_updates"):
            self.state.updates.clear()
        self.state.webhook = {"url": url, "secret_token": params.get("secret_token", ""),
                              "max_connections": int(params.get("max_connections") or 40)}
        if url:
            self._start_webhook()
        return True

    async def api_deleteWebhook(self, params: dict, uploads: dict) -> bool:
        await self._stop_webhook()
        if params.get("drop_pending_updates"):
            self.state.updates.clear()
        self.state.webhook = {"url": "", "secret_token": "", "max_connections": 40}
        return True

    async def api_getWebhookInfo(self, params: dict, uploads: dict) -> dict:
        pending = (self._webhook_queue.qsize() if self._webhook_queue is not None
                   else len(self.state.updates))
        return {"url": self.state.webhook["url"], "has_custom_certificate": False,
                "pending_update_count": pending,
                "max_connections": self.state.webhook["max_connections"]}

    async def api_getUpdates(self, params: dict, uploads: dict) -> list:
        if self.state.webhook["url"]:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                "active; use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        limit = min(int(params.get("limit") or 100), 100)
        timeout = min(float(params.get("timeout") or 0), self.poll_wait_cap_s)
        if offset:
            # Telegram forgets every update below the offset: the bot has confirmed them.
            self.state.updates = [u for u in self.state.updates if u["update_id"] >= offset]
        if not self.state.updates and timeout > 0:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        return self.state.updates[:limit]

    async def api_sendChatAction(self, params: dict, uploads: dict) -> bool:
        self._recipient(params)
        return True

    async def api_sendMessage(self, params: dict, uploads: dict) -> dict:
        person = self._recipient(params)
        text = params.get("text", "")
        if not str(text).strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(str(text)) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        message = self._bot_message(person, text=str(text))
        self._attach_markup(message, params)
        return message

    async def api_sendPhoto(self, params: dict, uploads: dict) -> dict:
        person = self._recipient(params)
        photo = params.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = uploads.get(photo.removeprefix("attach://"))
        elif "photo" in uploads:
            photo = uploads["photo"]
        if isinstance(photo, tuple):
            content, content_type = photo
            file_id = f"photo-{len(self.state.files) + 1}"
            self.state.files[file_id] = (content, content_type)
        elif isinstance(photo, str) and photo in self.state.files:
            file_id = photo
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        message = self._bot_message(person)
        content, _ = self.state.files[file_id]
        message["photo"] = [{"file_id": file_id, "file_unique_id": file_id, "width": 512,
                             "height": 512, "file_size": len(content)}]
        if params.get("caption"):
            message["caption"] = params["caption"]
        self._attach_markup(message, params)
        return message

    async def api_editMessageText(self, params: dict, uploads: dict) -> dict:
        message = self._editable(params)
        text = str(params.get("text", ""))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        markup = params.get("reply_markup")
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise ApiError(400, "Bad Request: message is not modified: specified new message "
                                "content and reply markup are exactly the same as a current "
                                "content and reply markup of the message")
        message["text"], message["edit_date"] = text, int(time.time())
        message.pop("reply_markup", None)
        self._attach_markup(message, params)
        return message

    async def api_editMessageReplyMarkup(self, params: dict, uploads: dict) -> dict:
        message = self._editable(params)
        message.pop("reply_markup", None)
        self._attach_markup(message, params)
        message["edit_date"] = int(time.time())
        return message

    async def api_deleteMessage(self, params: dict, uploads: dict) -> bool:
        message = self._editable(params)
        self.state.messages[message["chat"]["id"]].pop(message["message_id"], None)
        return True

    async def api_answerCallbackQuery(self, params: dict, uploads: dict) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self.state.callback_answers:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired "
                                "or query ID is invalid")
        if self.state.callback_answers[query_id]:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired "
                                "or query ID is invalid")
        self.state.callback_answers[query_id] = {"text": params.get("text", ""),
                                                 "show_alert": bool(params.get("show_alert")),
                                                 "answered": True}
        return True

    # --- bot-side helpers ---------------------------------------------------------------------

    def _recipient(self, params: dict) -> Person:
        chat_id = params.get("chat_id")
        try:
            person = self.state.people.get(int(chat_id))
        except (TypeError, ValueError):
            person = None
        if person is None:
            raise ApiError(400, "Bad Request: chat not found")
        if person.blocked_bot:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return person

    def _next_message_id(self, chat_id: int) -> int:
        counter = self.state.message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _bot_message(self, person: Person, *, text: str | None = None) -> dict:
        message = {"message_id": self._next_message_id(person.id), "from": BOT_USER,
                   "chat": person.as_chat(), "date": int(time.time())}
        if text is not None:
            message["text"] = text
        self.state.messages[person.id][message["message_id"]] = message
        self.state.timeline[person.id].append(("bot", message["message_id"]))
        return message

    @staticmethod
    def _attach_markup(message: dict, params: dict) -> None:
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            for row in markup["inline_keyboard"]:
                for button in row:
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(data.encode()) <= 64:
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            message["reply_markup"] = markup

    def _editable(self, params: dict) -> dict:
        person = self._recipient(params)
        message = self.state.messages[person.id].get(int(params.get("message_id") or 0))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != BOT_USER["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    # --- people-side: producing updates -------------------------------------------------------

    def person(self, user: dict) -> Person:
        """The person behind a control-API `user` object, created on first sight."""
        user_id = int(user["id"])
        person = self.state.people.get(user_id)
        if person is None:
            person = Person(id=user_id, first_name=user.get("first_name") or f"user{user_id}",
                            username=user.get("username", ""),
                            language_code=user.get("language_code", "en"))
            self.state.people[user_id] = person
        return person

    def push_update(self, update: dict, *, deliver: bool = True) -> dict:
        update = {"update_id": next(self.state.update_ids), **update}
        if not deliver:
            return update  # the caller delivers it (a benchmark posting to the webhook itself)
        if self._webhook_queue is not None:
            self._webhook_queue.put_nowait(update)
        else:
            self.state.updates.append(update)
            self._new_update.set()
        return update

    def user_message(self, person: Person, **content: Any) -> dict:
        message = {"message_id": self._next_message_id(person.id), "from": person.as_user(),
                   "chat": person.as_chat(), "date": int(time.time()), **content}
        text = content.get("text")
        if isinstance(text, str) and text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(command)}]
        self.state.messages[person.id][message["message_id"]] = message
        self.state.timeline[person.id].append(("user", message["message_id"]))
        return message

    def make_update(self, body: dict, *, deliver: bool = True) -> dict:
        """Turn a control request into the update Telegram would send for it."""
        push = functools.partial(self.push_update, deliver=deliver)
        person = self.person(body["user"])
        kind = body.get("kind") or ("callback" if "callback_data" in body else "text")
        if kind == "text":
            return push({"message": self.user_message(person, text=body["text"])})
        if kind == "callback":
            message = self.state.messages[person.id].get(int(body.get("message_id") or 0))
            query_id = str(next(self.state.seq) * 7919)
            self.state.callback_answers[query_id] = {}
            self.state.callback_chats[query_id] = person.id
            query = {"id": query_id, "from": person.as_user(),
                     "chat_instance": str(person.id), "data": body["callback_data"]}
            if message is not None:
                query["message"] = message
            return push({"callback_query": query})
        if kind == "sticker":
            sticker = {"file_id": "sticker-1", "file_unique_id": "sticker-1", "type": "regular",
                       "width": 512, "height": 512, "is_animated": False, "is_video": False,
                       "emoji": body.get("emoji", "👍")}
            return push({"message": self.user_message(person, sticker=sticker)})
        if kind == "photo":
            photo = [{"file_id": "user-photo-1", "file_unique_id": "user-photo-1",
                      "width": 90, "height": 90}]
            content: dict[str, Any] = {"photo": photo}
            if body.get("caption"):
                content["caption"] = body["caption"]
            return push({"message": self.user_message(person, **content)})
        if kind == "contact":
            contact = {"phone_number": body.get("phone", "+15550000000"),
                       "first_name": person.first_name,
                       "user_id": body.get("contact_user_id", person.id)}
            return push({"message": self.user_message(person, contact=contact)})
        if kind == "location":
            location = {"latitude": 40.4168, "longitude": -3.7038}
            return push({"message": self.user_message(person, location=location)})
        if kind == "edited":
            message = dict(self.state.messages[person.id].get(int(body.get("message_id") or 0))
                           or self.user_message(person, text=""))
            message.update(text=body.get("text", ""), edit_date=int(time.time()))
            return push({"edited_message": message})
        if kind == "raw":
            return push(body["update"])
        raise ApiError(400, f"unknown kind {kind!r}")

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

    # --- control API ----------------------------------------------------------------------------

    async def handle_control_update(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            return web.json_response(self.make_update(body))
        except (ApiError, KeyError) as error:
            return web.json_response({"ok": False, "description": str(error)}, status=400)

    async def handle_control_calls(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        chat_id = request.query.get("chat_id")
        calls = [call.as_dict() for call in self.state.calls if call.seq > since
                 and (chat_id is None or str(call.params.get("chat_id")) == chat_id)]
        return web.json_response(calls)

    async def handle_control_chat(self, request: web.Request) -> web.Response:
        """The conversation as the person sees it, oldest first."""
        chat_id = int(request.match_info["chat_id"])
        messages = []
        for side, message_id in self.state.timeline.get(chat_id, []):
            message = self.state.messages[chat_id].get(message_id)
            if message is not None:
                messages.append({"side": side, **message})
        # Only this person's button answers: a toast is shown to whoever pressed.
        answers = {key: value for key, value in self.state.callback_answers.items()
                   if value and self.state.callback_chats.get(key) == chat_id}
        return web.json_response({"messages": messages, "callback_answers": answers})

    async def handle_control_file(self, request: web.Request) -> web.Response:
        content, content_type = self.state.files.get(request.match_info["file_id"],
                                                     (b"", "application/octet-stream"))
        if not content:
            raise web.HTTPNotFound()
        return web.Response(body=content, content_type=content_type)

    async def handle_file(self, request: web.Request) -> web.Response:
        content, content_type = self.state.files.get(request.match_info["path"], (b"", ""))
        if not content:
            raise web.HTTPNotFound()
        return web.Response(body=content, content_type=content_type)

    async def handle_control_faults(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.state.faults.append(Fault(method=body.get("method", "*"),
                                       count=int(body.get("count", 1)),
                                       code=int(body.get("code", 429)),
                                       description=body.get("description",
                                                            "Too Many Requests: retry after 1"),
                                       retry_after=body.get("retry_after")))
        return web.json_response({"ok": True})

    async def handle_control_limits(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.state.limit_global_per_s = body.get("global_per_s")
        self.state.limit_chat_per_s = body.get("per_chat_per_s")
        return web.json_response({"ok": True})

    async def handle_control_block(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        person = self.person({"id": request.match_info["user_id"]})
        person.blocked_bot = bool(body.get("blocked", True))
        if person.blocked_bot:
            # Telegram tells the bot that it was blocked with a my_chat_member update.
            member = {"chat": person.as_chat(), "from": person.as_user(),
                      "date": int(time.time()),
                      "old_chat_member": {"status": "member", "user": BOT_USER},
                      "new_chat_member": {"status": "kicked", "user": BOT_USER,
                                          "until_date": 0}}
            self.push_update({"my_chat_member": member})
        return web.json_response({"ok": True})

    async def handle_control_reset(self, request: web.Request) -> web.Response:
        await self._stop_webhook()
        token = self.state.token
        self.state = EmulatorState(token=token)
        return web.json_response({"ok": True})

    async def handle_control_webhook(self, request: web.Request) -> web.Response:
        pending = self._webhook_queue.qsize() if self._webhook_queue is not None else 0
        return web.json_response({**self.state.webhook, "pending": pending,
                                  "delivered": self._delivered_ok})


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
