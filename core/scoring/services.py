"""Scoring, pricing, policy, review and attestations.

- ``loan_application_score``: a submitted application is scored, priced and decided in one
  transaction (scored -> approved | in_review | rejected) and the borrower is told through the
  outbox. Running it twice changes nothing.
- ``scores_rescore_range``: the nightly batch for one chunk of borrowers. On PostgreSQL one
  ``INSERT ... SELECT`` computes the features, scores them with the scorecard compiled to SQL
  (scorecard_sql.py) and stores the rows, so none travels to Python; elsewhere one SQL
  statement for the features, the scorecard in a loop and a bulk insert.
- ``scores_sign_pending`` / ``scores_post_pending``: each score's EIP-712 attestation is signed by
  the scorer key; with SCORE_POSTING on, signed attestations go to the ScoreRegistry in
  ``postBatch`` transactions through the platform's serial nonce manager.
- ``review_approve`` / ``review_reject`` / ``review_sla_alert``: the admin review queue.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.core.cache import cache as django_cache
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.common.errors import ServiceError
from core.common.queueing import publish
from core.loans import services as loans
from core.loans.models import Loan
from core.loans.states import LoanState
from core.notifications.services import notification_enqueue
from core.scoring import features as feature_sql
from core.scoring import policy
from core.scoring.models import (
    BorrowerProfile,
    Employment,
    IncomeBand,
    PostingStatus,
    Score,
    ScoreKind,
    WalletSignal,
)
from core.scoring.scorecard import ScoreResult, load_scorecard
from core.scoring.scorecard_sql import CompiledScorecard
from core.scoring.selectors import (
    _EPOCH_KEY,
    applications_awaiting_score,
    latest_score_cache_key,
    review_overdue,
    score_summary,
)
from core.users.models import TelegramUser
from onchain.attestations import (
    GRADE_CODES,
    AttestationSigner,
    RegistryDomain,
    ScoreAttestation,
    ScoreRegistryClient,
)

logger = logging.getLogger(__name__)
S = LoanState

# Column order of the batch writers (INSERT ... SELECT and bulk insert).
_COLUMNS = ("borrower_id", "loan_id", "kind", "batch_key", "model_version", "features", "score",
            "grade", "pd_bps", "reasons", "decision", "decision_reasons", "created_at",
            "wallet_address", "issued_at", "expiry", "chain_id", "registry_address",
            "scorer_address", "attestation_hash", "signature", "posting_status",
            "posting_attempts", "posting_error", "tx_hash", "posted_at")


class ScoringError(ServiceError):
    code = "scoring"


# --- configuration ----------------------------------------------------------------------

def _kyc_limits() -> dict[int, int]:
    return {int(tier): int(limit) for tier, limit in settings.KYC_TIER_LIMITS.items()}


def _thresholds() -> policy.Thresholds:
    return policy.Thresholds(review_amount=settings.SCORING_REVIEW_AMOUNT,
                             review_pd_bps=settings.SCORING_REVIEW_PD_BPS)


def registry_domain() -> RegistryDomain | None:
    """The ScoreRegistry the attestations are for: SCORE_REGISTRY_ADDRESS, else the address
    deployed on CHAIN_ID in onchain/addresses.json; None when neither is known."""
    address = settings.SCORE_REGISTRY_ADDRESS
    if not address:
        from onchain.deploy import read_addresses

        address = read_addresses().get(str(settings.CHAIN_ID), {}).get("ScoreRegistry", "")
    if not address:
        return None
    return RegistryDomain(chain_id=settings.CHAIN_ID, verifying_contract=address)


@cache
def _signer_for(private_key: str, chain_id: int, registry: str) -> AttestationSigner:
    return AttestationSigner(private_key=private_key,
                             domain=RegistryDomain(chain_id=chain_id,
                                                   verifying_contract=registry))


def scorer_signer() -> AttestationSigner | None:
    domain = registry_domain()
    if domain is None or not settings.SCORER_PRIVATE_KEY:
        return None
    return _signer_for(settings.SCORER_PRIVATE_KEY, domain.chain_id, domain.verifying_contract)


# --- profile and wallet facts -----------------------------------------------------------

def borrower_profile_set(*, user: TelegramUser, income_band: str = "",
                         employment: str = "") -> BorrowerProfile:
    """What the borrower declares about themselves; an empty value means "prefer not to say"."""
    if income_band and income_band not in IncomeBand.values:
        raise ScoringError(_("Choose one of the offered income bands."),
                           code="bad_income_band")
    if employment and employment not in Employment.values:
        raise ScoringError(_("Choose one of the offered employment options."),
                           code="bad_employment")
    profile, _created = BorrowerProfile.objects.update_or_create(
        user=user, defaults={"income_band": income_band, "employment": employment})
    return profile


def wallet_signal_record(*, user: TelegramUser, tx_count: int, first_tx_at: datetime | None,
                         checked_at: datetime | None = None) -> WalletSignal:
    signal, _created = WalletSignal.objects.update_or_create(
        user=user, defaults={"address": user.wallet_address, "tx_count": tx_count,
                             "first_tx_at": first_tx_at,
                             "checked_at": checked_at or timezone.now()})
    return signal


def wallet_signal_refresh(*, user: TelegramUser, w3: Any = None) -> WalletSignal | None:
    """Read the verified wallet's activity from the chain (RPC_URL) and keep it."""
    if not user.wallet_address:
        return None
    from web3 import Web3

    from onchain.wallet_activity import wallet_activity

    w3 = w3 or Web3(Web3.HTTPProvider(settings.RPC_URL, request_kwargs={"timeout": 10}))
    sent, first_ts = wallet_activity(w3, Web3.to_checksum_address(user.wallet_address))
    first_at = datetime.fromtimestamp(first_ts, tz=UTC) if first_ts else None
    return wallet_signal_record(user=user, tx_count=sent, first_tx_at=first_at)


