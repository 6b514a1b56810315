"""What more than one journey shows: a loan's public card, funding progress, a schedule (as
lines and as a chart), what onboarding still lacks, the language choice and the command list.
Journeys import these from here, never from each other."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.conf import settings
from django.utils.translation import gettext as _
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.charts import PALETTE, Series, stacked_bars_png
from bot.conversation import BotContext
from bot.dbcall import run_in_db
from bot.i18n import format_amount, format_date, format_percent_bps, localize_digits
from bot.replies import button, keyboard, say
from core.loans.amortization import ScheduledInstallment
from core.loans.funding import loan_open_for_funding
from core.loans.labels import purpose_label, term_label
from core.loans.market import ANY, fund_presets, loan_public
from core.loans.models import Loan
from core.loans.states import LoanState
from core.users import selectors as user_selectors
from core.users.models import TelegramUser

S = LoanState
LEND = "lend"  # the callback kind of the lend journey's buttons
LANGUAGE_NAMES = dict(settings.LANGUAGES)


def _number(value: int, language: str) -> str:
    return localize_digits(str(value), language)


def progress_bar(part: int, whole: int, width: int = 10) -> str:
    filled = min(width, part * width // whole) if whole > 0 else 0
    return "▓" * filled + "░" * (width - filled)


# --- schedules ------------------------------------------------------------------------------

def schedule_lines(schedule: list[ScheduledInstallment], language: str) -> list[str]:
    return [_("%(number)s. %(amount)s (interest %(interest)s)") % {
        "number": localize_digits(str(item.number), language),
        "amount": format_amount(item.amount, language),
        "interest": format_amount(item.interest, language)} for item in schedule]


async def send_schedule_chart(update: Update, schedule: list[ScheduledInstallment]) -> None:
    chart = stacked_bars_png(
        [Series([item.principal for item in schedule], PALETTE[0]),
         Series([item.interest for item in schedule], PALETTE[1])],
        bar_labels=[str(item.number) for item in schedule], unit=10**settings.STABLE_DECIMALS)
    await update.effective_chat.send_photo(photo=chart, caption=_(
        "Your installments, one bar each: blue is the loan you pay back, orange is the "
        "interest."))


# --- a loan's public card (the lend journey and the /start loan_<id> deep link) --------------

def closed_label(state: str) -> str:
    """Why a loan takes no more funding, in a lender's words."""
    return {
        S.FUNDED: _("it is fully funded"), S.ACTIVE: _("it is fully funded and running"),
        S.LATE: _("it is running, with a late installment"),
        S.REPAID: _("it has been repaid"), S.EXPIRED: _("its funding deadline passed"),
        S.CANCELLED: _("the borrower cancelled it"), S.DEFAULTED: _("it has defaulted"),
    }.get(state, _("it is not open for funding"))


def share_url(loan: Loan, language: str) -> str:
    """Telegram's share sheet with the loan's deep link (opens the bot at this card)."""
    deep_link = f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start=loan_{loan.pk}"
    text = _("Loan #%(loan)s on Lendgram: %(amount)s, grade %(grade)s, %(apr)s a year.") % {
        "loan": _number(loan.pk, language), "amount": format_amount(loan.principal, language),
        "grade": loan.grade, "apr": format_percent_bps(loan.apr_bps or 0, language)}
    return "https://t.me/share/url?" + urlencode({"url": deep_link, "text": text},
                                                 quote_via=quote)


def web_url(loan: Loan) -> str:
    return f"{settings.PUBLIC_BASE_URL}/loans/{loan.pk}/"


