"""Applying stored contract logs to the domain, through the loan services.

Each log applies once (its ref is the idempotency key of everything it posts). A log that
cannot be applied, e.g. a wallet no account has linked, is kept with its problem and reported
to admins; the indexer goes on, and the reconciliation job shows the gap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from django.utils import timezone

from core.common.errors import ServiceError
from core.loans import chain_rollback as loans_rollback
from core.loans import services as loans
from core.loans.models import Loan
from core.loans.states import LoanState
from core.users.models import TelegramUser
from core.users.selectors import user_by_wallet
from core.wallets.chain_notifications import chain_event_notify
from core.wallets.models import ChainLog, SigningRequest

log = logging.getLogger(__name__)


class NotApplicable(Exception):
    """This log cannot change the domain; the message says why (for admins)."""


def _at(unix: int) -> datetime:
    return datetime.fromtimestamp(int(unix), tz=UTC)


def _loan(chain_loan_id: int) -> Loan:
    loan = Loan.objects.filter(chain_loan_id=chain_loan_id).first()
    if loan is None:
        raise NotApplicable(f"no loan is listed as chain loan {chain_loan_id}")
    return loan


def _user(address: str, role: str) -> TelegramUser:
    user = user_by_wallet(address=address)
    if user is None:
        raise NotApplicable(f"the {role} wallet {address} is not linked to any account")
    return user


def _opened(entry: ChainLog, args: dict) -> None:
    request = (SigningRequest.objects.select_related("loan")
               .filter(approval_nonce=str(args["nonce"]), loan__isnull=False).first())
    if request is None:
        raise NotApplicable(f"approval nonce {args['nonce']} matches no application")
    loans.loan_record_listing(loan=request.loan, chain_loan_id=args["loanId"],
                              funding_deadline=_at(args["fundingDeadline"]),
                              approval_nonce=str(args["nonce"]), ref=entry.ref)


def _funded(entry: ChainLog, args: dict) -> None:
    loans.loan_record_funding(loan=_loan(args["loanId"]), lender=_user(args["lender"], "lender"),
                              amount=args["amount"], ref=entry.ref, at=entry.block_time)


def _cancelled(entry: ChainLog, args: dict) -> None:
    loan = _loan(args["loanId"])
    if loan.state != LoanState.CANCELLED:
        loans.loan_transition(loan=loan, to_state=LoanState.CANCELLED, actor_label="chain",
                              reason="cancelled on chain by the borrower", ref=entry.ref)


def _expired(entry: ChainLog, args: dict) -> None:
    loan = _loan(args["loanId"])
    if loan.state != LoanState.EXPIRED:
        loans.loan_expire(loan=loan, reason="funding or drawdown deadline passed on chain",
                          ref=entry.ref)


def _refunded(entry: ChainLog, args: dict) -> None:
    loans.loan_record_refund(loan=_loan(args["loanId"]), lender=_user(args["lender"], "lender"),
                             amount=args["amount"], ref=entry.ref, at=entry.block_time)


def _drawn_down(entry: ChainLog, args: dict) -> None:
    loans.loan_record_drawdown(loan=_loan(args["loanId"]), ref=entry.ref, at=_at(args["start"]))


def _repaid(entry: ChainLog, args: dict) -> None:
    loan = _loan(args["loanId"])
    # A repayment of a defaulted loan comes with a Recovered log in the same transaction,
    # which says how much of it refills the backstop pool.
    recovered = ChainLog.objects.filter(chain_id=entry.chain_id, tx_hash=entry.tx_hash,
                                        name="Recovered", log_index__lt=entry.log_index).first()
    to_pool = recovered.args["toPool"] if recovered else 0
    payer = user_by_wallet(address=args["payer"])
    loans.loan_record_repayment(loan=loan, amount=args["amount"], fee=args["fee"],
                                premium=args["premium"], to_pool=to_pool, ref=entry.ref,
                                payer=payer, at=entry.block_time)


def _claimed(entry: ChainLog, args: dict) -> None:
    loans.loan_record_claim(loan=_loan(args["loanId"]), lender=_user(args["lender"], "lender"),
                            amount=args["amount"], ref=entry.ref, at=entry.block_time)


def _defaulted(entry: ChainLog, args: dict) -> None:
    loans.loan_record_default(loan=_loan(args["loanId"]), cover=args["cover"], ref=entry.ref,
                              at=entry.block_time)


HANDLERS: dict[tuple[str, str], Callable[[ChainLog, dict], None]] = {
    ("LoanBook", "LoanOpened"): _opened,
    ("LoanBook", "Funded"): _funded,
    ("LoanBook", "LoanCancelled"): _cancelled,
    ("LoanBook", "LoanExpired"): _expired,
    ("LoanBook", "Refunded"): _refunded,
    ("LoanBook", "DrawnDown"): _drawn_down,
    ("LoanBook", "Repaid"): _repaid,
    ("LoanBook", "Claimed"): _claimed,
    ("LoanBook", "Defaulted"): _defaulted,
}


def chain_log_apply(*, entry: ChainLog) -> bool:
    """Apply one stored log; returns False (with the problem recorded) when it cannot be."""
    handler = HANDLERS.get((entry.contract, entry.name))
    if handler is not None:
        try:
            handler(entry, entry.args)
        except (NotApplicable, ServiceError) as exc:
            entry.problem = str(exc)[:255]
            entry.save(update_fields=["problem"])
            log.warning("chain log %s not applied: %s", entry, exc)
            return False
    entry.applied_at, entry.problem = timezone.now(), ""
    entry.save(update_fields=["applied_at", "problem"])
    chain_event_notify(entry=entry)
    return True


def chain_log_undo(*, entry: ChainLog) -> None:
    """Take back what an applied log did (its block left the canonical chain)."""
    if entry.applied_at is None or entry.contract != "LoanBook":
        return
    args = entry.args
    loan = Loan.objects.filter(chain_loan_id=args.get("loanId")).first()
    if loan is None:
        return
    address = args.get("lender")
    lender = user_by_wallet(address=address) if address else None
    loans_rollback.loan_undo_chain_event(loan=loan, name=entry.name, args=args, ref=entry.ref,
                                         lender=lender)
