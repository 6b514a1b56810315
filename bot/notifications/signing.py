"""A signing link an operator sent again (core/signing/resend.py): the same wallet buttons as
a link offered in the chat."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from bot.notifications.registry import Rendered, template
from bot.signing import signing_markup
from core.common.formatting import format_time
from core.signing.links import SigningLinks


@template("signing_link_resent")
def signing_link_resent(params: dict, language: str) -> Rendered:
    links = SigningLinks(page=params["page"], wallets=params["wallets"],
                         eip681=params.get("eip681") or None)
    expires = format_time(datetime.fromisoformat(params["expires_at"]), language)
    lines = [_("Here is a new signing link; the previous one no longer works."),
             params["summary"],
             _("Open it in your wallet with a button below. The link works once and expires "
               "at %(time)s UTC.") % {"time": expires}]
    if links.eip681:
        lines += [_("Wallet apps that read payment links can also run it directly:"),
                  links.eip681]
    return Rendered("\n\n".join(lines), markup=signing_markup(links))
