"""Identity verification: a borrower sends an identity document and a selfie, operators
approve (the new tier and its borrowing limit apply at once) or reject with a reason, and
the documents are deleted after their retention. The borrower hears every decision through
the outbox, in their language."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit.models import OperatorActionKind
from core.audit.services import SYSTEM, Operator, operator_action_record
from core.common.errors import ServiceError
from core.kyc import vault
from core.kyc.models import DocumentKind, KycDocument, KycRequest, KycStatus, RejectionReason
from core.kyc.selectors import kyc_next_tier, kyc_pending_request
from core.notifications.services import notification_enqueue, notify_admins
from core.users.models import KycTier, TelegramUser
from core.users.selectors import kyc_tier_limit
from core.users.services import user_set_kyc_tier

log = logging.getLogger(__name__)

# Image types accepted, recognised by their first bytes (not by what the sender claims).
_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


@dataclass(frozen=True)
class Upload:
    """An image as it arrived: the bytes and the kind of document it is."""

    kind: str
    data: bytes = field(repr=False)  # never in a log line or a traceback's repr


def image_type(data: bytes) -> str | None:
    """image/jpeg or image/png from the file's signature; None for anything else."""
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


def kyc_request_check(*, user: TelegramUser) -> None:
    """Whether the person may send documents now; raises ServiceError with the reason."""
    if user.is_frozen:
        raise ServiceError(_("Your account is frozen, so it cannot be verified now."),
                           code="frozen")
    if kyc_pending_request(user=user) is not None:
        raise ServiceError(_("Your documents are already with our team. You will hear from me "
                             "as soon as they are checked."), code="pending")
    if user.kyc_tier < KycTier.BASIC:
        raise ServiceError(_("First finish setting up your account with /start: your phone "
                             "number and wallet give the basic level."), code="not_basic")
    if kyc_next_tier(user=user) is None:
        raise ServiceError(_("Your account is already at the highest verification level."),
                           code="top_tier")


def kyc_request_submit(*, user: TelegramUser, uploads: list[Upload]) -> KycRequest:
    """Store the documents encrypted and open a request for the next tier."""
    kyc_request_check(user=user)
    step = kyc_next_tier(user=user)
    kinds = sorted(upload.kind for upload in uploads)
    if kinds != sorted(DocumentKind.values):
        raise ServiceError(_("Both an identity document and a selfie are needed."),
                           code="documents_missing")
    typed = []
    for upload in uploads:
        content_type = image_type(upload.data)
        if content_type is None:
            raise ServiceError(_("Please send a JPEG or PNG image."), code="not_an_image")
        if len(upload.data) > settings.KYC_MAX_DOCUMENT_BYTES:
            raise ServiceError(_("That image is too large. Please send a smaller photo."),
                               code="too_large")
        typed.append((upload, content_type))
    stored: list[str] = []
    try:
        with transaction.atomic():
            request = KycRequest.objects.create(user=user, from_tier=step.current,
                                                target_tier=step.target)
            for upload, content_type in typed:
                sealed = vault.document_store(upload.data)
                stored.append(sealed.storage_name)
                KycDocument.objects.create(request=request, kind=upload.kind,
                                           storage_name=sealed.storage_name,
                                           content_type=content_type, size=sealed.size,
                                           sha256=sealed.sha256)
            _tell_admins(request)
    except Exception as error:
        for name in stored:  # nothing recorded them: leave no file behind
            vault.document_delete(storage_name=name)
        if isinstance(error, IntegrityError):  # a second request raced this one in
            raise ServiceError(_("Your documents are already with our team. You will hear "
                                 "from me as soon as they are checked."),
                               code="pending") from error
        raise
    log.info("kyc request %s opened by user %s for tier %s", request.pk, user.pk,
             request.target_tier)
    return request


def _tell_admins(request: KycRequest) -> None:
    notify_admins("kyc_review_requested", f"kyc:{request.pk}:review",
                  {"request_id": request.pk, "target_tier": request.target_tier},
                  reachable_only=True)


def _decidable(request_id: int) -> KycRequest:
    request = (KycRequest.objects.select_for_update().select_related("user")
               .get(pk=request_id))
    if request.status != KycStatus.PENDING:
        raise ServiceError(_("This request was already decided: %(status)s.")
                           % {"status": request.status}, code="decided")
    return request


