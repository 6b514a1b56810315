"""Credit scoring: attestations, posting, caches, review thresholds."""

from __future__ import annotations

import os

from config.envconfig import env_bool
from config.settings.chain import CHAIN_ID

# Key that signs score attestations (EIP-712) and posts them. On the local anvil chain the
# default is anvil's account 2, public knowledge: DEV ONLY; elsewhere it must be set.
SCORER_PRIVATE_KEY = os.environ.get("SCORER_PRIVATE_KEY") or (
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
    if CHAIN_ID == 31337 else "")
# ScoreRegistry the attestations are for; empty: the one in onchain/addresses.json for CHAIN_ID.
SCORE_REGISTRY_ADDRESS = os.environ.get("SCORE_REGISTRY_ADDRESS", "")
# Post signed attestations to the ScoreRegistry (costs gas); off by default.
SCORE_POSTING = env_bool("SCORE_POSTING", default=False)
SCORE_POSTING_BATCH = int(os.environ.get("SCORE_POSTING_BATCH") or "100")
SCORE_ATTESTATION_TTL_DAYS = int(os.environ.get("SCORE_ATTESTATION_TTL_DAYS") or "30")
SCORE_CACHE_TTL_S = int(os.environ.get("SCORE_CACHE_TTL_S") or str(2 * 24 * 3600))
# Borrowers per chunk of the nightly rescoring.
SCORING_CHUNK = int(os.environ.get("SCORING_CHUNK") or "5000")
# Applications at or above this principal (base units) or this estimated PD (bps) go to review.
SCORING_REVIEW_AMOUNT = int(os.environ.get("SCORING_REVIEW_AMOUNT") or str(1_000 * 10**6))
SCORING_REVIEW_PD_BPS = int(os.environ.get("SCORING_REVIEW_PD_BPS") or "800")
# Applications still unscored after this many seconds are queued again by the periodic sweep
# (their task was lost, e.g. Redis was down when they were submitted).
SCORING_PENDING_AFTER_S = float(os.environ.get("SCORING_PENDING_AFTER_S") or "60")
# Wallet signals (a wallet's on-chain history, a scoring feature) older than this are read
# again by the beat's sweep, at most this many per run (every 10 minutes).
WALLET_SIGNAL_MAX_AGE_HOURS = int(os.environ.get("WALLET_SIGNAL_MAX_AGE_HOURS") or "24")
WALLET_SIGNAL_REFRESH_BATCH = int(os.environ.get("WALLET_SIGNAL_REFRESH_BATCH") or "100")
# Review items older than this alert the admins.
REVIEW_SLA_HOURS = int(os.environ.get("REVIEW_SLA_HOURS") or "24")
