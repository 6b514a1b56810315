"""/lend: the loans open for funding, a page at a time, filtered by grade, term and size with
buttons; a loan's card (grade, rate, term, purpose, funding progress, deadline — nothing about
the borrower as a person); funding with a preset or a typed amount through a signing request;
sharing the card's deep link.

List and card buttons carry no authority: they name a filter, a page or a loan, which is
looked up as a public (listed) loan, and core's fund_request decides whether this person may
fund it. Only the ambiguous-amount buttons belong to a conversation and carry its nonce.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.amounts import pressed_reading, read_typed_amount
from bot.cards import card_data, send_loan_card
from bot.conversation import END, BotContext, save_step
from bot.dbcall import run_in_db
from bot.i18n import (
    format_amount,
    format_number,
    format_percent_bps,
    localize_digits,
)
from bot.journeys import Journey
from bot.replies import answer_button, button, keyboard, replace_or_say, say
from bot.signing import offer_signing
from core.common.errors import ServiceError
from core.loans import funding
from core.loans.funding import FundingRefused, funding_refusal, loan_open_for_funding
from core.loans.labels import term_label
from core.loans.market import (
    ANY,
    GRADES,
    MAX_PAGE,
    MarketFilter,
    MarketPage,
    loan_public,
    open_loans_page,
)
from core.loans.models import Loan
from core.signing.actions import fund_request

FUND_AMOUNT = "lend.amount"
KIND = "lend"


# --- words ------------------------------------------------------------------------------------

def _number(value: int, language: str) -> str:
    return localize_digits(str(value), language)


def term_filter_label(code: str) -> str:
    return {ANY: _("any term"), "s": _("up to 3 months"), "m": _("4 to 11 months"),
            "l": _("12 months or more")}[code]


def amount_filter_label(code: str, language: str) -> str:
    whole = 10**settings.STABLE_DECIMALS
    if code == ANY:
        return _("any amount")
    if code == "s":
        return _("up to %(amount)s") % {"amount": format_amount(100 * whole, language)}
    if code == "m":
        return _("%(low)s to %(high)s") % {"low": format_amount(100 * whole, language),
                                           "high": format_amount(1_000 * whole, language)}
    return _("over %(amount)s") % {"amount": format_amount(1_000 * whole, language)}


def grade_filter_label(code: str) -> str:
    return _("any grade") if code == ANY else _("grade %(grade)s") % {"grade": code}


# --- the list ---------------------------------------------------------------------------------

def list_text(market: MarketPage, market_filter: MarketFilter, language: str) -> str:
    lines = [_("Loans open for funding: %(count)s (page %(page)s of %(pages)s)") % {
        "count": _number(market.total, language), "page": _number(market.page, language),
        "pages": _number(market.pages, language)},
        _("Showing: %(grade)s, %(term)s, %(amount)s.") % {
            "grade": grade_filter_label(market_filter.grade),
            "term": term_filter_label(market_filter.term),
            "amount": amount_filter_label(market_filter.amount, language)}, ""]
    for loan in market.loans:
        lines.append(_("#%(loan)s · grade %(grade)s · %(apr)s · %(term)s · %(amount)s · "
                       "%(percent)s%% funded") % {
            "loan": _number(loan.pk, language), "grade": loan.grade,
            "apr": format_percent_bps(loan.apr_bps or 0, language),
            "term": term_label(loan.installments, language),
            "amount": format_amount(loan.principal, language),
            "percent": _number(loan.funded_amount * 100 // loan.principal, language)})
    if market.loans:
        lines += ["", _("Choose a loan to see its card and fund it.")]
    else:
        lines.append(_("No loan matches these filters right now."))
    return "\n".join(lines)


def list_markup(market: MarketPage, market_filter: MarketFilter,
                language: str) -> InlineKeyboardMarkup:
    args = market_filter.args
    rows = [[button(_("#%(loan)s · %(left)s left") % {
        "loan": _number(loan.pk, language), "left": format_amount(loan.left_to_fund, language)},
        KIND, "card", loan.pk)] for loan in market.loans]
    rows.append([button(_("Grade"), KIND, "fg", *args), button(_("Term"), KIND, "ft", *args),
                 button(_("Amount"), KIND, "fa", *args)])
    pager = []
    if market.page > 1:
        pager.append(button(_("‹ Previous"), KIND, "ls", *args, market.page - 1))
    if market.page < market.pages:
        pager.append(button(_("Next ›"), KIND, "ls", *args, market.page + 1))
    if pager:
        rows.append(pager)
    if market_filter != MarketFilter():
        rows.append([button(_("Clear the filters"), KIND, "ls", ANY, ANY, ANY, 1)])
    return InlineKeyboardMarkup(rows)


def _market(market_filter: MarketFilter, page: int) -> MarketPage | None:
    return open_loans_page(market_filter=market_filter, page=page)


async def lend_command(update: Update, context: BotContext) -> None:
    market_filter = MarketFilter()
    market = await run_in_db(_market, market_filter, 1)
    language = context.person.language
    await say(update, list_text(market, market_filter, language),
              markup=list_markup(market, market_filter, language))


def filter_menu(what: str, market_filter: MarketFilter, language: str) -> tuple[str, list]:
    """The question and the choices of one filter; each choice is a list button, page 1."""
    grade, term, amount = market_filter.args
    if what == "fg":
        choices = [(grade_filter_label(code), (code, term, amount)) for code in (ANY, *GRADES)]
        question = _("Which grade? A is the lowest risk, E the highest.")
    elif what == "ft":
        choices = [(term_filter_label(code), (grade, code, amount))
                   for code in (ANY, "s", "m", "l")]
        question = _("Which term?")
    else:
        choices = [(amount_filter_label(code, language), (grade, term, code))
                   for code in (ANY, "s", "m", "l")]
        question = _("Which loan size?")
    buttons = [button(label, KIND, "ls", *args, 1) for label, args in choices]
    return question, [buttons[i:i + 3] for i in range(0, len(buttons), 3)]


async def _out_of_date(update: Update) -> None:
    await answer_button(update, _("This button is out of date. Send /lend for the latest "
                                  "loans."), alert=True)


async def button_pressed(update: Update, context: BotContext) -> None:
    pressed = callbacks.decode(update.callback_query.data)
    what = pressed.arg(0) if pressed else None
    args = pressed.args[1:] if pressed else ()
    handler = {"ls": _list_pressed, "fg": _filter_pressed, "ft": _filter_pressed,
               "fa": _filter_pressed, "card": _card_pressed, "fund": _fund_pressed,
               "type": _type_pressed, "amt": _ambiguous_pressed}.get(what or "")
    if handler is None:
        await _out_of_date(update)
        return
    await handler(update, context, what, args)


async def _list_pressed(update: Update, context: BotContext, what: str, args: tuple) -> None:
    market_filter = MarketFilter.parse(*args[:3]) if len(args) == 4 else None
    page = int(args[3]) if market_filter and args[3].isdigit() else 0
    market = (await run_in_db(_market, market_filter, page)
              if market_filter and 1 <= page <= MAX_PAGE else None)
    if market is None:
        await _out_of_date(update)
        return
    await answer_button(update)
    language = context.person.language
    await replace_or_say(update, list_text(market, market_filter, language),
                         markup=list_markup(market, market_filter, language))


async def _filter_pressed(update: Update, context: BotContext, what: str, args: tuple) -> None:
    market_filter = MarketFilter.parse(*args) if len(args) == 3 else None
    if market_filter is None:
        await _out_of_date(update)
        return
    await answer_button(update)
    question, rows = filter_menu(what, market_filter, context.person.language)
    await replace_or_say(update, question, markup=keyboard(*rows))


def _loan_id(args: tuple) -> int | None:
    value = args[0] if args else ""
    return int(value) if value.isdigit() and len(value) <= 12 else None


async def _card_pressed(update: Update, context: BotContext, what: str, args: tuple) -> None:
    loan_id = _loan_id(args)
    if loan_id is None:
        await _out_of_date(update)
        return
    await answer_button(update)
    await send_loan_card(update, context, loan_id)


def refusal_text(reason: str) -> str:
    """Why core refuses this funding, in the bot's words (with the command that helps)."""
    return {
        funding.NOT_LENDER: _("Funding loans is for lenders. Send /settings to add the lender "
                              "role to your account."),
        funding.TERMS_NOT_ACCEPTED: _("Please accept the terms first: send /start."),
        funding.OWN_LOAN: _("You cannot fund your own loan."),
        funding.NOT_OPEN: _("This loan is not open for funding."),
        funding.DEADLINE_PASSED: _("The funding deadline of this loan has passed."),
    }[reason]


