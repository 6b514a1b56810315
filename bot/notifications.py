"""How outbox messages read: one renderer per template key, in the recipient's language.

core queues `OutboxMessage(template_key, params)`; the bot renders it here. A journey adds
its templates with `@template("key")`. An unknown key is a permanent failure, recorded on the
message, never a crash of the delivery loop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from bot.i18n import format_amount, format_date, localize_digits


@dataclass(frozen=True)
class Rendered:
    text: str


Renderer = Callable[[dict, str], Rendered]
TEMPLATES: dict[str, Renderer] = {}


class UnknownTemplate(KeyError):
    pass


def template(key: str) -> Callable[[Renderer], Renderer]:
    def register(renderer: Renderer) -> Renderer:
        if key in TEMPLATES:
            raise ValueError(f"template {key!r} is registered twice")
        TEMPLATES[key] = renderer
        return renderer

    return register


def render(template_key: str, params: dict, language: str) -> Rendered:
    """Render in `language`; the caller has activated it for gettext."""
    renderer = TEMPLATES.get(template_key)
    if renderer is None:
        raise UnknownTemplate(template_key)
    return renderer(params, language)


def _date(value: str, language: str) -> str:
    return format_date(dt.date.fromisoformat(value[:10]), language)


@template("loan_funded")
def loan_funded(params: dict, language: str) -> Rendered:
    return Rendered(_("Your loan #%(loan)s is fully funded: %(amount)s. Send /loans to draw "
                      "it down.") % {"loan": localize_digits(str(params["loan_id"]), language),
                                     "amount": format_amount(params["amount"], language)})


@template("installment_due_soon")
def installment_due_soon(params: dict, language: str) -> Rendered:
    return Rendered(_("Reminder: %(amount)s for loan #%(loan)s is due on %(date)s. Send /repay "
                      "to pay it.") % {"amount": format_amount(params["amount"], language),
                                       "loan": localize_digits(str(params["loan_id"]), language),
                                       "date": _date(params["due_date"], language)})


@template("repayment_received")
def repayment_received(params: dict, language: str) -> Rendered:
    return Rendered(_("We received %(amount)s for loan #%(loan)s. Thank you!")
                    % {"amount": format_amount(params["amount"], language),
                       "loan": localize_digits(str(params["loan_id"]), language)})
