"""Reads about identity verification."""

from __future__ import annotations

from dataclasses import dataclass

from core.kyc.models import KycRequest, KycStatus
from core.users.models import KycTier, TelegramUser
from core.users.selectors import kyc_tier_limit

# Tiers a person can ask for with documents; the basic tier comes from phone and wallet.
DOCUMENT_TIERS = (KycTier.VERIFIED, KycTier.ENHANCED)


@dataclass(frozen=True)
class TierStep:
    """The tier a person would reach next, and what each tier lets them borrow."""

    current: int
    current_limit: int
    target: int
    target_limit: int


def kyc_next_tier(*, user: TelegramUser) -> TierStep | None:
    """The next tier documents can earn, or None at the top (or before the basic tier)."""
    if user.kyc_tier < KycTier.BASIC:
        return None
    target = next((tier for tier in DOCUMENT_TIERS if tier > user.kyc_tier), None)
    if target is None:
        return None
    return TierStep(current=user.kyc_tier, current_limit=kyc_tier_limit(tier=user.kyc_tier),
                    target=int(target), target_limit=kyc_tier_limit(tier=target))


def kyc_pending_request(*, user: TelegramUser) -> KycRequest | None:
    return KycRequest.objects.filter(user=user, status=KycStatus.PENDING).first()


def kyc_user_requests(*, user: TelegramUser) -> list[KycRequest]:
    """A person's requests with their documents' metadata, oldest first."""
    return list(KycRequest.objects.filter(user=user).prefetch_related("documents")
                .order_by("created_at", "pk"))
