"""/me: a one-time link to the person's own web pages (loans, portfolio, statement, CSV)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.conversation import BotContext
from bot.dbcall import run_in_db
from bot.journeys import Journey
from bot.replies import say
from core.common.errors import ServiceError
from core.web.services import LOGIN_LINK_TTL, login_link_create


async def me(update: Update, context: BotContext) -> None:
    try:
        link = await run_in_db(login_link_create, user=context.person)
    except ServiceError as error:
        await say(update, str(error))
        return
    minutes = int(LOGIN_LINK_TTL.total_seconds() // 60)
    await say(update, _("Your loans, investments and statement, with a CSV download, are on "
                        "your private page. The link below works once, for %(minutes)s "
                        "minutes; do not share it.") % {"minutes": minutes},
              markup=InlineKeyboardMarkup([[InlineKeyboardButton(_("Open my page"),
                                                                 url=link)]]))


def build_handlers() -> Journey:
    return Journey(
        name="account",
        handlers=[CommandHandler("me", me)],
        commands=[("me", gettext_lazy("open your private web page"))],
    )
