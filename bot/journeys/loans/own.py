"""The one guard of every loan button: it names a loan, which is looked up as the pressing
person's own, and the action runs only if the loan's state allows it now (a card may be older
than the loan's last move)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from django.utils.translation import gettext as _
from telegram import Update

from bot.conversation import BotContext
from bot.dbcall import run_in_db
from bot.journeys.loans.view import LoanView, own_view
from bot.replies import answer_button, answer_stale_button
from core.loans.labels import state_label


def not_possible_now(view: LoanView) -> str:
    return _("This is not possible now: the loan is %(state)s.") % {
        "state": state_label(view.loan.state)}


async def out_of_date(update: Update, context: BotContext | None = None) -> None:
    """A loan button this release did not make (forged, or from an older layout)."""
    await answer_stale_button(update)


LoanAction = Callable[[Update, BotContext, LoanView], Awaitable[str | None]]
ButtonCallback = Callable[[Update, BotContext, tuple[str, ...]], Awaitable[str | None]]


def loan_action(possible: Callable[[LoanView], bool], *,
                refusal: Callable[[LoanView], str] = not_possible_now,
                ) -> Callable[[LoanAction], ButtonCallback]:
    """An action_button callback `<kind>|<action>|<loan>` for the person's own loan, run when
    `possible` for it now; otherwise the press is answered with why not."""

    def wrap(action: LoanAction) -> ButtonCallback:
        async def pressed(update: Update, context: BotContext,
                          args: tuple[str, ...]) -> str | None:
            loan_id = args[0] if len(args) == 1 else ""
            view = (await run_in_db(own_view, context.person, int(loan_id))
                    if loan_id.isdigit() else None)
            if view is None:
                await answer_button(update, _("This loan is not yours or no longer exists."),
                                    alert=True)
                return None
            if not possible(view):
                await answer_button(update, refusal(view), alert=True)
                return None
            return await action(update, context, view)

        return pressed

    return wrap
