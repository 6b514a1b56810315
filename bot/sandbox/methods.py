"""The Bot API methods the bot calls, answered as Telegram answers them."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time

from bot.sandbox.state import BOT_USER, FILE_FOLDER, ApiError, EmulatorState, Person


class BotApiMethods:
    """The bot's side of the emulator (a part of BotApiEmulator)."""

    state: EmulatorState
    poll_wait_cap_s: float
    _new_update: asyncio.Event
    _webhook_queue: asyncio.Queue[dict] | None

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

    def _sent_file(self, params: dict, uploads: dict, field: str) -> str:
        """The file a send method names: an upload (its own part, or attach://<part>) kept
        under a new file id, or the id of a file the emulator already holds."""
        given, part = params.get(field), field
        if isinstance(given, str) and given.startswith("attach://"):
            part = given.removeprefix("attach://")
            given = uploads.get(part)
        elif field in uploads:
            given = uploads[field]
        if isinstance(given, tuple):
            file_id = f"{field}-{len(self.state.files) + 1}"
            self.state.files[file_id] = given
            names = params.get("_filenames") or {}
            self.state.file_names[file_id] = names.get(part, names.get(field, "file"))
            return file_id
        if isinstance(given, str) and given in self.state.files:
            return given
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _media_message(self, params: dict, person: Person, field: str, media) -> dict:
        message = self._bot_message(person)
        message[field] = media
        if params.get("caption"):
            message["caption"] = params["caption"]
        self._attach_markup(message, params)
        return message

    async def api_sendPhoto(self, params: dict, uploads: dict) -> dict:
        person = self._recipient(params)
        file_id = self._sent_file(params, uploads, "photo")
        content, _ = self.state.files[file_id]
        return self._media_message(params, person, "photo", [
            {"file_id": file_id, "file_unique_id": file_id, "width": 512, "height": 512,
             "file_size": len(content)}])

    async def api_sendDocument(self, params: dict, uploads: dict) -> dict:
        person = self._recipient(params)
        file_id = self._sent_file(params, uploads, "document")
        content, content_type = self.state.files[file_id]
        return self._media_message(params, person, "document", {
            "file_id": file_id, "file_unique_id": file_id,
            "file_name": self.state.file_names.get(file_id, "file"),
            "mime_type": content_type, "file_size": len(content)})

    async def api_getFile(self, params: dict, uploads: dict) -> dict:
        """Where a file can be downloaded: GET /file/bot<token>/<file_path>."""
        file_id = str(params.get("file_id", ""))
        if file_id not in self.state.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        content, _ = self.state.files[file_id]
        return {"file_id": file_id, "file_unique_id": file_id, "file_size": len(content),
                "file_path": f"{FILE_FOLDER}/{file_id}"}

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
