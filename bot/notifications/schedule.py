"""Messages that time sends: installment reminders."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from bot.i18n import format_amount, format_date, localize_digits
from bot.notifications.registry import Rendered, template


def _date(value: str, language: str) -> str:
    return format_date(dt.date.fromisoformat(value[:10]), language)


@template("installment_due_soon")
def installment_due_soon(params: dict, language: str) -> Rendered:
    return Rendered(_("Reminder: %(amount)s for loan #%(loan)s is due on %(date)s. Send /repay "
                      "to pay it.") % {"amount": format_amount(params["amount"], language),
                                       "loan": localize_digits(str(params["loan_id"]), language),
                                       "date": _date(params["due_date"], language)})
