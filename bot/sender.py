"""The one sender: every Bot API call the application makes passes through here.

It is python-telegram-bot's rate-limiter hook, so replies in handlers and outbox deliveries
share the same limits: about 30 messages a second overall and one a second per chat (a short
burst allowed, then smoothed), 429 answers retried after Telegram's `retry_after`, transient
network errors retried with backoff, and permanent refusals ("bot was blocked by the user",
"chat not found") marking the person unreachable instead of being retried.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import OrderedDict, deque
from typing import Any

from django.conf import settings
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

from bot.dbcall import in_db
from core.users.selectors import user_get_by_telegram_id
from core.users.services import user_mark_unreachable

log = logging.getLogger(__name__)

# Methods that put something in a chat; Telegram counts these against its limits.
LIMITED_METHODS = {"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "sendVideo",
                   "sendAnimation", "sendAudio", "sendVoice", "sendSticker", "sendLocation",
                   "sendContact", "sendPoll", "copyMessage", "forwardMessage",
                   "editMessageText", "editMessageCaption", "editMessageReplyMarkup",
                   "editMessageMedia"}
# Refusals that will not change by trying again: the person is gone for this bot.
UNREACHABLE_MARKERS = ("bot was blocked by the user", "chat not found", "user is deactivated",
                       "bot was kicked", "peer_id_invalid", "bot can't initiate conversation",
                       "have no rights to send")


def is_unreachable(error: TelegramError) -> bool:
    text = str(error).lower()
    return isinstance(error, Forbidden | BadRequest) and any(m in text for m in UNREACHABLE_MARKERS)


class _Pacer:
    """GCRA: requests at a steady `rate`, with up to `burst` of them back to back."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.tolerance = self.interval * max(burst - 1, 0)
        self.tat = 0.0  # theoretical arrival time of the next request

    def reserve(self, now: float) -> float:
        """Book the next slot; returns how long to wait for it."""
        start = max(now, self.tat - self.tolerance)
        self.tat = max(self.tat, now) + self.interval
        return start - now

    def hold(self, until: float) -> None:
        self.tat = max(self.tat, until)


class _GlobalPace:
    """Requests booked at a steady `rate` (so a quiet sender starts at that pace, not in a
    burst), then checked again when they really leave: at most `limit` in any sliding `span`
    (Telegram counts arrivals that way) and never two closer than half the interval. Booked
    slots alone would not do: after an event-loop stall several overdue requests would leave
    together, and a bunch, once made, would repeat every second."""

    def __init__(self, rate: float, span: float = 1.0) -> None:
        self.limit, self.span = max(1, int(rate)), span
        self.min_gap = 0.5 / rate if rate > 0 else 0.0
        self.booked = _Pacer(rate)
        self.sent: deque[float] = deque()
        self.held_until = 0.0

    def hold(self, until: float) -> None:
        self.held_until = max(self.held_until, until)
        self.booked.hold(until)

    async def pass_(self) -> None:
        wait = self.booked.reserve(time.monotonic())
        if wait > 0:
            await asyncio.sleep(wait)
        while True:
            now = time.monotonic()
            while self.sent and self.sent[0] <= now - self.span:
                self.sent.popleft()
            ready = self.held_until
            if self.sent:
                ready = max(ready, self.sent[-1] + self.min_gap)
                if len(self.sent) >= self.limit:
                    ready = max(ready, self.sent[0] + self.span)
            if ready <= now:
                self.sent.append(now)  # no await between the check and the booking
                return
            await asyncio.sleep(ready - now)