# --- one score --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Attestation:
    chain_id: int | None = None
    registry_address: str = ""
    scorer_address: str = ""
    attestation_hash: str = ""
    signature: str = ""
    posting_status: str = PostingStatus.UNSIGNED


def _times(now: datetime) -> tuple[int, int]:
    issued_at = int(now.timestamp())
    return issued_at, issued_at + settings.SCORE_ATTESTATION_TTL_DAYS * 86_400


def _attest(*, signer: AttestationSigner | None, wallet: str, result: ScoreResult,
            issued_at: int, expiry: int) -> _Attestation:
    if not wallet:
        return _Attestation(posting_status=PostingStatus.NO_WALLET)
    if signer is None:
        return _Attestation()
    signed = signer.sign(ScoreAttestation(
        borrower=wallet, score=result.score, grade=GRADE_CODES[result.grade],
        model_version=result.model_version, issued_at=issued_at, expiry=expiry))
    return _Attestation(chain_id=signer.domain.chain_id,
                        registry_address=signer.domain.verifying_contract,
                        scorer_address=signer.address,
                        attestation_hash="0x" + signed.digest.hex(),
                        signature="0x" + signed.signature.hex(),
                        posting_status=PostingStatus.PENDING)


def _cache_put(score: Score) -> None:
    try:
        django_cache.set(latest_score_cache_key(borrower_id=score.borrower_id),
                         score_summary(score), timeout=settings.SCORE_CACHE_TTL_S)
    except Exception:  # PostgreSQL is the truth; a cache outage only costs a query later
        logger.warning("score cache unavailable", exc_info=True)


