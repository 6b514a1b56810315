"""What scoring tells the borrower: the offer (with Accept / Decline), a refusal with its
reasons, or that a person reviews the application and what happens next."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bot.i18n import format_amount, format_number, format_percent_bps, localize_digits
from bot.notifications.registry import Rendered, template
from bot.replies import button, keyboard
from core.scoring.reasons import reason_text


def _loan(params: dict, language: str) -> str:
    return localize_digits(str(params["loan_id"]), language)


def offer_terms_lines(params: dict, language: str) -> list[str]:
    """Grade, amount, APR, installments and total due of an offer (also used by /borrow)."""
    count = params["installments"]
    return [
        _("Grade: %(grade)s") % {"grade": params["grade"]},
        _("Amount: %(amount)s") % {"amount": format_amount(params["principal"], language)},
        _("Interest rate (APR): %(apr)s") % {"apr": format_percent_bps(params["apr_bps"],
                                                                       language)},
        ngettext("%(count)s monthly installment of about %(amount)s",
                 "%(count)s monthly installments of about %(amount)s", count)
        % {"count": format_number(count, language),
           "amount": format_amount(params["total_due"] // count, language)},
        _("Total to repay: %(total)s") % {"total": format_amount(params["total_due"], language)},
    ]


def _reasons(title: str, keys: list[str]) -> list[str]:
    return ["", title, *(f"• {reason_text(key)}" for key in keys)] if keys else []


@template("offer_ready")
def offer_ready(params: dict, language: str) -> Rendered:
    lines = [_("Good news: your loan #%(loan)s is approved. Your offer:")
             % {"loan": _loan(params, language)}]
    lines += offer_terms_lines(params, language)
    lines += _reasons(_("About this offer:"), params.get("offer_reasons", []))
    lines += _reasons(_("What shaped your score:"), params.get("reasons", []))
    lines += ["", _("Accept it to list the loan for lenders: you sign the listing in your "
                    "wallet. Decline it and nothing happens.")]
    loan_id = params["loan_id"]
    return Rendered("\n".join(lines), keyboard(
        [button(_("Accept the offer"), "offer", "acc", loan_id),
         button(_("Decline"), "offer", "dec", loan_id)]))


@template("application_in_review")
def application_in_review(params: dict, language: str) -> Rendered:
    lines = [_("Your application #%(loan)s needs a check by a person before we can make the "
               "offer.") % {"loan": _loan(params, language)}]
    lines += _reasons(_("Why:"), params.get("review_reasons", []))
    lines += ["", _("The terms we would offer:")]
    lines += offer_terms_lines(params, language)
    hours = params.get("sla_hours", 24)
    lines += ["", ngettext("There is nothing you need to do: you will hear from me here within "
                           "about %(count)s hour, with the offer or the answer.",
                           "There is nothing you need to do: you will hear from me here within "
                           "about %(count)s hours, with the offer or the answer.", hours)
              % {"count": format_number(hours, language)}]
    return Rendered("\n".join(lines))


@template("application_refused")
def application_refused(params: dict, language: str) -> Rendered:
    lines = [_("I am sorry: we cannot offer loan #%(loan)s now.")
             % {"loan": _loan(params, language)}]
    lines += _reasons(_("The reasons:"), params.get("reasons", []))
    lines += ["", _("You can apply again when things change: /borrow. /help lists what else I "
                    "can do.")]
    return Rendered("\n".join(lines))
