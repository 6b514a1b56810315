"""Reading an amount a person typed: the one flow of every journey that asks for money.

A reading that is clear is returned; anything else is answered here: why it could not be read
(with an example), or, when the text reads two ways in the person's language ("1.500" in
Spanish), a question with one button per reading. Those buttons carry the step's fresh nonce,
so only they, and only until the conversation moves on, are accepted by `pressed_reading`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _
from telegram import Update

from bot.conversation import BotContext, save_step
from bot.i18n import Ambiguous, Invalid, format_amount, invalid_amount_text, parse_amount
from bot.replies import answer_button, answer_stale_button, button, keyboard, say

MAX_UNITS = 10**15  # as bot.i18n.parse_amount: beyond anything a person means to type


async def read_typed_amount(update: Update, context: BotContext, *, example: str,
                            choice: Callable[[str, int], tuple[str | int, ...]]) -> int | None:
    """The amount in base units, or None once the person has been answered. `choice(nonce,
    units)` gives the callback fields (kind first) of the button for one reading."""
    language = context.person.language
    message = update.effective_message
    text = message.text if message is not None else None
    parsed = parse_amount(text, language) if text else None
    if parsed is None or isinstance(parsed, Invalid):
        await say(update, invalid_amount_text(parsed, example))
        return None
    if isinstance(parsed, Ambiguous):
        save_step(context, context.session.step)  # a fresh nonce: only these buttons
        nonce = context.session.nonce
        first, second = (format_amount(units, language) for units in parsed.readings)
        await say(update, _("Did you mean %(first)s or %(second)s?") % {
            "first": first, "second": second},
            markup=keyboard([button(format_amount(units, language), *choice(nonce, units))
                             for units in parsed.readings]))
        return None
    return parsed.units


async def pressed_reading(update: Update, context: BotContext, nonce: str | None,
                          value: str | None, steps: set[str]) -> int | None:
    """The reading a pressed button chose, its press answered; None (told so) when the button
    is stale or forged."""
    session = context.session
    if (session is None or not session.nonce or nonce != session.nonce
            or session.step not in steps or not (value or "").isdigit()
            or not 0 < int(value) <= MAX_UNITS):
        await answer_stale_button(update)
        return None
    await answer_button(update)
    return int(value)
