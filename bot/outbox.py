"""Delivering core's notification outbox through the one sender, once per dedupe key.

A message is claimed by one deliverer at a time (core's conditional UPDATE), rendered in the
recipient's language, sent, and settled: sent, retried later (429 beyond the sender's own
retries, network trouble) or failed for good (blocked bot, missing chat, unknown template).

`deliver_forever` keeps the sender busy: it claims the next messages while the ones already
claimed are still being paced out, so the sender never waits for the database between
batches (measured by bench/broadcast.py). It holds at most a few seconds of sending, well
inside core's claim lease, so a claimed message is sent long before another deliverer could
take it over.
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings
from django.utils import translation
from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import metrics
from bot.dbcall import run_in_db
from bot.notifications import UnknownTemplate, render
from bot.sender import is_unreachable
from core.notifications.models import OutboxMessage
from core.notifications.services import (
    outbox_claim,
    outbox_mark_failed,
    outbox_mark_retry,
    outbox_mark_sent,
)

log = logging.getLogger(__name__)


async def deliver_outbox_once(bot: Bot, *, limit: int = 100) -> int:
    """Claim due messages and deliver them concurrently (the sender paces them)."""
    messages = await run_in_db(outbox_claim, limit=limit)
    await asyncio.gather(*(deliver_one(bot, message) for message in messages))
    return len(messages)


async def deliver_one(bot: Bot, message: OutboxMessage) -> None:
    language = message.recipient.language if message.recipient is not None else "en"
    try:
        with translation.override(language):
            rendered = render(message.template_key, message.params, language)
    except UnknownTemplate:
        await _settle(outbox_mark_failed, message=message,
                      error=f"unknown template {message.template_key!r}")
        return
    except (KeyError, TypeError, ValueError) as error:
        await _settle(outbox_mark_failed, message=message,
                      error=f"template {message.template_key!r} cannot use these params: "
                            f"{error!r}")
        return
    try:
        sent = await bot.send_message(chat_id=message.chat_id, text=rendered.text,
                                       reply_markup=rendered.markup)
    except RetryAfter as error:
        await _settle(outbox_mark_retry, message=message, error=str(error),
                      retry_after=_seconds(error.retry_after))
    except (Forbidden, BadRequest) as error:
        reason = "recipient unreachable" if is_unreachable(error) else "refused by Telegram"
        await _settle(outbox_mark_failed, message=message, error=f"{reason}: {error}")
    except TelegramError as error:  # network trouble, Telegram's 5xx: try again later
        await _settle(outbox_mark_retry, message=message, error=str(error))
    else:
        await _settle(outbox_mark_sent, message=message, telegram_message_id=sent.message_id)


_OUTCOMES = {outbox_mark_sent: "sent", outbox_mark_retry: "retry", outbox_mark_failed: "failed"}


async def _settle(service, **kwargs) -> None:
    await run_in_db(service, **kwargs)
    metrics.outbox_settled(_OUTCOMES[service])


def _seconds(retry_after) -> float:
    return retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else float(
        retry_after)


def _window() -> int:
    """Messages kept claimed and in flight: about four seconds of sending at the global rate."""
    return max(10, int(settings.BOT_SEND_RATE_GLOBAL * 4))


async def deliver_forever(bot: Bot, *, idle_s: float = 1.0, window: int | None = None) -> None:
    """Deliver the outbox until cancelled, refilling the window when half of it is sent."""
    window = window or _window()
    in_flight: set[asyncio.Task] = set()
    try:
        while True:
            claimed: list[OutboxMessage] = []
            if len(in_flight) <= window // 2:
                try:
                    claimed = await run_in_db(outbox_claim, limit=window - len(in_flight))
                except Exception:
                    log.exception("outbox claim failed")
            for message in claimed:
                task = asyncio.create_task(_deliver_logged(bot, message))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            if in_flight:
                # Wake when some are sent (time to refill) or after idle_s (new messages).
                await asyncio.wait(set(in_flight), timeout=idle_s,
                                   return_when=asyncio.FIRST_COMPLETED)
            elif not claimed:
                await asyncio.sleep(idle_s)
    finally:
        for task in in_flight:
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)


async def _deliver_logged(bot: Bot, message: OutboxMessage) -> None:
    try:
        await deliver_one(bot, message)
    except Exception:  # left claimed: the lease lapses and it is tried again later
        log.exception("delivering outbox message %s failed", message.pk)