class FairSlots:
    """A semaphore that serves waiters strictly first come, first served: a freed slot is
    handed to the oldest waiter, so under constant pressure no request waits forever
    (asyncio.Semaphore lets newcomers take a freed slot ahead of waiters)."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiters: deque[asyncio.Future] = deque()

    async def __aenter__(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the slot was handed over just as we were cancelled
            else:
                self._waiters.remove(waiter)
            raise

    async def __aexit__(self, *exc_info) -> None:
        self._release()

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes straight to the oldest waiter
                return
        self._free += 1


class Sender(BaseRateLimiter[dict]):
    def __init__(self, *, global_rate: float | None = None, chat_rate: float | None = None,
                 chat_burst: int | None = None, max_retries: int = 5,
                 network_backoff_s: float = 0.5, max_chats: int = 50_000,
                 max_in_flight: int = 12) -> None:
        self.global_rate = global_rate or settings.BOT_SEND_RATE_GLOBAL
        self.chat_rate = chat_rate or settings.BOT_SEND_RATE_PER_CHAT
        self.chat_burst = chat_burst or settings.BOT_SEND_BURST_PER_CHAT
        self.max_retries = max_retries
        self.network_backoff_s = network_backoff_s
        self.max_chats = max_chats
        self._global = _GlobalPace(self.global_rate)
        self._chats: OrderedDict[Any, _Pacer] = OrderedDict()
        # Requests in flight at once. Waiting here is cheap; waiting inside httpcore's
        # connection pool costs CPU for every waiter on every release.
        self.max_in_flight = max_in_flight  # below the HTTP pool's size (bot/http.py)
        self._in_flight = FairSlots(max_in_flight)
        self.retries = 0  # 429s and network errors retried: the tests and the bench read it

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def _chat_pacer(self, chat_id: Any) -> _Pacer:
        pacer = self._chats.pop(chat_id, None) or _Pacer(self.chat_rate, self.chat_burst)
        self._chats[chat_id] = pacer  # most recently used last; the oldest idle ones go
        if len(self._chats) > self.max_chats:
            self._chats.popitem(last=False)
        return pacer

    async def _wait_chat_turn(self, endpoint: str, chat_id: Any) -> None:
        if endpoint in LIMITED_METHODS and chat_id is not None:
            wait = self._chat_pacer(chat_id).reserve(time.monotonic())
            if wait > 0:
                await asyncio.sleep(wait)

    async def _wait_global_turn(self, endpoint: str) -> None:
        # Booked only once the chat's turn has come (one busy chat never holds back everybody
        # else) and once a connection slot is ours: a request waiting for a slot after its
        # turn would leave late, in a bunch with the next ones.
        if endpoint in LIMITED_METHODS:
            await self._global.pass_()

    async def process_request(self, callback, args, kwargs, endpoint: str, data: dict[str, Any],
                              rate_limit_args: dict | None):
        chat_id = data.get("chat_id")
        attempt = 0
        while True:
            await self._wait_chat_turn(endpoint, chat_id)
            try:
                async with self._in_flight:
                    await self._wait_global_turn(endpoint)
                    return await callback(*args, **kwargs)
            except RetryAfter as error:
                attempt += 1
                if attempt > self.max_retries:
                    raise
                self.retries += 1
                delay = _seconds(error.retry_after)
                log.warning("429 on %s for chat %s: waiting %.1fs", endpoint, chat_id, delay)
                until = time.monotonic() + delay
                # Telegram's wait applies to the chat, and a flood wait usually to the bot.
                self._global.hold(until)
                if chat_id is not None:
                    self._chat_pacer(chat_id).hold(until)
            except (Forbidden, BadRequest) as error:
                if is_unreachable(error) and chat_id is not None:
                    await _mark_unreachable(chat_id)
                raise
            except NetworkError as error:
                attempt += 1
                if attempt > min(self.max_retries, 3):
                    raise
                self.retries += 1
                delay = self.network_backoff_s * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)  # noqa: S311
                log.warning("network error on %s (%s): retry %d in %.2fs", endpoint, error,
                            attempt, delay)
                await asyncio.sleep(delay)


def _seconds(retry_after) -> float:
    return retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else float(
        retry_after)


@in_db
def _mark_unreachable(chat_id: Any) -> None:
    try:
        telegram_id = int(chat_id)
    except (TypeError, ValueError):
        return
    person = user_get_by_telegram_id(telegram_id=telegram_id)
    if person is not None:
        user_mark_unreachable(user=person)
