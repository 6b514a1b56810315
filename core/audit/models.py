from django.conf import settings
from django.db import models


class OperatorActionKind(models.TextChoices):
    APPROVE = "approve", "approve an application"
    REJECT = "reject", "reject an application"
    FREEZE = "freeze", "freeze an account"
    UNFREEZE = "unfreeze", "unfreeze an account"
    RESEND = "resend", "resend a signing link"
    PROMOTE_MODEL = "promote_model", "promote a scoring model"
    KYC_APPROVE = "kyc_approve", "approve identity documents"
    KYC_REJECT = "kyc_reject", "reject identity documents"
    PAUSE = "pause", "ask to pause the contracts"
    UNPAUSE = "unpause", "ask to resume the contracts"
    BROADCAST = "broadcast", "broadcast a message"


class OperatorAction(models.Model):
    """One operator action, written in the same transaction as the change it made: an action
    that failed leaves no row, and a row always means the change happened."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=16, choices=OperatorActionKind.choices, db_index=True)
    operator = models.CharField(max_length=128, help_text="Who: 'staff:<username>' in Django "
                                "admin, 'telegram:<id>' through the bot's /admin.")
    staff_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    # Plain ids, not keys: the audit sits below users and loans in the layers (pyproject.toml),
    # so every app can record, and the trail outlives what it is about.
    admin_telegram_id = models.BigIntegerField(null=True, blank=True,
                                               help_text="The operator's admin Telegram account.")
    subject_telegram_id = models.BigIntegerField(null=True, blank=True, db_index=True,
                                                 help_text="The person the action was about.")
    loan_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    target = models.CharField(max_length=128, help_text="What was acted on, e.g. 'loan #12'.")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.operator}: {self.kind} {self.target}"
