"""Messages to admins about the review queue (core/scoring/review.py), and the broadcasts
admins send to everyone (core/notifications/services.py broadcast_enqueue)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bot.i18n import format_amount, format_number, format_percent_bps, localize_digits
from bot.notifications.registry import Rendered, template
from bot.replies import button, keyboard
from core.scoring.reasons import reason_text


def review_buttons(loan_id: int):
    """Approve at once, or reject with a typed reason; the admin journey re-checks both."""
    return keyboard([button(_("Approve"), "adm", "ap", loan_id),
                     button(_("Reject with a reason"), "adm", "rj", loan_id)])


@template("review_requested")
def review_requested(params: dict, language: str) -> Rendered:
    lines = [_("Application #%(loan)s needs your review: %(amount)s, grade %(grade)s, score "
               "%(score)s, probability of default %(pd)s.")
             % {"loan": localize_digits(str(params["loan_id"]), language),
                "amount": format_amount(params["principal"], language),
                "grade": params["grade"],
                "score": format_number(int(params["score"]), language),
                "pd": format_percent_bps(int(params["pd_bps"]), language)}]
    reasons = params.get("review_reasons", [])
    if reasons:
        lines += [_("Why it needs a person:"), *(f"• {reason_text(key)}" for key in reasons)]
    lines.append(_("Approve it to send the borrower the offer, or reject it with a reason. "
                   "/admin shows the whole queue."))
    return Rendered("\n".join(lines), review_buttons(params["loan_id"]))


@template("review_sla_breached")
def review_sla_breached(params: dict, language: str) -> Rendered:
    waited = int(params["waiting_hours"])
    text = ngettext(
        "Application #%(loan)s (%(amount)s, grade %(grade)s) has waited %(hours)s hour for a "
        "review; we promise borrowers an answer within %(sla)s hours. Please decide it now.",
        "Application #%(loan)s (%(amount)s, grade %(grade)s) has waited %(hours)s hours for a "
        "review; we promise borrowers an answer within %(sla)s hours. Please decide it now.",
        waited) % {"loan": localize_digits(str(params["loan_id"]), language),
                   "amount": format_amount(params["principal"], language),
                   "grade": params.get("grade") or "–",
                   "hours": format_number(waited, language),
                   "sla": format_number(int(params["sla_hours"]), language)}
    return Rendered(text, review_buttons(params["loan_id"]))


@template("broadcast")
def broadcast(params: dict, language: str) -> Rendered:
    # The admin's text goes out as written; only the header is in the reader's language.
    return Rendered(_("Message from the Lendgram team:") + "\n\n" + params["text"])
