"""Reads about users."""

from __future__ import annotations

from django.conf import settings

from core.users.models import TERMS_VERSION, TelegramUser

# The onboarding steps, in the order a person is asked for them.
LANGUAGE, ROLE, TERMS, PHONE, WALLET = "language", "role", "terms", "phone", "wallet"


def users_reachable():
    """People the bot can still write to (Telegram has not refused them for good)."""
    return TelegramUser.objects.filter(unreachable_since__isnull=True)


def onboarding_gaps(*, user: TelegramUser) -> list[str]:
    """The onboarding steps still to do, in order. Choosing a role confirms the language."""
    gaps = []
    if not (user.is_borrower or user.is_lender):
        gaps += [LANGUAGE, ROLE]
    if user.consented_at is None or user.terms_version != TERMS_VERSION:
        gaps.append(TERMS)
    if not user.phone:
        gaps.append(PHONE)
    if not user.wallet_address:
        gaps.append(WALLET)
    return gaps


def user_get(*, user_id: int) -> TelegramUser | None:
    return TelegramUser.objects.filter(pk=user_id).first()


def user_get_by_telegram_id(*, telegram_id: int) -> TelegramUser | None:
    return TelegramUser.objects.filter(telegram_id=telegram_id).first()


def kyc_tier_limit(*, tier: int) -> int:
    """The most principal (base units) a borrower of this tier may have outstanding."""
    return int(settings.KYC_TIER_LIMITS.get(tier, 0))


def user_search(*, query: str, limit: int = 20) -> list[TelegramUser]:
    """Admin lookup by Telegram id, @username or wallet address."""
    query = query.strip().lstrip("@")
    # Nothing searched for is longer than a username column; a longer text matches nobody
    # (and a LIKE of 10,000 characters is "too complex" for SQLite).
    if not query or len(query) > TelegramUser._meta.get_field("username").max_length:
        return []
    if query.isascii() and query.isdigit():  # int() of "²" or of 5,000 digits raises
        return list(TelegramUser.objects.filter(telegram_id=int(query))[:limit])
    if query.lower().startswith("0x"):
        return list(TelegramUser.objects.filter(wallet_address__iexact=query)[:limit])
    return list(TelegramUser.objects.filter(username__iexact=query)[:limit])


def user_by_wallet(*, address: str) -> TelegramUser | None:
    """The account whose verified wallet this is (addresses compare case-insensitively)."""
    return TelegramUser.objects.filter(wallet_address__iexact=address).first()


def users_reachable_count() -> int:
    return users_reachable().count()
