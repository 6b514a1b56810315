"""/calc: estimate a loan's repayments. Two steps, kept in the database between messages:
the amount (typed the way the person writes numbers; asked back when it reads two ways),
then the number of monthly installments (buttons)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from telegram import Update

from bot.amounts import read_typed_amount, reading_value
from bot.conversation import END, BotContext, command, step_button
from bot.i18n import (
    format_amount,
    format_number,
    format_percent_bps,
)
from bot.journeys import Journey
from bot.replies import button, keyboard, replace_or_say, say
from core.loans.amortization import annuity_total_due

AMOUNT, TERM = "calc.amount", "calc.term"
TERMS = (3, 6, 12)
# An illustrative rate: a real offer's rate comes from the borrower's score.
EXAMPLE_APR_BPS = 1800
EXAMPLE_UNITS = 250 * 10**settings.STABLE_DECIMALS


def _example(language: str) -> str:
    return format_amount(EXAMPLE_UNITS, language, symbol=False)


async def start_calc(update: Update, context: BotContext) -> str:
    await say(update, _("How much would you like to borrow? Type the amount, for example "
                        "%(example)s.") % {"example": _example(context.person.language)})
    return AMOUNT


async def amount_typed(update: Update, context: BotContext) -> str | None:
    typed = await read_typed_amount(
        update, context, example=_example(context.person.language),
        choice=lambda nonce, units: ("calc", nonce, "amt", units))
    if typed.units is None:
        return typed.next_step
    return await _ask_term(update, context, typed.units)


async def _ask_term(update: Update, context: BotContext, units: int) -> str:
    context.session.draft["amount"] = units
    nonce = context.session.next_nonce
    language = context.person.language
    terms = [button(ngettext("%(count)s month", "%(count)s months", n)
                    % {"count": format_number(n, language)}, "calc", nonce, "term", n)
             for n in TERMS]
    await replace_or_say(update, _("%(amount)s. Over how many monthly installments?")
                         % {"amount": format_amount(units, language)}, markup=keyboard(terms))
    return TERM


async def term_typed(update: Update, context: BotContext) -> None:
    await say(update, _("Please choose the number of installments with the buttons above, or "
                        "send /cancel."))


def _term_value(value: str, draft: dict) -> bool:
    return value.isdigit() and int(value) in TERMS and isinstance(draft.get("amount"), int)


async def amount_pressed(update: Update, context: BotContext, value: str) -> str:
    """One reading of an amount that read two ways."""
    return await _ask_term(update, context, int(value))


async def term_chosen(update: Update, context: BotContext, value: str) -> str:
    installments, units = int(value), context.session.draft["amount"]
    language = context.person.language
    total = annuity_total_due(principal=units, apr_bps=EXAMPLE_APR_BPS,
                              installments=installments,
                              interval_days=settings.LOAN_INTERVAL_DAYS)
    await replace_or_say(update, "\n".join([
        ngettext("Estimate for %(amount)s over %(count)s installment at %(apr)s a year:",
                 "Estimate for %(amount)s over %(count)s installments at %(apr)s a year:",
                 installments)
        % {"amount": format_amount(units, language),
           "count": format_number(installments, language),
           "apr": format_percent_bps(EXAMPLE_APR_BPS, language)},
        _("each installment: about %(installment)s") % {
            "installment": format_amount(_to_cents(total // installments), language)},
        _("total to repay: %(total)s") % {"total": format_amount(total, language)},
        "",
        _("This rate is an example; your own offer depends on your score. Send /calc for "
          "another estimate."),
    ]))
    return END


def _to_cents(units: int) -> int:
    """An estimate reads better to the cent; exact amounts come with the real offer."""
    cent = 10 ** (settings.STABLE_DECIMALS - 2)
    return (units + cent // 2) // cent * cent


def build_handlers() -> Journey:
    return Journey(
        name="calc",
        handlers=[
            command("calc", start_calc),
            step_button("calc", "amt", AMOUNT, amount_pressed, valid=reading_value),
            step_button("calc", "term", TERM, term_chosen, valid=_term_value),
        ],
        steps={AMOUNT: amount_typed, TERM: term_typed},
        commands=[("calc", gettext_lazy("estimate the repayments of a loan"))],
    )
