"""Finding a person (by @username, Telegram id or wallet), their card, and freezing or
unfreezing their account with a typed reason."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from telegram import Update

from bot.conversation import END, BotContext
from bot.dbcall import in_db, run_in_db
from bot.i18n import format_amount, format_date, format_number
from bot.journeys.admin.access import KIND, admin_step, typed_reason
from bot.replies import answer_button, button, keyboard, say
from core.audit.services import Operator
from core.common.errors import ServiceError
from core.loans.selectors import user_activity
from core.users.models import TelegramUser
from core.users.selectors import user_get, user_search
from core.users.services import user_freeze, user_unfreeze

USER_QUERY = "admin.user_query"
FREEZE_REASON, UNFREEZE_REASON = "admin.freeze_reason", "admin.unfreeze_reason"
SEARCH_SHOWN = 10
QUERY_SHOWN = 64  # of a search that found nobody, echoed back (a message has at most 4,096)


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


async def find_pressed(update: Update, context: BotContext, _target: int | None) -> str:
    await answer_button(update)
    await say(update, _("Who are you looking for? Send a @username, a Telegram id or a "
                        "wallet address."))
    return USER_QUERY


async def user_pressed(update: Update, context: BotContext, user_id: int | None) -> None:
    await answer_button(update)
    await _show_user(update, context, user_id)


@admin_step
async def user_query_typed(update: Update, context: BotContext) -> str | None:
    query = (update.effective_message.text or "").strip() if update.effective_message else ""
    if not query or query.startswith("/"):
        await say(update, _("Please send a @username, a Telegram id or a wallet address, or "
                            "send /cancel."))
        return None
    found = await run_in_db(user_search, query=query, limit=SEARCH_SHOWN)
    if not found:
        shown = query if len(query) <= QUERY_SHOWN else query[:QUERY_SHOWN] + "…"
        await say(update, _("Nobody matches %(query)s. Send another @username, Telegram id or "
                            "wallet address, or /cancel.") % {"query": shown})
        return None
    if len(found) == 1:
        await _show_user(update, context, found[0].pk)
        return END
    await say(update, _("Several people match; choose one:"), markup=keyboard(
        *[[button(f"{user} · {user.telegram_id}", KIND, "u", user.pk)] for user in found]))
    return END


async def _ask_freeze_reason(update: Update, context: BotContext, user_id: int, *,
                             freeze: bool) -> str | None:
    found = await _user(user_id)
    if found is None or found[0].is_frozen != (not freeze):
        await answer_button(update, _("This is already done. Here is the person as they are "
                                      "now."), alert=True)
        if found is not None:
            await _show_user(update, context, user_id)
        return None
    await answer_button(update)
    context.session.draft = {"user_id": user_id}
    who = str(found[0])
    await say(update, (_("Why do you freeze %(who)s? Type the reason. A frozen account cannot "
                         "request loans, fund them or start any other action until it is "
                         "unfrozen. /cancel leaves it as it is.") if freeze else
                       _("Why do you unfreeze %(who)s? Type the reason. /cancel leaves the "
                         "account frozen.")) % {"who": who})
    return FREEZE_REASON if freeze else UNFREEZE_REASON


async def _freeze_typed(update: Update, context: BotContext, *, freeze: bool) -> str | None:
    reason = await typed_reason(update)
    if reason is None:
        return None
    found = await _user(int(context.session.draft.get("user_id", 0)))
    if found is None:
        await say(update, _("This person no longer exists."))
        return END
    try:
        if freeze:
            await run_in_db(user_freeze, user=found[0], reason=reason,
                            by=Operator.telegram(context.person))
        else:
            await run_in_db(user_unfreeze, user=found[0], reason=reason,
                            by=Operator.telegram(context.person))
    except ServiceError as error:
        await say(update, str(error))
        return None
    await say(update, (_("%(who)s is frozen.") if freeze else _("%(who)s is unfrozen."))
              % {"who": str(found[0])})
    await _show_user(update, context, found[0].pk)
    return END


@admin_step
async def freeze_reason_typed(update: Update, context: BotContext) -> str | None:
    return await _freeze_typed(update, context, freeze=True)


@admin_step
async def unfreeze_reason_typed(update: Update, context: BotContext) -> str | None:
    return await _freeze_typed(update, context, freeze=False)


async def freeze_pressed(update: Update, context: BotContext,
                         user_id: int | None) -> str | None:
    return await _ask_freeze_reason(update, context, user_id, freeze=True)


async def unfreeze_pressed(update: Update, context: BotContext,
                           user_id: int | None) -> str | None:
    return await _ask_freeze_reason(update, context, user_id, freeze=False)
