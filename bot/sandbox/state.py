"""What the emulator knows (people, messages, updates, calls, faults, limits) and Telegram's
error shape."""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

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
# getFile's file_path is FILE_FOLDER/<file id>, downloaded from /file/bot<token>/<file_path>.
FILE_FOLDER = "files"
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
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # file id -> content
    file_names: dict[str, str] = field(default_factory=dict)  # documents' names, by file id
    faults: list[Fault] = field(default_factory=list)
    webhook: dict = field(default_factory=lambda: {"url": "", "secret_token": "",
                                                   "max_connections": 40})
    commands: list = field(default_factory=list)
    limit_global_per_s: float | None = None
    limit_chat_per_s: float | None = None
    sends_global: deque = field(default_factory=deque)
    sends_chat: dict[int, deque] = field(default_factory=lambda: defaultdict(deque))
    seq: itertools.count = field(default_factory=lambda: itertools.count(1))
