"""One table of the contracts' events: for each, how it is applied to the domain (through the
loan services) and whom it tells, with which template.

The indexer's apply step (chain_apply) runs `apply`; the notifier (chain_notifications) runs
`tell` right after, so the params say what that event left (outstanding amount, first
installment), not what the batch ended with. `tell` returns (person, template, params) and
queues nothing itself: the notifier hands the batch's messages to the outbox service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from core.chain.models import ChainLog
from core.loans import services as loans
from core.loans.announcements import loan_listing_announce
from core.loans.batch import LoanBatch
from core.loans.models import Loan
from core.loans.states import LoanState
from core.users.models import TelegramUser

if TYPE_CHECKING:
    from core.chain.chain_apply import ApplyContext


class NotApplicable(Exception):
    """This log cannot change the domain; the message says why (for admins)."""


def _at(unix: int) -> datetime:
    return datetime.fromtimestamp(int(unix), tz=UTC)


# ---------------------------------------------------------------- applying


def _opened(ctx: ApplyContext, entry: ChainLog, args: dict) -> None:
    request = ctx.opened_request(str(args["nonce"]))
    if request is None:
        raise NotApplicable(f"approval nonce {args['nonce']} matches no application")
    loans.loan_record_listing(loan=ctx.batch.locked(request.loan_id), chain_loan_id=args["loanId"],
                              funding_deadline=_at(args["fundingDeadline"]),
                              approval_nonce=str(args["nonce"]), ref=entry.ref,
                              batch=ctx.batch)


def _funded(ctx: ApplyContext, entry: ChainLog, args: dict) -> None:
    loans.loan_record_funding(loan=ctx.loan(args["loanId"]),
                              lender=ctx.user(args["lender"], "lender"), amount=args["amount"],
                              ref=entry.ref, at=entry.block_time, batch=ctx.batch)


def _cancelled(ctx: ApplyContext, entry: ChainLog, args: dict) -> None:
    loans.loan_record_closure(loan=ctx.loan(args["loanId"]), to_state=LoanState.CANCELLED,
                              actor_label="chain", reason="cancelled on chain by the borrower",
                              ref=entry.ref, batch=ctx.batch)


def _expired(ctx: ApplyContext, entry: ChainLog, args: dict) -> None:
    loans.loan_record_closure(loan=ctx.loan(args["loanId"]), to_state=LoanState.EXPIRED,
                              actor_label="keeper",
                              reason="funding or drawdown deadline passed on chain",
                              ref=entry.ref, batch=ctx.batch)


def _refunded(ctx: ApplyContext, entry: ChainLog, args: dict) -> None:
    loans.loan_record_refund(loan=ctx.loan(args["loanId"]),
                             lender=ctx.user(args["lender"], "lender"), amount=args["amount"],
                             ref=entry.ref, at=entry.block_time, batch=ctx.batch)


def _drawn_down(ctx: ApplyContext, entry: ChainLog, args: dict) -> None:
    loans.loan_record_drawdown(loan=ctx.loan(args["loanId"]), ref=entry.ref,
                               at=_at(args["start"]), batch=ctx.batch)


def _repaid(ctx: ApplyContext, entry: ChainLog, args: dict) -> None:
    loan = ctx.loan(args["loanId"])
    # A repayment of a defaulted loan comes with a Recovered log in the same transaction,
    # which says how much of it refills the backstop pool.
    recovered = ctx.recovered_before(entry)
    to_pool = recovered.args["toPool"] if recovered else 0
    loans.loan_record_repayment(loan=loan, amount=args["amount"], fee=args["fee"],
                                premium=args["premium"], to_pool=to_pool, ref=entry.ref,
                                payer=ctx.wallet(args["payer"]), at=entry.block_time,
                                batch=ctx.batch)


def _claimed(ctx: ApplyContext, entry: ChainLog, args: dict) -> None:
    loans.loan_record_claim(loan=ctx.loan(args["loanId"]),
                            lender=ctx.user(args["lender"], "lender"), amount=args["amount"],
                            ref=entry.ref, at=entry.block_time, batch=ctx.batch)


def _defaulted(ctx: ApplyContext, entry: ChainLog, args: dict) -> None:
    loans.loan_record_default(loan=ctx.loan(args["loanId"]), cover=args["cover"], ref=entry.ref,
                              at=entry.block_time, batch=ctx.batch)


# ---------------------------------------------------------------- telling


@dataclass(frozen=True)
class Seen:
    """An applied event as the notifier sees it: its loan and the batch's reads."""

    entry: ChainLog
    loan: Loan
    batch: LoanBatch
    wallet: Callable[[str], TelegramUser | None]

    @property
    def args(self) -> dict:
        return self.entry.args

    def lenders(self) -> list[TelegramUser]:
        """Lenders still holding a position in the loan."""
        return [position.lender for position in self.batch.positions(self.loan)
                if position.amount > 0]


