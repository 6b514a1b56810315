"""A broadcast to everyone the bot can reach: typed, previewed, then confirmed with the
buttons of the preview (they carry the conversation's nonce)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from telegram import Update

from bot.conversation import END, BotContext
from bot.dbcall import in_db, run_in_db
from bot.i18n import format_number, localize_digits
from bot.journeys.admin.access import KIND, admin_step
from bot.replies import answer_button, button, keyboard, replace_or_say, say
from core.common.errors import ServiceError
from core.notifications.services import BROADCAST_MAX_CHARS, broadcast_enqueue
from core.users.selectors import users_reachable_count

BROADCAST_TEXT, BROADCAST_CONFIRM = "admin.broadcast_text", "admin.broadcast_confirm"


async def broadcast_pressed(update: Update, context: BotContext, _target: int | None) -> str:
    await answer_button(update)
    await say(update, _("Type the message for everyone who uses the bot (at most "
                        "%(count)s characters). You will see a preview before it goes out.")
              % {"count": format_number(BROADCAST_MAX_CHARS, context.person.language)})
    return BROADCAST_TEXT


@in_db
def _reachable_count() -> int:
    return users_reachable_count()


@admin_step
async def broadcast_text_typed(update: Update, context: BotContext) -> str | None:
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
    context.session.draft = {"text": text}
    reach = await _reachable_count()
    nonce = context.session.next_nonce  # the preview's buttons belong to the confirm step
    await say(update, _("Message from the Lendgram team:") + "\n\n" + text)
    await say(update, ngettext(
        "Above is how it will read (the first line in each person's language). Send it to "
        "%(count)s person who can be reached?",
        "Above is how it will read (the first line in each person's language). Send it to "
        "%(count)s people who can be reached?", reach) % {"count": format_number(reach,
                                                                                  language)},
        markup=keyboard([button(_("Send it"), KIND, "bcs", nonce),
                         button(_("Do not send"), KIND, "bcx", nonce)]))
    return BROADCAST_CONFIRM


async def broadcast_confirm_typed(update: Update, context: BotContext) -> None:
    await say(update, _("Please answer with the buttons above: send it or not. /cancel also "
                        "drops it."))


def has_text(value: str, draft: dict) -> bool:
    """`valid` for the confirm buttons: there is a previewed text to send."""
    return bool(draft.get("text"))


async def send_pressed(update: Update, context: BotContext, _value: str) -> str:
    """Queues the copies; the step ends with this press, so a second press of the same
    preview is stale (presses of one chat are handled one at a time)."""
    try:
        sent = await run_in_db(broadcast_enqueue, author=context.person,
                               text=context.session.draft["text"])
    except ServiceError as error:
        await replace_or_say(update, str(error))
        return END
    await replace_or_say(update, ngettext(
        "Broadcast #%(id)s is queued for %(count)s person; it goes out at Telegram's pace.",
        "Broadcast #%(id)s is queued for %(count)s people; it goes out at Telegram's pace.",
        sent.recipients) % {"id": localize_digits(str(sent.pk), context.person.language),
                            "count": format_number(sent.recipients, context.person.language)})
    return END


async def drop_pressed(update: Update, context: BotContext, _value: str) -> str:
    await replace_or_say(update, _("Not sent. Nothing was queued."))
    return END
