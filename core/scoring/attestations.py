"""Each score's EIP-712 attestation: signed by the scorer key, posted to the ScoreRegistry in
``postBatch`` transactions through the platform's serial nonce manager (SCORE_POSTING on),
and verified from its stored fields."""

from __future__ import annotations

from datetime import datetime

import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from web3 import Web3
from web3.logs import DISCARD

from core.scoring.config import registry_domain, scorer_signer
from core.scoring.errors import ScoringError
from core.scoring.models import PostingStatus, Score
from onchain.attestations import (
    GRADE_CODES,
    AttestationSigner,
    RegistryDomain,
    ScoreAttestation,
    ScoreRegistryClient,
    attestation_digest,
    recover_scorer,
)
from onchain.nonces import FileNonceStore, PermanentSendError, RedisNonceStore, SerialSender


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


def _registry_and_sender() -> tuple[ScoreRegistryClient, SerialSender, RegistryDomain]:
    domain = registry_domain()
    if domain is None:
        raise ScoringError(_("No ScoreRegistry address is configured."), code="no_registry")
    w3 = Web3(Web3.HTTPProvider(settings.RPC_URL, request_kwargs={"timeout": 30}))
    sender_address = AttestationSigner(private_key=settings.SCORER_PRIVATE_KEY,
                                       domain=domain).address
    if settings.REDIS_URL:
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
            status = (PostingStatus.FAILED if isinstance(exc, PermanentSendError)
                      else PostingStatus.PENDING)
            Score.objects.filter(id__in=ids).update(posting_status=status,
                                                    posting_error=str(exc)[:2000])
            raise
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



def verify_score(*, score: Score, expected_scorer: str = "") -> dict:
    """Recompute a score's attestation from its stored fields and check the signature with
    eth-account's EIP-712 path (independent of the fast signer). `expected_scorer` (default:
    the configured scorer) is who must have signed; the stored scorer address is not trusted."""
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

