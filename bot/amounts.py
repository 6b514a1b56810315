"""Reading an amount a person typed: the one flow of every journey that asks for money.

A reading that is clear is returned; anything else is answered here: why it could not be read
(with an example), or, when the text reads two ways in the person's language ("1.500" in
Spanish), a question with one button per reading. Those buttons carry the nonce of the step
entered anew, so only they, and only until the conversation moves on, pass the guard of the
journey's `step_button` for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from telegram import Update

from bot.conversation import BotContext
from bot.i18n import Ambiguous, Invalid, format_amount, invalid_amount_text, parse_amount
from bot.replies import button, keyboard, say

MAX_UNITS = 10**15  # as bot.i18n.parse_amount: beyond anything a person means to type


@dataclass(frozen=True)
class TypedAmount:
    units: int | None  # the amount in base units, when the text read one way
    next_step: str | None = None  # otherwise where the conversation goes (None: stay)


def reading_value(value: str, draft: dict) -> bool:
    """`valid` for the button of one reading: a plain amount in base units."""
    return value.isdigit() and 0 < int(value) <= MAX_UNITS


async def read_typed_amount(update: Update, context: BotContext, *, example: str,
                            choice: Callable[[str, int], tuple[str | int, ...]]) -> TypedAmount:
    """The amount typed, or (the person answered here) the step to go to. `choice(nonce,
    units)` gives the callback fields (kind first) of the button for one reading."""
    language = context.person.language
    message = update.effective_message
    text = message.text if message is not None else None
    parsed = parse_amount(text, language) if text else None
    if parsed is None or isinstance(parsed, Invalid):
        await say(update, invalid_amount_text(parsed, example))
        return TypedAmount(None)
    if isinstance(parsed, Ambiguous):
        nonce = context.session.next_nonce  # the step anew: only these buttons count
        first, second = (format_amount(units, language) for units in parsed.readings)
        await say(update, _("Did you mean %(first)s or %(second)s?") % {
            "first": first, "second": second},
            markup=keyboard([button(format_amount(units, language), *choice(nonce, units))
                             for units in parsed.readings]))
        return TypedAmount(None, next_step=context.session.step)
    return TypedAmount(parsed.units)
