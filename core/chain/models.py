"""What the chain indexer keeps: its cursor, the hashes of the blocks it read (to notice a
reorganisation), every contract log once, and the reconciliation runs.

These tables were created by the wallets app (core/signing keeps that label): each model names
its table, and the chain app took them over in its migrations without touching the database.
"""

from django.db import models


class ChainCursor(models.Model):
    """How far the indexer has read a chain: every block below next_block is applied."""

    chain_id = models.BigIntegerField(unique=True)
    next_block = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "wallets_chaincursor"

    def __str__(self) -> str:
        return f"chain {self.chain_id} at block {self.next_block}"


class ChainBlock(models.Model):
    """Hashes of processed blocks, to notice when the chain replaced them (a reorg)."""

    chain_id = models.BigIntegerField()
    number = models.BigIntegerField()
    hash = models.CharField(max_length=66)

    class Meta:
        db_table = "wallets_chainblock"
        constraints = [models.UniqueConstraint(fields=["chain_id", "number"],
                                               name="wallets_one_hash_per_block")]

    def __str__(self) -> str:
        return f"{self.chain_id}#{self.number}"


class ChainLog(models.Model):
    """One contract log, stored once; `applied` once the domain has taken it in."""

    chain_id = models.BigIntegerField()
    block_number = models.BigIntegerField(db_index=True)
    block_hash = models.CharField(max_length=66)
    block_time = models.DateTimeField()
    tx_hash = models.CharField(max_length=66, db_index=True)
    log_index = models.PositiveIntegerField()
    contract = models.CharField(max_length=32)
    name = models.CharField(max_length=48, db_index=True)
    args = models.JSONField()
    applied_at = models.DateTimeField(null=True, blank=True)
    problem = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "wallets_chainlog"
        ordering = ["chain_id", "block_number", "log_index"]
        constraints = [models.UniqueConstraint(fields=["chain_id", "tx_hash", "log_index"],
                                               name="wallets_log_stored_once")]

    def __str__(self) -> str:
        return f"{self.name} @{self.block_number}:{self.log_index}"

    @property
    def ref(self) -> str:
        """Idempotency key of what this log applies. The block hash is part of it, so a log
        re-mined in another block after a reorg is a new fact, not a duplicate."""
        return f"chain:{self.chain_id}:{self.block_hash}:{self.tx_hash}:{self.log_index}"


class ReconciliationRun(models.Model):
    """One comparison of the ledger and loan mirror with the contracts' state."""

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    block_number = models.BigIntegerField(null=True, blank=True,
                                          help_text="Chain state compared: the last indexed block.")
    loans_checked = models.PositiveIntegerField(default=0)
    differences_count = models.PositiveIntegerField(default=0)
    differences = models.JSONField(default=list, blank=True,
                                   help_text="[{loan_id, chain_loan_id, field, lender_id, ledger, "
                                             "chain}], the first few thousand.")
    ok = models.BooleanField(default=False)

    class Meta:
        db_table = "wallets_reconciliationrun"
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        outcome = "ok" if self.ok else f"{self.differences_count} differences"
        return f"reconciliation {self.started_at:%Y-%m-%d %H:%M}: {outcome}"
