"""/borrow: ask for a loan. Amount (typed the way the person writes numbers, checked against
their verification level and their grade), term and purpose as buttons, income and
employment when the profile lacks them, then a summary with the schedule (a table and a chart)
and submit. Scoring runs at once; its offer, refusal or review notice arrives through the
outbox (bot/notifications/scoring.py), and the offer's Accept button leads to signing the
listing in the borrower's wallet."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.amounts import read_typed_amount, reading_value
from bot.cards import missing_text, schedule_lines, send_schedule_chart
from bot.conversation import END, BotContext, command, step_button
from bot.dbcall import run_in_db
from bot.i18n import (
    format_amount,
    format_number,
    format_percent_bps,
    localize_digits,
)
from bot.journeys import Journey
from bot.replies import (
    answer_button,
    button,
    buttons_expected,
    keyboard,
    replace_or_say,
    say,
)
from bot.signing import offer_signing
from core.common.errors import ServiceError
from core.loans.labels import purpose_label, state_label, term_label
from core.loans.models import LoanPurpose
from core.loans.selectors import borrower_loan
from core.loans.services import loan_application_submit, loan_cancel
from core.loans.states import LoanState
from core.scoring.models import Employment, IncomeBand
from core.scoring.profile import borrower_profile_set
from core.scoring.quotes import BorrowQuote, borrow_quote, quote_schedule
from core.signing.actions import open_loan_request
from core.users.selectors import onboarding_gaps
from core.users.services import user_set_roles

ROLE, AMOUNT, TERM, PURPOSE, INCOME, EMPLOYMENT, CONFIRM = (
    "borrow.role", "borrow.amount", "borrow.term", "borrow.purpose", "borrow.income",
    "borrow.employment", "borrow.confirm")
KIND = "borrow"
NOT_SAID = "none"  # the "prefer not to say" button (stored as an empty answer)


# --- labels ---------------------------------------------------------------------------------

def income_label(band: str, language: str) -> str:
    def number(value: int) -> str:
        return format_number(value, language)

    return {
        IncomeBand.UNDER_500: _("under %(amount)s a month") % {"amount": number(500)},
        IncomeBand.FROM_500: _("%(low)s to %(high)s a month") % {"low": number(500),
                                                                 "high": number(1500)},
        IncomeBand.FROM_1500: _("%(low)s to %(high)s a month") % {"low": number(1500),
                                                                  "high": number(3000)},
        IncomeBand.OVER_3000: _("%(amount)s or more a month") % {"amount": number(3000)},
    }[band]


def employment_label(value: str) -> str:
    return {
        Employment.EMPLOYED: _("Employed"), Employment.SELF_EMPLOYED: _("Self-employed"),
        Employment.PART_TIME: _("Part-time"), Employment.STUDENT: _("Student"),
        Employment.RETIRED: _("Retired"), Employment.UNEMPLOYED: _("Not working"),
    }[value]


def _quote(draft: dict) -> BorrowQuote:
    """The quote computed when the journey asked for the amount, kept in the draft."""
    return BorrowQuote.from_draft(draft["quote"])


# --- /borrow ----------------------------------------------------------------------------------

async def borrow(update: Update, context: BotContext) -> str:
    """/borrow starts anew from any step: the draft of whatever came before is dropped."""
    person = context.person
    context.session.draft = {}
    if onboarding_gaps(user=person):
        await say(update, missing_text(person))
        return END
    if person.is_frozen:
        await say(update, _("Your account is frozen; you cannot request a loan now."))
        return END
    if not person.is_borrower:
        await say(update, _("Your account is set up for lending only. Would you like to "
                            "borrow as well?"), markup=keyboard(
            [button(_("Yes, I want to borrow too"), "borrow", context.session.next_nonce,
                    "role", "b")]))
        return ROLE
    return await ask_amount(update, context)


async def ask_amount(update: Update, context: BotContext) -> str:
    person, language = context.person, context.person.language
    quote = await run_in_db(borrow_quote, user=person)
    if quote.max_principal <= 0:
        await say(update, _("You cannot borrow more right now: your verification level allows "
                            "no more than you already owe or have asked for. Repaying raises "
                            "it again; /loans shows your loans."))
        return END
    context.session.draft = {"quote": quote.as_draft()}
    await say(update, _("How much would you like to borrow? Type the amount; you can ask for up "
                        "to %(max)s.") % {"max": format_amount(quote.max_principal, language)})
    return AMOUNT


async def amount_typed(update: Update, context: BotContext) -> str | None:
    typed = await read_typed_amount(
        update, context, example=format_number(100, context.person.language),
        choice=lambda nonce, units: ("borrow", nonce, "amt", units))
    if typed.units is None:
        return typed.next_step
    return await amount_chosen(update, context, typed.units)


async def amount_chosen(update: Update, context: BotContext, units: int) -> str | None:
    """Check the amount against the limits (the same rules scoring applies), then the term."""
    language = context.person.language
    quote = _quote(context.session.draft)
    if units > quote.max_principal:
        if quote.capped_by_grade:
            why = _("Your grade %(grade)s allows up to %(max)s per loan.") % {
                "grade": quote.grade, "max": format_amount(quote.max_principal, language)}
        else:
            why = _("Your verification level allows you to borrow up to %(max)s now.") % {
                "max": format_amount(quote.max_principal, language)}
        await say(update, _("%(amount)s is more than you can borrow.") % {
            "amount": format_amount(units, language)} + " " + why + " " + _(
            "Please type a smaller amount."))
        return None
    context.session.draft = {"quote": quote.as_draft(), "amount": units}
    nonce = context.session.next_nonce
    terms = [button(term_label(n, language), "borrow", nonce, "term", n)
             for n in quote.terms]
    await replace_or_say(update, _("%(amount)s. Over how many monthly installments would you "
                                   "like to repay?") % {"amount": format_amount(units, language)},
                         markup=keyboard(*[terms[i:i + 3] for i in range(0, len(terms), 3)]))
    return TERM


async def ask_purpose(update: Update, context: BotContext) -> str:
    nonce = context.session.next_nonce
    purposes = [button(purpose_label(value), "borrow", nonce, "purpose", value)
                for value in LoanPurpose.values]
    await replace_or_say(update, _("What is the loan for?"),
                         markup=keyboard(*[purposes[i:i + 2]
                                           for i in range(0, len(purposes), 2)]))
    return PURPOSE


async def ask_income(update: Update, context: BotContext) -> str:
    nonce, language = context.session.next_nonce, context.person.language
    bands = [[button(income_label(band, language), "borrow", nonce, "income", band)]
             for band in IncomeBand.values]
    bands.append([button(_("Prefer not to say"), "borrow", nonce, "income", NOT_SAID)])
    await replace_or_say(update, _("What is your monthly income, in US dollars or the "
                                   "equivalent? It helps your score; it is never shown to "
                                   "lenders."), markup=keyboard(*bands))
    return INCOME


async def ask_employment(update: Update, context: BotContext) -> str:
    nonce = context.session.next_nonce
    options = [button(employment_label(value), "borrow", nonce, "job", value)
               for value in Employment.values]
    rows = [options[i:i + 2] for i in range(0, len(options), 2)]
    rows.append([button(_("Prefer not to say"), "borrow", nonce, "job", NOT_SAID)])
    await replace_or_say(update, _("What is your work situation?"), markup=keyboard(*rows))
    return EMPLOYMENT


async def show_summary(update: Update, context: BotContext) -> str:
    language = context.person.language
    draft = context.session.draft
    quote = _quote(draft)
    units, count = draft["amount"], draft["installments"]
    total, schedule = quote_schedule(quote=quote, principal=units, installments=count)
    nonce = context.session.next_nonce
    lines = [
        _("Your application:"),
        _("Amount: %(amount)s") % {"amount": format_amount(units, language)},
        _("Term: %(term)s") % {"term": term_label(count, language)},
        _("Purpose: %(purpose)s") % {"purpose": purpose_label(draft["purpose"])},
        "",
        _("Estimated at %(apr)s a year, you would repay %(total)s:") % {
            "apr": format_percent_bps(quote.apr_bps, language),
            "total": format_amount(total, language)},
        *schedule_lines(schedule, language),
        "",
        _("The real rate comes with your offer and depends on your score. Submitting costs "
          "nothing and commits you to nothing."),
    ]
    await replace_or_say(update, "\n".join(lines), markup=keyboard(
        [button(_("Submit the application"), "borrow", nonce, "submit", "yes")],
        [button(_("Cancel"), "borrow", nonce, "submit", "no")]))
    await send_schedule_chart(update, schedule)
    return CONFIRM


async def submit(update: Update, context: BotContext) -> str:
    draft, person = context.session.draft, context.person
    try:
        loan = await run_in_db(loan_application_submit, borrower=person,
                               principal=draft["amount"], installments=draft["installments"],
                               purpose=draft["purpose"])
    except ServiceError as error:
        await replace_or_say(update, str(error))
        return END
    await replace_or_say(update, _("Application #%(loan)s is submitted. Scoring is running: "
                                   "I will send you the result here in a moment.") % {
        "loan": localize_digits(str(loan.pk), person.language)})
    return END


# --- buttons ----------------------------------------------------------------------------------

def _term_value(value: str, draft: dict) -> bool:
    return (value.isdigit() and "amount" in draft
            and int(value) in BorrowQuote.from_draft(draft["quote"]).terms)


def _purpose_value(value: str, draft: dict) -> bool:
    return value in LoanPurpose.values and "installments" in draft


def _one_of(*values: str):
    return lambda value, draft: value in values


async def role_chosen(update: Update, context: BotContext, value: str) -> str:
    context.person = await run_in_db(user_set_roles, user=context.person, borrower=True,
                                     lender=context.person.is_lender)
    return await ask_amount(update, context)


async def amount_pressed(update: Update, context: BotContext, value: str) -> str | None:
    return await amount_chosen(update, context, int(value))


async def term_chosen(update: Update, context: BotContext, value: str) -> str:
    context.session.draft["installments"] = int(value)
    return await ask_purpose(update, context)


async def purpose_chosen(update: Update, context: BotContext, value: str) -> str:
    context.session.draft["purpose"] = value
    if _quote(context.session.draft).profile_declared:
        return await show_summary(update, context)
    return await ask_income(update, context)


async def income_chosen(update: Update, context: BotContext, value: str) -> str:
    context.session.draft["income"] = "" if value == NOT_SAID else value
    return await ask_employment(update, context)


async def job_chosen(update: Update, context: BotContext, value: str) -> str:
    await run_in_db(borrower_profile_set, user=context.person,
                    income_band=context.session.draft["income"],
                    employment="" if value == NOT_SAID else value)
    return await show_summary(update, context)


async def submit_chosen(update: Update, context: BotContext, value: str) -> str:
    if value == "yes":
        return await submit(update, context)
    await replace_or_say(update, _("Cancelled. Nothing was submitted. Send /borrow to start "
                                   "again."))
    return END


# --- the offer's buttons (from the offer_ready notification) ----------------------------------

async def offer_pressed(update: Update, context: BotContext) -> None:
    """Accept or decline an offer. The button only names the loan: it must be the person's
    own, still approved and not yet listed."""
    pressed = callbacks.decode(update.callback_query.data)
    what, loan_id = (pressed.arg(0), pressed.arg(1)) if pressed else (None, None)
    person = context.person
    loan = (await run_in_db(borrower_loan, borrower=person, loan_id=int(loan_id))
            if what in ("acc", "dec") and (loan_id or "").isdigit() else None)
    if loan is None:
        await answer_button(update, _("This offer is not yours or no longer exists."),
                            alert=True)
        return
    if loan.state != LoanState.APPROVED:
        await answer_button(update, _("This offer can no longer be answered: the loan is "
                                      "%(state)s.") % {"state": state_label(loan.state)},
                            alert=True)
        return
    await answer_button(update)
    try:
        if what == "dec":
            await run_in_db(loan_cancel, loan=loan, actor=person, reason="offer declined")
            await replace_or_say(update, _("You declined the offer for loan #%(loan)s. Nothing "
                                           "else happens; /borrow whenever you need a loan.")
                                 % {"loan": localize_digits(str(loan.pk), person.language)})
            return
        request, token = await run_in_db(open_loan_request, user=person, loan=loan)
    except ServiceError as error:
        await say(update, str(error))
        return
    await offer_signing(update, request, token, lead=_(
        "You accepted the offer. Sign the listing in your wallet; once the chain confirms it, "
        "lenders can fund your loan and I will keep you posted."))


def build_handlers() -> Journey:
    return Journey(
        name="borrow",
        handlers=[
            command("borrow", borrow),
            step_button(KIND, "role", ROLE, role_chosen, valid=_one_of("b")),
            step_button(KIND, "amt", AMOUNT, amount_pressed, valid=reading_value),
            step_button(KIND, "term", TERM, term_chosen, valid=_term_value),
            step_button(KIND, "purpose", PURPOSE, purpose_chosen, valid=_purpose_value),
            step_button(KIND, "income", INCOME, income_chosen,
                        valid=_one_of(*IncomeBand.values, NOT_SAID)),
            step_button(KIND, "job", EMPLOYMENT, job_chosen,
                        valid=_one_of(*Employment.values, NOT_SAID)),
            step_button(KIND, "submit", CONFIRM, submit_chosen, valid=_one_of("yes", "no")),
            CallbackQueryHandler(offer_pressed, pattern=callbacks.pattern("offer")),
        ],
        steps={AMOUNT: amount_typed, **{step: buttons_expected for step in (
            ROLE, TERM, PURPOSE, INCOME, EMPLOYMENT, CONFIRM)}},
        commands=[("borrow", gettext_lazy("ask for a loan"))],
    )
