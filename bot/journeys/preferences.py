"""/settings: installment reminders on or off, a shortcut to the language choice, and adding
the role the person did not pick at the start (a borrower who also wants to lend).

The buttons name the wanted value (not a toggle), so pressing an old one twice does no harm;
they only ever change the presser's own account.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.cards import language_keyboard
from bot.conversation import BotContext
from bot.dbcall import run_in_db
from bot.journeys import Journey
from bot.replies import answer_button, button, replace_or_say, say
from core.common.errors import ServiceError
from core.users.models import TelegramUser
from core.users.services import user_set_reminders, user_set_roles

KIND = "set"
LANGUAGE_NAMES = dict(settings.LANGUAGES)


def settings_text(person: TelegramUser) -> str:
    roles = [name for has, name in ((person.is_borrower, _("borrower")),
                                    (person.is_lender, _("lender"))) if has]
    return "\n".join([
        _("Your settings:"),
        _("Reminders before and on each due date: on") if person.reminders_enabled
        else _("Reminders before and on each due date: off"),
        _("Language: %(language)s") % {"language": LANGUAGE_NAMES.get(person.language,
                                                                      person.language)},
        _("Roles: %(roles)s") % {"roles": ", ".join(roles) if roles else _("none yet")},
    ])


def settings_markup(person: TelegramUser) -> InlineKeyboardMarkup:
    rows = [[button(_("Turn reminders off"), KIND, "rem", 0) if person.reminders_enabled
             else button(_("Turn reminders on"), KIND, "rem", 1)],
            [button(_("Change the language"), KIND, "lang")]]
    if person.is_borrower and not person.is_lender:
        rows.append([button(_("I also want to lend"), KIND, "role", "bl")])
    if person.is_lender and not person.is_borrower:
        rows.append([button(_("I also want to borrow"), KIND, "role", "bl")])
    return InlineKeyboardMarkup(rows)


async def settings_command(update: Update, context: BotContext) -> None:
    await say(update, settings_text(context.person), markup=settings_markup(context.person))


async def button_pressed(update: Update, context: BotContext) -> None:
    pressed = callbacks.decode(update.callback_query.data)
    what, value = (pressed.arg(0), pressed.arg(1)) if pressed else (None, None)
    person = context.person
    if what == "lang" and value is None:
        await answer_button(update)
        await say(update, _("Choose your language:"), markup=language_keyboard())
        return
    if what == "rem" and value in {"0", "1"}:
        change, kwargs = user_set_reminders, {"enabled": value == "1"}
    elif what == "role" and value == "bl" and (person.is_borrower or person.is_lender):
        change, kwargs = user_set_roles, {"borrower": True, "lender": True}
    else:
        await answer_button(update, _("This button is out of date. Send /settings again."),
                            alert=True)
        return
    try:
        context.person = await run_in_db(change, user=person, **kwargs)
    except ServiceError as error:
        await answer_button(update, str(error), alert=True)
        return
    await answer_button(update, _("Saved."))
    await replace_or_say(update, settings_text(context.person),
                         markup=settings_markup(context.person))


def build_handlers() -> Journey:
    return Journey(
        name="preferences",
        handlers=[
            CommandHandler("settings", settings_command),
            CallbackQueryHandler(button_pressed, pattern=callbacks.pattern(KIND)),
        ],
        commands=[("settings", gettext_lazy("reminders, language and roles"))],
    )
