"""/lend's market: the loans open for funding, a page at a time, filtered by grade, term and
size with buttons, and a loan's card. The buttons name a filter, a page or a loan, looked up
as a public (listed) loan: they carry no authority."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from telegram import InlineKeyboardMarkup, Update

from bot.cards import send_loan_card
from bot.conversation import BotContext
from bot.dbcall import run_in_db
from bot.i18n import format_amount, format_percent_bps, localize_digits
from bot.replies import answer_button, button, keyboard, replace_or_say, say
from core.loans.labels import term_label
from core.loans.market import (
    ANY,
    GRADES,
    MAX_PAGE,
    MarketFilter,
    MarketPage,
    open_loans_page,
)

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


async def out_of_date(update: Update, context: BotContext | None = None) -> None:
    """Any other /lend button: made up, or from an older release."""
    await answer_button(update, _("This button is out of date. Send /lend for the latest "
                                  "loans."), alert=True)


async def list_pressed(update: Update, context: BotContext, args: tuple[str, ...]) -> None:
    market_filter = MarketFilter.parse(*args[:3]) if len(args) == 4 else None
    page = int(args[3]) if market_filter and args[3].isdigit() else 0
    market = (await run_in_db(_market, market_filter, page)
              if market_filter and 1 <= page <= MAX_PAGE else None)
    if market is None:
        await out_of_date(update)
        return
    await answer_button(update)
    language = context.person.language
    await replace_or_say(update, list_text(market, market_filter, language),
                         markup=list_markup(market, market_filter, language))


def filter_pressed(what: str):
    """The press of the button that opens one filter's menu (`fg`, `ft` or `fa`)."""

    async def pressed(update: Update, context: BotContext, args: tuple[str, ...]) -> None:
        market_filter = MarketFilter.parse(*args) if len(args) == 3 else None
        if market_filter is None:
            await out_of_date(update)
            return
        await answer_button(update)
        question, rows = filter_menu(what, market_filter, context.person.language)
        await replace_or_say(update, question, markup=keyboard(*rows))

    return pressed


def loan_id_of(args: tuple[str, ...]) -> int | None:
    value = args[0] if args else ""
    return int(value) if value.isdigit() and len(value) <= 12 else None


async def card_pressed(update: Update, context: BotContext, args: tuple[str, ...]) -> None:
    loan_id = loan_id_of(args)
    if loan_id is None:
        await out_of_date(update)
        return
    await answer_button(update)
    await send_loan_card(update, context, loan_id)
