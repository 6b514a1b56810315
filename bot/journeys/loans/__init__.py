"""/loans and /repay: the borrower's loans — status, funding progress, next due date and
amount, the full schedule — and what can be done with each: repay (the next installment, the
payoff or a typed amount; early and partial repayment are fine), draw down once funded, cancel
before funding. Every money action ends in a signing request for the borrower's wallet.

view.py says what a loan looks like in the chat, manage.py answers /loans and a loan's
buttons, repay.py the repayment. Buttons name a loan and an action only; the loan is looked
up as the person's own and its state decides whether the action is possible. Only the
buttons of an amount that read two ways belong to a conversation and carry its nonce.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.amounts import reading_value
from bot.conversation import action_button, command, step_button
from bot.journeys import Journey
from bot.journeys.loans import manage, repay
from bot.journeys.loans.own import out_of_date
from bot.journeys.loans.view import MANAGE, REPAY


def build_handlers() -> Journey:
    return Journey(
        name="loans",
        handlers=[
            command("loans", manage.loans_command),
            command("repay", repay.repay_command),
            *(action_button(MANAGE, what, callback) for what, callback in manage.ACTIONS.items()),
            *(action_button(REPAY, what, callback) for what, callback in repay.OPTIONS.items()),
            step_button(REPAY, "amt", repay.REPAY_AMOUNT, repay.amount_pressed, what_first=True,
                        valid=reading_value),
            CallbackQueryHandler(out_of_date, pattern=callbacks.pattern(MANAGE)),
            CallbackQueryHandler(out_of_date, pattern=callbacks.pattern(REPAY)),
        ],
        steps={repay.REPAY_AMOUNT: repay.amount_typed},
        commands=[("loans", gettext_lazy("your loans and their schedules")),
                  ("repay", gettext_lazy("repay a loan"))],
    )
