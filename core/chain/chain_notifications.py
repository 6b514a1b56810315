"""Who hears about each applied chain event, through the outbox.

Dedupe keys use the transaction hash and log index (not the block hash), so a transaction
re-mined after a reorganisation never messages anyone twice. The messages of a batch of
events are inserted together at flush(); a dedupe key already in the outbox is skipped, as
notification_enqueue does. Params are taken right after each event applied, so they say what
that event left (outstanding amount, first installment), not what the batch ended with.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from core.chain.models import ChainLog
from core.common.bulk import copy_insert
from core.loans.announcements import loan_listing_announce
from core.loans.batch import LoanBatch
from core.loans.models import Loan
from core.notifications.models import OutboxMessage
from core.users.models import TelegramUser


class ChainNotifier:
    def __init__(self, batch: LoanBatch,
                 wallet: Callable[[str], TelegramUser | None]) -> None:
        self.batch = batch
        self.wallet = wallet
        self.messages: list[OutboxMessage] = []

    def _tell(self, entry: ChainLog, user: TelegramUser, template_key: str, **params) -> None:
        self.messages.append(OutboxMessage(
            recipient=user, chat_id=user.telegram_id, template_key=template_key, params=params,
            dedupe_key=f"chain:{entry.chain_id}:{entry.tx_hash}:{entry.log_index}:"
                       f"{template_key}:{user.pk}"))

    def _lenders(self, loan: Loan) -> list[TelegramUser]:
        return [position.lender for position in self.batch.positions(loan)
                if position.amount > 0]

    def notify(self, *, entry: ChainLog) -> None:
        """Queue the messages an applied LoanBook event means for its borrower and lenders."""
        args = entry.args
        if entry.contract != "LoanBook":
            return
        loan = self.batch.loan_by_chain_id(args.get("loanId"))
        if loan is None:
            return
        tell = self._tell
        borrower, name = loan.borrower, entry.name
        if name == "LoanOpened":
            tell(entry, borrower, "loan_listed", loan_id=loan.pk, amount=loan.principal)
            loan_listing_announce(loan=loan)
        elif name == "Funded":
            lender = self.wallet(args["lender"])
            if lender is not None:
                tell(entry, lender, "funding_confirmed", loan_id=loan.pk, amount=args["amount"])
            if args["totalFunded"] == loan.principal:
                tell(entry, borrower, "loan_funded", loan_id=loan.pk, amount=loan.principal)
        elif name == "DrawnDown":
            schedule = self.batch.schedule(loan)
            first = min(schedule, key=lambda item: item.number) if schedule else None
            tell(entry, borrower, "drawdown_confirmed", loan_id=loan.pk,
                 amount=args["principal"],
                 first_due_date=first.due_at.isoformat() if first else "",
                 first_amount=first.amount if first else 0)
        elif name == "Repaid":
            tell(entry, borrower, "repayment_received", loan_id=loan.pk, amount=args["amount"],
                 outstanding=loan.outstanding)
            for lender in self._lenders(loan):
                tell(entry, lender, "lender_repayment_received", loan_id=loan.pk,
                     amount=args["amount"])
        elif name in {"LoanExpired", "LoanCancelled"}:
            tell(entry, borrower, "loan_expired" if name == "LoanExpired" else "loan_cancelled",
                 loan_id=loan.pk)
            for position in self.batch.positions(loan):
                if position.amount > position.refunded:
                    tell(entry, position.lender, "refund_available", loan_id=loan.pk,
                         amount=position.amount - position.refunded)
        elif name == "Defaulted":
            tell(entry, borrower, "loan_defaulted", loan_id=loan.pk,
                 outstanding=loan.outstanding)
            for lender in self._lenders(loan):
                tell(entry, lender, "lender_loan_defaulted", loan_id=loan.pk,
                     cover=args["cover"])
        elif name == "Claimed":
            lender = self.wallet(args["lender"])
            if lender is not None:
                tell(entry, lender, "claim_confirmed", loan_id=loan.pk, amount=args["amount"])

    def flush(self) -> int:
        """Insert the queued messages; returns how many were queued."""
        now = timezone.now()
        for message in self.messages:
            message.next_attempt_at = now
        copy_insert(OutboxMessage, self.messages, skip_conflicts=True)
        count, self.messages = len(self.messages), []
        return count
