"""Undoing what a chain event did, after the chain took the event back (a reorganisation).

The only place a loan may move backwards in its state machine: each undo posts a reversing
ledger entry, takes back the state change the event caused (recorded as a transition by
"reorg", with the event's ref), and restores the running totals. Undo in reverse chain order.
"""

from __future__ import annotations

from django.db import transaction

from core.ledger.services import journal_reverse
from core.loans.models import FundingPosition, Loan, Repayment
from core.users.models import TelegramUser

REASON = "chain reorganisation: event taken back"


def _take_back_transitions(loan: Loan, ref: str) -> None:
    for caused in loan.transitions.filter(ref=ref).order_by("-created_at", "-pk"):
        if loan.state != caused.to_state:
            continue
        loan.transitions.create(from_state=loan.state, to_state=caused.from_state,
                                actor_label="reorg", reason=REASON, ref=f"reversal:{ref}")
        loan.state = caused.from_state
    if loan.closed_at is not None and loan.state not in {"repaid", "rejected", "expired",
                                                          "cancelled", "defaulted"}:
        loan.closed_at = None


def _position(loan: Loan, lender: TelegramUser | None) -> FundingPosition | None:
    if lender is None:
        return None
    return FundingPosition.objects.select_for_update().filter(loan=loan, lender=lender).first()


@transaction.atomic
def loan_undo_chain_event(*, loan: Loan, name: str, args: dict, ref: str,
                          lender: TelegramUser | None = None) -> Loan:
    """Undo one applied LoanBook event of this loan; a no-op for events that changed nothing."""
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    position = _position(locked, lender)
    if name == "LoanOpened":
        locked.chain_loan_id, locked.funding_deadline, locked.approval_nonce = None, None, ""
    elif name == "Funded" and position is not None:
        position.amount -= args["amount"]
        locked.funded_amount -= args["amount"]
    elif name == "Refunded" and position is not None:
        position.refunded -= args["amount"]
    elif name == "Claimed" and position is not None:
        position.claimed -= args["amount"]
    elif name == "DrawnDown":
        locked.schedule.all().delete()
        locked.drawn_down_at = None
    elif name == "Repaid":
        repayment = Repayment.objects.filter(ref=ref).first()
        if repayment is not None:
            locked.repaid_amount -= repayment.amount
            locked.distributed_to_lenders -= repayment.to_lenders
            repayment.delete()
            locked.schedule.filter(cumulative_due__gt=locked.repaid_amount).update(paid_at=None)
    elif name == "Defaulted":
        locked.covered_amount -= args["cover"]
        locked.distributed_to_lenders -= args["cover"]
    if position is not None:
        position.save(update_fields=["amount", "refunded", "claimed", "updated_at"])
    journal_reverse(key=ref, reason="chain reorganisation")
    _take_back_transitions(locked, ref)
    locked.save()
    loan.refresh_from_db()
    return loan
