"""Scoring's configuration read from settings: KYC limits, review thresholds, and the
ScoreRegistry and scorer key the attestations are signed for."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from core.scoring import policy
from onchain.attestations import AttestationSigner, RegistryDomain
from onchain.deploy import read_addresses


def kyc_limits() -> dict[int, int]:
    """KYC tier -> the most a borrower of that tier may have outstanding (base units)."""
    return {int(tier): int(limit) for tier, limit in settings.KYC_TIER_LIMITS.items()}


def review_thresholds() -> policy.Thresholds:
    return policy.Thresholds(review_amount=settings.SCORING_REVIEW_AMOUNT,
                             review_pd_bps=settings.SCORING_REVIEW_PD_BPS)


def registry_domain() -> RegistryDomain | None:
    """The ScoreRegistry the attestations are for: SCORE_REGISTRY_ADDRESS, else the address
    deployed on CHAIN_ID in ONCHAIN_ADDRESSES_FILE; None when neither is known."""
    address = settings.SCORE_REGISTRY_ADDRESS
    if not address:
        deployed = read_addresses(settings.ONCHAIN_ADDRESSES_FILE)
        address = deployed.get(str(settings.CHAIN_ID), {}).get("ScoreRegistry", "")
    if not address:
        return None
    return RegistryDomain(chain_id=settings.CHAIN_ID, verifying_contract=address)


@cache
def _signer_for(private_key: str, chain_id: int, registry: str) -> AttestationSigner:
    return AttestationSigner(private_key=private_key,
                             domain=RegistryDomain(chain_id=chain_id,
                                                   verifying_contract=registry))


def scorer_signer() -> AttestationSigner | None:
    """The configured scorer key's signer (cached per key and registry); None if unset."""
    domain = registry_domain()
    if domain is None or not settings.SCORER_PRIVATE_KEY:
        return None
    return _signer_for(settings.SCORER_PRIVATE_KEY, domain.chain_id, domain.verifying_contract)
