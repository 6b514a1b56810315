"""/borrow: ask for a loan. Amount (typed the way the person writes numbers, checked against
their verification level and their grade), term and purpose as buttons, income and
employment when the profile lacks them, then a summary with the schedule (a table and a chart)
and submit. Scoring runs at once; its offer, refusal or review notice arrives through the
outbox (bot/notifications/scoring.py), and the offer's Accept button leads to signing the
listing in the borrower's wallet."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.amounts import read_typed_amount
from bot.charts import PALETTE, Series, stacked_bars_png
from bot.conversation import END, BotContext, save_step
from bot.dbcall import run_in_db
from bot.i18n import (
    format_amount,
    format_number,
    format_percent_bps,
    localize_digits,
)
from bot.journeys import Journey
from bot.journeys.onboarding import missing_steps, missing_text
from bot.replies import answer_button, answer_stale_button, button, keyboard, replace_or_say, say
from bot.signing import offer_signing
from core.common.errors import ServiceError
from core.common.queueing import publish
from core.loans.amortization import ScheduledInstallment, annuity_total_due, build_schedule
from core.loans.labels import purpose_label, state_label, term_label
from core.loans.models import Loan, LoanPurpose
from core.loans.services import ALLOWED_INSTALLMENTS, loan_application_submit, loan_cancel
from core.loans.states import LoanState
from core.scoring import policy
from core.scoring.models import BorrowerProfile, Employment, IncomeBand
from core.scoring.profile import borrower_profile_set
from core.scoring.selectors import BorrowingLimit, borrowing_limit
from core.scoring.tasks import score_application
from core.users.models import TelegramUser
from core.users.services import user_set_roles
from core.wallets.actions import open_loan_request

ROLE, AMOUNT, TERM, PURPOSE, INCOME, EMPLOYMENT, CONFIRM = (
    "borrow.role", "borrow.amount", "borrow.term", "borrow.purpose", "borrow.income",
    "borrow.employment", "borrow.confirm")
TERMS_OFFERED = (1, 3, 6, 12, 18, 24)
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


# --- reads, each one unit of database work ------------------------------------------------------

def _limit_and_profile(user: TelegramUser) -> tuple[BorrowingLimit, bool, int]:
    """The borrowing room, whether the profile was ever declared, and the APR to estimate
    with: the latest grade's, or (never scored) the highest rate we offer, so the estimate
    never looks cheaper than the offer can be."""
    limit = borrowing_limit(user=user)
    pricing = policy.load_pricing()
    offered = [terms.apr_bps for grade, terms in pricing.grades.items()
               if grade not in pricing.refuse_grades]
    apr = (pricing.grades[limit.grade].apr_bps
           if limit.grade and limit.grade not in pricing.refuse_grades else max(offered))
    return limit, BorrowerProfile.objects.filter(user=user).exists(), apr


def _terms_for(limit: BorrowingLimit) -> list[int]:
    longest = limit.max_installments or max(TERMS_OFFERED)
    return [n for n in TERMS_OFFERED if n in ALLOWED_INSTALLMENTS and n <= longest]


# --- /borrow ----------------------------------------------------------------------------------

async def borrow(update: Update, context: BotContext) -> None:
    person = context.person
    await save_step(context, END)
    if missing_steps(person):
        await say(update, missing_text(person))
        return
    if person.is_frozen:
        await say(update, _("Your account is frozen; you cannot request a loan now."))
        return
    if not person.is_borrower:
        await save_step(context, ROLE)
        await say(update, _("Your account is set up for lending only. Would you like to "
                            "borrow as well?"), markup=keyboard(
            [button(_("Yes, I want to borrow too"), "borrow", context.session.nonce, "role",
                    "b")]))
        return
    await ask_amount(update, context)


async def ask_amount(update: Update, context: BotContext) -> None:
    person, language = context.person, context.person.language
    limit, _declared, _apr = await run_in_db(_limit_and_profile, person)
    if limit.max_principal <= 0:
        await save_step(context, END)
        await say(update, _("You cannot borrow more right now: your verification level allows "
                            "no more than you already owe or have asked for. Repaying raises "
                            "it again; /loans shows your loans."))
        return
    await save_step(context, AMOUNT, draft={})
    await say(update, _("How much would you like to borrow? Type the amount; you can ask for up "
                        "to %(max)s.") % {"max": format_amount(limit.max_principal, language)})


async def amount_typed(update: Update, context: BotContext) -> None:
    units = await read_typed_amount(
        update, context, example=format_number(100, context.person.language),
        choice=lambda nonce, units: ("borrow", nonce, "amt", units))
    if units is not None:
        await amount_chosen(update, context, units)


async def amount_chosen(update: Update, context: BotContext, units: int) -> None:
    """Check the amount against the limits (the same rules scoring applies), then the term."""
    language = context.person.language
    limit, _declared, _apr = await run_in_db(_limit_and_profile, context.person)
    if units > limit.max_principal:
        if limit.grade_max_principal is not None and limit.max_principal < limit.kyc_available:
            why = _("Your grade %(grade)s allows up to %(max)s per loan.") % {
                "grade": limit.grade, "max": format_amount(limit.max_principal, language)}
        else:
            why = _("Your verification level allows you to borrow up to %(max)s now.") % {
                "max": format_amount(limit.max_principal, language)}
        await say(update, _("%(amount)s is more than you can borrow.") % {
            "amount": format_amount(units, language)} + " " + why + " " + _(
            "Please type a smaller amount."))
        return
    draft = {"amount": units}
    await save_step(context, TERM, draft=draft)
    nonce = context.session.nonce
    terms = [button(term_label(n, language), "borrow", nonce, "term", n)
             for n in _terms_for(limit)]
    await replace_or_say(update, _("%(amount)s. Over how many monthly installments would you "
                                   "like to repay?") % {"amount": format_amount(units, language)},
                         markup=keyboard(*[terms[i:i + 3] for i in range(0, len(terms), 3)]))


async def ask_purpose(update: Update, context: BotContext) -> None:
    await save_step(context, PURPOSE)
    nonce = context.session.nonce
    purposes = [button(purpose_label(value), "borrow", nonce, "purpose", value)
                for value in LoanPurpose.values]
    await replace_or_say(update, _("What is the loan for?"),
                         markup=keyboard(*[purposes[i:i + 2]
                                           for i in range(0, len(purposes), 2)]))


async def ask_income(update: Update, context: BotContext) -> None:
    await save_step(context, INCOME)
    nonce, language = context.session.nonce, context.person.language
    bands = [[button(income_label(band, language), "borrow", nonce, "income", band)]
             for band in IncomeBand.values]
    bands.append([button(_("Prefer not to say"), "borrow", nonce, "income", NOT_SAID)])
    await replace_or_say(update, _("What is your monthly income, in US dollars or the "
                                   "equivalent? It helps your score; it is never shown to "
                                   "lenders."), markup=keyboard(*bands))


async def ask_employment(update: Update, context: BotContext) -> None:
    await save_step(context, EMPLOYMENT)
    nonce = context.session.nonce
    options = [button(employment_label(value), "borrow", nonce, "job", value)
               for value in Employment.values]
    rows = [options[i:i + 2] for i in range(0, len(options), 2)]
    rows.append([button(_("Prefer not to say"), "borrow", nonce, "job", NOT_SAID)])
    await replace_or_say(update, _("What is your work situation?"), markup=keyboard(*rows))


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


async def show_summary(update: Update, context: BotContext) -> None:
    person, language = context.person, context.person.language
    draft = context.session.draft
    _limit, _declared, apr = await run_in_db(_limit_and_profile, person)
    units, count = draft["amount"], draft["installments"]
    total = annuity_total_due(principal=units, apr_bps=apr, installments=count,
                              interval_days=settings.LOAN_INTERVAL_DAYS)
    schedule = build_schedule(principal=units, total_due=total, apr_bps=apr, installments=count,
                              interval_days=settings.LOAN_INTERVAL_DAYS)
    await save_step(context, CONFIRM)
    nonce = context.session.nonce
    lines = [
        _("Your application:"),
        _("Amount: %(amount)s") % {"amount": format_amount(units, language)},
        _("Term: %(term)s") % {"term": term_label(count, language)},
        _("Purpose: %(purpose)s") % {"purpose": purpose_label(draft["purpose"])},
        "",
        _("Estimated at %(apr)s a year, you would repay %(total)s:") % {
            "apr": format_percent_bps(apr, language), "total": format_amount(total, language)},
        *schedule_lines(schedule, language),
        "",
        _("The real rate comes with your offer and depends on your score. Submitting costs "
          "nothing and commits you to nothing."),
    ]
    await replace_or_say(update, "\n".join(lines), markup=keyboard(
        [button(_("Submit the application"), "borrow", nonce, "submit", "yes")],
        [button(_("Cancel"), "borrow", nonce, "submit", "no")]))
    await send_schedule_chart(update, schedule)


async def after_purpose(update: Update, context: BotContext) -> None:
    _limit, declared, _apr = await run_in_db(_limit_and_profile, context.person)
    if declared:
        await show_summary(update, context)
    else:
        await ask_income(update, context)


async def submit(update: Update, context: BotContext) -> None:
    draft, person = context.session.draft, context.person
    try:
        loan = await run_in_db(loan_application_submit, borrower=person,
                               principal=draft["amount"], installments=draft["installments"],
                               purpose=draft["purpose"])
    except ServiceError as error:
        await save_step(context, END)
        await replace_or_say(update, str(error))
        return
    await save_step(context, END)
    await replace_or_say(update, _("Application #%(loan)s is submitted. Scoring is running: "
                                   "I will send you the result here in a moment.") % {
        "loan": localize_digits(str(loan.pk), person.language)})
    # Eager in tests and scripts; otherwise a worker picks it up within seconds. With the
    # broker down the loan waits, submitted, for the periodic sweep (core/common/queueing.py).
    await run_in_db(publish, score_application, loan.pk)


# --- buttons ----------------------------------------------------------------------------------

_STEP_OF = {"role": ROLE, "amt": AMOUNT, "term": TERM, "purpose": PURPOSE, "income": INCOME,
            "job": EMPLOYMENT, "submit": CONFIRM}


def _valid(what: str, value: str, draft: dict) -> bool:
    if what == "amt":
        return value.isdigit() and 0 < int(value) <= 10**15
    if what == "term":
        return value.isdigit() and int(value) in TERMS_OFFERED and "amount" in draft
    if what == "purpose":
        return value in LoanPurpose.values and "installments" in draft
    if what == "income":
        return value in (*IncomeBand.values, NOT_SAID)
    if what == "job":
        return value in (*Employment.values, NOT_SAID)
    return value in {"role": ("b",), "submit": ("yes", "no")}.get(what, ())


async def button_pressed(update: Update, context: BotContext) -> None:
    pressed = callbacks.decode(update.callback_query.data)
    session = context.session
    nonce, what, value = (pressed.arg(0), pressed.arg(1), pressed.arg(2)) if pressed else (
        None, None, None)
    if (session is None or not session.nonce or nonce != session.nonce or what not in _STEP_OF
            or session.step != _STEP_OF[what] or not _valid(what, value or "", session.draft)):
        await answer_stale_button(update)
        return
    await answer_button(update)
    draft = session.draft
    if what == "role":
        context.person = await run_in_db(user_set_roles, user=context.person, borrower=True,
                                         lender=context.person.is_lender)
        await ask_amount(update, context)
    elif what == "amt":
        await amount_chosen(update, context, int(value))
    elif what == "term":
        draft["installments"] = int(value)
        await ask_purpose(update, context)
    elif what == "purpose":
        draft["purpose"] = value
        await after_purpose(update, context)
    elif what == "income":
        draft["income"] = "" if value == NOT_SAID else value
        await ask_employment(update, context)
    elif what == "job":
        await run_in_db(borrower_profile_set, user=context.person, income_band=draft["income"],
                        employment="" if value == NOT_SAID else value)
        await show_summary(update, context)
    elif value == "yes":
        await submit(update, context)
    else:
        await save_step(context, END)
        await replace_or_say(update, _("Cancelled. Nothing was submitted. Send /borrow to "
                                       "start again."))


async def buttons_expected(update: Update, context: BotContext) -> None:
    await say(update, _("Please answer with the buttons above, or send /cancel to stop."))


# --- the offer's buttons (from the offer_ready notification) ----------------------------------

def _own_loan(user: TelegramUser, loan_id: int) -> Loan | None:
    return Loan.objects.filter(pk=loan_id, borrower=user).first()


async def offer_pressed(update: Update, context: BotContext) -> None:
    """Accept or decline an offer. The button only names the loan: it must be the person's
    own, still approved and not yet listed."""
    pressed = callbacks.decode(update.callback_query.data)
    what, loan_id = (pressed.arg(0), pressed.arg(1)) if pressed else (None, None)
    person = context.person
    loan = (await run_in_db(_own_loan, person, int(loan_id))
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
            CommandHandler("borrow", borrow),
            CallbackQueryHandler(button_pressed, pattern=callbacks.pattern("borrow")),
            CallbackQueryHandler(offer_pressed, pattern=callbacks.pattern("offer")),
        ],
        steps={AMOUNT: amount_typed, **{step: buttons_expected for step in (
            ROLE, TERM, PURPOSE, INCOME, EMPLOYMENT, CONFIRM)}},
        commands=[("borrow", gettext_lazy("ask for a loan"))],
    )
