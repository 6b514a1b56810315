"""Conversation state in the database, so a restart or a second bot process loses nothing.

Every update first passes `prepare` (handler group -1), which finds the person, their language
and their conversation session (step + draft) and puts them on the context. Callbacks that move
a conversation are wrapped in `transition`: they return the next step's name, `END`, or None
(stay), and the wrapper stores it before the next update of the chat is handled.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.dbcall import in_db, run_in_db
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
    translation.activate(context.person.language)


class StepWrites:
    """The conversation step an update led to, kept until the update is marked handled."""

    def __init__(self) -> None:
        self.last: dict[str, Any] | None = None  # chat_session_store's keyword arguments


_step_writes: ContextVar[StepWrites | None] = ContextVar("step_writes", default=None)


@contextmanager
def steps_stored_with_update() -> Iterator[StepWrites]:
    """Within, save_step stores nothing itself: the dispatcher stores the last step in the
    same trip and commit that marks the update handled (one trip to the database fewer, and a
    crash in between can no longer keep the new step with the update still to handle)."""
    writes = StepWrites()
    token = _step_writes.set(writes)
    try:
        yield writes
    finally:
        _step_writes.reset(token)


async def save_step(context: BotContext, step: str, *, draft: dict | None = None) -> None:
    """Move the person to `step` (or END); buttons of the previous step go stale."""
    session = context.session
    assert session is not None
    session.step = step
    session.draft = {} if step == END else dict(draft if draft is not None else session.draft)
    nonce = chat_services.chat_session_nonce()
    session.nonce = "" if step == END else nonce
    write = {"chat_id": session.chat_id, "user_id": session.user_id, "step": step,
             "draft": session.draft, "nonce": nonce}
    writes = _step_writes.get()
    if writes is not None:
        writes.last = write
    else:
        await run_in_db(chat_services.chat_session_store, **write)


def transition(callback: Callback) -> Callback:
    """Store the step a callback returns: a name, END, or None to stay where it is."""

    @functools.wraps(callback)
    async def wrapper(update: Update, context: BotContext) -> str | None:
        next_step = await callback(update, context)
        if next_step is not None and context.session is not None:
            await save_step(context, next_step)
        return next_step

    return wrapper