def card_text(loan: Loan, language: str) -> str:
    percent = loan.funded_amount * 100 // loan.principal
    lines = [
        _("Loan #%(loan)s · grade %(grade)s") % {"loan": _number(loan.pk, language),
                                                 "grade": loan.grade},
        _("%(amount)s at %(apr)s a year, %(term)s") % {
            "amount": format_amount(loan.principal, language),
            "apr": format_percent_bps(loan.apr_bps or 0, language),
            "term": term_label(loan.installments, language)},
        _("Purpose: %(purpose)s") % {"purpose": purpose_label(loan.purpose)},
        _("Lenders get back %(total)s in all, less the platform fee and the backstop premium "
          "on the interest.") % {"total": format_amount(loan.total_due or 0, language)},
        _("Funded: %(funded)s of %(amount)s %(bar)s %(percent)s%%") % {
            "funded": format_amount(loan.funded_amount, language),
            "amount": format_amount(loan.principal, language),
            "bar": progress_bar(loan.funded_amount, loan.principal),
            "percent": _number(percent, language)},
    ]
    if loan_open_for_funding(loan=loan):
        lines.append(_("Left to fund: %(left)s") % {
            "left": format_amount(loan.left_to_fund, language)})
        if loan.funding_deadline:
            lines.append(_("Funding closes on %(date)s.") % {
                "date": format_date(loan.funding_deadline, language)})
    else:
        lines.append(_("No more funding: %(why)s.") % {"why": closed_label(loan.state)})
    return "\n".join(lines)


def card_markup(loan: Loan, presets: list[int], language: str) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    if loan_open_for_funding(loan=loan) and presets:
        *round_amounts, everything = presets
        if round_amounts:
            rows.append([button(_("Lend %(amount)s") % {
                "amount": format_amount(units, language)}, LEND, "fund", loan.pk, units)
                for units in round_amounts])
        rows.append([button(_("Lend all that is left: %(amount)s") % {
            "amount": format_amount(everything, language)}, LEND, "fund", loan.pk, everything)])
        rows.append([button(_("Another amount"), LEND, "type", loan.pk)])
    rows.append([InlineKeyboardButton(_("Share"), url=share_url(loan, language)),
                 InlineKeyboardButton(_("Web page"), url=web_url(loan))])
    rows.append([button(_("All open loans"), LEND, "ls", ANY, ANY, ANY, 1)])
    return InlineKeyboardMarkup(rows)


def card_data(loan_id: int) -> tuple[Loan | None, list[int]]:
    """The public loan and the amounts its card offers (one unit of database work)."""
    loan = loan_public(loan_id=loan_id)
    return loan, (fund_presets(loan=loan)
                  if loan is not None and loan_open_for_funding(loan=loan) else [])


async def send_loan_card(update: Update, context: BotContext, loan_id: int) -> None:
    """A loan's card as a new message (the /start loan_<id> deep link lands here too)."""
    language = context.person.language
    loan, presets = await run_in_db(card_data, loan_id)
    if loan is None:
        await say(update, _("I could not find loan #%(loan)s among the listed loans. Send "
                            "/lend to see the loans open for funding.") % {
            "loan": _number(loan_id, language)})
        return
    await say(update, card_text(loan, language), markup=card_markup(loan, presets, language))


# --- the account ------------------------------------------------------------------------------

def missing_text(user: TelegramUser) -> str:
    """What onboarding still lacks, in words (journeys say it when they need onboarding)."""
    names = {user_selectors.ROLE: _("your role"), user_selectors.TERMS: _("accepting the terms"),
             user_selectors.PHONE: _("your phone number"),
             user_selectors.WALLET: _("a linked wallet")}
    parts = [names[gap] for gap in user_selectors.onboarding_gaps(user=user) if gap in names]
    return _("First let us finish setting up your account. Still missing: %(missing)s. Send "
             "/start to continue.") % {"missing": ", ".join(parts)}


def language_keyboard() -> InlineKeyboardMarkup:
    codes = list(LANGUAGE_NAMES)
    rows = [codes[i:i + 2] for i in range(0, len(codes), 2)]
    return keyboard(*[[button(LANGUAGE_NAMES[code], "lang", code) for code in row]
                      for row in rows])


async def send_help(update: Update, context: BotContext) -> None:
    """Every journey's commands, from the same registry as the bot's command menu."""
    journeys = context.application.bot_data.get("journeys", [])
    lines = [_("Here is what I can do:")]
    lines += [f"/{command} — {description}"
              for journey in journeys for command, description in journey.commands]
    await say(update, "\n".join(lines))


# --- identity verification (the /verify journey and the decisions it leads to) ---------------

def tier_label(tier: int) -> str:
    """A verification level (KYC tier) in the reader's words."""
    return {
        0: _("not verified"),
        1: _("basic (phone and wallet)"),
        2: _("identity verified"),
        3: _("enhanced"),
    }.get(int(tier), str(tier))
