"""A submitted application scored, priced and decided in one transaction (submitted ->
approved | in_review | rejected), the borrower told through the outbox; and the sweep that
queues scoring for applications whose task was lost. Running it twice changes nothing."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.common.queueing import publish_by_name
from core.loans import services as loans
from core.loans.models import Loan
from core.loans.states import LoanState
from core.notifications.services import notify_admins
from core.scoring import features as feature_sql
from core.scoring import policy
from core.scoring.config import kyc_limits, review_thresholds, scorer_signer
from core.scoring.errors import ScoringError
from core.scoring.models import PostingStatus, Score, ScoreKind
from core.scoring.notices import notify_borrower, offer_params
from core.scoring.scorecard import load_scorecard
from core.scoring.scores import attest, attestation_times, score_cache_put
from core.scoring.selectors import applications_awaiting_score

S = LoanState


def loan_application_score(*, loan: Loan, now: datetime | None = None) -> Score:
    """Score, price and decide a submitted application; notify the borrower.

    Idempotent: an application that is no longer `submitted` keeps the score it got.
    """
    now = now or timezone.now()
    loan.refresh_from_db()
    if loan.state != S.SUBMITTED:
        existing = loan.scores.order_by("-created_at", "-id").first()
        if existing is None:
            raise ScoringError(_("Loan #%(loan)s is %(state)s; only a submitted application "
                                 "is scored.") % {"loan": loan.pk, "state": loan.state},
                               code="not_submitted")
        return existing
    scorecard = load_scorecard()
    pricing = policy.load_pricing()
    limits = kyc_limits()
    values, facts = feature_sql.features_for_borrower(
        borrower_id=loan.borrower_id, now=now, kyc_limits=limits, exclude_loan_id=loan.pk,
        purpose=loan.purpose)
    result = scorecard.evaluate(values)
    decision = policy.decide(result=result, facts=facts, principal=loan.principal,
                             installments=loan.installments,
                             kyc_limit=limits.get(facts.kyc_tier, 0), pricing=pricing,
                             thresholds=review_thresholds())
    issued_at, expiry = attestation_times(now)
    # The registry keeps only a strictly newer attestation: never reuse a second.
    previous = (Score.objects.filter(borrower_id=loan.borrower_id)
                .order_by("-issued_at").values_list("issued_at", flat=True).first())
    if previous is not None and previous >= issued_at:
        issued_at, expiry = previous + 1, expiry + previous + 1 - issued_at
    attestation = attest(signer=scorer_signer(), wallet=facts.wallet_address, result=result,
                          issued_at=issued_at, expiry=expiry)
    with transaction.atomic():
        score = Score.objects.create(
            borrower_id=loan.borrower_id, loan=loan, kind=ScoreKind.APPLICATION,
            model_version=result.model_version, features=values, score=result.score,
            grade=result.grade, pd_bps=result.pd_bps, reasons=result.reasons,
            decision=decision.outcome, decision_reasons=decision.reasons, created_at=now,
            wallet_address=facts.wallet_address, issued_at=issued_at, expiry=expiry,
            chain_id=attestation.chain_id, registry_address=attestation.registry_address,
            scorer_address=attestation.scorer_address,
            attestation_hash=attestation.attestation_hash, signature=attestation.signature,
            posting_status=attestation.posting_status)
        # Fails with IllegalTransition if a concurrent run got there first: all rolls back.
        loans.loan_record_offer(loan=loan, grade=result.grade, score=result.score,
                                apr_bps=decision.apr_bps, reasons=result.reasons,
                                max_principal=decision.principal)
        _apply_decision(loan, score, decision)
        transaction.on_commit(lambda: score_cache_put(score))
        if settings.SCORE_POSTING and attestation.posting_status == PostingStatus.PENDING:
            transaction.on_commit(_queue_posting)
    return score


def _apply_decision(loan: Loan, score: Score, decision: policy.PolicyDecision) -> None:
    if decision.outcome == policy.REFUSE:
        loans.loan_reject(loan=loan, actor_label="policy",
                          reason="refused: " + ", ".join(decision.reasons))
        notify_borrower(loan, "application_refused", {
            "loan_id": loan.pk, "grade": score.grade, "score": score.score,
            "reasons": decision.reasons + [r for r in score.reasons
                                           if r not in decision.reasons]})
    elif decision.outcome == policy.REVIEW:
        loans.loan_send_to_review(loan=loan, reason="review: " + ", ".join(decision.reasons))
        notify_borrower(loan, "application_in_review", {
            **offer_params(loan, score, score.reasons),
            "review_reasons": decision.reasons, "sla_hours": settings.REVIEW_SLA_HOURS})
        notify_admins("review_requested", f"scoring:review_requested:{loan.pk}", {
            "loan_id": loan.pk, "borrower_telegram_id": loan.borrower.telegram_id,
            "grade": score.grade, "score": score.score, "pd_bps": score.pd_bps,
            "principal": loan.principal, "review_reasons": decision.reasons})
    else:
        loans.loan_approve(loan=loan, actor_label="policy",
                           reason="auto-approved" + (": " + ", ".join(decision.reasons)
                                                     if decision.reasons else ""))
        notify_borrower(loan, "offer_ready", {**offer_params(loan, score, score.reasons),
                                               "offer_reasons": decision.reasons})


def _queue_posting() -> None:
    # By name: the tasks module imports this one. A broker outage leaves it to the periodic
    # posting job.
    publish_by_name("scoring.post_attestations")


def applications_score_pending(*, older_than_s: float) -> int:
    """Queue scoring for applications still `submitted` after `older_than_s` (their task was
    lost with the broker, or never sent); returns how many were queued."""
    queued = 0
    for loan_id in applications_awaiting_score(older_than_s=older_than_s):
        queued += publish_by_name("scoring.score_application", loan_id)
    return queued

