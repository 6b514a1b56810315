"""Messages to the borrower about a loan's money events: fully funded, repayment received."""

from __future__ import annotations

from django.utils.translation import gettext as _

from bot.i18n import format_amount, localize_digits
from bot.notifications.registry import Rendered, template
from bot.replies import button, keyboard


@template("loan_funded")
def loan_funded(params: dict, language: str) -> Rendered:
    return Rendered(
        _("Your loan #%(loan)s is fully funded: %(amount)s. Draw it down to receive the money "
          "in your wallet: press the button or send /loans. Your repayment schedule starts "
          "when you draw it down.")
        % {"loan": localize_digits(str(params["loan_id"]), language),
           "amount": format_amount(params["amount"], language)},
        keyboard([button(_("Draw down"), "myloan", "draw", params["loan_id"])]))


@template("repayment_received")
def repayment_received(params: dict, language: str) -> Rendered:
    values = {"amount": format_amount(params["amount"], language),
              "loan": localize_digits(str(params["loan_id"]), language),
              "outstanding": format_amount(params.get("outstanding", 0), language)}
    if not params.get("outstanding"):
        return Rendered(_("We received %(amount)s for loan #%(loan)s: the loan is fully "
                          "repaid. Thank you!") % values)
    return Rendered(_("We received %(amount)s for loan #%(loan)s. Thank you! Still to repay: "
                      "%(outstanding)s; /repay pays the next installment or more.") % values,
                    keyboard([button(_("Show the schedule"), "myloan", "sched",
                                     params["loan_id"])]))
