"""/loans and /repay: the borrower's loans — status, funding progress, next due date and
amount, the full schedule — and what can be done with each: repay (the next installment, the
payoff or a typed amount; early and partial repayment are fine), draw down once funded, cancel
before funding. Every money action ends in a signing request for the borrower's wallet.

Buttons name a loan and an action only; the loan is looked up as the person's own and its
state decides whether the action is possible.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.amounts import pressed_reading, read_typed_amount
from bot.cards import progress_bar, schedule_lines, send_schedule_chart
from bot.conversation import END, BotContext, save_step
from bot.dbcall import run_in_db
from bot.i18n import (
    format_amount,
    format_date,
    format_number,
    format_percent_bps,
    localize_digits,
)
from bot.journeys import Journey
from bot.replies import answer_button, button, keyboard, replace_or_say, say
from bot.signing import request_signing
from core.common.errors import ServiceError
from core.loans.amortization import ScheduledInstallment, build_schedule
from core.loans.labels import purpose_label, state_label, term_label
from core.loans.models import Installment, Loan
from core.loans.selectors import (
    borrower_loan,
    borrower_loans,
    loan_amount_to_next_due,
    loan_installments,
    loan_next_installment,
)
from core.loans.services import loan_cancel
from core.loans.states import CANCELLABLE_OFF_CHAIN as CANCEL_OFF_CHAIN
from core.loans.states import OPEN_FOR_FUNDING, REPAYABLE, LoanState
from core.signing.actions import cancel_request, drawdown_request, repay_request
from core.users.models import TelegramUser

S = LoanState
REPAY_AMOUNT = "repay.amount"


@dataclass(frozen=True)
class LoanView:
    loan: Loan
    next_due: Installment | None
    next_amount: int  # what clears the next installment (0 when nothing is due)
    schedule: list[Installment]


def _view(loan: Loan) -> LoanView:
    return LoanView(loan=loan, next_due=loan_next_installment(loan=loan),
                    next_amount=loan_amount_to_next_due(loan=loan),
                    schedule=loan_installments(loan=loan))


def _views(user: TelegramUser) -> list[LoanView]:
    return [_view(loan) for loan in borrower_loans(borrower=user)]


def _own_view(user: TelegramUser, loan_id: int) -> LoanView | None:
    loan = borrower_loan(borrower=user, loan_id=loan_id)
    return _view(loan) if loan is not None else None


# --- what a loan looks like in the chat -------------------------------------------------------

def loan_text(view: LoanView, language: str) -> str:
    loan = view.loan
    number = localize_digits(str(loan.pk), language)
    lines = [_("Loan #%(loan)s: %(amount)s over %(term)s — %(state)s") % {
        "loan": number, "amount": format_amount(loan.principal, language),
        "term": term_label(loan.installments, language), "state": state_label(loan.state)}]
    lines.append(_("Purpose: %(purpose)s") % {"purpose": purpose_label(loan.purpose)})
    if loan.apr_bps is not None and loan.total_due:
        lines.append(_("Rate %(apr)s a year, %(total)s to repay in all") % {
            "apr": format_percent_bps(loan.apr_bps, language),
            "total": format_amount(loan.total_due, language)})
    if loan.state in OPEN_FOR_FUNDING:
        percent = loan.funded_amount * 100 // loan.principal
        lines.append(_("Funded: %(funded)s of %(amount)s %(bar)s %(percent)s%%") % {
            "funded": format_amount(loan.funded_amount, language),
            "amount": format_amount(loan.principal, language),
            "bar": progress_bar(loan.funded_amount, loan.principal),
            "percent": localize_digits(str(percent), language)})
        if loan.funding_deadline:
            lines.append(_("Funding closes on %(date)s.") % {
                "date": format_date(loan.funding_deadline, language)})
    if loan.state == S.FUNDED:
        lines.append(_("Fully funded: draw it down to receive the money in your wallet."))
    if loan.state in REPAYABLE:
        lines.append(_("Repaid %(repaid)s; still to repay %(outstanding)s.") % {
            "repaid": format_amount(loan.repaid_amount, language),
            "outstanding": format_amount(loan.outstanding, language)})
        if view.next_due is not None:
            lines.append(_("Next: %(amount)s due on %(date)s.") % {
                "amount": format_amount(view.next_amount, language),
                "date": format_date(view.next_due.due_at, language)})
    if loan.state == S.IN_REVIEW:
        lines.append(_("A person is checking the application; I will tell you the answer "
                       "here."))
    return "\n".join(lines)


def loan_buttons(loan: Loan) -> list[list]:
    row = [button(_("Schedule"), "myloan", "sched", loan.pk)]
    if loan.state in REPAYABLE:
        row.append(button(_("Repay"), "myloan", "repay", loan.pk))
    if loan.state == S.FUNDED:
        row.append(button(_("Draw down"), "myloan", "draw", loan.pk))
    if loan.state in CANCEL_OFF_CHAIN or loan.state in OPEN_FOR_FUNDING:
        row.append(button(_("Cancel"), "myloan", "cancel", loan.pk))
    return [row]


# --- /loans -----------------------------------------------------------------------------------

async def loans_command(update: Update, context: BotContext) -> None:
    language = context.person.language
    views = await run_in_db(_views, context.person)
    if not views:
        await say(update, _("You have no loans yet. Send /borrow to ask for one."))
        return
    await say(update, _("Your loans:"))
    for view in views:
        await say(update, loan_text(view, language), markup=keyboard(*loan_buttons(view.loan)))


async def repay_command(update: Update, context: BotContext) -> None:
    views = [view for view in await run_in_db(_views, context.person)
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
            "myloan", "repay", view.loan.pk)] for view in views]))


async def show_repay_options(update: Update, context: BotContext, view: LoanView) -> None:
    loan, language = view.loan, context.person.language
    rows = []
    if view.next_amount and view.next_amount < loan.outstanding:
        rows.append([button(_("Next installment: %(amount)s") % {
            "amount": format_amount(view.next_amount, language)}, "repay", "next", loan.pk)])
    rows.append([button(_("Everything: %(amount)s") % {
        "amount": format_amount(loan.outstanding, language)}, "repay", "all", loan.pk)])
    rows.append([button(_("Another amount"), "repay", "other", loan.pk)])
    await replace_or_say(update, loan_text(view, language) + "\n\n" + _(
        "How much would you like to repay? Paying early or paying part is fine: the interest "
        "does not change, and what you pay counts toward the next installments."),
        markup=keyboard(*rows))


def _schedule_text(view: LoanView, language: str) -> tuple[str, list[ScheduledInstallment]]:
    """The stored schedule once drawn down (with dates and what is paid), otherwise the one
    the offer implies, month by month."""
    loan = view.loan
    planned = build_schedule(principal=loan.principal, total_due=loan.total_due,
                             apr_bps=loan.apr_bps, installments=loan.installments,
                             interval_days=loan.interval_days)
    lines = [_("Schedule of loan #%(loan)s:") % {"loan": localize_digits(str(loan.pk),
                                                                         language)}]
    if view.schedule:
        for item in view.schedule:
            paid = item.cumulative_due <= loan.repaid_amount
            lines.append(_("%(number)s. %(date)s: %(amount)s (interest %(interest)s)%(paid)s")
                         % {"number": localize_digits(str(item.number), language),
                            "date": format_date(item.due_at, language),
                            "amount": format_amount(item.amount, language),
                            "interest": format_amount(item.interest, language),
                            "paid": " ✓" if paid else ""})
    else:
        lines += schedule_lines(planned, language)
        lines.append(_("The dates start when you draw the loan down: one installment every "
                       "%(days)s days.") % {"days": localize_digits(str(loan.interval_days),
                                                                   language)})
    return "\n".join(lines), planned


# --- buttons ----------------------------------------------------------------------------------

async def _pressed_own_loan(update: Update, context: BotContext) -> tuple[str, LoanView] | None:
    """The action and the person's own loan a button names; anything else is answered."""
    pressed = callbacks.decode(update.callback_query.data)
    what, loan_id = (pressed.arg(0), pressed.arg(1)) if pressed else (None, None)
    view = (await run_in_db(_own_view, context.person, int(loan_id))
            if what and (loan_id or "").isdigit() else None)
    if view is None:
        await answer_button(update, _("This loan is not yours or no longer exists."),
                            alert=True)
        return None
    return what, view


