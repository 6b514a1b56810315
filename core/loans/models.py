"""Loan applications and loans, their funding positions, schedules and history."""

from django.db import models
from django.db.models import F, Q

from core.common.models import TimeStampedModel
from core.loans.states import LoanState
from core.users.models import TelegramUser


class LoanPurpose(models.TextChoices):
    BUSINESS = "business"
    EDUCATION = "education"
    MEDICAL = "medical"
    HOME = "home"
    VEHICLE = "vehicle"
    DEBT_CONSOLIDATION = "debt_consolidation"
    PERSONAL = "personal"


class Grade(models.TextChoices):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


class Loan(TimeStampedModel):
    borrower = models.ForeignKey(TelegramUser, on_delete=models.PROTECT, related_name="loans")
    state = models.CharField(max_length=16, choices=LoanState.choices, default=LoanState.DRAFT,
                             db_index=True)
    principal = models.BigIntegerField(help_text="Base units of the stable asset.")
    installments = models.PositiveSmallIntegerField()
    interval_days = models.PositiveSmallIntegerField(default=30)
    purpose = models.CharField(max_length=24, choices=LoanPurpose.choices)

    # Offer terms, fixed once scored.
    grade = models.CharField(max_length=1, choices=Grade.choices, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    apr_bps = models.PositiveIntegerField(null=True, blank=True)
    total_due = models.BigIntegerField(null=True, blank=True)
    offer_reasons = models.JSONField(default=list, blank=True)
    offered_at = models.DateTimeField(null=True, blank=True)

    # On-chain listing.
    approval_nonce = models.CharField(max_length=78, blank=True)
    chain_loan_id = models.BigIntegerField(null=True, blank=True, unique=True)
    funding_deadline = models.DateTimeField(null=True, blank=True)

    # Running totals mirrored from the chain.
    funded_amount = models.BigIntegerField(default=0)
    repaid_amount = models.BigIntegerField(default=0)
    covered_amount = models.BigIntegerField(default=0)
    distributed_to_lenders = models.BigIntegerField(
        default=0, help_text="Repayments and covers allocated to lenders so far.")
    drawn_down_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(principal__gt=0), name="loans_principal_positive"),
            models.CheckConstraint(condition=Q(installments__gte=1), name="loans_installments_min"),
            models.CheckConstraint(
                condition=Q(funded_amount__gte=0) & Q(funded_amount__lte=F("principal")),
                name="loans_funded_within_principal",
            ),
            models.CheckConstraint(
                condition=Q(total_due__isnull=True) | Q(total_due__gte=F("principal")),
                name="loans_total_due_covers_principal",
            ),
            models.CheckConstraint(
                condition=Q(repaid_amount__gte=0)
                & (Q(total_due__isnull=True) | Q(repaid_amount__lte=F("total_due"))),
                name="loans_repaid_within_total_due",
            ),
            models.UniqueConstraint(fields=["approval_nonce"], condition=~Q(approval_nonce=""),
                                    name="loans_unique_approval_nonce"),
        ]

    def __str__(self) -> str:
        return f"Loan #{self.pk} ({self.state})"

    @property
    def left_to_fund(self) -> int:
        return self.principal - self.funded_amount

    @property
    def outstanding(self) -> int:
        return (self.total_due or 0) - self.repaid_amount


class LoanTransition(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=16, choices=LoanState.choices)
    to_state = models.CharField(max_length=16, choices=LoanState.choices)
    actor = models.ForeignKey(TelegramUser, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_label = models.CharField(max_length=64, help_text="Who moved it: a user, 'chain', "
                                   "'scoring', 'keeper' or an operator.")
    reason = models.TextField(blank=True)
    ref = models.CharField(max_length=255, blank=True, db_index=True,
                           help_text="The chain event that caused it, if one did.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"#{self.loan_id}: {self.from_state} -> {self.to_state}"


class FundingPosition(TimeStampedModel):
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="positions")
    lender = models.ForeignKey(TelegramUser, on_delete=models.PROTECT, related_name="positions")
    amount = models.BigIntegerField(default=0)
    claimed = models.BigIntegerField(default=0)
    refunded = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["loan", "lender"],
                                    name="loans_one_position_per_lender"),
            models.CheckConstraint(condition=Q(amount__gte=0) & Q(claimed__gte=0)
                                   & Q(refunded__gte=0) & Q(refunded__lte=F("amount")),
                                   name="loans_position_amounts_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.lender} in #{self.loan_id}: {self.amount}"


class Installment(models.Model):
    # Looked up by loans_installment_times_idx (below), which starts with the loan.
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="schedule",
                             db_index=False)
    number = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField(db_index=True)
    amount = models.BigIntegerField()
    cumulative_due = models.BigIntegerField()
    interest = models.BigIntegerField()
    principal = models.BigIntegerField()
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["loan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "number"], name="loans_installment_number"),
            models.CheckConstraint(condition=Q(interest__gte=0),
                                   name="loans_interest_not_negative"),
        ]
        indexes = [
            # Scoring reads every loan's due and paid times (core/scoring/features.py): with
            # them in the index that is an index-only scan, not a heap visit per installment.
            # PostgreSQL only; elsewhere it is a plain index on the loan.
            models.Index(fields=["loan"], include=["due_at", "paid_at"],
                         name="loans_installment_times_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.loan_id} installment {self.number}"


class Repayment(models.Model):
    """One repayment as the chain saw it, with its split (interest-first per installment)."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="repayments")
    ref = models.CharField(max_length=255, unique=True, help_text="Idempotency key (chain event).")
    amount = models.BigIntegerField()
    interest = models.BigIntegerField()
    principal = models.BigIntegerField()
    fee = models.BigIntegerField(default=0)
    premium = models.BigIntegerField(default=0)
    to_pool = models.BigIntegerField(default=0, help_text="Recovery refilling the backstop pool.")
    to_lenders = models.BigIntegerField()
    paid_at = models.DateTimeField()

    class Meta:
        ordering = ["paid_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="loans_repayment_positive"),
            models.CheckConstraint(
                condition=Q(amount=F("fee") + F("premium") + F("to_pool") + F("to_lenders")),
                name="loans_repayment_split_sums",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.loan_id} repaid {self.amount}"
