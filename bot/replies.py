"""Small helpers for answering, whatever kind of update came in."""

from __future__ import annotations

import contextlib

from django.utils.translation import gettext as _
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot import callbacks


def button(label: str, kind: str, *args: str | int) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(kind, *args))


def keyboard(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(row) for row in rows])


async def say(update: Update, text: str, *, markup: InlineKeyboardMarkup | None = None) -> None:
    """Send a new message to the chat the update came from."""
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(text, reply_markup=markup)


async def replace_or_say(update: Update, text: str, *,
                         markup: InlineKeyboardMarkup | None = None) -> None:
    """After a button press, turn the pressed message into the answer (one message instead of
    two, and its buttons are gone); a message too old to edit gets a new one instead."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest:
            pass  # too old, deleted, or not text: say it anew
    await say(update, text, markup=markup)


async def answer_button(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Stop the button's spinner (with a short note); a second answer is harmless."""
    query = update.callback_query
    if query is None:
        return
    # A query too old to answer: Telegram has already stopped the spinner.
    with contextlib.suppress(BadRequest):
        await query.answer(text, show_alert=alert)


async def answer_stale_button(update: Update) -> None:
    """A button from an earlier step, someone else's, or forged: say so and change nothing."""
    await answer_button(update, _("This button is no longer active. Please use the latest "
                                  "message."), alert=True)


async def buttons_expected(update: Update, context: object) -> None:
    """A step that is answered with buttons got a text: point at the buttons (the step stays)."""
    await say(update, _("Please answer with the buttons above, or send /cancel to stop."))
