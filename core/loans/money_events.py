"""Money events from the chain: a loan listed, funded, refunded, closed, drawn down, repaid,
claimed from and defaulted, each posting its ledger entries (core/loans/postings.py).

Each takes an idempotency `ref` (the chain event's id): applying the same event twice changes
nothing. Loan rows are locked while a money event applies, so concurrent events of one loan
serialize.

Each takes an optional LoanBatch: the chain indexer passes one shared by a whole batch of
events (written once at its end, in its transaction); called alone, a service makes its own
and writes it before returning. The rules are the same either way. Every check comes before
the first change, and the batch puts back an event that fails half way.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from django.utils import timezone
from django.utils.translation import gettext as _

from core.loans import amortization, postings
from core.loans.batch import LoanBatch, loan_unit
from core.loans.lateness import refresh_lateness_in
from core.loans.models import Installment, Loan, Repayment
from core.loans.states import OPEN_FOR_FUNDING, LoanState, can_transition
from core.loans.transitions import IllegalTransition, LoanRuleViolation, batch_transition
from core.users.models import TelegramUser

S = LoanState


def _done(loan: Loan, locked: Loan, batch: LoanBatch | None) -> Loan:
    if batch is not None:
        return locked
    loan.refresh_from_db()
    return loan


@lru_cache(maxsize=256)
def _schedule(principal: int, total_due: int, apr_bps: int, installments: int,
              interval_days: int) -> tuple[amortization.ScheduledInstallment, ...]:
    """The schedule of these terms, computed once per terms (it is pure and immutable)."""
    return tuple(amortization.build_schedule(
        principal=principal, total_due=total_due, apr_bps=apr_bps, installments=installments,
        interval_days=interval_days))


def _schedule_of(loan: Loan) -> list[amortization.ScheduledInstallment]:
    return list(_schedule(loan.principal, loan.total_due, loan.apr_bps, loan.installments,
                          loan.interval_days))


def loan_record_listing(*, loan: Loan, chain_loan_id: int, funding_deadline: datetime,
                        approval_nonce: str = "", ref: str = "",
                        batch: LoanBatch | None = None) -> Loan:
    """The borrower opened the approved loan on chain: it is listed for lenders."""
    with loan_unit(batch) as b:
        locked = b.lock(loan)
        if locked.chain_loan_id == chain_loan_id:
            return locked
        if locked.chain_loan_id is not None:
            raise LoanRuleViolation(_("Loan #%(loan)s is already listed as chain loan "
                                      "%(chain_loan)s.")
                                    % {"loan": loan.pk, "chain_loan": locked.chain_loan_id})
        if not can_transition(locked.state, S.LISTED):
            raise IllegalTransition(_("Loan #%(loan)s cannot go from %(from)s to %(to)s.")
                                    % {"loan": loan.pk, "from": locked.state, "to": S.LISTED})
        locked.chain_loan_id = chain_loan_id
        locked.funding_deadline = funding_deadline
        if approval_nonce:
            locked.approval_nonce = approval_nonce
        b.listed(locked)
        batch_transition(b, locked, S.LISTED, actor_label="chain",
                    reason=f"opened on chain as #{chain_loan_id}", ref=ref)
    return _done(loan, locked, batch)


def loan_record_funding(*, loan: Loan, lender: TelegramUser, amount: int, ref: str,
                        at: datetime | None = None, batch: LoanBatch | None = None) -> Loan:
    """A lender funded part of the loan on chain."""
    with loan_unit(batch) as b:
        locked = b.lock(loan)
        if b.ledger.has(ref):
            return locked
        if locked.state not in OPEN_FOR_FUNDING:
            raise LoanRuleViolation(_("Loan #%(loan)s is %(state)s, not open for funding.")
                                    % {"loan": loan.pk, "state": locked.state})
        if lender.pk == locked.borrower_id:
            raise LoanRuleViolation(_("A borrower cannot fund their own loan."),
                                    code="self_fund")
        if amount <= 0 or amount > locked.left_to_fund:
            raise LoanRuleViolation(
                _("Funding of %(amount)s does not fit the %(left)s left to fund.")
                % {"amount": amount, "left": locked.left_to_fund})
        position = b.position(locked, lender, create=True)
        position.amount += amount
        locked.funded_amount += amount
        postings.post_funding(ledger=b.ledger, key=ref, loan=locked, lender=lender,
                              amount=amount, occurred_at=at)
        if locked.funded_amount == locked.principal:
            batch_transition(b, locked, S.FUNDED, actor_label="chain", reason="fully funded",
                             ref=ref)
        elif locked.state == S.LISTED:
            batch_transition(b, locked, S.FUNDING, actor_label="chain", reason="first funding",
                        ref=ref)
    return _done(loan, locked, batch)


def loan_record_refund(*, loan: Loan, lender: TelegramUser, amount: int, ref: str,
                       at: datetime | None = None, batch: LoanBatch | None = None) -> Loan:
    """A lender took their funding back from an expired or cancelled loan."""
    with loan_unit(batch) as b:
        locked = b.lock(loan)
        if b.ledger.has(ref):
            return locked
        if locked.state not in {S.EXPIRED, S.CANCELLED}:
            raise LoanRuleViolation(_("Loan #%(loan)s is %(state)s; refunds need an "
                                      "expired or cancelled loan.")
                                    % {"loan": loan.pk, "state": locked.state})
        position = b.position(locked, lender)
        if position is None or amount <= 0 or amount > position.amount - position.refunded:
            raise LoanRuleViolation(_("The refund does not match the lender's position."))
        position.refunded += amount
        postings.post_refund(ledger=b.ledger, key=ref, loan=locked, lender=lender,
                             amount=amount, occurred_at=at)
    return _done(loan, locked, batch)


def loan_record_closure(*, loan: Loan, to_state: str, actor_label: str, reason: str, ref: str,
                        batch: LoanBatch | None = None) -> Loan:
    """The chain closed the loan before drawdown (cancelled or expired); once per state."""
    with loan_unit(batch) as b:
        locked = b.lock(loan)
        if locked.state != to_state:
            batch_transition(b, locked, to_state, actor_label=actor_label, reason=reason, ref=ref)
    return _done(loan, locked, batch)


def loan_record_drawdown(*, loan: Loan, ref: str, at: datetime | None = None,
                         batch: LoanBatch | None = None) -> Loan:
    """The borrower received the principal: the schedule clock starts now."""
    started = at or timezone.now()
    with loan_unit(batch) as b:
        locked = b.lock(loan)
        if b.ledger.has(ref):
            return locked
        if locked.state != S.FUNDED:
            raise IllegalTransition(_("Loan #%(loan)s is %(state)s; only a funded loan "
                                      "can be drawn down.")
                                    % {"loan": loan.pk, "state": locked.state})
        b.add_schedule(locked, [
            Installment(loan=locked, number=item.number,
                        due_at=started + timedelta(days=item.due_offset_days),
                        amount=item.amount, cumulative_due=item.cumulative_due,
                        interest=item.interest, principal=item.principal)
            for item in _schedule_of(locked)])
        locked.drawn_down_at = started
        postings.post_drawdown(ledger=b.ledger, key=ref, loan=locked, occurred_at=started)
        batch_transition(b, locked, S.ACTIVE, actor_label="chain", reason="drawn down", ref=ref)
    return _done(loan, locked, batch)


def _distribute(b: LoanBatch, loan: Loan,
                to_lenders: int) -> tuple[dict[TelegramUser, int], int]:
    """Each lender's new entitlement from `to_lenders`, by the same floor rule as the chain."""
    before = loan.distributed_to_lenders
    after = before + to_lenders
    shares: dict[TelegramUser, int] = {}
    for position in b.positions(loan):
        share = (amortization.pro_rata_share(position=position.amount,
                                             funded_total=loan.funded_amount, distributed=after)
                 - amortization.pro_rata_share(position=position.amount,
                                               funded_total=loan.funded_amount, distributed=before))
        if share:
            shares[position.lender] = share
    return shares, to_lenders - sum(shares.values())


