"""The last handlers: messages go to the person's conversation step if they are in one;
everything else — unknown commands, stickers, photos, contacts, edits, stale or forged
buttons, updates of kinds no journey uses — gets a helpful answer, never silence or a crash."""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _
from telegram import Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import callbacks
from bot.conversation import BotContext, Callback, goes_to
from bot.dbcall import run_in_db
from bot.replies import answer_button, answer_stale_button, say
from core.users.services import user_mark_unreachable

log = logging.getLogger(__name__)
COMMAND_MAX = 33  # "/" and Telegram's longest command name, 32 characters


def _private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def make_router(steps: dict[str, Callback]):
    """A message at a step goes to that step's callback, which returns the next step."""

    async def route(update: Update, context: BotContext) -> None:
        session = context.session
        step = steps.get(session.step) if session is not None and session.step else None
        if step is not None:
            goes_to(context, await step(update, context))
            return
        if not _private(update):
            return  # in groups the bot speaks only when spoken to with a command
        message = update.effective_message
        if message.contact is not None:
            await say(update, _("Thank you, but I was not expecting a contact here, so I did "
                                "not keep it. /help lists what I can do."))
        elif message.text:
            await say(update, _("I did not understand that. /help lists what I can do."))
        else:
            await say(update, _("I can read text messages and button presses only. /help "
                                "lists what I can do."))

    return route


async def unknown_command(update: Update, context: BotContext) -> None:
    if not _private(update):
        return
    command = (update.effective_message.text or "").split()[0].split("@")[0]
    if len(command) > COMMAND_MAX:  # no command is longer; an echo of 5,000 would not send
        command = command[:COMMAND_MAX] + "…"
    await say(update, _("I do not know the command %(command)s. /help lists what I can do.")
              % {"command": command})


async def edited(update: Update, context: BotContext) -> None:
    if _private(update):
        await say(update, _("I read new messages only, not edits. Please send it again as a "
                            "new message."))


async def unknown_button(update: Update, context: BotContext) -> None:
    if callbacks.decode(update.callback_query.data) is None:
        await answer_button(update, _("This button is out of date. Please send /help to "
                                      "start again."), alert=True)
    else:
        await answer_stale_button(update)


async def membership_changed(update: Update, context: BotContext) -> None:
    """A person who blocks the bot in their private chat cannot be written to any more."""
    change = update.my_chat_member
    if (change.chat.type == ChatType.PRIVATE and change.new_chat_member.status == "kicked"
            and context.person is not None):
        await run_in_db(user_mark_unreachable, user=context.person)


async def anything_else(update: Update, context: BotContext) -> None:
    """Inline queries, polls, channel posts and the like: nothing of ours to answer."""
    log.debug("ignored update of a kind no journey uses: %s", update.update_id)


def build_fallbacks(steps: dict[str, Callback]) -> list[BaseHandler]:
    return [
        MessageHandler(filters.UpdateType.EDITED, edited),
        MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE, unknown_command),
        MessageHandler(filters.UpdateType.MESSAGE, make_router(steps)),
        CallbackQueryHandler(unknown_button),
        ChatMemberHandler(membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
        TypeHandler(Update, anything_else),
    ]


async def on_error(update: object, context: BotContext) -> None:
    """A handler failed: say so plainly (the person's data was not changed by half)."""
    error = context.error
    if isinstance(error, Forbidden):
        return  # the person blocked the bot; the sender has already recorded it
    log.error("handler failed on update %s", getattr(update, "update_id", "?"), exc_info=error)
    if not isinstance(update, Update):
        return
    text = _("Sorry, something went wrong on my side. Nothing was changed; please try again.")
    try:
        if update.callback_query is not None:
            await answer_button(update, text, alert=True)
        elif _private(update):
            await say(update, text)
    except TelegramError:
        log.warning("could not tell update %s about the failure", update.update_id)
