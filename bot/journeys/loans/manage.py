"""/loans and the buttons of a loan's card: its schedule, repay, draw down, cancel (asked
once more, then cancelled off chain or through a signing request once on chain), keep it.
Each button is `myloan|<action>|<loan>`, routed by its action to one callback here."""

from __future__ import annotations

from django.utils.translation import gettext as _
from telegram import Update

from bot.cards import send_schedule_chart
from bot.conversation import BotContext
from bot.dbcall import run_in_db
from bot.i18n import localize_digits
from bot.journeys.loans import repay
from bot.journeys.loans.own import loan_action
from bot.journeys.loans.view import (
    MANAGE,
    LoanView,
    S,
    cancellable,
    loan_buttons,
    loan_text,
    own_views,
    schedule_text,
)
from bot.replies import answer_button, button, keyboard, replace_or_say, say
from bot.signing import request_signing
from core.common.errors import ServiceError
from core.loans.services import loan_cancel
from core.loans.states import CANCELLABLE_OFF_CHAIN, OPEN_FOR_FUNDING, REPAYABLE
from core.signing.actions import cancel_request, drawdown_request


async def loans_command(update: Update, context: BotContext) -> None:
    language = context.person.language
    views = await run_in_db(own_views, context.person)
    if not views:
        await say(update, _("You have no loans yet. Send /borrow to ask for one."))
        return
    await say(update, _("Your loans:"))
    for view in views:
        await say(update, loan_text(view, language), markup=keyboard(*loan_buttons(view.loan)))


@loan_action(lambda view: bool(view.loan.total_due))
async def schedule_pressed(update: Update, context: BotContext, view: LoanView) -> None:
    await answer_button(update)
    text, planned = schedule_text(view, context.person.language)
    await say(update, text)
    await send_schedule_chart(update, planned)


@loan_action(lambda view: view.loan.state in REPAYABLE)
async def repay_pressed(update: Update, context: BotContext, view: LoanView) -> None:
    await answer_button(update)
    await repay.show_repay_options(update, context, view)


@loan_action(lambda view: view.loan.state == S.FUNDED)
async def drawdown_pressed(update: Update, context: BotContext, view: LoanView) -> None:
    await answer_button(update)
    await request_signing(update, drawdown_request, user=context.person, loan=view.loan)


@loan_action(lambda view: cancellable(view.loan))
async def cancel_pressed(update: Update, context: BotContext, view: LoanView) -> None:
    await answer_button(update)
    loan = view.loan
    await replace_or_say(update, loan_text(view, context.person.language) + "\n\n" + _(
        "Cancel this loan? Lenders who funded part of it can take their money back."),
        markup=keyboard([button(_("Yes, cancel the loan"), MANAGE, "cancel2", loan.pk),
                         button(_("Keep it"), MANAGE, "keep", loan.pk)]))


@loan_action(lambda view: cancellable(view.loan))
async def cancel_confirmed(update: Update, context: BotContext, view: LoanView) -> None:
    loan, person = view.loan, context.person
    if loan.state in OPEN_FOR_FUNDING:  # on chain: the borrower's wallet cancels it
        await answer_button(update)
        await request_signing(update, cancel_request, user=person, loan=loan)
        return
    assert loan.state in CANCELLABLE_OFF_CHAIN
    try:
        await run_in_db(loan_cancel, loan=loan, actor=person, reason="cancelled in chat")
    except ServiceError as error:
        await answer_button(update, str(error), alert=True)
        return
    await answer_button(update)
    await replace_or_say(update, _("Loan #%(loan)s is cancelled.") % {
        "loan": localize_digits(str(loan.pk), person.language)})


@loan_action(lambda view: True)
async def keep_pressed(update: Update, context: BotContext, view: LoanView) -> None:
    await answer_button(update)
    await replace_or_say(update, loan_text(view, context.person.language),
                         markup=keyboard(*loan_buttons(view.loan)))


ACTIONS = {"sched": schedule_pressed, "repay": repay_pressed, "draw": drawdown_pressed,
           "cancel": cancel_pressed, "cancel2": cancel_confirmed, "keep": keep_pressed}