def loan_record_repayment(
    *, loan: Loan, amount: int, fee: int, premium: int, ref: str, to_pool: int = 0,
    payer: TelegramUser | None = None, at: datetime | None = None,
    batch: LoanBatch | None = None,
) -> Repayment:
    """A repayment reached the LoanBook. fee, premium and to_pool are the chain's own split."""
    paid_at = at or timezone.now()
    with loan_unit(batch) as b:
        locked = b.lock(loan)
        existing = b.repayment(ref)
        if existing is not None:
            return existing
        if locked.state not in {S.ACTIVE, S.LATE, S.DEFAULTED}:
            raise LoanRuleViolation(_("Loan #%(loan)s is %(state)s; it takes no repayment.")
                                    % {"loan": loan.pk, "state": locked.state})
        if amount <= 0 or amount > locked.outstanding:
            raise LoanRuleViolation(
                _("A repayment of %(amount)s does not fit the %(left)s still owed.")
                % {"amount": amount, "left": locked.outstanding},
                code="overpayment")
        to_lenders = amount - fee - premium - to_pool
        if min(fee, premium, to_pool, to_lenders) < 0:
            raise LoanRuleViolation(_("The repayment split does not add up."))
        allocation = amortization.allocate_payment(
            _schedule_of(locked), paid_before=locked.repaid_amount, amount=amount,
            refuse_overpayment=True)
        shares, remainder = _distribute(b, locked, to_lenders)
        repayment = Repayment(
            loan=locked, ref=ref, amount=amount, interest=allocation.interest,
            principal=allocation.principal, fee=fee, premium=premium, to_pool=to_pool,
            to_lenders=to_lenders, paid_at=paid_at)
        b.add(repayment)
        postings.post_repayment(
            ledger=b.ledger, key=ref, loan=locked, payer=payer or locked.borrower,
            amount=amount, fee=fee, premium=premium, to_pool=to_pool, shares=shares,
            remainder=remainder, occurred_at=paid_at,
            meta={"interest": allocation.interest, "principal": allocation.principal})
        locked.repaid_amount += amount
        locked.distributed_to_lenders += to_lenders
        for item in b.schedule(locked):
            if item.paid_at is None and item.cumulative_due <= locked.repaid_amount:
                item.paid_at = paid_at
        if locked.repaid_amount == locked.total_due and locked.state != S.DEFAULTED:
            batch_transition(b, locked, S.REPAID, actor_label="chain", reason="repaid in full",
                        ref=ref)
        elif locked.state == S.LATE:
            refresh_lateness_in(b, locked, now=paid_at, ref=ref)
    if batch is None:
        loan.refresh_from_db()
    return repayment


