"""A borrower's request for a higher KYC tier and the documents sent with it.

A document row holds where its encrypted file is (the "kyc" storage), its content type, size
and SHA-256, never the image itself. The request keeps the decision (who, when, why) after
the documents are deleted at the end of their retention.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.common.models import TimeStampedModel
from core.users.models import KycTier, TelegramUser


class KycStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # the person asked for their data to be erased before a decision


class RejectionReason(models.TextChoices):
    """Why documents were refused: each has a text in every language (the borrower hears it
    in theirs); the operator may add a note of their own."""

    UNREADABLE = "unreadable", "The document photo is blurred, dark or cut off"
    EXPIRED = "expired", "The document has expired"
    MISMATCH = "mismatch", "The selfie does not match the document"
    NOT_ACCEPTED = "not_accepted", "This kind of document is not accepted"
    OTHER = "other", "Another reason (explained in the note)"


class DocumentKind(models.TextChoices):
    ID_DOCUMENT = "id_document", "Identity document"
    SELFIE = "selfie", "Selfie"


class KycRequest(TimeStampedModel):
    user = models.ForeignKey(TelegramUser, on_delete=models.PROTECT, related_name="kyc_requests")
    from_tier = models.PositiveSmallIntegerField(choices=KycTier.choices)
    target_tier = models.PositiveSmallIntegerField(choices=KycTier.choices)
    status = models.CharField(max_length=10, choices=KycStatus.choices,
                              default=KycStatus.PENDING, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="kyc_decisions")
    decided_by_label = models.CharField(max_length=150, blank=True,
                                        help_text="The operator's username, kept if the "
                                                  "account is removed.")
    rejection_reason = models.CharField(max_length=16, choices=RejectionReason.choices,
                                        blank=True)
    note = models.TextField(blank=True, help_text="The operator's words to the borrower.")
    documents_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "KYC request"
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(status="pending"),
                                    name="kyc_one_pending_request_per_user"),
            models.CheckConstraint(condition=Q(target_tier__gt=models.F("from_tier")),
                                   name="kyc_request_raises_the_tier"),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="kyc_decided_has_time"),
            models.CheckConstraint(condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                                   name="kyc_rejection_has_reason"),
        ]

    def __str__(self) -> str:
        return f"KYC #{self.pk} {self.user} tier {self.from_tier}->{self.target_tier} " \
               f"({self.status})"


class KycDocument(models.Model):
    request = models.ForeignKey(KycRequest, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=12, choices=DocumentKind.choices)
    storage_name = models.CharField(max_length=255, blank=True,
                                    help_text="Name of the encrypted file in the kyc storage; "
                                              "empty once deleted.")
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField(help_text="Bytes of the image before encryption.")
    sha256 = models.CharField(max_length=64, help_text="Of the image before encryption.")
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "kind"], name="kyc_one_document_per_kind"),
            models.CheckConstraint(condition=Q(deleted_at__isnull=True) | Q(storage_name=""),
                                   name="kyc_deleted_document_has_no_file"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of KYC #{self.request_id}"
