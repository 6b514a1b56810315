"""Pausing and resuming the contracts: a signing request for the admin's own wallet (the
chain checks the pauser role)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from telegram import Update

from bot.conversation import BotContext
from bot.dbcall import run_in_db
from bot.replies import answer_button
from bot.signing import offer_signing
from core.common.errors import ServiceError
from core.signing.actions import pause_request, unpause_request


async def _pause(update: Update, context: BotContext, *, paused: bool) -> None:
    action = pause_request if paused else unpause_request
    try:
        request, token = await run_in_db(action, user=context.person)
    except ServiceError as error:
        await answer_button(update, str(error), alert=True)
        return
    await answer_button(update)
    await offer_signing(update, request, token, lead=_(
        "Sign this with your admin wallet. I will tell you when the chain confirms it."))


async def pause_pressed(update: Update, context: BotContext, _target: int | None) -> None:
    await _pause(update, context, paused=True)


async def resume_pressed(update: Update, context: BotContext, _target: int | None) -> None:
    await _pause(update, context, paused=False)
