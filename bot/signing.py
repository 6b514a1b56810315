"""Sending a signing request to the chat: what it does, wallet buttons and a QR code.

Every journey that ends in an on-chain action calls `offer_signing` with the request and
token a core action service returned; nothing else builds wallet links in the bot.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils import translation
from django.utils.translation import gettext as _
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.dbcall import run_in_db
from bot.replies import say
from core.common.errors import ServiceError
from core.common.formatting import format_time
from core.signing.links import SigningLinks, signing_links
from core.signing.models import SigningRequest


def signing_text(request: SigningRequest, links: SigningLinks, *, lead: str = "") -> str:
    language = translation.get_language() or "en"
    lines = [lead] if lead else []
    lines.append(request.summary)
    steps = [tx.get("label", "") for tx in request.transactions if tx.get("label")]
    if len(steps) > 1:
        lines.append(_("Your wallet will ask you to confirm, in this order:"))
        lines.extend(f"{number}. {label}" for number, label in enumerate(steps, start=1))
    lines.append(_("Open it in your wallet with a button below, or scan the QR code with your "
                   "phone. The link works once and expires at %(time)s UTC.")
                 % {"time": format_time(request.expires_at, language)})
    if links.eip681:
        lines.append(_("Wallet apps that read payment links can also run it directly:"))
        lines.append(links.eip681)
    return "\n\n".join(lines)


def signing_markup(links: SigningLinks) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(_("Open in MetaMask"), url=links.wallets["metamask"])],
        [InlineKeyboardButton(_("Open in Trust Wallet"), url=links.wallets["trust"]),
         InlineKeyboardButton(_("Open in Coinbase Wallet"), url=links.wallets["coinbase"])],
        [InlineKeyboardButton(_("Open the signing page"), url=links.page)],
    ])


async def offer_signing(update: Update, request: SigningRequest, token: str, *,
                        lead: str = "") -> None:
    """The request's summary with wallet buttons, then the QR code of the same page."""
    chat = update.effective_chat
    if chat is None:
        return
    links = await run_in_db(signing_links, request=request, token=token)
    await chat.send_message(signing_text(request, links, lead=lead),
                            reply_markup=signing_markup(links))
    await chat.send_photo(photo=links.qr_png(),
                          caption=_("Scan to open the signing page on your phone."))


async def request_signing(update: Update, action: Callable[..., tuple[SigningRequest, str]],
                          *, lead: str = "", **kwargs) -> None:
    """Build a signing request with one of core's actions (core/signing/actions.py checks the
    rules) and offer it; a refusal is said in plain words instead."""
    try:
        request, token = await run_in_db(action, **kwargs)
    except ServiceError as error:
        await say(update, str(error))
        return
    await offer_signing(update, request, token, lead=lead)
