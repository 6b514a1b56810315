"""/repay and the repayment buttons: the next installment, everything, or a typed amount (the
one step of this journey, with the two-readings question of bot.amounts). Paying early or in
part is fine; every payment is a signing request for the borrower's wallet."""

from __future__ import annotations

from django.utils.translation import gettext as _
from telegram import Update

from bot.amounts import read_typed_amount
from bot.conversation import END, BotContext
from bot.dbcall import run_in_db
from bot.i18n import format_amount, format_number, localize_digits
from bot.journeys.loans.own import loan_action
from bot.journeys.loans.view import MANAGE, REPAY, LoanView, loan_text, own_view, own_views
from bot.replies import answer_button, button, keyboard, replace_or_say, say
from bot.signing import request_signing
from core.loans.labels import state_label
from core.loans.states import REPAYABLE
from core.signing.actions import repay_request

REPAY_AMOUNT = "repay.amount"


async def repay_command(update: Update, context: BotContext) -> None:
    views = [view for view in await run_in_db(own_views, context.person)
             if view.loan.state in REPAYABLE]
    if not views:
        await say(update, _("You have nothing to repay right now. /loans shows your loans."))
        return
    if len(views) == 1:
        await show_repay_options(update, context, views[0])
        return
    language = context.person.language
    await say(update, _("Which loan would you like to repay?"), markup=keyboard(*[
        [button(_("Loan #%(loan)s: %(outstanding)s to repay") % {
            "loan": localize_digits(str(view.loan.pk), language),
            "outstanding": format_amount(view.loan.outstanding, language)},
            MANAGE, "repay", view.loan.pk)] for view in views]))


async def show_repay_options(update: Update, context: BotContext, view: LoanView) -> None:
    loan, language = view.loan, context.person.language
    rows = []
    if view.next_amount and view.next_amount < loan.outstanding:
        rows.append([button(_("Next installment: %(amount)s") % {
            "amount": format_amount(view.next_amount, language)}, REPAY, "next", loan.pk)])
    rows.append([button(_("Everything: %(amount)s") % {
        "amount": format_amount(loan.outstanding, language)}, REPAY, "all", loan.pk)])
    rows.append([button(_("Another amount"), REPAY, "other", loan.pk)])
    await replace_or_say(update, loan_text(view, language) + "\n\n" + _(
        "How much would you like to repay? Paying early or paying part is fine: the interest "
        "does not change, and what you pay counts toward the next installments."),
        markup=keyboard(*rows))


def no_repayment_now(view: LoanView) -> str:
    return _("This loan takes no repayment now: it is %(state)s.") % {
        "state": state_label(view.loan.state)}


repayable = loan_action(lambda view: view.loan.state in REPAYABLE, refusal=no_repayment_now)


@repayable
async def next_pressed(update: Update, context: BotContext, view: LoanView) -> None:
    await answer_button(update)
    # Nothing due yet (or a button from before the last payment): the payoff is offered.
    if not view.next_amount:
        await show_repay_options(update, context, view)
        return
    await request_signing(update, repay_request, user=context.person, loan=view.loan,
                          amount=view.next_amount)


@repayable
async def all_pressed(update: Update, context: BotContext, view: LoanView) -> None:
    await answer_button(update)
    await request_signing(update, repay_request, user=context.person, loan=view.loan,
                          amount=view.loan.outstanding)


@repayable
async def other_pressed(update: Update, context: BotContext, view: LoanView) -> str:
    await answer_button(update)
    context.session.draft = {"loan_id": view.loan.pk}
    await replace_or_say(update, _("Type the amount you would like to repay (up to "
                                   "%(max)s).") % {
        "max": format_amount(view.loan.outstanding, context.person.language)})
    return REPAY_AMOUNT


OPTIONS = {"next": next_pressed, "all": all_pressed, "other": other_pressed}


async def amount_typed(update: Update, context: BotContext) -> str | None:
    typed = await read_typed_amount(
        update, context, example=format_number(50, context.person.language),
        choice=lambda nonce, units: (REPAY, "amt", nonce, units))
    if typed.units is None:
        return typed.next_step
    return await typed_amount_chosen(update, context, typed.units)


async def amount_pressed(update: Update, context: BotContext, value: str) -> str:
    """One reading of an amount that read two ways."""
    return await typed_amount_chosen(update, context, int(value))


async def typed_amount_chosen(update: Update, context: BotContext, units: int) -> str:
    view = await run_in_db(own_view, context.person, int(context.session.draft["loan_id"]))
    if view is None:
        await say(update, _("This loan is not yours or no longer exists."))
        return END
    await request_signing(update, repay_request, user=context.person, loan=view.loan,
                          amount=units)
    return END
