"""Double-entry ledger in integer base units, mirroring where the chain holds the money.

Generic: accounts and entries may name a loan (by the "loans.Loan" reference, not an import,
so the ledger sits below loans); which accounts each loan event moves is the loans app's
(core/loans/postings.py).

A posting's amount is signed: positive debits, negative credits. Every journal entry's
postings sum to zero (enforced by the posting service and, on PostgreSQL, by a deferred
constraint trigger), so balances can be derived at any time by summing postings.
"""

from django.db import models
from django.db.models import Q

from core.users.models import TelegramUser


class AccountKind(models.TextChoices):
    WALLET = "wallet", "User wallet (outside the contracts)"
    LOAN_ESCROW = "loan_escrow", "Funded principal held by the LoanBook"
    LENDER_CLAIMABLE = "lender_claimable", "Repayments a lender can claim"
    LOAN_UNDISTRIBUTED = "loan_undistributed", "Rounding remainder kept by the LoanBook"
    TREASURY = "treasury", "Platform fees"
    BACKSTOP_POOL = "backstop_pool", "Backstop pool assets"


class Account(models.Model):
    code = models.CharField(max_length=96, unique=True)
    kind = models.CharField(max_length=24, choices=AccountKind.choices, db_index=True)
    user = models.ForeignKey(TelegramUser, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="ledger_accounts")
    loan = models.ForeignKey("loans.Loan", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="ledger_accounts")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class JournalEntry(models.Model):
    key = models.CharField(max_length=255, unique=True,
                           help_text="Idempotency key: the same event never posts twice.")
    description = models.CharField(max_length=255)
    loan = models.ForeignKey("loans.Loan", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="journal_entries")
    meta = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "pk"]
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"{self.key}: {self.description}"


class Posting(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount = models.BigIntegerField(help_text="Positive debits, negative credits.")

    class Meta:
        ordering = ["entry", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_posting_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.account.code} {self.amount:+d}"