async def loan_pressed(update: Update, context: BotContext) -> None:
    found = await _pressed_own_loan(update, context)
    if found is None:
        return
    what, view = found
    loan, person, language = view.loan, context.person, context.person.language
    if what == "sched" and loan.total_due:
        await answer_button(update)
        text, planned = _schedule_text(view, language)
        await say(update, text)
        await send_schedule_chart(update, planned)
    elif what == "repay" and loan.state in REPAYABLE:
        await answer_button(update)
        await show_repay_options(update, context, view)
    elif what == "draw" and loan.state == S.FUNDED:
        await answer_button(update)
        await request_signing(update, drawdown_request, user=person, loan=loan)
    elif what == "cancel" and (loan.state in CANCEL_OFF_CHAIN or loan.state in OPEN_FOR_FUNDING):
        await answer_button(update)
        await replace_or_say(update, loan_text(view, language) + "\n\n" + _(
            "Cancel this loan? Lenders who funded part of it can take their money back."),
            markup=keyboard([button(_("Yes, cancel the loan"), "myloan", "cancel2", loan.pk),
                             button(_("Keep it"), "myloan", "keep", loan.pk)]))
    elif what == "cancel2" and loan.state in OPEN_FOR_FUNDING:
        await answer_button(update)
        await request_signing(update, cancel_request, user=person, loan=loan)
    elif what == "cancel2" and loan.state in CANCEL_OFF_CHAIN:
        try:
            await run_in_db(loan_cancel, loan=loan, actor=person, reason="cancelled in chat")
        except ServiceError as error:
            await answer_button(update, str(error), alert=True)
            return
        await answer_button(update)
        await replace_or_say(update, _("Loan #%(loan)s is cancelled.") % {
            "loan": localize_digits(str(loan.pk), language)})
    elif what == "keep":
        await answer_button(update)
        await replace_or_say(update, loan_text(view, language),
                             markup=keyboard(*loan_buttons(loan)))
    else:
        await answer_button(update, _("This is not possible now: the loan is %(state)s.") % {
            "state": state_label(loan.state)}, alert=True)


