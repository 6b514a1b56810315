"""/admin: platform figures, the review queue, user lookup with freeze/unfreeze, broadcasts
and pausing the contracts — for the Telegram ids in ADMIN_TELEGRAM_IDS only (access.py).

Every button is checked again when pressed (admin, object, state; the broadcast confirmation
also the conversation's nonce), and every change goes through one core service. This module
only says which handler answers which button and which step.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot import callbacks
from bot.conversation import BotContext, command
from bot.journeys import Journey
from bot.journeys.admin import broadcast, pause, review, stats, users
from bot.journeys.admin.access import KIND, admin_button, admin_step_button
from bot.replies import answer_stale_button


async def _unknown_button(update: Update, context: BotContext) -> None:
    await answer_stale_button(update)


def build_handlers() -> Journey:
    # No `commands`: /admin stays out of the public menu and /help.
    return Journey(
        name="admin",
        handlers=[
            command("admin", stats.admin_command),
            admin_button("home", stats.home_pressed),
            admin_button("q", review.queue_pressed),
            admin_button("it", review.item_pressed, target=True),
            admin_button("ap", review.approve_pressed, target=True),
            admin_button("rj", review.reject_pressed, target=True),
            admin_button("find", users.find_pressed),
            admin_button("u", users.user_pressed, target=True),
            admin_button("fz", users.freeze_pressed, target=True),
            admin_button("uf", users.unfreeze_pressed, target=True),
            admin_button("bc", broadcast.broadcast_pressed),
            admin_step_button("bcs", broadcast.BROADCAST_CONFIRM, broadcast.send_pressed,
                              valid=broadcast.has_text),
            admin_step_button("bcx", broadcast.BROADCAST_CONFIRM, broadcast.drop_pressed,
                              valid=broadcast.has_text),
            admin_button("ps", pause.pause_pressed),
            admin_button("ups", pause.resume_pressed),
            # Any other admin button: made up, or from an older release.
            CallbackQueryHandler(_unknown_button, pattern=callbacks.pattern(KIND)),
        ],
        steps={review.REJECT_REASON: review.reject_reason_typed,
               users.USER_QUERY: users.user_query_typed,
               users.FREEZE_REASON: users.freeze_reason_typed,
               users.UNFREEZE_REASON: users.unfreeze_reason_typed,
               broadcast.BROADCAST_TEXT: broadcast.broadcast_text_typed,
               broadcast.BROADCAST_CONFIRM: broadcast.broadcast_confirm_typed},
    )
