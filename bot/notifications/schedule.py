"""Messages that time sends: installment reminders, overdue notices, keeper alerts and the
admins' daily digest (queued by core/loans/reminders.py, core/loans/keeper.py and
core/ops/digest.py)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bot.i18n import format_amount, format_date, format_number, format_percent_bps, localize_digits
from bot.notifications.registry import Rendered, template


def _date(value: str, language: str) -> str:
    return format_date(dt.date.fromisoformat(value[:10]), language)


def _loan(params: dict, language: str) -> str:
    return localize_digits(str(params["loan_id"]), language)


@template("installment_due_soon")
def installment_due_soon(params: dict, language: str) -> Rendered:
    return Rendered(_("Reminder: %(amount)s for loan #%(loan)s is due on %(date)s. Send /repay "
                      "to pay it.") % {"amount": format_amount(params["amount"], language),
                                       "loan": _loan(params, language),
                                       "date": _date(params["due_date"], language)})


@template("installment_due_today")
def installment_due_today(params: dict, language: str) -> Rendered:
    return Rendered(_("Today is the due date: %(amount)s for loan #%(loan)s. Send /repay to "
                      "pay it.") % {"amount": format_amount(params["amount"], language),
                                    "loan": _loan(params, language)})


@template("installment_overdue")
def installment_overdue(params: dict, language: str) -> Rendered:
    days = int(params["days_late"])
    return Rendered(ngettext(
        "Your payment of %(amount)s for loan #%(loan)s is %(days)s day overdue. Send /repay to "
        "pay it: a loan left unpaid past its grace period is marked in default.",
        "Your payment of %(amount)s for loan #%(loan)s is %(days)s days overdue. Send /repay "
        "to pay it: a loan left unpaid past its grace period is marked in default.",
        days) % {"amount": format_amount(params["amount"], language),
                 "loan": _loan(params, language), "days": format_number(days, language)})


@template("keeper_action_failed")
def keeper_action_failed(params: dict, language: str) -> Rendered:
    values = {"loan": _loan(params, language), "error": params["error"]}
    if params["action"] == "default":
        return Rendered(_("The keeper could not mark loan #%(loan)s as defaulted: %(error)s")
                        % values)
    return Rendered(_("The keeper could not expire the listing of loan #%(loan)s: %(error)s")
                    % values)


def _reconciliation(run: dict | None, language: str) -> str:
    if run is None:
        return _("Reconciliation: not run yet.")
    values = {"date": _date(run["at"], language),
              "count": format_number(run["differences"], language)}
    if run["ok"]:
        return _("Reconciliation of %(date)s: ledger and chain agree.") % values
    return _("Reconciliation of %(date)s: %(count)s differences, see /admin.") % values


@template("admin_digest")
def admin_digest(params: dict, language: str) -> Rendered:
    n = {key: format_number(params[key], language)
         for key in ("applications", "new_loans", "funded", "repaid", "late", "defaulted",
                     "expired", "active", "late_now", "review_waiting", "review_sla_breaches",
                     "sla_hours")}
    pool = params.get("pool_assets")
    lines = [
        _("Daily digest, %(date)s") % {"date": _date(params["day"], language)},
        _("Applications: %(applications)s · listed: %(new_loans)s · funded: %(funded)s")
        % n,
        _("Repaid: %(repaid)s · late: %(late)s · defaulted: %(defaulted)s · expired: "
          "%(expired)s") % n,
        _("Now: %(active)s active, %(late_now)s late; outstanding principal %(outstanding)s; "
          "default rate %(default_rate)s; PAR30 %(par30)s")
        % {**n, "outstanding": format_amount(params["outstanding"], language),
           "default_rate": format_percent_bps(params["default_rate_bps"], language),
           "par30": format_percent_bps(params["par30_bps"], language)},
        (_("Backstop pool: %(amount)s") % {"amount": format_amount(pool, language)}
         if pool is not None else _("Backstop pool: the chain did not answer.")),
        _reconciliation(params.get("reconciliation"), language),
        _("Review: %(review_waiting)s waiting, %(review_sla_breaches)s past the "
          "%(sla_hours)s-hour SLA.") % n,
    ]
    return Rendered("\n".join(lines))
