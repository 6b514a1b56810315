"""Writes to users. Callers pass what Telegram told them; the rules live here."""

from __future__ import annotations

import logging
import re
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit.models import OperatorActionKind
from core.audit.services import SYSTEM, Operator, operator_action_record
from core.common.errors import ServiceError
from core.common.queueing import publish_by_name_after_commit
from core.common.text import plain_text
from core.users.models import TERMS_VERSION, KycTier, TelegramUser
from core.users.selectors import user_by_wallet

log = logging.getLogger(__name__)
_LANGUAGE_CODES = {code for code, _ in settings.LANGUAGES}
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")


def language_from_telegram(language_code: str | None) -> str:
    """Map Telegram's IETF code (e.g. 'pt-BR', 'es-419', 'fa') to a supported language."""
    if not language_code:
        return "en"
    code = language_code.lower().replace("_", "-")
    if code in _LANGUAGE_CODES:
        return code
    base = code.split("-")[0]
    if base == "pt":
        return "pt-br"
    return base if base in _LANGUAGE_CODES else "en"


def _profile_names(*, username: str | None, first_name: str | None,
                   last_name: str | None) -> dict[str, str]:
    """Telegram's names as we keep them: plain text (core.common.text) within the columns."""
    given = {"username": username, "first_name": first_name, "last_name": last_name}
    return {field: plain_text(value, max_length=TelegramUser._meta.get_field(field).max_length)
            for field, value in given.items()}


def user_get_or_create_from_telegram(
    *,
    telegram_id: int,
    username: str = "",
    first_name: str = "",
    last_name: str = "",
    language_code: str | None = None,
) -> tuple[TelegramUser, bool]:
    """Find the user by Telegram id (refreshed as user_refresh_from_telegram says), or make
    them, in the language their Telegram speaks when we have it."""
    defaults = _profile_names(username=username, first_name=first_name, last_name=last_name)
    user, created = TelegramUser.objects.get_or_create(
        telegram_id=telegram_id,
        defaults={**defaults, "language": language_from_telegram(language_code),
                  "is_admin": telegram_id in settings.ADMIN_TELEGRAM_IDS},
    )
    if not created:
        user_refresh_from_telegram(user=user, **defaults)
    return user, created


def user_refresh_from_telegram(*, user: TelegramUser, username: str = "", first_name: str = "",
                               last_name: str = "") -> TelegramUser:
    """What an update from a known person tells us: their current profile names, that they
    can be reached (they wrote), and admin rights exactly while ADMIN_TELEGRAM_IDS lists them:
    an id taken off the list loses the flag that core's admin checks read at their next
    update (names are not kept for someone who had their personal data erased).
    Writes nothing when nothing changed (the usual case)."""
    facts = _profile_names(username=username, first_name=first_name, last_name=last_name)
    if user.personal_data_erased_at is not None:
        facts = {}  # they asked for their data to be erased: names are not kept again
    changed = [field for field, value in facts.items() if getattr(user, field) != value]
    listed = user.telegram_id in settings.ADMIN_TELEGRAM_IDS
    if listed != user.is_admin:
        facts["is_admin"] = listed
        changed.append("is_admin")
    if changed:
        for field in changed:
            setattr(user, field, facts[field])
        user.save(update_fields=[*changed, "updated_at"])
    if user.unreachable_since is not None:
        user_mark_reachable(user=user)
    return user


def user_set_language(*, user: TelegramUser, language: str) -> TelegramUser:
    if language not in _LANGUAGE_CODES:
        raise ServiceError(_("This language is not supported."), code="bad_language")
    user.language = language
    user.save(update_fields=["language", "updated_at"])
    return user


def user_set_roles(*, user: TelegramUser, borrower: bool, lender: bool) -> TelegramUser:
    if not (borrower or lender):
        raise ServiceError(_("Choose at least one role: borrower or lender."), code="no_role")
    user.is_borrower, user.is_lender = borrower, lender
    user.save(update_fields=["is_borrower", "is_lender", "updated_at"])
    return user


def user_record_consent(*, user: TelegramUser, terms_version: str = TERMS_VERSION) -> TelegramUser:
    user.consented_at = timezone.now()
    user.terms_version = terms_version
    user.save(update_fields=["consented_at", "terms_version", "updated_at"])
    return user


def user_set_phone(*, user: TelegramUser, phone: str, contact_user_id: int | None) -> TelegramUser:
    """Accept only the user's own contact card, as Telegram shares it."""
    if contact_user_id != user.telegram_id:
        raise ServiceError(_("Please share your own phone number with the button."),
                           code="not_own_contact")
    normalized = re.sub(r"[\s\-()]", "", phone)
    if not _PHONE.match(normalized):
        raise ServiceError(_("That does not look like a phone number."), code="bad_phone")
    user.phone = normalized if normalized.startswith("+") else f"+{normalized}"
    user.save(update_fields=["phone", "updated_at"])
    _refresh_kyc_tier(user)
    return user


