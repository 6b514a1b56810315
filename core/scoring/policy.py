"""Pricing and lending policy: grade -> APR, maximum amount and term (pricing_v<N>.json),
KYC-tier limits, automatic refusal rules, and when a person must review an application.

A pure function of the score, the borrower's facts and the requested terms, so it can be
tested exhaustively and explained: every outcome carries reason keys (translatable; for a
refusal they are the adverse-action reasons shown to the borrower).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from core.scoring.features import BorrowerFacts
from core.scoring.scorecard import ScoreResult

DATA_DIR = Path(__file__).resolve().parent
CURRENT_PRICING = 1

APPROVE, REVIEW, REFUSE = "approve", "review", "refuse"


@dataclass(frozen=True, slots=True)
class GradeTerms:
    apr_bps: int
    max_principal: int
    max_installments: int


@dataclass(frozen=True, slots=True)
class Pricing:
    version: int
    grades: dict[str, GradeTerms]
    refuse_grades: frozenset[str]


@dataclass(frozen=True, slots=True)
class Thresholds:
    review_amount: int  # base units; applications at or above go to a person
    review_pd_bps: int  # estimated PD at or above goes to a person


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    outcome: str  # approve | review | refuse
    apr_bps: int
    principal: int  # what is offered (may be less than asked)
    reasons: list[str] = field(default_factory=list)  # policy reason keys


@cache
def load_pricing(version: int = CURRENT_PRICING) -> Pricing:
    data = json.loads((DATA_DIR / f"pricing_v{version}.json").read_text())
    grades = {grade: GradeTerms(**terms) for grade, terms in data["grades"].items()}
    if sorted(grades) != ["A", "B", "C", "D", "E"]:
        raise ValueError("pricing must cover grades A to E")
    aprs = [grades[g].apr_bps for g in "ABCDE"]
    if aprs != sorted(aprs):
        raise ValueError("a worse grade never pays a lower APR")
    return Pricing(version=int(data["version"]), grades=grades,
                   refuse_grades=frozenset(data["refuse_grades"]))


def decide(*, result: ScoreResult, facts: BorrowerFacts, principal: int, installments: int,
           kyc_limit: int, pricing: Pricing, thresholds: Thresholds) -> PolicyDecision:
    terms = pricing.grades[result.grade]
    refusals = []
    if facts.is_frozen:
        refusals.append("refusal_account_frozen")
    if not facts.wallet_address:
        refusals.append("refusal_no_verified_wallet")
    if kyc_limit <= 0:
        refusals.append("refusal_verification_needed")
    if facts.unresolved_defaults:
        refusals.append("refusal_unresolved_default")
    if facts.late_loans:
        refusals.append("refusal_loan_overdue")
    if result.grade in pricing.refuse_grades:
        refusals.append("refusal_score_too_low")
    available = min(kyc_limit - facts.exposure, terms.max_principal)
    if kyc_limit > 0 and kyc_limit - facts.exposure <= 0:
        refusals.append("refusal_borrowing_limit_reached")
    if installments > terms.max_installments and result.grade not in pricing.refuse_grades:
        refusals.append("refusal_term_too_long")
    if refusals:
        return PolicyDecision(outcome=REFUSE, apr_bps=terms.apr_bps, principal=principal,
                              reasons=refusals)

    offered = min(principal, available)
    reasons = ["offer_amount_reduced"] if offered < principal else []
    review = []
    if offered >= thresholds.review_amount:
        review.append("review_large_amount")
    if result.pd_bps >= thresholds.review_pd_bps:
        review.append("review_high_risk")
    if review:
        return PolicyDecision(outcome=REVIEW, apr_bps=terms.apr_bps, principal=offered,
                              reasons=reasons + review)
    return PolicyDecision(outcome=APPROVE, apr_bps=terms.apr_bps, principal=offered,
                          reasons=reasons)
