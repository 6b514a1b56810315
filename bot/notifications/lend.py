"""The channel announcement of a new listing (core/loans/announcements.py queues it).

A channel has no reader language: the params carry the one configured for it. The card says
what a lender needs (grade, rate, term, purpose, amount, deadline) and nothing about the
borrower, and its button opens the bot at the loan's card (the /start loan_<id> deep link).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import format_amount, format_date, format_percent_bps, localize_digits
from bot.notifications.registry import Rendered, template
from core.loans.labels import purpose_label, term_label


@template("loan_listing_announcement")
def loan_listing_announcement(params: dict, language: str) -> Rendered:
    language = params.get("language") or language
    with translation.override(language):
        loan = localize_digits(str(params["loan_id"]), language)
        lines = [
            _("New loan #%(loan)s open for funding") % {"loan": loan},
            _("%(amount)s at %(apr)s a year, %(term)s") % {
                "amount": format_amount(params["principal"], language),
                "apr": format_percent_bps(params["apr_bps"] or 0, language),
                "term": term_label(params["installments"], language)},
            _("Grade %(grade)s · purpose: %(purpose)s") % {
                "grade": params["grade"], "purpose": purpose_label(params["purpose"])},
        ]
        if params.get("deadline"):
            lines.append(_("Funding closes on %(date)s.") % {
                "date": format_date(datetime.fromisoformat(params["deadline"]), language)})
        link = f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start=loan_{params['loan_id']}"
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(_("Open in the bot"), url=link)]])
        return Rendered("\n".join(lines), markup=markup)
