"""Messages of onboarding that arrive from outside the chat: the wallet got linked."""

from __future__ import annotations

from django.utils.translation import gettext as _

from bot.notifications.registry import Rendered, template


def _short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}" if len(address) > 12 else address


@template("wallet_linked")
def wallet_linked(params: dict, language: str) -> Rendered:
    lines = [_("Your wallet %(address)s is linked. You are all set!")
             % {"address": _short(params["address"])}]
    if params.get("is_borrower"):
        lines.append(_("/borrow — ask for a loan"))
    if params.get("is_lender"):
        lines.append(_("/lend — find loans to fund"))
    lines.append(_("/help — everything I can do"))
    return Rendered("\n".join(lines))
