"""What every update passes before any journey sees it: the flood limit, then the person and
their conversation loaded from the database (handler group -1)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.conversation import BotContext, load_context


class FloodGate:
    """Per-person sliding window, kept per process (a flood is a burst at one process).

    Past the limit a person gets one polite warning per window and is otherwise ignored
    until the window has room again, so a flood never turns into a flood of answers.
    """

    def __init__(self, *, max_updates: int, window_s: float, max_people: int = 100_000) -> None:
        self.max_updates, self.window_s, self.max_people = max_updates, window_s, max_people
        self._seen: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: dict[int, float] = {}

    def check(self, user_id: int, now: float | None = None) -> str:
        """"ok", "warn" (first refusal in this window) or "drop"."""
        now = time.monotonic() if now is None else now
        seen = self._seen.pop(user_id, None) or deque()
        self._seen[user_id] = seen
        if len(self._seen) > self.max_people:
            old, _ = self._seen.popitem(last=False)
            self._warned.pop(old, None)
        while seen and seen[0] <= now - self.window_s:
            seen.popleft()
        if len(seen) < self.max_updates:
            seen.append(now)
            return "ok"
        if now - self._warned.get(user_id, -1e9) >= self.window_s:
            self._warned[user_id] = now
            return "warn"
        return "drop"


def make_prepare(gate: FloodGate | None = None):
    gate = gate or FloodGate(max_updates=settings.BOT_FLOOD_MAX_UPDATES,
                             window_s=settings.BOT_FLOOD_WINDOW_S)

    async def prepare(update: Update, context: BotContext) -> None:
        translation.activate(settings.LANGUAGE_CODE)
        tg_user = update.effective_user
        if tg_user is None or tg_user.is_bot:
            return  # channel posts, polls: nobody to answer; the fallback looks at them
        verdict = gate.check(tg_user.id)
        if verdict != "ok":
            if verdict == "warn":
                await load_context(update, context)
                await _warn(update)
            raise ApplicationHandlerStop
        await load_context(update, context)

    return prepare


async def _warn(update: Update) -> None:
    text = _("You are sending messages faster than I can read them. Please wait a few "
             "seconds, then try again.")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_chat is not None and update.effective_chat.type == "private":
            await update.effective_chat.send_message(text)
    except TelegramError:
        pass  # a flood warning that cannot be delivered is not worth more traffic
