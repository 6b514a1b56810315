"""/portfolio: a lender's positions and what they mean — principal still owed, received,
ready to collect, expected interest, late and defaulted loans — with a chart, one signing
request that collects every repayment waiting, and refunds from expired or cancelled loans.

The buttons name an action (and a loan for refunds); core's claim_request / refund_request
look up the person's own positions, so a forged button can only ask for what is theirs.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.charts import PALETTE, Series, stacked_bars_png
from bot.conversation import BotContext
from bot.dbcall import run_in_db
from bot.i18n import format_amount, localize_digits
from bot.journeys import Journey
from bot.replies import answer_button, button, say
from bot.signing import offer_signing
from core.common.errors import ServiceError
from core.loans.portfolio import Holding, Portfolio, lender_portfolio
from core.loans.selectors import loan_get
from core.loans.states import LoanState
from core.signing.actions import claim_request, refund_request

S = LoanState
KIND = "pf"
CHART_BARS = 12
GREY = "#9e9e9e"


def _number(value: int, language: str) -> str:
    return localize_digits(str(value), language)


def holding_state(state: str) -> str:
    return {
        S.LISTED: _("being funded"), S.FUNDING: _("being funded"),
        S.FUNDED: _("funded, waiting for drawdown"), S.ACTIVE: _("being repaid"),
        S.LATE: _("late"), S.REPAID: _("repaid"), S.EXPIRED: _("expired"),
        S.CANCELLED: _("cancelled"), S.DEFAULTED: _("defaulted"),
    }.get(state, state)


def _ids(holdings: list[Holding], language: str) -> str:
    return ", ".join("#" + _number(holding.loan.pk, language) for holding in holdings)


def portfolio_text(portfolio: Portfolio, language: str) -> str:
    def money(units: int) -> str:
        return format_amount(units, language)

    count = len(portfolio.holdings)
    lines = [ngettext("Your portfolio: %(count)s loan", "Your portfolio: %(count)s loans",
                      count) % {"count": _number(count, language)},
             _("Lent in all: %(amount)s") % {"amount": money(portfolio.funded)}]
    if portfolio.in_escrow:
        lines.append(_("Waiting to be drawn down: %(amount)s") % {
            "amount": money(portfolio.in_escrow)})
    lines += [
        _("Principal still owed to you: %(amount)s") % {
            "amount": money(portfolio.principal_outstanding)},
        _("Received so far: %(amount)s") % {"amount": money(portfolio.received)},
        _("Ready to collect: %(amount)s") % {"amount": money(portfolio.claimable)},
        _("Expected interest if every loan is repaid: %(amount)s (before the platform fee and "
          "the backstop premium)") % {"amount": money(portfolio.expected_interest)},
    ]
    if portfolio.refundable:
        lines.append(_("To take back from expired or cancelled loans: %(amount)s") % {
            "amount": money(portfolio.refundable)})
    late = portfolio.in_state(S.LATE)
    if late:
        lines.append(_("Late: %(loans)s. Lenders are paid as soon as the borrower catches "
                       "up.") % {"loans": _ids(late, language)})
    defaulted = portfolio.in_state(S.DEFAULTED)
    if defaulted:
        lines.append(_("Defaulted: %(loans)s. The backstop pool covered part of the principal; "
                       "later recoveries reach you too.") % {"loans": _ids(defaulted, language)})
    lines.append("")
    for holding in portfolio.holdings:
        loan = holding.loan
        lines.append(_("#%(loan)s · grade %(grade)s · %(state)s · lent %(lent)s · received "
                       "%(received)s") % {
            "loan": _number(loan.pk, language), "grade": loan.grade,
            "state": holding_state(loan.state), "lent": money(holding.funded),
            "received": money(holding.received)})
    return "\n".join(lines)


def portfolio_markup(portfolio: Portfolio, language: str) -> InlineKeyboardMarkup | None:
    rows = []
    if portfolio.claimable:
        rows.append([button(_("Collect %(amount)s") % {
            "amount": format_amount(portfolio.claimable, language)}, KIND, "claim")])
    for holding in portfolio.holdings:
        if holding.refundable:
            rows.append([button(_("Take back %(amount)s from loan #%(loan)s") % {
                "amount": format_amount(holding.refundable, language),
                "loan": _number(holding.loan.pk, language)}, KIND, "refund", holding.loan.pk)])
    return InlineKeyboardMarkup(rows) if rows else None


def portfolio_chart(portfolio: Portfolio) -> bytes:
    """One bar per loan (the latest ones): collected, ready to collect, still owed, waiting."""
    holdings = portfolio.holdings[:CHART_BARS][::-1]
    return stacked_bars_png(
        [Series([h.received - h.claimable for h in holdings], PALETTE[2]),
         Series([h.claimable for h in holdings], PALETTE[1]),
         Series([h.principal_outstanding for h in holdings], PALETTE[0]),
         Series([h.in_escrow for h in holdings], GREY)],
        bar_labels=[f"#{h.loan.pk}" for h in holdings], unit=10**settings.STABLE_DECIMALS)


async def portfolio_command(update: Update, context: BotContext) -> None:
    person = context.person
    language = person.language
    portfolio = await run_in_db(lender_portfolio, lender=person)
    if not portfolio.holdings:
        await say(update, _("You have not funded any loans yet. Send /lend to find one."))
        return
    await say(update, portfolio_text(portfolio, language),
              markup=portfolio_markup(portfolio, language))
    await update.effective_chat.send_photo(photo=portfolio_chart(portfolio), caption=_(
        "Your loans, one bar each (newest on the right): green is what you collected, orange "
        "is ready to collect, blue is principal still owed to you, grey waits for drawdown."))


async def button_pressed(update: Update, context: BotContext) -> None:
    pressed = callbacks.decode(update.callback_query.data)
    what = pressed.arg(0) if pressed else None
    person = context.person
    if what == "claim" and len(pressed.args) == 1:
        action, kwargs = claim_request, {"user": person}
    elif what == "refund" and (pressed.arg(1) or "").isdigit() and len(pressed.arg(1)) <= 12:
        loan = await run_in_db(loan_get, loan_id=int(pressed.arg(1)))
        if loan is None:
            await answer_button(update, _("You have nothing to take back from this loan."),
                                alert=True)
            return
        action, kwargs = refund_request, {"user": person, "loan": loan}
    else:
        await answer_button(update, _("This button is out of date. Send /portfolio for the "
                                      "latest figures."), alert=True)
        return
    try:
        request, token = await run_in_db(action, **kwargs)
    except ServiceError as error:
        await answer_button(update, str(error), alert=True)
        return
    await answer_button(update)
    await offer_signing(update, request, token)


def build_handlers() -> Journey:
    return Journey(
        name="portfolio",
        handlers=[
            CommandHandler("portfolio", portfolio_command),
            CallbackQueryHandler(button_pressed, pattern=callbacks.pattern(KIND)),
        ],
        commands=[("portfolio", gettext_lazy("your loans, returns and repayments to collect"))],
    )