@transaction.atomic
def user_link_wallet(*, user: TelegramUser, address: str) -> TelegramUser:
    """Store a wallet address whose ownership was already proven by a signature."""
    if not _ADDRESS.match(address):
        raise ServiceError(_("That is not a wallet address."), code="bad_address")
    holder = user_by_wallet(address=address)
    if holder is not None and holder.pk != user.pk:
        raise ServiceError(_("This wallet is already linked to another account."),
                           code="wallet_taken")
    user.wallet_address = address
    user.wallet_verified_at = timezone.now()
    user.save(update_fields=["wallet_address", "wallet_verified_at", "updated_at"])
    _refresh_kyc_tier(user)
    # Scoring (a higher layer) reads the wallet's history from the chain for the features;
    # by task name, so users never imports scoring. A lost message is caught by the beat's
    # sweep of missing wallet signals.
    publish_by_name_after_commit("scoring.refresh_wallet_signal", user.pk)
    return user


def _refresh_kyc_tier(user: TelegramUser) -> None:
    """Phone plus a verified wallet earn the basic tier; higher tiers are set by operators."""
    if user.kyc_tier == KycTier.NONE and user.phone and user.wallet_address:
        user.kyc_tier = KycTier.BASIC
        user.save(update_fields=["kyc_tier", "updated_at"])


def user_set_kyc_tier(*, user: TelegramUser, tier: int) -> TelegramUser:
    if tier not in KycTier.values:
        raise ServiceError(_("KYC tier %(tier)s does not exist.") % {"tier": tier},
                           code="bad_tier")
    user.kyc_tier = tier
    user.save(update_fields=["kyc_tier", "updated_at"])
    return user


def user_freeze(*, user: TelegramUser, reason: str, by: Operator | None = None) -> TelegramUser:
    """A frozen account can start no loan, funding or other on-chain action."""
    reason = plain_text(reason, max_length=TelegramUser._meta.get_field("frozen_reason").max_length,
                        multiline=True)
    if not reason:
        raise ServiceError(_("Say why the account is frozen."), code="reason_required")
    with transaction.atomic():
        user.is_frozen, user.frozen_reason, user.frozen_at = True, reason, timezone.now()
        user.save(update_fields=["is_frozen", "frozen_reason", "frozen_at", "updated_at"])
        _record(by, OperatorActionKind.FREEZE, user, user.frozen_reason)
    return user


def user_unfreeze(*, user: TelegramUser, reason: str = "",
                  by: Operator | None = None) -> TelegramUser:
    with transaction.atomic():
        user.is_frozen, user.frozen_reason, user.frozen_at = False, "", None
        user.save(update_fields=["is_frozen", "frozen_reason", "frozen_at", "updated_at"])
        _record(by, OperatorActionKind.UNFREEZE, user, reason)
    return user


def _record(by: Operator | None, kind: str, user: TelegramUser, reason: str) -> None:
    operator_action_record(by=by or SYSTEM, kind=kind, subject=user, reason=reason,
                           target=f"account {user.telegram_id}")


def user_set_reminders(*, user: TelegramUser, enabled: bool) -> TelegramUser:
    user.reminders_enabled = enabled
    user.save(update_fields=["reminders_enabled", "updated_at"])
    return user


def user_mark_unreachable(*, user: TelegramUser) -> TelegramUser:
    if user.unreachable_since is None:
        user.unreachable_since = timezone.now()
        user.save(update_fields=["unreachable_since", "updated_at"])
    return user


def user_mark_reachable(*, user: TelegramUser) -> TelegramUser:
    """The person talks to the bot again (they unblocked it): messages may reach them."""
    if user.unreachable_since is not None:
        TelegramUser.objects.filter(pk=user.pk).update(unreachable_since=None,
                                                       updated_at=timezone.now())
        user.unreachable_since = None
    return user


_REFERRAL_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (l/1, o/0, i)


def user_referral_code(*, user: TelegramUser) -> str:
    """The user's own referral code, made on first use (unique; retried on the rare clash)."""
    if user.referral_code:
        return user.referral_code
    for _attempt in range(5):
        code = "".join(secrets.choice(_REFERRAL_ALPHABET) for _position in range(8))
        try:
            with transaction.atomic():
                updated = TelegramUser.objects.filter(pk=user.pk, referral_code="").update(
                    referral_code=code)
        except IntegrityError:
            continue  # someone else holds this code: draw another
        if not updated:  # a concurrent call gave the user a code first
            user.referral_code = TelegramUser.objects.values_list(
                "referral_code", flat=True).get(pk=user.pk)
        else:
            user.referral_code = code
        return user.referral_code
    raise ServiceError(_("Could not make a referral code. Please try again."),
                       code="referral_code")


def user_record_referral(*, user: TelegramUser, code: str) -> bool:
    """Remember who referred the user (from a `ref_<code>` link). Silent refusals (False): an
    unknown code, the user's own code, or a user who was already referred."""
    referrer = TelegramUser.objects.filter(referral_code=code.lower()).first() if code else None
    if referrer is None or referrer.pk == user.pk:
        return False
    updated = TelegramUser.objects.filter(pk=user.pk, referred_by__isnull=True).update(
        referred_by=referrer, updated_at=timezone.now())
    if updated:
        user.referred_by = referrer
    return bool(updated)