async def repay_pressed(update: Update, context: BotContext) -> None:
    pressed = callbacks.decode(update.callback_query.data)
    if pressed is not None and pressed.arg(0) == "amt":
        await _ambiguous_amount_pressed(update, context, pressed)
        return
    found = await _pressed_own_loan(update, context)
    if found is None:
        return
    what, view = found
    loan, person = view.loan, context.person
    if loan.state not in REPAYABLE:
        await answer_button(update, _("This loan takes no repayment now: it is %(state)s.") % {
            "state": state_label(loan.state)}, alert=True)
        return
    await answer_button(update)
    if what == "next" and view.next_amount:
        await request_signing(update, repay_request, user=person, loan=loan,
                              amount=view.next_amount)
    elif what == "all":
        await request_signing(update, repay_request, user=person, loan=loan,
                              amount=loan.outstanding)
    elif what == "other":
        save_step(context, REPAY_AMOUNT, draft={"loan_id": loan.pk})
        await replace_or_say(update, _("Type the amount you would like to repay (up to "
                                       "%(max)s).") % {
            "max": format_amount(loan.outstanding, person.language)})
    else:
        await say(update, _("This button is no longer active. Please use the latest message."))


async def repay_amount_typed(update: Update, context: BotContext) -> str | None:
    typed = await read_typed_amount(
        update, context, example=format_number(50, context.person.language),
        choice=lambda nonce, units: ("repay", "amt", nonce, units))
    if typed.units is None:
        return typed.next_step
    await _repay_typed_amount(update, context, typed.units)
    return None


async def _ambiguous_amount_pressed(update: Update, context: BotContext,
                                    pressed: callbacks.Button) -> None:
    units = await pressed_reading(update, context, pressed.arg(1), pressed.arg(2), {REPAY_AMOUNT})
    if units is not None:
        await _repay_typed_amount(update, context, units)


async def _repay_typed_amount(update: Update, context: BotContext, units: int) -> None:
    view = await run_in_db(_own_view, context.person, int(context.session.draft["loan_id"]))
    save_step(context, END)
    if view is None:
        await say(update, _("This loan is not yours or no longer exists."))
        return
    await request_signing(update, repay_request, user=context.person, loan=view.loan, amount=units)



def build_handlers() -> Journey:
    return Journey(
        name="loans",
        handlers=[
            CommandHandler("loans", loans_command),
            CommandHandler("repay", repay_command),
            CallbackQueryHandler(loan_pressed, pattern=callbacks.pattern("myloan")),
            CallbackQueryHandler(repay_pressed, pattern=callbacks.pattern("repay")),
        ],
        steps={REPAY_AMOUNT: repay_amount_typed},
        commands=[("loans", gettext_lazy("your loans and their schedules")),
                  ("repay", gettext_lazy("repay a loan"))],
    )


__all__ = ["LoanView", "build_handlers", "loan_text"]
