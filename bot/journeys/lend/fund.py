"""/lend's funding: a preset amount from a loan's card, or a typed one (the one step of this
journey), each through a signing request. Core's fund_request decides whether this person may
fund the loan; the refusals are said here in the bot's words."""

from __future__ import annotations

from django.utils.translation import gettext as _
from telegram import Update

from bot.amounts import read_typed_amount
from bot.cards import card_data, send_loan_card
from bot.conversation import END, BotContext
from bot.dbcall import run_in_db
from bot.i18n import format_amount, format_number, localize_digits
from bot.journeys.lend.browse import KIND, loan_id_of
from bot.replies import answer_button, say
from bot.signing import offer_signing
from core.common.errors import ServiceError
from core.loans import funding
from core.loans.funding import (
    FundingRefused,
    funding_amount,
    funding_refusal,
    loan_open_for_funding,
)
from core.loans.market import loan_public
from core.loans.models import Loan
from core.signing.actions import fund_request

FUND_AMOUNT = "lend.amount"


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


async def fund_pressed(update: Update, context: BotContext, args: tuple[str, ...]) -> None:
    """A preset amount of a loan's card: `fund|<loan>|<units>`."""
    loan_id = loan_id_of(args)
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
    await offer_funding(update, context, loan, units)


async def offer_funding(update: Update, context: BotContext, loan: Loan, units: int,
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


async def type_pressed(update: Update, context: BotContext,
                       args: tuple[str, ...]) -> str | None:
    """"Another amount" on a loan's card: the lender types it next."""
    loan_id = loan_id_of(args)
    loan, _presets = await run_in_db(card_data, loan_id) if loan_id is not None else (None, [])
    if loan is None or not loan_open_for_funding(loan=loan):
        await answer_button(update, _("This loan is not listed for funding."), alert=True)
        return None
    refusal = funding_refusal(lender=context.person, loan=loan)
    if refusal is not None:
        await answer_button(update, refusal_text(refusal), alert=True)
        return None
    await answer_button(update)
    context.session.draft = {"loan_id": loan.pk}
    language = context.person.language
    await say(update, _("How much would you like to lend to loan #%(loan)s? Type the amount, "
                        "up to %(left)s. Send /cancel to stop.") % {
        "loan": localize_digits(str(loan.pk), language),
        "left": format_amount(loan.left_to_fund, language)})
    return FUND_AMOUNT


async def amount_typed(update: Update, context: BotContext) -> str | None:
    typed = await read_typed_amount(
        update, context, example=format_number(50, context.person.language),
        choice=lambda nonce, units: (KIND, "amt", nonce, units))
    if typed.units is None:
        return typed.next_step
    return await typed_amount_chosen(update, context, typed.units)


async def amount_pressed(update: Update, context: BotContext, value: str) -> str:
    """One reading of an amount that read two ways."""
    return await typed_amount_chosen(update, context, int(value))


async def typed_amount_chosen(update: Update, context: BotContext, units: int) -> str:
    loan_id = context.session.draft.get("loan_id")
    loan = await run_in_db(loan_public, loan_id=int(loan_id)) if loan_id else None
    language = context.person.language
    if loan is None or not loan_open_for_funding(loan=loan):
        await say(update, _("This loan is no longer open for funding. Send /lend to see the "
                            "loans that are."))
        return END
    amount = funding_amount(loan=loan, asked=units)
    lead = "" if amount == units else _(
        "Only %(left)s is left to fund on this loan, so that is the amount.") % {
        "left": format_amount(amount, language)}
    await offer_funding(update, context, loan, amount, lead=lead)
    return END


