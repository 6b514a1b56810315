"""Who may use /admin, and the guard every admin button and typed step passes.

Only the ids in ADMIN_TELEGRAM_IDS count. Anyone else who presses an admin button gets the
answer of any stale button, and a typed step of theirs ends: nothing hints that /admin exists.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from django.conf import settings
from django.utils.translation import gettext as _
from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.conversation import END, BotContext, Callback, goes_to, step_button
from bot.replies import answer_stale_button, say
from core.users.models import TelegramUser

KIND = "adm"
REASON_MAX = 255
Pressed = Callable[[Update, BotContext, int | None], Awaitable[str | None]]


def is_admin(person: TelegramUser | None) -> bool:
    """Only the configured ids count; the stored flag alone is not enough."""
    return (person is not None and person.telegram_id in settings.ADMIN_TELEGRAM_IDS
            and person.is_admin)


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) <= 12 else None


def admin_button(what: str, callback: Pressed, *, target: bool = False) -> CallbackQueryHandler:
    """The handler of one admin button, `adm|<what>[|<id>]`: an admin's press reaches
    `callback(update, context, id)`, which returns the step it leads to; anyone else's, or a
    malformed one, gets the stale answer."""

    async def pressed(update: Update, context: BotContext) -> None:
        button = callbacks.decode(update.callback_query.data)
        number = _number(button.arg(1)) if button else None
        if button is None or not is_admin(context.person) or (target and number is None):
            await answer_stale_button(update)
            return
        goes_to(context, await callback(update, context, number))

    pattern = rf"^{callbacks.VERSION}\|{KIND}\|{what}(\||$)"
    return CallbackQueryHandler(pressed, pattern=pattern)


def admin_step_button(what: str, step: str, callback: Callable[[Update, BotContext, str],
                      Awaitable[str | None]], *,
                      valid: Callable[[str, dict], bool]) -> CallbackQueryHandler:
    """An admin button of a conversation step, `adm|<what>|<nonce>`: step_button's guard
    (the nonce, the step, `valid` for the draft) and an admin pressing it."""
    return step_button(KIND, what, step, callback, what_first=True, valid=valid,
                       allowed=lambda context: is_admin(context.person))


def admin_step(callback: Callback) -> Callback:
    """A typed step of an admin journey: someone who is no longer an admin leaves it."""

    @functools.wraps(callback)
    async def typed(update: Update, context: BotContext) -> str | None:
        if not is_admin(context.person):
            return END
        return await callback(update, context)

    return typed


async def typed_reason(update: Update) -> str | None:
    """The reason an admin typed (kept in the audit trail), or None once asked again."""
    reason = (update.effective_message.text or "").strip() if update.effective_message else ""
    if not reason or reason.startswith("/"):
        await say(update, _("Please type the reason as a message, or send /cancel."))
        return None
    return reason[:REASON_MAX]