@transaction.atomic
def kyc_request_approve(*, request: KycRequest, operator, note: str = "") -> KycRequest:
    """Raise the person's tier at once (their borrowing limit with it) and tell them. A tier
    an operator set higher meanwhile is never lowered by an older request."""
    request = _decidable(request.pk)
    request.status, request.note = KycStatus.APPROVED, note.strip()
    _record_decision(request, operator, OperatorActionKind.KYC_APPROVE, request.note)
    user = TelegramUser.objects.select_for_update().get(pk=request.user_id)
    if user.kyc_tier < request.target_tier:
        user_set_kyc_tier(user=user, tier=request.target_tier)
    notification_enqueue(recipient=request.user, template_key="kyc_approved",
                         dedupe_key=f"kyc:{request.pk}:decision",
                         params={"request_id": request.pk, "tier": request.target_tier,
                                 "limit": kyc_tier_limit(tier=request.target_tier),
                                 "note": request.note})
    return request


@transaction.atomic
def kyc_request_reject(*, request: KycRequest, operator, reason: str,
                       note: str = "") -> KycRequest:
    """Refuse with one of the reasons (said in the borrower's language) and maybe a note."""
    if reason not in RejectionReason.values:
        raise ServiceError(_("Choose why the documents are refused."), code="reason_required")
    if reason == RejectionReason.OTHER and not note.strip():
        raise ServiceError(_("Say in the note why the documents are refused."),
                           code="note_required")
    request = _decidable(request.pk)
    request.status, request.rejection_reason = KycStatus.REJECTED, reason
    request.note = note.strip()
    _record_decision(request, operator, OperatorActionKind.KYC_REJECT,
                     f"{reason}: {request.note}" if request.note else reason)
    notification_enqueue(recipient=request.user, template_key="kyc_rejected",
                         dedupe_key=f"kyc:{request.pk}:decision",
                         params={"request_id": request.pk, "tier": request.target_tier,
                                 "reason": reason, "note": request.note})
    return request


def _record_decision(request: KycRequest, operator, kind: str, why: str) -> None:
    request.decided_at = timezone.now()
    request.decided_by = operator
    request.decided_by_label = operator.get_username() if operator is not None else "system"
    request.save(update_fields=["status", "note", "rejection_reason", "decided_at",
                                "decided_by", "decided_by_label", "updated_at"])
    operator_action_record(by=Operator.staff(operator) if operator is not None else SYSTEM,
                           kind=kind, target=f"KYC request #{request.pk} (tier "
                           f"{request.target_tier})", reason=why, subject=request.user)
    log.info("kyc request %s %s by %s", request.pk, request.status, request.decided_by_label)


def _delete_documents(request: KycRequest, now) -> int:
    deleted = 0
    for document in request.documents.filter(deleted_at__isnull=True):
        vault.document_delete(storage_name=document.storage_name)
        KycDocument.objects.filter(pk=document.pk).update(storage_name="", deleted_at=now)
        deleted += 1
    KycRequest.objects.filter(pk=request.pk).update(documents_deleted_at=now, updated_at=now)
    return deleted


def kyc_documents_purge(*, batch: int = 500) -> int:
    """Delete the documents of requests decided more than KYC_DOCUMENT_RETENTION_DAYS ago;
    the decision rows stay. Idempotent: a request whose documents are gone is skipped, and
    a file already deleted by an interrupted run counts as deleted."""
    now = timezone.now()
    cutoff = now - timedelta(days=settings.KYC_DOCUMENT_RETENTION_DAYS)
    due = (KycRequest.objects.exclude(status=KycStatus.PENDING)
           .filter(decided_at__lte=cutoff, documents_deleted_at__isnull=True)
           .order_by("decided_at", "pk"))
    deleted = 0
    for request in due[:batch]:
        with transaction.atomic():
            deleted += _delete_documents(request, now)
    return deleted


@transaction.atomic
def kyc_user_documents_erase(*, user: TelegramUser) -> int:
    """The person asked for erasure: every document of theirs is deleted now and a pending
    request is withdrawn (decisions already taken stay, as lending records)."""
    now = timezone.now()
    KycRequest.objects.filter(user=user, status=KycStatus.PENDING).update(
        status=KycStatus.WITHDRAWN, decided_at=now, decided_by_label="erasure request",
        updated_at=now)
    deleted = 0
    for request in KycRequest.objects.filter(user=user, documents_deleted_at__isnull=True):
        deleted += _delete_documents(request, now)
    return deleted