def loan_record_claim(*, loan: Loan, lender: TelegramUser, amount: int, ref: str,
                      at: datetime | None = None, batch: LoanBatch | None = None) -> Loan:
    """A lender pulled their share of repayments out of the LoanBook."""
    with loan_unit(batch) as b:
        locked = b.lock(loan)
        if b.ledger.has(ref):
            return locked
        position = b.position(locked, lender)
        if position is None:
            raise LoanRuleViolation(_("Only a lender of this loan can claim from it."))
        entitled = amortization.pro_rata_share(position=position.amount,
                                               funded_total=locked.funded_amount,
                                               distributed=locked.distributed_to_lenders)
        if amount <= 0 or position.claimed + amount > entitled:
            raise LoanRuleViolation(
                _("A claim of %(amount)s is above the %(left)s claimable.")
                % {"amount": amount, "left": entitled - position.claimed})
        position.claimed += amount
        postings.post_claim(ledger=b.ledger, key=ref, loan=locked, lender=lender,
                            amount=amount, occurred_at=at)
    return _done(loan, locked, batch)


def loan_record_default(*, loan: Loan, cover: int, ref: str, at: datetime | None = None,
                        batch: LoanBatch | None = None) -> Loan:
    """The loan was marked defaulted on chain; the backstop pool's cover goes to lenders."""
    with loan_unit(batch) as b:
        locked = b.lock(loan)
        if b.ledger.has(ref):
            return locked
        if locked.state not in {S.ACTIVE, S.LATE}:
            raise IllegalTransition(_("Loan #%(loan)s is %(state)s; it cannot default.")
                                    % {"loan": loan.pk, "state": locked.state})
        if cover < 0:
            raise LoanRuleViolation(_("A cover cannot be negative."))
        if cover:
            shares, remainder = _distribute(b, locked, cover)
            postings.post_cover(ledger=b.ledger, key=ref, loan=locked, cover=cover,
                                shares=shares, remainder=remainder, occurred_at=at)
            locked.covered_amount += cover
            locked.distributed_to_lenders += cover
        batch_transition(b, locked, S.DEFAULTED, actor_label="chain",
                    reason=f"defaulted; backstop cover {cover}", ref=ref)
    return _done(loan, locked, batch)
