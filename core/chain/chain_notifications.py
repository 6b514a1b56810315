"""Who hears about each applied chain event: the events table says whom and with which
template; the batch's messages go to the outbox service together at flush().

Dedupe keys use the transaction hash and log index (not the block hash), so a transaction
re-mined after a reorganisation never messages anyone twice; a key already in the outbox is
skipped, as notification_enqueue does.
"""

from __future__ import annotations

from collections.abc import Callable

from core.chain.events import ChainEvent, Seen
from core.chain.models import ChainLog
from core.loans.batch import LoanBatch
from core.notifications.services import Notice, notifications_enqueue_many
from core.users.models import TelegramUser


class ChainNotifier:
    def __init__(self, batch: LoanBatch,
                 wallet: Callable[[str], TelegramUser | None]) -> None:
        self.batch = batch
        self.wallet = wallet
        self.notices: list[Notice] = []

    def notify(self, *, entry: ChainLog, event: ChainEvent) -> None:
        """Queue the messages an applied event means for its borrower and lenders."""
        loan = self.batch.loan_by_chain_id(entry.args.get("loanId"))
        if loan is None:
            return
        seen = Seen(entry=entry, loan=loan, batch=self.batch, wallet=self.wallet)
        for user, template_key, params in event.tell(seen):
            self.notices.append(Notice(
                recipient=user, template_key=template_key,
                params={"loan_id": loan.pk, **params},
                dedupe_key=f"chain:{entry.chain_id}:{entry.tx_hash}:{entry.log_index}:"
                           f"{template_key}:{user.pk}"))

    def flush(self) -> int:
        """Hand the queued messages to the outbox; returns how many were queued."""
        count, notices, self.notices = len(self.notices), self.notices, []
        notifications_enqueue_many(notices=notices)
        return count
