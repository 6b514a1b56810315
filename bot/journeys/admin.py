"""/admin: platform figures, the review queue, user lookup with freeze/unfreeze, broadcasts
and pausing the contracts — for the Telegram ids in ADMIN_TELEGRAM_IDS only.

Anyone else who types /admin gets the ordinary help, and an admin button pressed by anyone
else gets the same answer as any stale button: nothing hints that the command exists. Every
button is checked again when pressed (admin, object, state; the broadcast confirmation also
the conversation's nonce), and every change goes through one core service.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler
from web3.exceptions import Web3Exception

from bot import callbacks
from bot.cards import send_help
from bot.conversation import END, BotContext, save_step, transition
from bot.dbcall import in_db, run_in_db
from bot.i18n import format_amount, format_date, format_number, format_percent_bps, localize_digits
from bot.journeys import Journey
from bot.notifications.admin import review_buttons
from bot.replies import answer_button, answer_stale_button, button, keyboard, replace_or_say, say
from bot.signing import offer_signing
from core.common.errors import ServiceError
from core.loans.labels import state_label
from core.loans.models import Loan
from core.loans.stats import PlatformStats, platform_stats
from core.notifications.services import BROADCAST_MAX_CHARS, broadcast_enqueue
from core.scoring.reasons import reason_text
from core.scoring.selectors import review_queue
from core.scoring.services import review_approve, review_reject
from core.users.models import TelegramUser
from core.users.selectors import user_activity, user_get, user_search, users_reachable
from core.users.services import user_freeze, user_unfreeze
from core.wallets.actions import contracts_paused, pause_request, unpause_request
from core.wallets.pool import PoolOverview, pool_overview
from core.wallets.rpc import TRANSIENT_RPC_ERRORS
from onchain.contracts import DeploymentMissing

log = logging.getLogger(__name__)

KIND = "adm"
REJECT_REASON, USER_QUERY = "admin.reject_reason", "admin.user_query"
FREEZE_REASON, UNFREEZE_REASON = "admin.freeze_reason", "admin.unfreeze_reason"
BROADCAST_TEXT, BROADCAST_CONFIRM = "admin.broadcast_text", "admin.broadcast_confirm"
QUEUE_SHOWN = 10
SEARCH_SHOWN = 10
REASON_MAX = 255


def is_admin(person: TelegramUser | None) -> bool:
    """Only the configured ids count; the stored flag alone is not enough."""
    return (person is not None and person.telegram_id in settings.ADMIN_TELEGRAM_IDS
            and person.is_admin)


async def _not_for_you(update: Update) -> None:
    """What a non-admin gets for an admin button: the answer of any stale button."""
    await answer_stale_button(update)


def _percent(ratio: float, language: str) -> str:
    return format_percent_bps(round(ratio * 10_000), language)


# --- the home screen: figures and what an admin can do --------------------------------------

@dataclass(frozen=True)
class Dashboard:
    stats: PlatformStats
    pool: PoolOverview
    in_review: int
    paused: dict[str, bool] | None  # None: the chain could not be read


@in_db
def _dashboard() -> Dashboard:
    try:
        paused = contracts_paused()
    except (*TRANSIENT_RPC_ERRORS, Web3Exception, DeploymentMissing, ValueError):
        paused = None  # the figures still help while the node is away
    return Dashboard(stats=platform_stats(), pool=pool_overview(),
                     in_review=review_queue().count(), paused=paused)


def dashboard_text(board: Dashboard, language: str) -> str:
    stats, pool = board.stats, board.pool
    lines = [_("Lendgram today"), "", _("Loans by state:")]
    by_state = [(state, count) for state, count in stats.loans_by_state.items() if count]
    lines += [f"• {state_label(state)}: {format_number(count, language)}"
              for state, count in by_state] or [_("• no loans yet")]
    lines += [
        "",
        _("Funded volume: %(amount)s") % {"amount": format_amount(stats.volume_funded, language)},
        _("Repaid: %(amount)s") % {"amount": format_amount(stats.volume_repaid, language)},
        _("Principal outstanding: %(amount)s")
        % {"amount": format_amount(stats.outstanding_principal, language)},
        _("Default rate: %(rate)s") % {"rate": _percent(stats.default_rate, language)},
        _("Portfolio at risk over 30 days (PAR30): %(rate)s")
        % {"rate": _percent(stats.par30, language)},
        _("Borrowers: %(borrowers)s · lenders: %(lenders)s")
        % {"borrowers": format_number(stats.borrowers, language),
           "lenders": format_number(stats.lenders, language)},
    ]
    if pool.available:
        lines.append(_("Backstop pool (TVL): %(amount)s")
                     % {"amount": format_amount(pool.total_assets, language)})
    else:
        lines.append(_("Backstop pool: the chain cannot be read right now."))
    if board.paused is None:
        lines.append(_("Contracts: the chain cannot be read right now."))
    elif any(board.paused.values()):
        lines.append(_("Contracts: PAUSED"))
    else:
        lines.append(_("Contracts: running"))
    lines += ["", ngettext("%(count)s application waits for review.",
                           "%(count)s applications wait for review.", board.in_review)
              % {"count": format_number(board.in_review, language)}]
    return "\n".join(lines)


def dashboard_markup(board: Dashboard, language: str):
    paused = board.paused is not None and any(board.paused.values())
    return keyboard(
        [button(_("Review queue (%(count)s)") % {"count": format_number(board.in_review,
                                                                        language)}, KIND, "q")],
        [button(_("Find a user"), KIND, "find"), button(_("Broadcast"), KIND, "bc")],
        [button(_("Resume the contracts") if paused else _("Pause the contracts"), KIND,
                "ups" if paused else "ps")],
        [button(_("Refresh"), KIND, "home")],
    )


async def admin_command(update: Update, context: BotContext) -> None:
    if not is_admin(context.person):
        await send_help(update, context)
        return
    language = context.person.language
    board = await _dashboard()
    await say(update, dashboard_text(board, language), markup=dashboard_markup(board, language))


# --- the review queue --------------------------------------------------------------------------

@in_db
def _queue() -> tuple[list[Loan], int]:
    queue = review_queue()
    return list(queue[:QUEUE_SHOWN]), queue.count()


@in_db
def _in_review(loan_id: int) -> Loan | None:
    return review_queue().filter(pk=loan_id).first()


def review_item_text(loan: Loan, language: str) -> str:
    lines = [_("Application #%(loan)s: %(amount)s over %(count)s installments, grade "
               "%(grade)s, score %(score)s.")
             % {"loan": localize_digits(str(loan.pk), language),
                "amount": format_amount(loan.principal, language),
                "count": format_number(loan.installments, language), "grade": loan.grade or "–",
                "score": format_number(loan.score or 0, language)}]
    if loan.review_since:
        lines.append(_("Waiting since %(date)s.") % {"date": format_date(loan.review_since,
                                                                          language)})
    reasons = list(loan.offer_reasons or [])
    if reasons:
        lines += [_("What shaped the score:"), *(f"• {reason_text(key)}" for key in reasons)]
    return "\n".join(lines)


async def _show_queue(update: Update, language: str) -> None:
    loans, total = await _queue()
    if not loans:
        await replace_or_say(update, _("No application waits for review."),
                             markup=keyboard([button(_("Back"), KIND, "home")]))
        return
    lines = [ngettext("%(count)s application waits for review, oldest first:",
                      "%(count)s applications wait for review, oldest first:", total)
             % {"count": format_number(total, language)}]
    rows = [[button(_("#%(loan)s · %(amount)s · grade %(grade)s")
                    % {"loan": localize_digits(str(loan.pk), language),
                       "amount": format_amount(loan.principal, language),
                       "grade": loan.grade or "–"}, KIND, "it", loan.pk)] for loan in loans]
    rows.append([button(_("Back"), KIND, "home")])
    await replace_or_say(update, "\n".join(lines), markup=keyboard(*rows))


async def _approve(update: Update, context: BotContext, loan_id: int) -> None:
    loan = await _in_review(loan_id)
    if loan is None:
        await answer_button(update, _("This application is no longer waiting for review."),
                            alert=True)
        return
    try:
        await run_in_db(review_approve, loan=loan, reviewer=context.person,
                        note="approved in chat")
    except ServiceError as error:
        await answer_button(update, str(error), alert=True)
        return
    await answer_button(update)
    await replace_or_say(update, _("Application #%(loan)s is approved; the borrower has the "
                                   "offer.") % {"loan": localize_digits(str(loan_id),
                                                                         context.person.language)},
                         markup=keyboard([button(_("Review queue"), KIND, "q")]))


async def _ask_reject_reason(update: Update, context: BotContext, loan_id: int) -> None:
    if await _in_review(loan_id) is None:
        await answer_button(update, _("This application is no longer waiting for review."),
                            alert=True)
        return
    await answer_button(update)
    await save_step(context, REJECT_REASON, draft={"loan_id": loan_id})
    await say(update, _("Why do you reject application #%(loan)s? Type the reason: it is kept "
                        "in the loan's history. The borrower is told that a reviewer declined "
                        "it, with the reasons behind their score. /cancel keeps it in review.")
              % {"loan": localize_digits(str(loan_id), context.person.language)})


async def _typed_reason(update: Update) -> str | None:
    """The reason an admin typed (kept in the audit trail), or None once asked again."""
    reason = (update.effective_message.text or "").strip() if update.effective_message else ""
    if not reason or reason.startswith("/"):
        await say(update, _("Please type the reason as a message, or send /cancel."))
        return None
    return reason[:REASON_MAX]


@transition
async def reject_reason_typed(update: Update, context: BotContext) -> str | None:
    if not is_admin(context.person):
        return END
    reason = await _typed_reason(update)
    if reason is None:
        return None
    loan = await _in_review(int(context.session.draft.get("loan_id", 0)))
    if loan is None:
        await say(update, _("This application is no longer waiting for review."))
        return END
    try:
        await run_in_db(review_reject, loan=loan, reviewer=context.person,
                        reason=reason)
    except ServiceError as error:
        await say(update, str(error))
        return END
    await say(update, _("Application #%(loan)s is rejected; the borrower has been told.")
              % {"loan": localize_digits(str(loan.pk), context.person.language)},
              markup=keyboard([button(_("Review queue"), KIND, "q")]))
    return END


# --- users: lookup, freeze, unfreeze --------------------------------------------------------

def mask_phone(phone: str) -> str:
    """Enough to recognise a number when the person reads theirs out, not enough to call it."""
    if not phone:
        return ""
    digits = phone.lstrip("+")
    return "+" + digits[:2] + "•" * max(len(digits) - 4, 1) + digits[-2:]


@in_db
def _user(user_id: int) -> tuple[TelegramUser, dict] | None:
    user = user_get(user_id=user_id)
    return (user, user_activity(user=user)) if user is not None else None


def user_card_text(user: TelegramUser, activity: dict, language: str) -> str:
    name = " ".join(part for part in (user.first_name, user.last_name) if part) or "–"
    roles = {"borrower": _("borrower"), "lender": _("lender"), "admin": _("admin")}
    lines = [
        _("%(name)s (%(handle)s), Telegram id %(id)s")
        % {"name": name, "handle": f"@{user.username}" if user.username else _("no username"),
           "id": user.telegram_id},
        _("Roles: %(roles)s") % {"roles": ", ".join(roles[r] for r in user.roles) or "–"},
        _("Language: %(language)s · verification level %(tier)s")
        % {"language": dict(settings.LANGUAGES).get(user.language, user.language),
           "tier": format_number(user.kyc_tier, language)},
        _("Wallet: %(wallet)s") % {"wallet": user.wallet_address or _("not linked")},
        _("Phone: %(phone)s") % {"phone": mask_phone(user.phone) or _("not shared")},
        _("Joined on %(date)s") % {"date": format_date(user.created_at, language)},
        _("Loans as borrower: %(count)s (%(open)s open, %(late)s late, %(defaulted)s "
          "defaulted); still owed: %(owed)s")
        % {"count": format_number(activity["loans"], language),
           "open": format_number(activity["open_loans"], language),
           "late": format_number(activity["late"], language),
           "defaulted": format_number(activity["defaulted"], language),
           "owed": format_amount(activity["owed"], language)},
        _("Loans funded as lender: %(count)s, %(amount)s in total")
        % {"count": format_number(activity["positions"], language),
           "amount": format_amount(activity["funded"], language)},
    ]
    if user.is_frozen:
        lines.append(_("FROZEN since %(date)s: %(reason)s")
                     % {"date": format_date(user.frozen_at, language),
                        "reason": user.frozen_reason})
    if user.unreachable_since:
        lines.append(_("Has blocked the bot since %(date)s.")
                     % {"date": format_date(user.unreachable_since, language)})
    return "\n".join(lines)


def user_card_markup(user: TelegramUser):
    action = (button(_("Unfreeze"), KIND, "uf", user.pk) if user.is_frozen
              else button(_("Freeze"), KIND, "fz", user.pk))
    return keyboard([action], [button(_("Find another user"), KIND, "find"),
                               button(_("Back"), KIND, "home")])


async def _show_user(update: Update, context: BotContext, user_id: int) -> None:
    found = await _user(user_id)
    if found is None:
        await say(update, _("This person no longer exists."))
        return
    user, activity = found
    await say(update, user_card_text(user, activity, context.person.language),
              markup=user_card_markup(user))


@transition
async def user_query_typed(update: Update, context: BotContext) -> str | None:
    if not is_admin(context.person):
        return END
    query = (update.effective_message.text or "").strip() if update.effective_message else ""
    if not query or query.startswith("/"):
        await say(update, _("Please send a @username, a Telegram id or a wallet address, or "
                            "send /cancel."))
        return None
    found = await run_in_db(user_search, query=query, limit=SEARCH_SHOWN)
    if not found:
        await say(update, _("Nobody matches %(query)s. Send another @username, Telegram id or "
                            "wallet address, or /cancel.") % {"query": query})
        return None
    if len(found) == 1:
        await _show_user(update, context, found[0].pk)
        return END
    await say(update, _("Several people match; choose one:"), markup=keyboard(
        *[[button(f"{user} · {user.telegram_id}", KIND, "u", user.pk)] for user in found]))
    return END


async def _ask_freeze_reason(update: Update, context: BotContext, user_id: int, *,
                             freeze: bool) -> None:
    found = await _user(user_id)
    if found is None or found[0].is_frozen != (not freeze):
        await answer_button(update, _("This is already done. Here is the person as they are "
                                      "now."), alert=True)
        if found is not None:
            await _show_user(update, context, user_id)
        return
    await answer_button(update)
    await save_step(context, FREEZE_REASON if freeze else UNFREEZE_REASON,
                    draft={"user_id": user_id})
    who = str(found[0])
    await say(update, (_("Why do you freeze %(who)s? Type the reason. A frozen account cannot "
                         "request loans, fund them or start any other action until it is "
                         "unfrozen. /cancel leaves it as it is.") if freeze else
                       _("Why do you unfreeze %(who)s? Type the reason. /cancel leaves the "
                         "account frozen.")) % {"who": who})


async def _freeze_typed(update: Update, context: BotContext, *, freeze: bool) -> str | None:
    if not is_admin(context.person):
        return END
    reason = await _typed_reason(update)
    if reason is None:
        return None
    found = await _user(int(context.session.draft.get("user_id", 0)))
    if found is None:
        await say(update, _("This person no longer exists."))
        return END
    try:
        if freeze:
            await run_in_db(user_freeze, user=found[0], reason=reason,
                            actor=context.person)
        else:
            await run_in_db(user_unfreeze, user=found[0], reason=reason,
                            actor=context.person)
    except ServiceError as error:
        await say(update, str(error))
        return None
    await say(update, (_("%(who)s is frozen.") if freeze else _("%(who)s is unfrozen."))
              % {"who": str(found[0])})
    await _show_user(update, context, found[0].pk)
    return END


@transition
async def freeze_reason_typed(update: Update, context: BotContext) -> str | None:
    return await _freeze_typed(update, context, freeze=True)


@transition
async def unfreeze_reason_typed(update: Update, context: BotContext) -> str | None:
    return await _freeze_typed(update, context, freeze=False)


# --- broadcast: type, preview, confirm ------------------------------------------------------

@in_db
def _reachable_count() -> int:
    return users_reachable().count()


@transition
async def broadcast_text_typed(update: Update, context: BotContext) -> str | None:
    if not is_admin(context.person):
        return END
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    language = context.person.language
    if not text or text.startswith("/"):
        await say(update, _("Please type the message as text, or send /cancel."))
        return None
    if len(text) > BROADCAST_MAX_CHARS:
        await say(update, _("That is %(length)s characters; a broadcast can have at most "
                            "%(count)s. Please shorten it.")
                  % {"length": format_number(len(text), language),
                     "count": format_number(BROADCAST_MAX_CHARS, language)})
        return None
    await save_step(context, BROADCAST_CONFIRM, draft={"text": text})
    reach = await _reachable_count()
    nonce = context.session.nonce
    await say(update, _("Message from the Lendgram team:") + "\n\n" + text)
    await say(update, ngettext(
        "Above is how it will read (the first line in each person's language). Send it to "
        "%(count)s person who can be reached?",
        "Above is how it will read (the first line in each person's language). Send it to "
        "%(count)s people who can be reached?", reach) % {"count": format_number(reach,
                                                                                  language)},
        markup=keyboard([button(_("Send it"), KIND, "bcs", nonce),
                         button(_("Do not send"), KIND, "bcx", nonce)]))
    return None


@transition
async def broadcast_confirm_typed(update: Update, context: BotContext) -> None:
    await say(update, _("Please answer with the buttons above: send it or not. /cancel also "
                        "drops it."))


async def _broadcast_pressed(update: Update, context: BotContext, send: bool,
                             nonce: str | None) -> None:
    session = context.session
    if (session is None or not session.nonce or nonce != session.nonce
            or session.step != BROADCAST_CONFIRM or not session.draft.get("text")):
        await _not_for_you(update)
        return
    await answer_button(update)
    text = session.draft["text"]
    await save_step(context, END)  # the buttons go stale before the copies are queued
    if not send:
        await replace_or_say(update, _("Not sent. Nothing was queued."))
        return
    try:
        sent = await run_in_db(broadcast_enqueue, author=context.person, text=text)
    except ServiceError as error:
        await replace_or_say(update, str(error))
        return
    await replace_or_say(update, ngettext(
        "Broadcast #%(id)s is queued for %(count)s person; it goes out at Telegram's pace.",
        "Broadcast #%(id)s is queued for %(count)s people; it goes out at Telegram's pace.",
        sent.recipients) % {"id": localize_digits(str(sent.pk), context.person.language),
                            "count": format_number(sent.recipients, context.person.language)})


# --- pause and resume -----------------------------------------------------------------------

async def _pause(update: Update, context: BotContext, *, paused: bool) -> None:
    action = pause_request if paused else unpause_request
    try:
        request, token = await run_in_db(action, user=context.person)
    except ServiceError as error:
        await answer_button(update, str(error), alert=True)
        return
    await answer_button(update)
    await offer_signing(update, request, token, lead=_(
        "Sign this with your admin wallet. I will tell you when the chain confirms it."))


# --- the buttons ------------------------------------------------------------------------------

def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) <= 12 else None


async def button_pressed(update: Update, context: BotContext) -> None:
    if not is_admin(context.person):
        await _not_for_you(update)
        return
    pressed = callbacks.decode(update.callback_query.data)
    what = pressed.arg(0) if pressed else None
    target = _number(pressed.arg(1)) if pressed else None
    language = context.person.language
    if what == "home":
        await answer_button(update)
        board = await _dashboard()
        await replace_or_say(update, dashboard_text(board, language),
                             markup=dashboard_markup(board, language))
    elif what == "q":
        await answer_button(update)
        await _show_queue(update, language)
    elif what == "it" and target is not None:
        loan = await _in_review(target)
        if loan is None:
            await answer_button(update, _("This application is no longer waiting for review."),
                                alert=True)
            return
        await answer_button(update)
        await say(update, review_item_text(loan, language), markup=review_buttons(loan.pk))
    elif what == "ap" and target is not None:
        await _approve(update, context, target)
    elif what == "rj" and target is not None:
        await _ask_reject_reason(update, context, target)
    elif what == "find":
        await answer_button(update)
        await save_step(context, USER_QUERY)
        await say(update, _("Who are you looking for? Send a @username, a Telegram id or a "
                            "wallet address."))
    elif what == "u" and target is not None:
        await answer_button(update)
        await _show_user(update, context, target)
    elif what in {"fz", "uf"} and target is not None:
        await _ask_freeze_reason(update, context, target, freeze=what == "fz")
    elif what == "bc":
        await answer_button(update)
        await save_step(context, BROADCAST_TEXT)
        await say(update, _("Type the message for everyone who uses the bot (at most "
                            "%(count)s characters). You will see a preview before it goes out.")
                  % {"count": format_number(BROADCAST_MAX_CHARS, language)})
    elif what in {"bcs", "bcx"}:
        await _broadcast_pressed(update, context, what == "bcs", pressed.arg(1))
    elif what in {"ps", "ups"}:
        await _pause(update, context, paused=what == "ps")
    else:
        await _not_for_you(update)


def build_handlers() -> Journey:
    # No `commands`: /admin stays out of the public menu and /help (see bot.app for the
    # admins' own menu).
    return Journey(
        name="admin",
        handlers=[
            CommandHandler("admin", admin_command),
            CallbackQueryHandler(button_pressed, pattern=callbacks.pattern(KIND)),
        ],
        steps={REJECT_REASON: reject_reason_typed, USER_QUERY: user_query_typed,
               FREEZE_REASON: freeze_reason_typed, UNFREEZE_REASON: unfreeze_reason_typed,
               BROADCAST_TEXT: broadcast_text_typed, BROADCAST_CONFIRM: broadcast_confirm_typed},
    )