def scores_cache_invalidate() -> None:
    """Retire every cached latest score at once (a new epoch in their keys)."""
    import uuid

    try:
        django_cache.set(_EPOCH_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        logger.warning("score cache unavailable", exc_info=True)


# --- applications -----------------------------------------------------------------------

def _notify_borrower(loan: Loan, template_key: str, params: dict) -> None:
    notification_enqueue(recipient=loan.borrower, template_key=template_key,
                         dedupe_key=f"scoring:{template_key}:{loan.pk}", params=params)


def _offer_params(loan: Loan, score: Score, reasons: list[str]) -> dict:
    return {"loan_id": loan.pk, "grade": loan.grade, "score": loan.score,
            "pd_bps": score.pd_bps, "apr_bps": loan.apr_bps, "principal": loan.principal,
            "total_due": loan.total_due, "installments": loan.installments,
            "interval_days": loan.interval_days, "reasons": reasons}


def _notify_admins(template_key: str, dedupe: str, params: dict) -> None:
    for admin in TelegramUser.objects.filter(is_admin=True).order_by("pk"):
        notification_enqueue(recipient=admin, template_key=template_key,
                             dedupe_key=f"{dedupe}:{admin.pk}", params=params)


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
    kyc_limits = _kyc_limits()
    values, facts = feature_sql.features_for_borrower(
        borrower_id=loan.borrower_id, now=now, kyc_limits=kyc_limits, exclude_loan_id=loan.pk,
        purpose=loan.purpose)
    result = scorecard.evaluate(values)
    decision = policy.decide(result=result, facts=facts, principal=loan.principal,
                             installments=loan.installments,
                             kyc_limit=kyc_limits.get(facts.kyc_tier, 0), pricing=pricing,
                             thresholds=_thresholds())
    issued_at, expiry = _times(now)
    # The registry keeps only a strictly newer attestation: never reuse a second.
    previous = (Score.objects.filter(borrower_id=loan.borrower_id)
                .order_by("-issued_at").values_list("issued_at", flat=True).first())
    if previous is not None and previous >= issued_at:
        issued_at, expiry = previous + 1, expiry + previous + 1 - issued_at
    attestation = _attest(signer=scorer_signer(), wallet=facts.wallet_address, result=result,
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
        transaction.on_commit(lambda: _cache_put(score))
        if settings.SCORE_POSTING and attestation.posting_status == PostingStatus.PENDING:
            transaction.on_commit(_queue_posting)
    return score


def _apply_decision(loan: Loan, score: Score, decision: policy.PolicyDecision) -> None:
    if decision.outcome == policy.REFUSE:
        loans.loan_reject(loan=loan, actor_label="policy",
                          reason="refused: " + ", ".join(decision.reasons))
        _notify_borrower(loan, "application_refused", {
            "loan_id": loan.pk, "grade": score.grade, "score": score.score,
            "reasons": decision.reasons + [r for r in score.reasons
                                           if r not in decision.reasons]})
    elif decision.outcome == policy.REVIEW:
        loans.loan_send_to_review(loan=loan, reason="review: " + ", ".join(decision.reasons))
        _notify_borrower(loan, "application_in_review", {
            **_offer_params(loan, score, score.reasons),
            "review_reasons": decision.reasons, "sla_hours": settings.REVIEW_SLA_HOURS})
        _notify_admins("review_requested", f"scoring:review_requested:{loan.pk}", {
            "loan_id": loan.pk, "borrower_telegram_id": loan.borrower.telegram_id,
            "grade": score.grade, "score": score.score, "pd_bps": score.pd_bps,
            "principal": loan.principal, "review_reasons": decision.reasons})
    else:
        loans.loan_approve(loan=loan, actor_label="policy",
                           reason="auto-approved" + (": " + ", ".join(decision.reasons)
                                                     if decision.reasons else ""))
        _notify_borrower(loan, "offer_ready", {**_offer_params(loan, score, score.reasons),
                                               "offer_reasons": decision.reasons})


def _queue_posting() -> None:
    from core.scoring.tasks import post_attestations

    publish(post_attestations)  # a broker outage leaves it to the periodic posting job


def applications_score_pending(*, older_than_s: float) -> int:
    """Queue scoring for applications still `submitted` after `older_than_s` (their task was
    lost with the broker, or never sent); returns how many were queued."""
    from core.scoring.tasks import score_application

    queued = 0
    for loan_id in applications_awaiting_score(older_than_s=older_than_s):
        queued += publish(score_application, loan_id)
    return queued


# --- review -----------------------------------------------------------------------------

def _check_reviewer(reviewer: TelegramUser) -> None:
    if not reviewer.is_admin:
        raise ScoringError(_("Only an admin can decide a review."), code="not_admin")


def review_approve(*, loan: Loan, reviewer: TelegramUser, note: str = "") -> Loan:
    _check_reviewer(reviewer)
    with transaction.atomic():
        loans.loan_approve(loan=loan, actor=reviewer, reason=note or "approved in review")
        score = loan.scores.order_by("-created_at", "-id").first()
        _notify_borrower(loan, "offer_ready", {**_offer_params(loan, score, score.reasons),
                                               "offer_reasons": ["reviewed"]})
    return loan


def review_reject(*, loan: Loan, reviewer: TelegramUser, reason: str,
                  reason_keys: list[str] | None = None) -> Loan:
    """A reviewer declines; `reason` is for the audit trail, `reason_keys` for the borrower."""
    _check_reviewer(reviewer)
    with transaction.atomic():
        loans.loan_reject(loan=loan, actor=reviewer, reason=reason)
        score = loan.scores.order_by("-created_at", "-id").first()
        _notify_borrower(loan, "application_refused", {
            "loan_id": loan.pk, "grade": loan.grade, "score": loan.score,
            "reasons": (reason_keys or ["refusal_by_reviewer"]) + (score.reasons if score else [])})
    return loan


def review_sla_alert(*, now: datetime | None = None) -> int:
    """Tell every admin, once per item, about review items older than REVIEW_SLA_HOURS."""
    now = now or timezone.now()
    alerted = 0
    for loan in review_overdue(now=now):
        waited = (now - loan.review_since).total_seconds() / 3600
        _notify_admins("review_sla_breached", f"scoring:review_sla:{loan.pk}", {
            "loan_id": loan.pk, "borrower_telegram_id": loan.borrower.telegram_id,
            "waiting_hours": int(waited), "sla_hours": settings.REVIEW_SLA_HOURS,
            "principal": loan.principal, "grade": loan.grade})
        alerted += 1
    return alerted


# --- batch rescoring --------------------------------------------------------------------

def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def scores_rescore_range(*, first_id: int, last_id: int, batch_key: str,
                         now: datetime | None = None) -> int:
    """Score every borrower with first_id <= id <= last_id once for `batch_key`; returns how
    many scores were written. Borrowers already scored in this batch are skipped, so a chunk
    can be re-run after a crash."""
    if not batch_key:
        raise ScoringError(_("A batch needs a key."))
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        return _rescore_range_in_postgres(first_id=first_id, last_id=last_id,
                                          batch_key=batch_key, now=now)
    scorecard = load_scorecard()
    evaluate = scorecard.evaluate
    done = set(Score.objects.filter(batch_key=batch_key, borrower_id__gte=first_id,
                                    borrower_id__lte=last_id)
               .values_list("borrower_id", flat=True))
    issued_at, expiry = _times(now)
    rows = []
    for values, facts in feature_sql.features_for_range(first_id=first_id, last_id=last_id,
                                                        now=now, kyc_limits=_kyc_limits()):
        if facts.borrower_id in done:
            continue
        result = evaluate(values)
        rows.append((
            facts.borrower_id, None, ScoreKind.BATCH.value, batch_key, result.model_version,
            _json(values), result.score, result.grade, result.pd_bps,
            _json(result.reasons), "", "[]", now, facts.wallet_address, issued_at, expiry, None,
            "", "", "", "",
            PostingStatus.UNSIGNED.value if facts.wallet_address else PostingStatus.NO_WALLET.value,
            0, "", "", None))
    if rows:
        with transaction.atomic():
            _insert_scores(rows)
    return len(rows)


@cache
def _rescore_sql(version: int, limits: tuple[tuple[int, int], ...]) -> str:
    """INSERT ... SELECT scoring one chunk inside PostgreSQL (features -> compiled scorecard ->
    Score rows). Built once per scorecard version and KYC limits."""
    compiled = CompiledScorecard(load_scorecard(version))
    scored = compiled.select(
        feature_sql.range_sql_postgres(kyc_limits=dict(limits)),
        feature_columns=feature_sql.FEATURE_NAMES, carry=("borrower_id", "wallet_address"))
    values = {
        "borrower_id": "s.borrower_id", "loan_id": "NULL", "kind": f"'{ScoreKind.BATCH}'",
        "batch_key": "%(batch_key)s", "model_version": str(int(version)),
        "features": "s.features", "score": "s.score",
        "grade": "s.grade", "pd_bps": "s.pd_bps", "reasons": "s.reasons", "decision": "''",
        "decision_reasons": "'[]'", "created_at": "%(now)s", "wallet_address": "s.wallet_address",
        "issued_at": "%(issued_at)s", "expiry": "%(expiry)s", "chain_id": "NULL",
        "registry_address": "''", "scorer_address": "''", "attestation_hash": "''",
        "signature": "''",
        "posting_status": (f"CASE WHEN s.wallet_address <> '' THEN '{PostingStatus.UNSIGNED}'"
                           f" ELSE '{PostingStatus.NO_WALLET}' END"),
        "posting_attempts": "0", "posting_error": "''", "tx_hash": "''", "posted_at": "NULL",
    }
    # Only generated constants are formatted in; values are bound parameters.
    return (f"INSERT INTO scoring_score ({', '.join(_COLUMNS)}) "  # noqa: S608
            f"SELECT {', '.join(values[column] for column in _COLUMNS)} FROM ({scored}) s")


# A re-run of a chunk (after a crash, or racing another run) leaves out who is scored already.
# Only then: the check per row costs the first run about a tenth of its time.
_SKIP_SCORED = " ON CONFLICT (batch_key, borrower_id) WHERE batch_key <> '' DO NOTHING"


def _rescore_range_in_postgres(*, first_id: int, last_id: int, batch_key: str,
                               now: datetime) -> int:
    issued_at, expiry = _times(now)
    sql = _rescore_sql(load_scorecard().model_version, tuple(sorted(_kyc_limits().items())))
    params = {"first": first_id, "last": last_id, "now": now, "batch_key": batch_key,
              "issued_at": issued_at, "expiry": expiry}
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT would compile this large statement anew for every chunk, which costs more than
        # running it.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SELECT EXISTS (SELECT 1 FROM scoring_score WHERE batch_key = %(batch_key)s"
                       " AND borrower_id BETWEEN %(first)s AND %(last)s)", params)
        rerun = cursor.fetchone()[0]
        cursor.execute(sql + _SKIP_SCORED if rerun else sql, params)
        return cursor.rowcount


def _insert_scores(rows: list[tuple]) -> None:
    json_fields = {"features", "reasons", "decision_reasons"}
    positions = [i for i, name in enumerate(_COLUMNS) if name in json_fields]
    objects = []
    for row in rows:
        values = list(row)
        for i in positions:
            values[i] = json.loads(values[i])
        objects.append(Score(**dict(zip(_COLUMNS, values, strict=True))))
    Score.objects.bulk_create(objects, batch_size=500)


# --- attestations -----------------------------------------------------------------------

def scores_sign_pending(*, limit: int = 5000) -> int:
    """Sign the attestations of unsigned scores (oldest first); returns how many were signed."""
    signer = scorer_signer()
    if signer is None:
        return 0
    pending = list(Score.objects.filter(posting_status=PostingStatus.UNSIGNED)
                   .exclude(wallet_address="").order_by("id")
                   .values_list("id", "wallet_address", "score", "grade", "model_version",
                                "issued_at", "expiry")[:limit])
    if not pending:
        return 0
    signed_rows = []
    for pk, wallet, score, grade, version, issued_at, expiry in pending:
        signed = signer.sign(ScoreAttestation(borrower=wallet, score=score,
                                              grade=GRADE_CODES[grade], model_version=version,
                                              issued_at=issued_at, expiry=expiry))
        signed_rows.append((pk, "0x" + signed.digest.hex(), "0x" + signed.signature.hex()))
    domain = signer.domain
    with transaction.atomic():
        _store_signatures(signed_rows, chain_id=domain.chain_id,
                          registry=domain.verifying_contract, scorer=signer.address)
    return len(signed_rows)


def _store_signatures(rows: list[tuple[int, str, str]], *, chain_id: int, registry: str,
                      scorer: str) -> None:
    common = (chain_id, registry, scorer, PostingStatus.PENDING.value,
              PostingStatus.UNSIGNED.value)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE TEMP TABLE scoring_signed (id bigint, attestation_hash text,"
                           " signature text) ON COMMIT DROP")
            with cursor.cursor.copy("COPY scoring_signed FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                "UPDATE scoring_score s SET attestation_hash = t.attestation_hash,"
                " signature = t.signature, chain_id = %s, registry_address = %s,"
                " scorer_address = %s, posting_status = %s"
                " FROM scoring_signed t WHERE s.id = t.id AND s.posting_status = %s", common)
            return
        cursor.executemany(
            "UPDATE scoring_score SET attestation_hash = %s, signature = %s, chain_id = %s,"
            " registry_address = %s, scorer_address = %s, posting_status = %s"
            " WHERE id = %s AND posting_status = %s",
            [(digest, signature, *common[:4], pk, common[4]) for pk, digest, signature in rows])


def _registry_and_sender():
    from web3 import Web3

    from onchain.nonces import FileNonceStore, RedisNonceStore, SerialSender

    domain = registry_domain()
    if domain is None:
        raise ScoringError(_("No ScoreRegistry address is configured."), code="no_registry")
    w3 = Web3(Web3.HTTPProvider(settings.RPC_URL, request_kwargs={"timeout": 30}))
    sender_address = AttestationSigner(private_key=settings.SCORER_PRIVATE_KEY,
                                       domain=domain).address
    if settings.REDIS_URL:
        import redis

        store = RedisNonceStore(client=redis.Redis.from_url(settings.REDIS_URL),
                                chain_id=domain.chain_id, address=sender_address)
    else:
        store = FileNonceStore(directory=settings.NONCE_LOCK_DIR, chain_id=domain.chain_id,
                               address=sender_address)
    sender = SerialSender(w3=w3, private_key=settings.SCORER_PRIVATE_KEY, store=store)
    return ScoreRegistryClient(w3, domain.verifying_contract), sender, domain


def scores_post_pending(*, batch_size: int | None = None, now: datetime | None = None) -> dict:
    """Post signed attestations to the ScoreRegistry (SCORE_POSTING on) in postBatch calls.

    Only a borrower's newest signed score is posted (older ones are superseded; the contract
    would skip them anyway). Rows are claimed before sending, so two workers never post the
    same score; a transient failure puts them back for the next run, and the contract skips
    an attestation that did land, so a retry is harmless.
    """
    if not settings.SCORE_POSTING:
        return {"posted": 0, "skipped": "SCORE_POSTING is off"}
    batch_size = batch_size or settings.SCORE_POSTING_BATCH
    now = now or timezone.now()
    registry, sender, domain = _registry_and_sender()
    Score.objects.filter(
        posting_status=PostingStatus.PENDING, borrower__scores__id__gt=F("id"),
        borrower__scores__posting_status__in=[PostingStatus.PENDING, PostingStatus.SENDING,
                                              PostingStatus.POSTED],
    ).update(posting_status=PostingStatus.SUPERSEDED)
    posted = 0
    while True:
        with transaction.atomic():
            claim = (Score.objects.select_for_update(skip_locked=True)
                     .filter(posting_status=PostingStatus.PENDING, chain_id=domain.chain_id,
                             registry_address=domain.verifying_contract,
                             expiry__gt=int(now.timestamp()) + 60)
                     .order_by("id"))[:batch_size]
            batch = list(claim.values_list("id", "wallet_address", "score", "grade",
                                           "model_version", "issued_at", "expiry"))
            ids = [row[0] for row in batch]
            Score.objects.filter(id__in=ids).update(posting_status=PostingStatus.SENDING,
                                                    posting_attempts=F("posting_attempts") + 1)
        if not batch:
            return {"posted": posted}
        attestations = [ScoreAttestation(borrower=w, score=s, grade=GRADE_CODES[g],
                                         model_version=v, issued_at=i, expiry=e)
                        for _, w, s, g, v, i, e in batch]
        try:
            tx_hash = sender.send(registry.post_batch_tx(attestations))
            Score.objects.filter(id__in=ids).update(tx_hash=tx_hash)
            receipt = sender.wait(tx_hash)
        except Exception as exc:
            from onchain.nonces import PermanentSendError

            status = (PostingStatus.FAILED if isinstance(exc, PermanentSendError)
                      else PostingStatus.PENDING)
            Score.objects.filter(id__in=ids).update(posting_status=status,
                                                    posting_error=str(exc)[:2000])
            raise
        from web3.logs import DISCARD

        if receipt["status"] != 1:
            Score.objects.filter(id__in=ids).update(posting_status=PostingStatus.FAILED,
                                                    posting_error=f"reverted in {tx_hash}")
            raise ScoringError(_("postBatch reverted (%(tx)s)") % {"tx": tx_hash},
                               code="post_reverted")
        stale = {(event["args"]["borrower"].lower(), event["args"]["issuedAt"])
                 for event in registry.contract.events.ScoreSkipped().process_receipt(
                     receipt, errors=DISCARD)}
        skipped = [pk for pk, wallet, _, _, _, issued_at, _ in batch
                   if (wallet.lower(), issued_at) in stale]
        Score.objects.filter(id__in=ids).exclude(id__in=skipped).update(
            posting_status=PostingStatus.POSTED, posted_at=timezone.now(), posting_error="")
        Score.objects.filter(id__in=skipped).update(
            posting_status=PostingStatus.SUPERSEDED,
            posting_error="the registry already holds a newer attestation")
        posted += len(ids) - len(skipped)


def scores_rescore_all(*, batch_key: str, chunk: int | None = None,
                       now: datetime | None = None) -> int:
    """Every borrower, chunk by chunk, in this process (the Celery job fans chunks out)."""
    from core.scoring.selectors import borrower_id_ranges

    total = 0
    for first_id, last_id in borrower_id_ranges(chunk=chunk or settings.SCORING_CHUNK):
        total += scores_rescore_range(first_id=first_id, last_id=last_id, batch_key=batch_key,
                                      now=now)
    scores_cache_invalidate()
    return total


def nightly_batch_key(*, now: datetime | None = None) -> str:
    return "nightly-" + (now or timezone.now()).strftime("%Y%m%d")


def verify_score(*, score: Score, expected_scorer: str = "") -> dict:
    """Recompute a score's attestation from its stored fields and check the signature with
    eth-account's EIP-712 path (independent of the fast signer). `expected_scorer` (default:
    the configured scorer) is who must have signed; the stored scorer address is not trusted."""
    from onchain.attestations import attestation_digest, recover_scorer

    if not score.signature:
        return {"ok": False, "problem": "not signed", "score_id": score.pk}
    attestation = ScoreAttestation(borrower=score.wallet_address, score=score.score,
                                   grade=GRADE_CODES[score.grade],
                                   model_version=score.model_version, issued_at=score.issued_at,
                                   expiry=score.expiry)
    domain = RegistryDomain(chain_id=score.chain_id, verifying_contract=score.registry_address)
    signer = recover_scorer(attestation, domain, score.signature)
    digest = "0x" + attestation_digest(attestation, domain).hex()
    if not expected_scorer and settings.SCORER_PRIVATE_KEY:
        expected_scorer = AttestationSigner(private_key=settings.SCORER_PRIVATE_KEY,
                                            domain=domain).address
    expected = expected_scorer or score.scorer_address
    ok = signer.lower() == expected.lower() and digest == score.attestation_hash
    return {"ok": ok, "score_id": score.pk, "signer": signer, "expected_scorer": expected,
            "digest_matches": digest == score.attestation_hash, "digest": digest,
            "attestation": attestation.to_json(), "domain": domain.as_dict(),
            "posting_status": score.posting_status, "tx_hash": score.tx_hash}

