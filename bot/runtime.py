"""A running bot: the application, the dispatcher, the outbox deliverer and, in polling mode,
the getUpdates loop. The webhook view and `manage.py runbot` both start one."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging

from telegram import Update
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.app import build_application
from bot.dispatcher import UpdateDispatcher
from bot.outbox import deliver_forever

log = logging.getLogger(__name__)


def settle_long_lived_heap() -> None:
    """Keep what exists once the process is up (Django, python-telegram-bot, the catalogs,
    the application) out of the garbage collector's full passes. Those passes scan every
    tracked object: about 90 ms with everything loaded on this machine, a pause that
    every update in flight waited for, several times a minute under load. Frozen objects are
    never freed, which is what loaded code and the bot's own setup are anyway."""
    gc.collect()
    gc.freeze()


class BotRuntime:
    def __init__(self, application: Application | None = None) -> None:
        self.application = application or build_application()
        self.dispatcher = UpdateDispatcher(self.application)
        self._tasks: list[asyncio.Task] = []
        self._offset: int | None = None

    @property
    def bot(self):
        return self.application.bot

    async def start(self, *, sweep: bool = True, outbox: bool = True,
                    settle_heap: bool = False) -> BotRuntime:
        """settle_heap: the process is a bot for the rest of its life (webhook, runbot)."""
        await self.application.initialize()
        if settle_heap:
            settle_long_lived_heap()
        if sweep:
            await self.dispatcher.sweep_once()  # whatever a previous process left unhandled
            self.dispatcher.start_sweeping()
        if outbox:
            self._tasks.append(asyncio.create_task(deliver_forever(self.bot)))
        return self

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.dispatcher.stop()
        await self.application.shutdown()

    async def poll_once(self, *, timeout: int = 0) -> int:
        """One getUpdates round: record every update, then confirm them to Telegram.

        The offset moves past an update only once it is recorded, so an update is never lost
        between Telegram and the database.
        """
        updates = await self.bot.get_updates(offset=self._offset, timeout=timeout,
                                             read_timeout=timeout + 10,
                                             allowed_updates=Update.ALL_TYPES)
        for update in updates:
            await self.dispatcher.receive(update.to_dict())
            self._offset = update.update_id + 1
        return len(updates)

    async def poll_forever(self, *, timeout: int = 25) -> None:
        await self.bot.delete_webhook()
        failures = 0
        while True:
            try:
                await self.poll_once(timeout=timeout)
                failures = 0
            except RetryAfter as error:
                await asyncio.sleep(_seconds(error.retry_after))
            except (NetworkError, TelegramError) as error:
                failures += 1
                log.warning("getUpdates failed (%s); retrying", error)
                await asyncio.sleep(min(2 ** failures, 30))
            except Exception:
                # The database refused to record: leave the offset, Telegram keeps the update.
                failures += 1
                log.exception("could not record updates; retrying")
                await asyncio.sleep(min(2 ** failures, 30))


def _seconds(retry_after) -> float:
    return retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else float(
        retry_after)
