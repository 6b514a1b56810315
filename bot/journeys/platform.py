"""Platform commands every person has: /help, /language and /cancel (/start is onboarding)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.cards import language_keyboard, send_help
from bot.conversation import END, BotContext, command
from bot.dbcall import run_in_db
from bot.journeys import Journey
from bot.replies import answer_button, replace_or_say, say
from core.common.errors import ServiceError
from core.users.services import user_set_language

LANGUAGE_NAMES = dict(settings.LANGUAGES)


async def help_command(update: Update, context: BotContext) -> None:
    await send_help(update, context)


async def language(update: Update, context: BotContext) -> None:
    await say(update, _("Choose your language:"), markup=language_keyboard())


async def choose_language(update: Update, context: BotContext) -> None:
    pressed = callbacks.decode(update.callback_query.data)
    code = pressed.arg(0) if pressed else None
    if code not in LANGUAGE_NAMES:
        await answer_button(update, _("This button is out of date. Please send /language "
                                      "again."), alert=True)
        return
    try:
        context.person = await run_in_db(user_set_language, user=context.person,
                                         language=code)
    except ServiceError as error:
        await answer_button(update, str(error), alert=True)
        return
    translation.activate(code)
    await answer_button(update)
    await replace_or_say(update, _("Done: I will write to you in %(language)s. /help lists "
                                   "what I can do.") % {"language": LANGUAGE_NAMES[code]})


async def cancel(update: Update, context: BotContext) -> str | None:
    """Leaves any conversation, in every state; nothing half-done is kept."""
    if context.session is not None and context.session.step:
        await say(update, _("Cancelled. Nothing was saved. /help lists what I can do."))
        return END
    await say(update, _("There is nothing to cancel. /help lists what I can do."))
    return None


def build_handlers() -> Journey:
    return Journey(
        name="platform",
        handlers=[
            command("cancel", cancel),
            CommandHandler("help", help_command),
            CommandHandler("language", language),
            CallbackQueryHandler(choose_language, pattern=callbacks.pattern("lang")),
        ],
        commands=[
            ("language", gettext_lazy("change the language")),
            ("cancel", gettext_lazy("stop what we are doing")),
            ("help", gettext_lazy("show what I can do")),
        ],
    )
