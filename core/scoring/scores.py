"""What every stored score shares, whichever path wrote it: its attestation's validity
window, the attestation signed inline when a scorer key is configured, and the cache of each
borrower's latest score."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache as django_cache

from core.scoring.models import PostingStatus, Score
from core.scoring.scorecard import ScoreResult
from core.scoring.selectors import _EPOCH_KEY, latest_score_cache_key, score_summary
from onchain.attestations import GRADE_CODES, AttestationSigner, ScoreAttestation

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Attestation:
    """The attestation columns of a Score row."""

    chain_id: int | None = None
    registry_address: str = ""
    scorer_address: str = ""
    attestation_hash: str = ""
    signature: str = ""
    posting_status: str = PostingStatus.UNSIGNED


def attestation_times(now: datetime) -> tuple[int, int]:
    """(issued_at, expiry) in unix seconds for a score computed at `now`."""
    issued_at = int(now.timestamp())
    return issued_at, issued_at + settings.SCORE_ATTESTATION_TTL_DAYS * 86_400


def attest(*, signer: AttestationSigner | None, wallet: str, result: ScoreResult,
           issued_at: int, expiry: int) -> Attestation:
    """Sign the score for `wallet` now (None signer: left unsigned for the signing job)."""
    if not wallet:
        return Attestation(posting_status=PostingStatus.NO_WALLET)
    if signer is None:
        return Attestation()
    signed = signer.sign(ScoreAttestation(
        borrower=wallet, score=result.score, grade=GRADE_CODES[result.grade],
        model_version=result.model_version, issued_at=issued_at, expiry=expiry))
    return Attestation(chain_id=signer.domain.chain_id,
                       registry_address=signer.domain.verifying_contract,
                       scorer_address=signer.address,
                       attestation_hash="0x" + signed.digest.hex(),
                       signature="0x" + signed.signature.hex(),
                       posting_status=PostingStatus.PENDING)


def score_cache_put(score: Score) -> None:
    """Make `score` the cached latest score of its borrower."""
    try:
        django_cache.set(latest_score_cache_key(borrower_id=score.borrower_id),
                         score_summary(score), timeout=settings.SCORE_CACHE_TTL_S)
    except Exception:  # PostgreSQL is the truth; a cache outage only costs a query later
        logger.warning("score cache unavailable", exc_info=True)


def scores_cache_invalidate() -> None:
    """Retire every cached latest score at once (a new epoch in their keys)."""
    try:
        django_cache.set(_EPOCH_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        logger.warning("score cache unavailable", exc_info=True)