Tell = list[tuple[TelegramUser, str, dict]]


def _tell_listed(seen: Seen) -> Tell:
    loan_listing_announce(loan=seen.loan)
    return [(seen.loan.borrower, "loan_listed", {"amount": seen.loan.principal})]


def _tell_funded(seen: Seen) -> Tell:
    told = []
    lender = seen.wallet(seen.args["lender"])
    if lender is not None:
        told.append((lender, "funding_confirmed", {"amount": seen.args["amount"]}))
    if seen.args["totalFunded"] == seen.loan.principal:
        told.append((seen.loan.borrower, "loan_funded", {"amount": seen.loan.principal}))
    return told


def _tell_drawn_down(seen: Seen) -> Tell:
    schedule = seen.batch.schedule(seen.loan)
    first = min(schedule, key=lambda item: item.number) if schedule else None
    return [(seen.loan.borrower, "drawdown_confirmed", {
        "amount": seen.args["principal"],
        "first_due_date": first.due_at.isoformat() if first else "",
        "first_amount": first.amount if first else 0})]


def _tell_repaid(seen: Seen) -> Tell:
    amount = seen.args["amount"]
    return [(seen.loan.borrower, "repayment_received",
             {"amount": amount, "outstanding": seen.loan.outstanding}),
            *[(lender, "lender_repayment_received", {"amount": amount})
              for lender in seen.lenders()]]


def _tell_closed(template_key: str) -> Callable[[Seen], Tell]:
    """Expired or cancelled: the borrower hears it, each lender with money in it may refund."""
    def tell(seen: Seen) -> Tell:
        return [(seen.loan.borrower, template_key, {}),
                *[(position.lender, "refund_available",
                   {"amount": position.amount - position.refunded})
                  for position in seen.batch.positions(seen.loan)
                  if position.amount > position.refunded]]
    return tell


def _tell_defaulted(seen: Seen) -> Tell:
    return [(seen.loan.borrower, "loan_defaulted", {"outstanding": seen.loan.outstanding}),
            *[(lender, "lender_loan_defaulted", {"cover": seen.args["cover"]})
              for lender in seen.lenders()]]


def _tell_claimed(seen: Seen) -> Tell:
    lender = seen.wallet(seen.args["lender"])
    return [] if lender is None else [(lender, "claim_confirmed",
                                       {"amount": seen.args["amount"]})]


def _tell_nobody(seen: Seen) -> Tell:
    return []


@dataclass(frozen=True)
class ChainEvent:
    apply: Callable[[ApplyContext, ChainLog, dict], None]
    tell: Callable[[Seen], Tell]


EVENTS: dict[tuple[str, str], ChainEvent] = {
    ("LoanBook", "LoanOpened"): ChainEvent(apply=_opened, tell=_tell_listed),
    ("LoanBook", "Funded"): ChainEvent(apply=_funded, tell=_tell_funded),
    ("LoanBook", "LoanCancelled"): ChainEvent(apply=_cancelled,
                                              tell=_tell_closed("loan_cancelled")),
    ("LoanBook", "LoanExpired"): ChainEvent(apply=_expired, tell=_tell_closed("loan_expired")),
    # A refund's confirmation is told by the signing request it settles (signing services).
    ("LoanBook", "Refunded"): ChainEvent(apply=_refunded, tell=_tell_nobody),
    ("LoanBook", "DrawnDown"): ChainEvent(apply=_drawn_down, tell=_tell_drawn_down),
    ("LoanBook", "Repaid"): ChainEvent(apply=_repaid, tell=_tell_repaid),
    ("LoanBook", "Claimed"): ChainEvent(apply=_claimed, tell=_tell_claimed),
    ("LoanBook", "Defaulted"): ChainEvent(apply=_defaulted, tell=_tell_defaulted),
}
