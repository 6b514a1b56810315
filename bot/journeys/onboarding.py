"""/start: onboarding, one step at a time, each stored on the person as it is done.

Language (preselected from Telegram's language code), role, terms, phone (Telegram's
contact-share button; only the person's own card counts), then the wallet, linked by signing
a message on the signing page. A step already done is skipped, so a second /start goes
straight to what is missing, or says welcome back and what to do next. Deep-link payloads:
`loan_<id>` opens that loan's card, `ref_<code>` records who invited the person.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update

from bot.cards import send_loan_card
from bot.conversation import END, BotContext, command, step_button
from bot.dbcall import run_in_db
from bot.journeys import Journey
from bot.replies import button, buttons_expected, keyboard, replace_or_say, say
from bot.signing import request_signing
from core.common.errors import ServiceError
from core.signing.actions import wallet_link_request
from core.users import selectors as user_selectors
from core.users.models import TelegramUser
from core.users.services import (
    user_record_consent,
    user_record_referral,
    user_referral_code,
    user_set_language,
    user_set_phone,
    user_set_roles,
)

LANGUAGE, ROLE, TERMS, PHONE, WALLET = (
    "onboard.language", "onboard.role", "onboard.terms", "onboard.phone", "onboard.wallet")
LANGUAGE_NAMES = dict(settings.LANGUAGES)
ROLES = {"b": (True, False), "l": (False, True), "bl": (True, True)}
KIND = "onb"
_LOAN_PAYLOAD = re.compile(r"^loan_(\d{1,12})$")
_REF_PAYLOAD = re.compile(r"^ref_([a-z0-9]{4,16})$")


# --- where the person stands --------------------------------------------------------------

# core's onboarding gaps -> the step that asks for each
_STEP_OF_GAP = {user_selectors.LANGUAGE: LANGUAGE, user_selectors.ROLE: ROLE,
                user_selectors.TERMS: TERMS, user_selectors.PHONE: PHONE,
                user_selectors.WALLET: WALLET}


def missing_steps(user: TelegramUser) -> list[str]:
    """The onboarding steps still to do, in order (core decides what is missing)."""
    return [_STEP_OF_GAP[gap] for gap in user_selectors.onboarding_gaps(user=user)]


def share_link(code: str) -> str:
    return f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start=ref_{code}"


def next_steps_lines(user: TelegramUser) -> list[str]:
    lines = []
    if user.is_borrower:
        lines += [_("/borrow — ask for a loan"), _("/loans — your loans, schedule and repayments")]
    if user.is_lender:
        lines += [_("/lend — find loans to fund"), _("/portfolio — your loans, returns and "
                                                     "repayments to collect")]
    lines.append(_("/help — everything I can do"))
    return lines


# --- /start -------------------------------------------------------------------------------

async def start(update: Update, context: BotContext) -> str:
    person = context.person
    payload = context.args[0] if context.args else ""
    referral = _REF_PAYLOAD.match(payload)
    if referral:
        # Refusals (own code, unknown code, already referred) are silent on purpose.
        await run_in_db(user_record_referral, user=person, code=referral.group(1))
    loan = _LOAN_PAYLOAD.match(payload)
    if loan:
        await send_loan_card(update, context, int(loan.group(1)))
        if not missing_steps(person):
            return END
    return await continue_onboarding(update, context, welcome_back=not loan)


async def continue_onboarding(update: Update, context: BotContext, *,
                              welcome_back: bool = True) -> str:
    """Ask for the first missing step, or (all done) end with welcome back and what next."""
    person = context.person
    missing = missing_steps(person)
    if not missing:
        if welcome_back:
            code = await run_in_db(user_referral_code, user=person)
            lines = [_("Welcome back, %(name)s! Your account is ready. What would you like to "
                       "do?") % {"name": person.first_name or person.username or ""}]
            lines += next_steps_lines(person)
            lines += ["", _("Invite friends with your own link: %(link)s")
                      % {"link": share_link(code)}]
            await say(update, "\n".join(lines))
        return END
    ask = {LANGUAGE: ask_language, ROLE: ask_role, TERMS: ask_terms, PHONE: ask_phone,
           WALLET: ask_wallet}[missing[0]]
    return await ask(update, context)


async def ask_language(update: Update, context: BotContext) -> str:
    person, nonce = context.person, context.session.next_nonce
    greeting = _("Hello, %(name)s! I am Lendgram. I help people lend to and borrow from each "
                 "other: the money moves on a blockchain, and you sign every transaction in "
                 "your own wallet.") % {"name": person.first_name or person.username or ""}
    question = _("Which language should I use? You can change it later with /language.")
    codes = list(LANGUAGE_NAMES)
    buttons = [button(("✓ " if code == person.language else "") + LANGUAGE_NAMES[code], KIND,
                      nonce, "lang", code) for code in codes]
    await say(update, f"{greeting}\n\n{question}",
              markup=keyboard(*[buttons[i:i + 2] for i in range(0, len(buttons), 2)]))
    return LANGUAGE


async def ask_role(update: Update, context: BotContext) -> str:
    nonce = context.session.next_nonce
    await say(update, _("What would you like to do? You can do both."), markup=keyboard(
        [button(_("Borrow money"), KIND, nonce, "role", "b"),
         button(_("Lend money"), KIND, nonce, "role", "l")],
        [button(_("Both"), KIND, nonce, "role", "bl")]))
    return ROLE


async def ask_terms(update: Update, context: BotContext) -> str:
    nonce = context.session.next_nonce
    text = "\n".join([
        _("Our terms, in short:"),
        _("• Lendgram never holds your money or your keys: every payment is a transaction "
          "you sign in your own wallet."),
        _("• Loans are between people. Lenders can lose money if a borrower does not repay; "
          "the backstop pool covers only part of it."),
        _("• Borrowers repay in monthly installments; late installments can lead to default, "
          "which is recorded."),
        _("• We keep your phone number encrypted and never show it to other people."),
        "",
        _("Do you accept these terms?"),
    ])
    await say(update, text, markup=keyboard(
        [button(_("I accept"), KIND, nonce, "terms", "yes"),
         button(_("I do not accept"), KIND, nonce, "terms", "no")]))
    return TERMS


def phone_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(_("Share my phone number"), request_contact=True)]],
        resize_keyboard=True, one_time_keyboard=True)


async def ask_phone(update: Update, context: BotContext) -> str:
    await say_with_keyboard(update, _("Please share your phone number with the button below. "
                                      "It stays private: lenders and other people never see "
                                      "it."))
    return PHONE


async def say_with_keyboard(update: Update, text: str) -> None:
    # say() takes inline keyboards only; the contact button is a reply keyboard.
    if update.effective_chat is not None:
        await update.effective_chat.send_message(text, reply_markup=phone_keyboard())


async def ask_wallet(update: Update, context: BotContext) -> str:
    # The signature arrives on the signing page, not in the chat: nothing to wait for here.
    await request_signing(update, wallet_link_request, user=context.person, lead=_(
        "Last step: link your wallet. Open the link in your wallet app and sign the message. "
        "I will tell you here as soon as the wallet is linked."))
    return END


# --- answers --------------------------------------------------------------------------------

async def phone_sent(update: Update, context: BotContext) -> str | None:
    """At the phone step: only a contact card, and only the person's own, is taken."""
    message = update.effective_message
    contact = message.contact if message is not None else None
    if contact is None:
        await say_with_keyboard(update, _("Please use the button below to share your phone "
                                          "number, or send /cancel to stop."))
        return None
    if contact.user_id != context.person.telegram_id:
        await say_with_keyboard(update, _("This is not your own contact, so I did not keep "
                                          "it. Please share your own number with the button "
                                          "below."))
        return None
    try:
        context.person = await run_in_db(user_set_phone, user=context.person,
                                         phone=contact.phone_number,
                                         contact_user_id=contact.user_id)
    except ServiceError as error:
        await say_with_keyboard(update, str(error))
        return None
    await update.effective_chat.send_message(_("Thank you, your phone number is saved."),
                                             reply_markup=ReplyKeyboardRemove())
    return await continue_onboarding(update, context)


