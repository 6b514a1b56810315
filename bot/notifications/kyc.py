"""Messages of identity verification (core/kyc/services.py): the borrower hears the decision
on their documents, with the reason in their language; admins hear that documents wait."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.cards import tier_label
from bot.i18n import format_amount, localize_digits
from bot.notifications.registry import Rendered, template


def rejection_reason_text(code: str) -> str:
    return {
        "unreadable": _("the photo of the document is blurred, too dark or cut off"),
        "expired": _("the document has expired"),
        "mismatch": _("the selfie does not match the photo on the document"),
        "not_accepted": _("this kind of document is not accepted: please use a passport, a "
                          "national identity card or a driving licence"),
        "other": _("of the reason our team gives below"),
    }.get(code, _("of the reason our team gives below"))


def _note(params: dict) -> list[str]:
    # The operator's own words go out as written; the line around them is translated.
    note = (params.get("note") or "").strip()
    return [_("A note from our team: %(note)s") % {"note": note}] if note else []


@template("kyc_approved")
def kyc_approved(params: dict, language: str) -> Rendered:
    lines = [_("Your identity is verified: your verification level is now %(tier)s. You can "
               "now borrow up to %(limit)s in all.")
             % {"tier": tier_label(params["tier"]),
                "limit": format_amount(int(params["limit"]), language)},
             *_note(params), _("/borrow — ask for a loan")]
    return Rendered("\n".join(lines))


@template("kyc_rejected")
def kyc_rejected(params: dict, language: str) -> Rendered:
    lines = [_("I could not verify your identity with the photos you sent, because "
               "%(reason)s.") % {"reason": rejection_reason_text(params["reason"])},
             *_note(params),
             _("Your verification level has not changed. Send /verify to try again with new "
               "photos.")]
    return Rendered("\n".join(lines))


@template("kyc_review_requested")
def kyc_review_requested(params: dict, language: str) -> Rendered:
    request_id = int(params["request_id"])
    url = settings.PUBLIC_BASE_URL + reverse("admin:kyc_kycrequest_review", args=[request_id])
    text = _("Identity documents wait for your review (request #%(request)s, for the level "
             "%(tier)s). Only the admin site shows them.") % {
        "request": localize_digits(str(request_id), language),
        "tier": tier_label(params["target_tier"])}
    return Rendered(text, InlineKeyboardMarkup([[InlineKeyboardButton(_("Review in the admin"),
                                                                       url=url)]]))
