"""Delivering core's notification outbox through the one sender, once per dedupe key.

A message is claimed by one deliverer at a time (core's conditional UPDATE), rendered in the
recipient's language, sent, and settled: sent, retried later (429 beyond the sender's own
retries, network trouble) or failed for good (blocked bot, missing chat, unknown template).
"""

from __future__ import annotations

import asyncio
import logging

from django.utils import translation
from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

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


async def _settle(service, **kwargs) -> None:
    await run_in_db(service, **kwargs)


def _seconds(retry_after) -> float:
    return retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else float(
        retry_after)


async def deliver_forever(bot: Bot, *, idle_s: float = 1.0) -> None:
    while True:
        try:
            delivered = await deliver_outbox_once(bot)
        except Exception:
            log.exception("outbox delivery round failed")
            delivered = 0
        if not delivered:
            await asyncio.sleep(idle_s)
