"""Who hears about each applied chain event, through the outbox.

Dedupe keys use the transaction hash and log index (not the block hash), so a transaction
re-mined after a reorganisation never messages anyone twice.
"""

from __future__ import annotations

from core.loans.models import Loan
from core.notifications.services import notification_enqueue
from core.users.models import TelegramUser
from core.users.selectors import user_by_wallet
from core.wallets.models import ChainLog


def _tell(entry: ChainLog, user: TelegramUser, template_key: str, **params) -> None:
    notification_enqueue(
        recipient=user, template_key=template_key, params=params,
        dedupe_key=f"chain:{entry.chain_id}:{entry.tx_hash}:{entry.log_index}:{template_key}:"
                   f"{user.pk}")


def _lenders(loan: Loan):
    return [position.lender for position in loan.positions.select_related("lender")
            if position.amount > 0]


def chain_event_notify(*, entry: ChainLog) -> None:
    """Queue the messages an applied LoanBook event means for its borrower and lenders."""
    args = entry.args
    loan = (Loan.objects.select_related("borrower")
            .filter(chain_loan_id=args.get("loanId")).first())
    if entry.contract != "LoanBook" or loan is None:
        return
    borrower, name = loan.borrower, entry.name
    if name == "LoanOpened":
        _tell(entry, borrower, "loan_listed", loan_id=loan.pk, amount=loan.principal)
    elif name == "Funded":
        lender = user_by_wallet(address=args["lender"])
        if lender is not None:
            _tell(entry, lender, "funding_confirmed", loan_id=loan.pk, amount=args["amount"])
        if args["totalFunded"] == loan.principal:
            _tell(entry, borrower, "loan_funded", loan_id=loan.pk, amount=loan.principal)
    elif name == "DrawnDown":
        first = loan.schedule.order_by("number").first()
        _tell(entry, borrower, "drawdown_confirmed", loan_id=loan.pk, amount=args["principal"],
              first_due_date=first.due_at.isoformat() if first else "",
              first_amount=first.amount if first else 0)
    elif name == "Repaid":
        _tell(entry, borrower, "repayment_received", loan_id=loan.pk, amount=args["amount"],
              outstanding=loan.outstanding)
        for lender in _lenders(loan):
            _tell(entry, lender, "lender_repayment_received", loan_id=loan.pk,
                  amount=args["amount"])
    elif name in {"LoanExpired", "LoanCancelled"}:
        _tell(entry, borrower, "loan_expired" if name == "LoanExpired" else "loan_cancelled",
              loan_id=loan.pk)
        for position in loan.positions.select_related("lender"):
            if position.amount > position.refunded:
                _tell(entry, position.lender, "refund_available", loan_id=loan.pk,
                      amount=position.amount - position.refunded)
    elif name == "Defaulted":
        _tell(entry, borrower, "loan_defaulted", loan_id=loan.pk, outstanding=loan.outstanding)
        for lender in _lenders(loan):
            _tell(entry, lender, "lender_loan_defaulted", loan_id=loan.pk, cover=args["cover"])
    elif name == "Claimed":
        lender = user_by_wallet(address=args["lender"])
        if lender is not None:
            _tell(entry, lender, "claim_confirmed", loan_id=loan.pk, amount=args["amount"])
