"""From an incoming update to its handlers: record once, then handle each chat in order.

An update is first recorded in the database (a duplicate `update_id` is dropped there); only a
recorded update is acknowledged, so one that could not be recorded is redelivered by Telegram.
Each chat's updates are then handled one after another, oldest id first, by the one process
holding that chat's lease, while other chats are handled concurrently. Updates recorded by a
process that died are picked up by the periodic sweep of any live one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from contextlib import suppress

from telegram import Update
from telegram.ext import Application

from bot import metrics
from bot.conversation import update_sessions
from bot.dbcall import in_db, run_in_db
from core.chat import selectors as chat_selectors
from core.chat import services as chat_services

log = logging.getLogger(__name__)

LEASE_TTL_S = 120.0
SWEEP_EVERY_S = 2.0
SLOW_UPDATE_S = 5.0  # the chat's next updates wait behind a slow one: worth a log line


def chat_id_of(data: dict) -> int:
    """The chat an update belongs to (the sender for chat-less updates such as inline queries)."""
    for key, value in data.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        chat = value.get("chat") or (value.get("message") or {}).get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return int(chat["id"])
        sender = value.get("from") or value.get("user")
        if isinstance(sender, dict) and "id" in sender:
            return int(sender["id"])
    return 0


@in_db
def _record(update_id: int, chat_id: int, data: dict) -> bool:
    return chat_services.update_record(update_id=update_id, chat_id=chat_id, payload=data)


@in_db
def _record_and_claim(update_id: int, chat_id: int, data: dict,
                      owner: str) -> tuple[bool, list | None]:
    """Record an update and, in the same trip to the database thread, take its chat."""
    return chat_services.update_record_and_claim(update_id=update_id, chat_id=chat_id,
                                                 payload=data, owner=owner, ttl_s=LEASE_TTL_S)


@in_db
def _claim(chat_id: int, owner: str) -> list | None:
    """Take the chat's lease and its waiting updates; None when another process has it."""
    return chat_services.chat_updates_claim(chat_id=chat_id, owner=owner, ttl_s=LEASE_TTL_S)


@in_db
def _done_and_next(update_id: int, chat_id: int, owner: str, *, last: bool,
                   session: dict | None) -> list | None:
    """Mark an update handled with the conversation step it led to; after a batch's last one,
    fetch what arrived meanwhile (None: the chat's lease was lost). One trip to the database
    thread and one commit."""
    return chat_services.update_done(update_id=update_id, chat_id=chat_id, owner=owner,
                                     ttl_s=LEASE_TTL_S, last=last, session=session)


class UpdateDispatcher:
    def __init__(self, application: Application, *, owner: str | None = None) -> None:
        self.application = application
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._sessions = update_sessions(application)
        self._draining: dict[int, asyncio.Task] = {}
        self._again: set[int] = set()
        self._sweeper: asyncio.Task | None = None
        self.handled = 0

    async def receive(self, data: dict) -> bool:
        """Record an update and schedule it; False for a duplicate. Raises if it could not be
        recorded (the caller then makes Telegram deliver it again)."""
        update_id = int(data["update_id"])
        chat_id = chat_id_of(data)
        if self._busy(chat_id):
            created = await _record(update_id, chat_id, data)
            if created:
                self.kick(chat_id)
            return created
        # The chat is idle here: a new drain records the update and takes the chat in one
        # trip to the database. It is registered before any await, so a second update of
        # the same chat arriving meanwhile queues behind it instead of racing it.
        recorded = asyncio.get_running_loop().create_future()
        self._draining[chat_id] = asyncio.create_task(
            self._drain(chat_id, first=(update_id, data, recorded)))
        return await recorded

    def _busy(self, chat_id: int) -> bool:
        task = self._draining.get(chat_id)
        return task is not None and not task.done()

    def kick(self, chat_id: int) -> None:
        """Make sure the chat's pending updates get handled."""
        if self._busy(chat_id):
            self._again.add(chat_id)  # the running drain looks once more before it stops
            return
        self._draining[chat_id] = asyncio.create_task(self._drain(chat_id))

    async def _drain(self, chat_id: int, first: tuple | None = None) -> None:
        try:
            claimed = None
            if first is not None:
                update_id, data, recorded = first
                try:
                    created, claimed = await _record_and_claim(update_id, chat_id, data,
                                                               self.owner)
                except Exception as error:
                    recorded.set_exception(error)
                    return  # not recorded: Telegram delivers it again
                recorded.set_result(created)
                if not claimed and chat_id not in self._again:
                    return  # another process has the chat, or a duplicate left nothing
            while True:
                self._again.discard(chat_id)
                batch = claimed if claimed is not None else await _claim(chat_id, self.owner)
                claimed = None
                if batch is None:
                    return  # another process is on this chat; the sweep covers a race
                while batch:
                    for index, (update_id, payload) in enumerate(batch):
                        batch_done = index == len(batch) - 1
                        following = await self._handle(update_id, payload, chat_id,
                                                       last=batch_done)
                    batch = following
                # The lease is released once nothing is pending; look once more if an
                # update of this chat arrived here in between.
                if chat_id not in self._again:
                    return
        except Exception:
            log.exception("handling chat %s stopped; the sweep will resume it", chat_id)
        finally:
            self._draining.pop(chat_id, None)
            if first is not None and not first[2].done():
                first[2].cancel()  # stopped before recording: the caller must not wait

    async def _handle(self, update_id: int, payload: dict, chat_id: int, *,
                      last: bool) -> list:
        started = time.monotonic()
        try:
            update = Update.de_json(payload, self.application.bot)
            await self.application.process_update(update)
        except Exception:
            # A poison update must not block the chat: it is logged and marked handled.
            log.exception("update %s could not be handled", update_id)
        session = self._sessions.release(update_id)
        took = time.monotonic() - started
        metrics.update_handled(took)
        if took > SLOW_UPDATE_S:
            log.warning("update %s of chat %s took %.1f s to handle", update_id, chat_id, took)
        following = await _done_and_next(update_id, chat_id, self.owner, last=last,
                                         session=session.stored() if session else None)
        self.handled += 1
        return following

    async def idle(self) -> None:
        """Wait until every chat scheduled so far has been handled (tests, shutdown)."""
        while self._draining:
            await asyncio.gather(*list(self._draining.values()), return_exceptions=True)

    async def sweep_once(self, *, older_than_s: float = 0.0) -> int:
        chats = await run_in_db(chat_selectors.chats_with_pending_updates,
                                older_than_s=older_than_s)
        for chat_id in chats:
            self.kick(chat_id)
        return len(chats)

    def start_sweeping(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep_once(older_than_s=SWEEP_EVERY_S)
            except Exception:
                log.exception("sweep failed")
            await asyncio.sleep(SWEEP_EVERY_S)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await self.idle()
