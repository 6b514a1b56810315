"""Conversation state in the database, so a restart or a second bot process loses nothing.

Every update first passes `prepare` (handler group -1), which finds the person, their language
and their conversation session (step + draft) and puts them on the context. A callback that moves
the conversation returns the next step's name, `END`, or None (stay); `transition` puts it on
the context's session, and the dispatcher stores the session with the update marked handled,
before the next update of the chat is handled.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from telegram import Update
from telegram.ext import Application, CallbackContext, CallbackQueryHandler, ExtBot

from bot import callbacks
from bot.dbcall import in_db
from bot.replies import answer_button, answer_stale_button
from core.chat import services as chat_services
from core.users.models import TelegramUser

END = ""


@dataclass
class Session:
    chat_id: int
    user_id: int
    step: str = ""
    draft: dict[str, Any] = field(default_factory=dict)
    nonce: str = ""
    moved: bool = False  # the step (or its draft) changed while handling this update

    def move(self, step: str, *, draft: dict | None = None) -> None:
        self.step = step
        self.draft = {} if step == END else dict(draft if draft is not None else self.draft)
        self.nonce = "" if step == END else chat_services.chat_session_nonce()
        self.moved = True

    def stored(self) -> dict | None:
        """chat_session_store's keyword arguments once the session moved, else None."""
        if not self.moved:
            return None
        return {"chat_id": self.chat_id, "user_id": self.user_id, "step": self.step,
                "draft": self.draft, "nonce": self.nonce}


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    """The callback context, plus who is talking and where they are in a conversation."""

    def __init__(self, application: Application, chat_id: int | None = None,
                 user_id: int | None = None) -> None:
        super().__init__(application, chat_id, user_id)
        self.person: TelegramUser | None = None
        self.session: Session | None = None


Callback = Callable[[Update, BotContext], Awaitable[str | None]]


@in_db
def _load(update: Update) -> tuple[TelegramUser, Session]:
    tg_user = update.effective_user
    chat_id = update.effective_chat.id if update.effective_chat else tg_user.id
    person, stored = chat_services.chat_arrival(
        chat_id=chat_id, telegram_id=tg_user.id, username=tg_user.username or "",
        first_name=tg_user.first_name or "", last_name=tg_user.last_name or "",
        language_code=tg_user.language_code)
    session = Session(chat_id=chat_id, user_id=tg_user.id)
    if stored is not None:
        session.nonce = stored.nonce
        if stored.step:
            session.step, session.draft = stored.step, dict(stored.draft)
    return person, session


async def load_context(update: Update, context: BotContext) -> None:
    context.person, context.session = await _load(update)
    update_sessions(context.application).hold(update.update_id, context.session)
    translation.activate(context.person.language)


class UpdateSessions:
    """The sessions of the updates being handled, by update id: the dispatcher takes an
    update's session back once its handlers are done, and stores the step it moved to in the
    same trip and commit that marks the update handled (a crash in between can then never
    keep the new step with the update still to handle)."""

    def __init__(self) -> None:
        self._sessions: dict[int, Session] = {}

    def hold(self, update_id: int, session: Session) -> None:
        self._sessions[update_id] = session

    def release(self, update_id: int) -> Session | None:
        return self._sessions.pop(update_id, None)


def update_sessions(application: Application) -> UpdateSessions:
    return application.bot_data.setdefault("sessions", UpdateSessions())


def save_step(context: BotContext, step: str, *, draft: dict | None = None) -> None:
    """Move the person to `step` (or END) on the context's session; the dispatcher stores it.
    Buttons of the previous step go stale: the new step has a fresh nonce."""
    session = context.session
    assert session is not None
    session.move(step, draft=draft)


def transition(callback: Callback) -> Callback:
    """Store the step a callback returns: a name, END, or None to stay where it is."""

    @functools.wraps(callback)
    async def wrapper(update: Update, context: BotContext) -> str | None:
        next_step = await callback(update, context)
        if next_step is not None and context.session is not None:
            save_step(context, next_step)
        return next_step

    return wrapper


ButtonCallback = Callable[[Update, BotContext, str], Awaitable[str | None]]


def step_button(kind: str, what: str, steps: str | frozenset[str], callback: ButtonCallback, *,
                valid: Callable[[str, dict], bool] = lambda value, draft: True,
                ) -> CallbackQueryHandler:
    """The handler of one button of a conversation step, `kind|nonce|what|value`, routed by
    its pattern. The one guard for stale and forged presses is here: the nonce must be the
    session's, the person at one of `steps`, the value `valid` for the draft; otherwise the
    press gets answer_stale_button and changes nothing. A press that passes is answered (the
    spinner stops) and `callback(update, context, value)` returns the next step, END, or None
    (stay)."""
    steps = frozenset({steps}) if isinstance(steps, str) else steps

    async def pressed(update: Update, context: BotContext) -> None:
        button = callbacks.decode(update.callback_query.data)
        session = context.session
        nonce, value = (button.arg(0), button.arg(2) or "") if button else (None, "")
        if (session is None or not session.nonce or nonce != session.nonce
                or session.step not in steps or not valid(value, session.draft)):
            await answer_stale_button(update)
            return
        await answer_button(update)
        next_step = await callback(update, context, value)
        if next_step is not None:
            save_step(context, next_step)

    pattern = rf"^{callbacks.VERSION}\|{re.escape(kind)}\|[^|]*\|{re.escape(what)}(\||$)"
    return CallbackQueryHandler(pressed, pattern=pattern)