async def language_chosen(update: Update, context: BotContext, value: str) -> str | None:
    try:
        context.person = await run_in_db(user_set_language, user=context.person,
                                         language=value)
    except ServiceError as error:
        await say(update, str(error))
        return None
    translation.activate(value)
    await replace_or_say(update, _("I will write to you in %(language)s.") % {
        "language": LANGUAGE_NAMES[value]})
    return await ask_role(update, context)


async def role_chosen(update: Update, context: BotContext, value: str) -> str | None:
    borrower, lender = ROLES[value]
    try:
        context.person = await run_in_db(user_set_roles, user=context.person,
                                         borrower=borrower, lender=lender)
    except ServiceError as error:
        await say(update, str(error))
        return None
    await replace_or_say(update, {"b": _("You want to borrow."), "l": _("You want to lend."),
                                  "bl": _("You want to borrow and to lend.")}[value])
    return await continue_onboarding(update, context)


async def terms_chosen(update: Update, context: BotContext, value: str) -> str:
    if value == "no":
        await replace_or_say(update, _("Without accepting the terms I cannot lend or borrow for "
                                       "you. Nothing else was saved; send /start whenever you "
                                       "change your mind."))
        return END
    context.person = await run_in_db(user_record_consent, user=context.person)
    await replace_or_say(update, _("You accepted the terms."))
    return await continue_onboarding(update, context)


def _one_of(values) -> Callable[[str, dict], bool]:
    return lambda value, draft: value in values


def build_handlers() -> Journey:
    return Journey(
        name="onboarding",
        handlers=[
            command("start", start),
            step_button(KIND, "lang", LANGUAGE, language_chosen, valid=_one_of(LANGUAGE_NAMES)),
            step_button(KIND, "role", ROLE, role_chosen, valid=_one_of(ROLES)),
            step_button(KIND, "terms", TERMS, terms_chosen, valid=_one_of(("yes", "no"))),
        ],
        steps={PHONE: phone_sent, LANGUAGE: buttons_expected, ROLE: buttons_expected,
               TERMS: buttons_expected},
        commands=[("start", gettext_lazy("start over"))],
    )