async def _fund_pressed(update: Update, context: BotContext, what: str, args: tuple) -> None:
    loan_id = _loan_id(args)
    units = int(args[1]) if loan_id is not None and len(args) == 2 and args[1].isdigit() else 0
    loan, presets = await run_in_db(card_data, loan_id) if units else (None, [])
    if loan is None:
        await answer_button(update, _("This loan is not listed for funding."), alert=True)
        return
    refusal = funding_refusal(lender=context.person, loan=loan)
    if refusal not in (None, funding.NOT_OPEN):
        await answer_button(update, refusal_text(refusal), alert=True)
        return
    if units not in presets:
        # The loan moved on since the card was sent (or the button was made up).
        await answer_button(update, _("This amount is no longer offered. Here is the loan as "
                                      "it is now."), alert=True)
        await send_loan_card(update, context, loan.pk)
        return
    await answer_button(update)
    await _offer_funding(update, context, loan, units)


async def _offer_funding(update: Update, context: BotContext, loan: Loan, units: int,
                         lead: str = "") -> None:
    try:
        request, token = await run_in_db(fund_request, user=context.person, loan=loan,
                                         amount=units)
    except FundingRefused as refused:
        await say(update, refusal_text(refused.reason))
        return
    except ServiceError as error:
        await say(update, str(error))
        return
    await offer_signing(update, request, token, lead=lead)


