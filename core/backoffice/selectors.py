"""Reads for the operators' screens that span apps: a loan's whole story."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch

from core.audit.models import OperatorAction
from core.chain.models import ChainLog
from core.ledger.models import JournalEntry, Posting
from core.loans.models import Loan
from core.notifications.models import OutboxMessage


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    kind: str  # transition, chain, ledger, message, operator
    title: str
    detail: str


def loan_timeline(*, loan: Loan) -> list[TimelineEvent]:
    """State transitions, chain events, ledger entries with their postings, messages sent
    about the loan and operators' actions on it, in time order (6 queries, whatever the
    loan's history)."""
    events = [TimelineEvent(t.created_at, "transition", f"{t.from_state} → {t.to_state}",
                            f"{t.actor_label}: {t.reason}" + (f" ({t.ref})" if t.ref else ""))
              for t in loan.transitions.all()]
    if loan.chain_loan_id is not None:
        events += [TimelineEvent(log.block_time, "chain", f"{log.contract}.{log.name}",
                                 f"block {log.block_number}, tx {log.tx_hash}"
                                 + (f" — {log.problem}" if log.problem else ""))
                   for log in ChainLog.objects.filter(args__loanId=loan.chain_loan_id)
                   .order_by("block_number", "log_index")]
    entries = JournalEntry.objects.filter(loan=loan).prefetch_related(
        Prefetch("postings", queryset=Posting.objects.select_related("account")))
    events += [TimelineEvent(entry.occurred_at, "ledger", entry.description,
                             ", ".join(f"{p.account.code} {p.amount:+d}"
                                       for p in entry.postings.all()))
               for entry in entries]
    events += [TimelineEvent(message.created_at, "message", message.template_key,
                             f"to {message.chat_id}: {message.status}"
                             + (f" ({message.last_error})" if message.last_error else ""))
               for message in OutboxMessage.objects.filter(params__loan_id=loan.pk)]
    events += [TimelineEvent(action.created_at, "operator",
                             f"{action.get_kind_display()} by {action.operator}",
                             f"{action.target}: {action.reason}" if action.reason
                             else action.target)
               for action in OperatorAction.objects.filter(loan_id=loan.pk)]
    return sorted(events, key=lambda event: event.at)
