"""Messages about a loan's money events: funded, repaid."""

from __future__ import annotations

from django.utils.translation import gettext as _

from bot.i18n import format_amount, localize_digits
from bot.notifications.registry import Rendered, template


@template("loan_funded")
def loan_funded(params: dict, language: str) -> Rendered:
    return Rendered(_("Your loan #%(loan)s is fully funded: %(amount)s. Send /loans to draw "
                      "it down.") % {"loan": localize_digits(str(params["loan_id"]), language),
                                     "amount": format_amount(params["amount"], language)})


@template("repayment_received")
def repayment_received(params: dict, language: str) -> Rendered:
    return Rendered(_("We received %(amount)s for loan #%(loan)s. Thank you!")
                    % {"amount": format_amount(params["amount"], language),
                       "loan": localize_digits(str(params["loan_id"]), language)})
