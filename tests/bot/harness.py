"""Driving the bot the way Telegram does: people talk through the local Bot API emulator and
the bot answers through real python-telegram-bot HTTP calls to it."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from asgiref.sync import sync_to_async
from django.db import connection

from bot.app import build_application
from bot.guard import FloodGate
from bot.runtime import BotRuntime
from bot.sandbox.emulator import BOT_USER, EmulatorThread
from bot.sender import Sender

TOKEN = "4242:test-token"
_people = itertools.count(5_000_001)

PEOPLE = {
    "alice": {"id": 1001, "first_name": "Alice", "username": "alice", "language_code": "en"},
    "bob": {"id": 1002, "first_name": "Bob", "username": "bob", "language_code": "en"},
    "lucia": {"id": 1101, "first_name": "Lucía", "username": "lucia", "language_code": "es"},
    "joao": {"id": 1102, "first_name": "João", "username": "joao", "language_code": "pt-BR"},
    "olga": {"id": 1103, "first_name": "Ольга", "username": "olga", "language_code": "ru"},
    "reza": {"id": 1104, "first_name": "رضا", "username": "reza", "language_code": "fa"},
    "priya": {"id": 1105, "first_name": "प्रिया", "username": "priya", "language_code": "hi"},
}


def new_person(language_code: str = "en") -> dict:
    person_id = next(_people)
    return {"id": person_id, "first_name": f"P{person_id}", "language_code": language_code}


class Chat:
    """One test's view of the emulator plus a started bot runtime."""

    def __init__(self, emulator: EmulatorThread, runtime: BotRuntime) -> None:
        self.emulator = emulator
        self.runtime = runtime

    # --- people act -------------------------------------------------------------------------

    def meet(self, person: dict | str) -> None:
        """The person has opened a chat with the bot (so Telegram knows the chat)."""
        person = PEOPLE.get(person, person) if isinstance(person, str) else person
        self.emulator.call(self.emulator.emulator.person, person)

    def push(self, body: dict) -> dict:
        return self.emulator.call(self.emulator.emulator.make_update, body)

    async def deliver(self) -> None:
        """Let the bot poll everything waiting and handle it to the end."""
        while await self.runtime.poll_once():
            pass
        await self.runtime.dispatcher.idle()

    async def say(self, person: dict | str, text: str) -> list[dict]:
        return await self.send(person, text=text)

    async def send(self, person: dict | str, **body: Any) -> list[dict]:
        """Act, let the bot handle it, and return the bot messages that are new or changed
        (a button press often turns the pressed message into the answer)."""
        person = PEOPLE.get(person, person) if isinstance(person, str) else person
        before = {message["message_id"]: json.dumps(message, sort_keys=True)
                  for message in self.messages(person)}
        self.push({"user": person, **body})
        await self.deliver()
        return [message for message in self.messages(person)
                if before.get(message["message_id"]) != json.dumps(message, sort_keys=True)]

    async def press(self, person: dict | str, message: dict, label: str | None = None, *,
                    data: str | None = None) -> list[dict]:
        """Press a button of a bot message (by label), or send forged `data` on it."""
        if data is None:
            data = button_data(message, label)
        return await self.send(person, kind="callback", callback_data=data,
                               message_id=message["message_id"])

    # --- what people see --------------------------------------------------------------------

    def conversation(self, person: dict) -> dict:
        def read(emulator):
            chat_id = person["id"]
            out = []
            for side, message_id in emulator.state.timeline.get(chat_id, []):
                message = emulator.state.messages[chat_id].get(message_id)
                if message is not None:
                    out.append({"side": side, **message})
            return out

        return {"messages": self.emulator.call(read, self.emulator.emulator)}

    def messages(self, person: dict | str) -> list[dict]:
        """What the bot wrote to this person, oldest first."""
        person = PEOPLE.get(person, person) if isinstance(person, str) else person
        return [message for message in self.conversation(person)["messages"]
                if message["side"] == "bot"]

    def calls(self, method: str | None = None) -> list[dict]:
        state = self.emulator.emulator.state
        calls = self.emulator.call(lambda: [call.as_dict() for call in state.calls])
        return [call for call in calls if method is None or call["method"] == method]

    def callback_answers(self) -> list[dict]:
        return [call["params"] for call in self.calls("answerCallbackQuery")]


def button_data(message: dict, label: str | None) -> str:
    buttons = [button for row in message.get("reply_markup", {}).get("inline_keyboard", [])
               for button in row]
    for button in buttons:
        # Link buttons (wallets, share links) open a URL; they send the bot nothing.
        if "callback_data" in button and (label is None or label in button["text"]):
            return button["callback_data"]
    raise AssertionError(f"no button {label!r} in {[b['text'] for b in buttons]}")


async def start_runtime(emulator: EmulatorThread, *, sender: Sender | None = None,
                        flood_gate: FloodGate | None = None) -> BotRuntime:
    application = build_application(
        token=TOKEN, base_url=emulator.api_base_url,
        sender=sender or Sender(global_rate=10_000, chat_rate=10_000, chat_burst=100,
                                network_backoff_s=0.01),
        flood_gate=flood_gate)
    return await BotRuntime(application).start(sweep=False, outbox=False)


async def serve_locally(app: web.Application) -> tuple[web.AppRunner, int]:
    """Start an aiohttp application on a free local port: (its runner, to clean up; port)."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


@sync_to_async
def db(function, *args, **kwargs):
    return function(*args, **kwargs)


@asynccontextmanager
async def refusing(statement_start: str, error: Exception) -> AsyncIterator[None]:
    """Within, every query containing `statement_start` fails with `error`, as a database that
    went away would (installed on the connection the bot's database calls use in tests)."""

    def wrapper(execute, sql, params, many, context):
        if statement_start in sql:
            raise error
        return execute(sql, params, many, context)

    # `connection` is looked up where the bot's calls run, not on the event loop's thread.
    await db(lambda: connection.execute_wrappers.append(wrapper))
    try:
        yield
    finally:
        await db(lambda: connection.execute_wrappers.remove(wrapper))


__all__ = ["BOT_USER", "TOKEN", "Chat", "button_data", "db", "new_person", "refusing",
           "serve_locally", "start_runtime"]
