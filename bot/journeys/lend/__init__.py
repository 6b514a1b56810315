"""/lend: the loans open for funding (browse.py: the list, its filters, a loan's card) and
funding one with a preset or a typed amount through a signing request (fund.py).

List and card buttons carry no authority: they name a filter, a page or a loan, which is
looked up as a public (listed) loan, and core's fund_request decides whether this person may
fund it. Only the ambiguous-amount buttons belong to a conversation and carry its nonce.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.amounts import reading_value
from bot.conversation import action_button, command, step_button
from bot.journeys import Journey
from bot.journeys.lend import browse, fund
from bot.journeys.lend.browse import KIND


def build_handlers() -> Journey:
    return Journey(
        name="lend",
        handlers=[
            command("lend", browse.lend_command),
            action_button(KIND, "ls", browse.list_pressed),
            *(action_button(KIND, what, browse.filter_pressed(what))
              for what in ("fg", "ft", "fa")),
            action_button(KIND, "card", browse.card_pressed),
            action_button(KIND, "fund", fund.fund_pressed),
            action_button(KIND, "type", fund.type_pressed),
            step_button(KIND, "amt", fund.FUND_AMOUNT, fund.amount_pressed, what_first=True,
                        valid=reading_value),
            CallbackQueryHandler(browse.out_of_date, pattern=callbacks.pattern(KIND)),
        ],
        steps={fund.FUND_AMOUNT: fund.amount_typed},
        commands=[("lend", gettext_lazy("find loans to fund"))],
    )
