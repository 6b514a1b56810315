"""Signing requests: every on-chain action a user takes, as a one-time link to their wallet."""

from django.db import models
from django.db.models import Q

from core.common.models import TimeStampedModel
from core.loans.models import Loan
from core.users.models import TelegramUser


class SigningKind(models.TextChoices):
    LINK_WALLET = "link_wallet"
    OPEN_LOAN = "open_loan"
    FUND = "fund"
    CANCEL = "cancel"
    REFUND = "refund"
    DRAWDOWN = "drawdown"
    REPAY = "repay"
    CLAIM = "claim"
    POOL_DEPOSIT = "pool_deposit"
    POOL_WITHDRAW = "pool_withdraw"
    PAUSE = "pause"
    UNPAUSE = "unpause"


class SigningStatus(models.TextChoices):
    PENDING = "pending"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    EXPIRED = "expired"


class SigningRequest(TimeStampedModel):
    # Only a hash of the token is stored: a leaked database does not leak usable links.
    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(TelegramUser, on_delete=models.PROTECT,
                             related_name="signing_requests")
    kind = models.CharField(max_length=16, choices=SigningKind.choices)
    loan = models.ForeignKey(Loan, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="signing_requests")
    chain_id = models.BigIntegerField()
    amount = models.BigIntegerField(null=True, blank=True)
    transactions = models.JSONField(default=list, blank=True,
                                    help_text="[{to, data, value, label}] sent in order.")
    summary = models.TextField(help_text="Plain words, in the user's language.")
    # Wallet linking: the single-use server nonce and the message the wallet signed.
    siwe_nonce = models.CharField(max_length=64, blank=True)
    siwe_message = models.TextField(blank=True)
    expected_sender = models.CharField(max_length=42, blank=True)
    # Open-loan requests: the nonce of the underwriter's approval, which LoanOpened carries.
    approval_nonce = models.CharField(max_length=78, blank=True, db_index=True)

    status = models.CharField(max_length=10, choices=SigningStatus.choices,
                              default=SigningStatus.PENDING, db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    tx_hashes = models.JSONField(default=list, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["siwe_nonce"], condition=~Q(siwe_nonce=""),
                                    name="wallets_unique_siwe_nonce"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user} ({self.status})"


class SubmittedTransaction(models.Model):
    """A transaction hash the signing page reported, so the indexer can find its request."""

    request = models.ForeignKey(SigningRequest, on_delete=models.CASCADE,
                                related_name="submitted_transactions")
    tx_hash = models.CharField(max_length=66, db_index=True)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["request", "position"]
        constraints = [models.UniqueConstraint(fields=["request", "position"],
                                               name="wallets_one_tx_per_step")]

    def __str__(self) -> str:
        return self.tx_hash
