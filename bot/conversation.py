"""Conversation state in the database, so a restart or a second bot process loses nothing.

Every update first passes `prepare` (handler group -1), which finds the person, their language
and their conversation session (step + draft) and puts them on the context. Every journey has
one shape: its handlers are listed in one table (`bot.journeys.Journey`), built with `command`,
`step_button` and `action_button` here, and each callback returns where the conversation goes
next: a step's name, `END`, or None (stay). The wiring writes that step on the session with
`Session.move`, and the dispatcher stores the session with the update marked handled, before
the next update of the chat is handled. A reply that shows the buttons of the step it moves to
builds them with `Session.next_nonce`, the nonce that step will carry. A callback that keeps
facts for the next step (a loan id, a typed text) sets `session.draft` before it returns it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from telegram import Update
from telegram.ext import (
    Application,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    ExtBot,
)

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
    _next_nonce: str = field(default="", repr=False)

    @property
    def next_nonce(self) -> str:
        """The nonce of the step this update moves to: the buttons of that step carry it, and
        every button of the current step goes stale once the move is stored."""
        if not self._next_nonce:
            self._next_nonce = chat_services.chat_session_nonce()
        return self._next_nonce

    def move(self, step: str, *, draft: dict | None = None) -> None:
        self.step = step
        self.draft = {} if step == END else dict(draft if draft is not None else self.draft)
        self.nonce = "" if step == END else self.next_nonce
        self._next_nonce = ""
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


def goes_to(context: BotContext, next_step: str | None) -> None:
    """Write the step a callback returned on the session: a name, END, or None (stay)."""
    if next_step is not None and context.session is not None:
        context.session.move(next_step)


def _writing_step(callback: Callback) -> Callback:
    """A handler that writes the step its callback returns."""

    @functools.wraps(callback)
    async def wrapper(update: Update, context: BotContext) -> str | None:
        next_step = await callback(update, context)
        goes_to(context, next_step)
        return next_step

    return wrapper


def command(name: str, callback: Callback) -> CommandHandler:
    """The handler of a /command; its callback returns the step it leads to."""
    return CommandHandler(name, _writing_step(callback))


ActionCallback = Callable[[Update, BotContext, tuple[str, ...]], Awaitable[str | None]]


def action_button(kind: str, what: str, callback: ActionCallback) -> CallbackQueryHandler:
    """The handler of a button that names an action and objects, `kind|what|arg...`, outside
    any step (no nonce): the callback gets the args, looks up what they name, checks the person
    may act on it, answers the press, and returns the step it leads to."""

    async def pressed(update: Update, context: BotContext) -> None:
        button = callbacks.decode(update.callback_query.data)
        if button is None:  # matches the pattern, yet no button of ours: forged
            await answer_stale_button(update)
            return
        goes_to(context, await callback(update, context, button.args[1:]))

    pattern = rf"^{callbacks.VERSION}\|{re.escape(kind)}\|{re.escape(what)}(\||$)"
    return CallbackQueryHandler(pressed, pattern=pattern)


ButtonCallback = Callable[[Update, BotContext, str], Awaitable[str | None]]


def step_button(kind: str, what: str, steps: str | frozenset[str], callback: ButtonCallback, *,
                valid: Callable[[str, dict], bool] = lambda value, draft: True,
                what_first: bool = False,
                allowed: Callable[[BotContext], bool] = lambda context: True,
                ) -> CallbackQueryHandler:
    """The handler of one button of a conversation step, `kind|nonce|what|value` (or
    `kind|what|nonce|value` with `what_first`), routed by its pattern. The one guard for stale
    and forged presses is here: the nonce must be the session's, the person at one of `steps`
    and `allowed`, the value `valid` for the draft; otherwise the press gets
    answer_stale_button and changes nothing. A press that passes is answered (the spinner
    stops) and `callback(update, context, value)` returns the next step, END, or None
    (stay)."""
    steps = frozenset({steps}) if isinstance(steps, str) else steps
    nonce_at = 1 if what_first else 0

    async def pressed(update: Update, context: BotContext) -> None:
        button = callbacks.decode(update.callback_query.data)
        session = context.session
        nonce, value = (button.arg(nonce_at), button.arg(2) or "") if button else (None, "")
        if (session is None or not session.nonce or nonce != session.nonce
                or session.step not in steps or not allowed(context)
                or not valid(value, session.draft)):
            await answer_stale_button(update)
            return
        await answer_button(update)
        goes_to(context, await callback(update, context, value))

    head = (rf"{re.escape(what)}\|[^|]*" if what_first else rf"[^|]*\|{re.escape(what)}")
    pattern = rf"^{callbacks.VERSION}\|{re.escape(kind)}\|{head}(\||$)"
    return CallbackQueryHandler(pressed, pattern=pattern)
