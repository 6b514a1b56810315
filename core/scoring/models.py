"""Credit scores, what borrowers declare about themselves, and wallet facts read from the chain.

A Score row is the truth for every score ever given (the latest one per borrower is also
cached); it keeps the features and the model version it was computed from, so it can be
explained and recomputed (its points come back from the versioned scorecard), and its signed
EIP-712 attestation with the state of its posting on chain.
"""

from django.db import models
from django.db.models import Q

from core.loans.models import Loan
from core.users.models import TelegramUser


class IncomeBand(models.TextChoices):
    """Declared monthly income, in USD equivalent."""

    UNDER_500 = "under_500", "under 500"
    FROM_500 = "500_1500", "500 - 1,500"
    FROM_1500 = "1500_3000", "1,500 - 3,000"
    OVER_3000 = "3000_plus", "3,000 or more"


class Employment(models.TextChoices):
    EMPLOYED = "employed"
    SELF_EMPLOYED = "self_employed"
    PART_TIME = "part_time"
    STUDENT = "student"
    RETIRED = "retired"
    UNEMPLOYED = "unemployed"


class BorrowerProfile(models.Model):
    """What the borrower declared; blank means not declared (scored as missing, not guessed)."""

    user = models.OneToOneField(TelegramUser, on_delete=models.CASCADE,
                                related_name="borrower_profile")
    income_band = models.CharField(max_length=16, choices=IncomeBand.choices, blank=True)
    employment = models.CharField(max_length=16, choices=Employment.choices, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"profile of {self.user}"


class WalletSignal(models.Model):
    """Facts about the borrower's verified wallet as the chain showed them at `checked_at`."""

    user = models.OneToOneField(TelegramUser, on_delete=models.CASCADE,
                                related_name="wallet_signal")
    address = models.CharField(max_length=42)
    tx_count = models.PositiveIntegerField(help_text="Transactions sent from the wallet.")
    first_tx_at = models.DateTimeField(null=True, blank=True,
                                       help_text="Time of its first sent transaction, if any.")
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.address}: {self.tx_count} tx"


class ScoreKind(models.TextChoices):
    APPLICATION = "application"
    BATCH = "batch"


class Decision(models.TextChoices):
    APPROVE = "approve"
    REVIEW = "review"
    REFUSE = "refuse"


class PostingStatus(models.TextChoices):
    UNSIGNED = "unsigned"  # not signed yet (batch scores are signed by a later stage)
    NO_WALLET = "no_wallet"  # nothing to attest to on chain
    PENDING = "pending"  # signed, waiting to be posted (when SCORE_POSTING is on)
    SENDING = "sending"  # in a postBatch transaction that is not confirmed yet
    POSTED = "posted"
    SUPERSEDED = "superseded"  # a newer signed score of the same borrower exists
    FAILED = "failed"


class Score(models.Model):
    """Written 100k rows a night by the batch: every index and stored column costs there, so
    the indexes are the ones queries use and points are not stored (see `points`)."""

    # scoring_latest_idx starts with the borrower: no index of its own.
    borrower = models.ForeignKey(TelegramUser, on_delete=models.CASCADE, related_name="scores",
                                 db_index=False)
    loan = models.ForeignKey(Loan, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="scores", db_index=False)
    kind = models.CharField(max_length=12, choices=ScoreKind.choices)
    batch_key = models.CharField(max_length=32, blank=True,
                                 help_text="The batch run that made it; one score per run.")
    model_version = models.PositiveIntegerField()
    features = models.JSONField(help_text="Feature values; null means missing.")
    score = models.PositiveSmallIntegerField()
    grade = models.CharField(max_length=1)
    pd_bps = models.PositiveIntegerField(help_text="Estimated probability of default, bps.")
    reasons = models.JSONField(default=list, help_text="Top reason keys, most important first.")
    decision = models.CharField(max_length=8, choices=Decision.choices, blank=True)
    decision_reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()

    # The EIP-712 attestation (onchain.attestations) and its posting to the ScoreRegistry.
    wallet_address = models.CharField(max_length=42, blank=True)
    issued_at = models.BigIntegerField(help_text="Unix seconds.")
    expiry = models.BigIntegerField(help_text="Unix seconds.")
    chain_id = models.BigIntegerField(null=True, blank=True)
    registry_address = models.CharField(max_length=42, blank=True)
    scorer_address = models.CharField(max_length=42, blank=True)
    attestation_hash = models.CharField(max_length=66, blank=True)
    signature = models.CharField(max_length=132, blank=True)
    posting_status = models.CharField(max_length=12, choices=PostingStatus.choices,
                                      default=PostingStatus.UNSIGNED)
    posting_attempts = models.PositiveSmallIntegerField(default=0)
    posting_error = models.TextField(blank=True)
    tx_hash = models.CharField(max_length=66, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["borrower", "-created_at", "-id"], name="scoring_latest_idx"),
            models.Index(fields=["posting_status", "id"], name="scoring_posting_idx"),
            # Batch scores have no loan: only an application's score is indexed by it.
            models.Index(fields=["loan"], condition=Q(loan__isnull=False),
                         name="scoring_application_loan_idx"),
        ]
        constraints = [
            # Batch key first: "which borrowers of this id range has this batch scored" is
            # then one range of the index.
            models.UniqueConstraint(fields=["batch_key", "borrower"], condition=~Q(batch_key=""),
                                    name="scoring_one_score_per_batch"),
            models.CheckConstraint(condition=Q(score__gte=300) & Q(score__lte=850),
                                   name="scoring_score_in_range"),
            models.CheckConstraint(condition=Q(grade__in=["A", "B", "C", "D", "E"]),
                                   name="scoring_grade_valid"),
            models.CheckConstraint(condition=Q(expiry__gt=models.F("issued_at")),
                                   name="scoring_expiry_after_issue"),
        ]

    def __str__(self) -> str:
        return f"{self.borrower} {self.score} ({self.grade}, v{self.model_version})"

    @property
    def points(self) -> dict[str, int]:
        """Points per feature, from the stored features and the scorecard of this version
        (deterministic, so storing them too only cost the batch a JSON column per row)."""
        from core.scoring.scorecard import load_scorecard

        return load_scorecard(self.model_version).evaluate(self.features).points