async def _type_pressed(update: Update, context: BotContext, what: str, args: tuple) -> None:
    loan_id = _loan_id(args)
    loan, _presets = await run_in_db(card_data, loan_id) if loan_id is not None else (None, [])
    if loan is None or not loan_open_for_funding(loan=loan):
        await answer_button(update, _("This loan is not listed for funding."), alert=True)
        return
    refusal = funding_refusal(lender=context.person, loan=loan)
    if refusal is not None:
        await answer_button(update, refusal_text(refusal), alert=True)
        return
    await answer_button(update)
    save_step(context, FUND_AMOUNT, draft={"loan_id": loan.pk})
    language = context.person.language
    await say(update, _("How much would you like to lend to loan #%(loan)s? Type the amount, "
                        "up to %(left)s. Send /cancel to stop.") % {
        "loan": _number(loan.pk, language), "left": format_amount(loan.left_to_fund, language)})


async def amount_typed(update: Update, context: BotContext) -> None:
    units = await read_typed_amount(
        update, context, example=format_number(50, context.person.language),
        choice=lambda nonce, units: (KIND, "amt", nonce, units))
    if units is not None:
        await _typed_amount_chosen(update, context, units)


async def _ambiguous_pressed(update: Update, context: BotContext, what: str,
                             args: tuple) -> None:
    nonce, value = (args[0], args[1]) if len(args) == 2 else ("", "")
    units = await pressed_reading(update, context, nonce, value, {FUND_AMOUNT})
    if units is not None:
        await _typed_amount_chosen(update, context, units)


async def _typed_amount_chosen(update: Update, context: BotContext, units: int) -> None:
    loan_id = context.session.draft.get("loan_id")
    save_step(context, END)
    loan = await run_in_db(loan_public, loan_id=int(loan_id)) if loan_id else None
    language = context.person.language
    if loan is None or not loan_open_for_funding(loan=loan):
        await say(update, _("This loan is no longer open for funding. Send /lend to see the "
                            "loans that are."))
        return
    lead = ""
    if units > loan.left_to_fund:
        # Capped, never raised: the person still confirms the amount in their wallet.
        lead = _("Only %(left)s is left to fund on this loan, so that is the amount.") % {
            "left": format_amount(loan.left_to_fund, language)}
        units = loan.left_to_fund
    await _offer_funding(update, context, loan, units, lead=lead)



def build_handlers() -> Journey:
    return Journey(
        name="lend",
        handlers=[
            CommandHandler("lend", lend_command),
            CallbackQueryHandler(button_pressed, pattern=callbacks.pattern(KIND)),
        ],
        steps={FUND_AMOUNT: amount_typed},
        commands=[("lend", gettext_lazy("find loans to fund"))],
    )


__all__ = ["build_handlers"]
