"""The people's side of the emulator: updates made as a person would make them, and the
control API under /_emu/ that tests and the sandbox page use."""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import time
from typing import Any

from aiohttp import web

from bot.sandbox.state import BOT_USER, FILE_FOLDER, ApiError, EmulatorState, Fault, Person


class PeopleControl:
    """The people's side of the emulator (a part of BotApiEmulator)."""

    state: EmulatorState
    _new_update: asyncio.Event
    _webhook_queue: asyncio.Queue[dict] | None
    _delivered_ok: int

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
            # With `content` (base64) the photo can be downloaded (getFile), in two sizes as
            # Telegram sends them; without, a photo the bot can only see.
            if body.get("content"):
                file_id = self._user_file(body, "user-photo", "image/jpeg")
                size = len(self.state.files[file_id][0])
                photo = [{"file_id": file_id, "file_unique_id": file_id, "width": 90,
                          "height": 90, "file_size": size},
                         {"file_id": file_id, "file_unique_id": file_id, "width": 1280,
                          "height": 960, "file_size": size}]
            else:
                photo = [{"file_id": "user-photo-1", "file_unique_id": "user-photo-1",
                          "width": 90, "height": 90}]
            content: dict[str, Any] = {"photo": photo}
            if body.get("caption"):
                content["caption"] = body["caption"]
            return push({"message": self.user_message(person, **content)})
        if kind == "document":
            file_id = self._user_file(body, "user-document", "application/octet-stream")
            data, content_type = self.state.files[file_id]
            document = {"file_id": file_id, "file_unique_id": file_id,
                        "file_name": body.get("file_name", "file"),
                        "mime_type": body.get("mime_type", content_type),
                        "file_size": len(data)}
            self.state.file_names[file_id] = document["file_name"]
            return push({"message": self.user_message(person, document=document)})
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

    def _user_file(self, body: dict, prefix: str, default_type: str) -> str:
        """Keep the bytes a person sends (`content`, base64) under a new file id."""
        try:
            data = base64.b64decode(body.get("content") or "", validate=True)
        except binascii.Error as error:
            raise ApiError(400, "content must be base64") from error
        file_id = f"{prefix}-{len(self.state.files) + 1}"
        self.state.files[file_id] = (data, body.get("mime_type") or default_type)
        return file_id

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
        """A download as the bot makes it, at the file_path getFile gave (token checked)."""
        if self.state.token is not None and request.match_info["token"] != self.state.token:
            raise web.HTTPUnauthorized()
        path = request.match_info["path"]
        file_id = path.removeprefix(f"{FILE_FOLDER}/")
        content, content_type = self.state.files.get(file_id, (b"", ""))
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
