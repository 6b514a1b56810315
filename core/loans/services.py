"""Every change to a loan: state transitions, offer terms and money events from the chain.

Each transition is checked against states.TRANSITIONS and recorded with actor, time and
reason. Money events take an idempotency `ref` (the chain event's id): applying the same
event twice changes nothing. Loan rows are locked while a money event applies, so
concurrent events of one loan serialize.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.common.errors import ServiceError
from core.common.queueing import publish_by_name_after_commit
from core.loans import amortization, postings
from core.loans.batch import LoanBatch
from core.loans.models import Installment, Loan, LoanPurpose, LoanTransition, Repayment
from core.loans.selectors import borrower_exposure
from core.loans.states import OPEN_FOR_FUNDING, LoanState, can_transition
from core.users.models import TelegramUser
from core.users.selectors import kyc_tier_limit

S = LoanState
ALLOWED_INSTALLMENTS = (1, 2, 3, 4, 6, 9, 12, 18, 24)
SCORE_APPLICATION = "scoring.score_application"  # a task of scoring, above loans: by name


class IllegalTransition(ServiceError):
    code = "illegal_transition"


class LoanRuleViolation(ServiceError):
    code = "loan_rule"


def _actor_label(actor: TelegramUser | None, label: str) -> str:
    if label:
        return label
    return f"user:{actor.telegram_id}" if actor is not None else "system"


def loan_transition(
    *, loan: Loan, to_state: str, actor: TelegramUser | None = None, actor_label: str = "",
    reason: str = "", ref: str = "",
) -> Loan:
    """Move a loan to `to_state` if the state machine allows it, recording who, when and why."""
    with transaction.atomic():
        locked = Loan.objects.select_for_update().get(pk=loan.pk)
        from_state = locked.state
        if not can_transition(from_state, to_state):
            raise IllegalTransition(_("Loan #%(loan)s cannot go from %(from)s to %(to)s.")
                                    % {"loan": loan.pk, "from": from_state, "to": to_state})
        locked.state = to_state
        if to_state in {S.REPAID, S.REJECTED, S.EXPIRED, S.CANCELLED, S.DEFAULTED}:
            locked.closed_at = timezone.now()
        locked.save(update_fields=["state", "closed_at", "updated_at"])
        locked.transitions.create(from_state=from_state, to_state=to_state, actor=actor,
                                  actor_label=_actor_label(actor, actor_label), reason=reason,
                                  ref=ref)
    loan.refresh_from_db()
    return loan


# --- applications -------------------------------------------------------------------------

def loan_request_create(
    *, borrower: TelegramUser, principal: int, installments: int, purpose: str,
    interval_days: int | None = None,
) -> Loan:
    """A new application (draft) within the borrower's KYC-tier limit."""
    if borrower.is_frozen:
        raise LoanRuleViolation(_("Your account is frozen; you cannot request a loan now."),
                                code="frozen")
    if not borrower.is_borrower:
        raise LoanRuleViolation(_("Choose the borrower role before requesting a loan."),
                                code="not_borrower")
    if borrower.consented_at is None:
        raise LoanRuleViolation(_("Accept the terms before requesting a loan."),
                                code="no_consent")
    if not isinstance(principal, int) or principal <= 0:
        raise LoanRuleViolation(_("The amount must be a positive number."), code="bad_amount")
    if installments not in ALLOWED_INSTALLMENTS:
        raise LoanRuleViolation(_("Choose one of the offered terms."), code="bad_term")
    if purpose not in LoanPurpose.values:
        raise LoanRuleViolation(_("Choose one of the offered purposes."), code="bad_purpose")
    with transaction.atomic():
        # Lock the borrower so two parallel requests cannot both pass the limit check.
        TelegramUser.objects.select_for_update().filter(pk=borrower.pk).first()
        limit = kyc_tier_limit(tier=borrower.kyc_tier)
        available = limit - borrower_exposure(borrower=borrower)
        if principal > available:
            raise LoanRuleViolation(
                _("The amount is above what your verification level allows."),
                code="above_limit")
        loan = Loan.objects.create(
            borrower=borrower, principal=principal, installments=installments, purpose=purpose,
            interval_days=interval_days or settings.LOAN_INTERVAL_DAYS)
        loan.transitions.create(from_state=S.DRAFT, to_state=S.DRAFT, actor=borrower,
                                actor_label=_actor_label(borrower, ""), reason="created")
    return loan


def loan_submit(*, loan: Loan, actor: TelegramUser) -> Loan:
    _check_owner(loan, actor)
    return loan_transition(loan=loan, to_state=S.SUBMITTED, actor=actor, reason="submitted")


@transaction.atomic
def loan_application_submit(*, borrower: TelegramUser, principal: int, installments: int,
                            purpose: str) -> Loan:
    """A borrower's application in one step (the chat's summary was the draft): created
    within the limits and submitted, or nothing at all; scoring is queued once it is
    committed."""
    with transaction.atomic():
        loan = loan_request_create(borrower=borrower, principal=principal,
                                   installments=installments, purpose=purpose)
        loan = loan_submit(loan=loan, actor=borrower)
        # After the commit, so the worker finds the loan. With the broker down the loan
        # waits, submitted, for scoring's periodic sweep.
        publish_by_name_after_commit(SCORE_APPLICATION, loan.pk)
    return loan


def loan_record_offer(
    *, loan: Loan, grade: str, score: int, apr_bps: int, reasons: list[str],
    max_principal: int | None = None,
) -> Loan:
    """Fix the offer terms from a score; the loan moves to scored."""
    principal = loan.principal if max_principal is None else min(loan.principal, max_principal)
    total_due = amortization.annuity_total_due(
        principal=principal, apr_bps=apr_bps, installments=loan.installments,
        interval_days=loan.interval_days)
    with transaction.atomic():
        locked = Loan.objects.select_for_update().get(pk=loan.pk)
        if locked.state != S.SUBMITTED:
            raise IllegalTransition(_("Loan #%(loan)s is %(state)s; only a submitted "
                                      "application gets an offer.")
                                    % {"loan": loan.pk, "state": locked.state})
        Loan.objects.filter(pk=loan.pk).update(
            grade=grade, score=score, apr_bps=apr_bps, principal=principal, total_due=total_due,
            offer_reasons=list(reasons), offered_at=timezone.now())
        loan_transition(loan=loan, to_state=S.SCORED, actor_label="scoring",
                        reason=f"grade {grade}, score {score}")
    loan.refresh_from_db()
    return loan


def loan_approve(*, loan: Loan, actor: TelegramUser | None = None, actor_label: str = "",
                 reason: str = "") -> Loan:
    return loan_transition(loan=loan, to_state=S.APPROVED, actor=actor, actor_label=actor_label,
                           reason=reason or "approved")


def loan_send_to_review(*, loan: Loan, reason: str) -> Loan:
    return loan_transition(loan=loan, to_state=S.IN_REVIEW, actor_label="policy", reason=reason)


def loan_reject(*, loan: Loan, reason: str, actor: TelegramUser | None = None,
                actor_label: str = "") -> Loan:
    if not reason.strip():
        raise LoanRuleViolation(_("A rejection needs a reason."), code="reason_required")
    return loan_transition(loan=loan, to_state=S.REJECTED, actor=actor, actor_label=actor_label,
                           reason=reason)


def loan_cancel(*, loan: Loan, actor: TelegramUser, reason: str = "") -> Loan:
    """The borrower withdraws before the loan is funded; lenders of a partial funding refund."""
    _check_owner(loan, actor)
    if loan.state == S.FUNDED:
        raise IllegalTransition(_("A fully funded loan can no longer be cancelled."))
    return loan_transition(loan=loan, to_state=S.CANCELLED, actor=actor,
                           reason=reason or "cancelled by the borrower")


def loan_expire(*, loan: Loan, reason: str = "funding deadline passed", ref: str = "") -> Loan:
    return loan_transition(loan=loan, to_state=S.EXPIRED, actor_label="keeper", reason=reason,
                           ref=ref)


def _check_owner(loan: Loan, actor: TelegramUser) -> None:
    if loan.borrower_id != actor.pk:
        raise LoanRuleViolation(_("This is not your loan."), code="not_owner")


# --- money events from the chain ----------------------------------------------------------
# Each takes an optional LoanBatch: the chain indexer passes one shared by a whole batch of
# events (written once at its end, in its transaction); called alone, a service makes its own
# and writes it before returning. The rules are the same either way. Every check comes before
# the first change, and the batch puts back an event that fails half way.

@contextmanager
def _unit(batch: LoanBatch | None) -> Iterator[LoanBatch]:
    if batch is not None:
        yield batch
        return
    with transaction.atomic():
        unit = LoanBatch()
        yield unit
        unit.flush()


def _done(loan: Loan, locked: Loan, batch: LoanBatch | None) -> Loan:
    if batch is not None:
        return locked
    loan.refresh_from_db()
    return loan


def _transition(b: LoanBatch, loan: Loan, to_state: str, *, actor_label: str, reason: str = "",
                ref: str = "") -> None:
    """loan_transition on the batch's locked loan."""
    if not can_transition(loan.state, to_state):
        raise IllegalTransition(_("Loan #%(loan)s cannot go from %(from)s to %(to)s.")
                                % {"loan": loan.pk, "from": loan.state, "to": to_state})
    from_state = loan.state
    loan.state = to_state
    if to_state in {S.REPAID, S.REJECTED, S.EXPIRED, S.CANCELLED, S.DEFAULTED}:
        loan.closed_at = timezone.now()
    b.add(LoanTransition(loan=loan, from_state=from_state, to_state=to_state,
                         actor_label=actor_label, reason=reason, ref=ref))


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
    with _unit(batch) as b:
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
        _transition(b, locked, S.LISTED, actor_label="chain",
                    reason=f"opened on chain as #{chain_loan_id}", ref=ref)
    return _done(loan, locked, batch)


def loan_record_funding(*, loan: Loan, lender: TelegramUser, amount: int, ref: str,
                        at: datetime | None = None, batch: LoanBatch | None = None) -> Loan:
    """A lender funded part of the loan on chain."""
    with _unit(batch) as b:
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
            _transition(b, locked, S.FUNDED, actor_label="chain", reason="fully funded", ref=ref)
        elif locked.state == S.LISTED:
            _transition(b, locked, S.FUNDING, actor_label="chain", reason="first funding",
                        ref=ref)
    return _done(loan, locked, batch)


def loan_record_refund(*, loan: Loan, lender: TelegramUser, amount: int, ref: str,
                       at: datetime | None = None, batch: LoanBatch | None = None) -> Loan:
    """A lender took their funding back from an expired or cancelled loan."""
    with _unit(batch) as b:
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
    with _unit(batch) as b:
        locked = b.lock(loan)
        if locked.state != to_state:
            _transition(b, locked, to_state, actor_label=actor_label, reason=reason, ref=ref)
    return _done(loan, locked, batch)


def loan_record_drawdown(*, loan: Loan, ref: str, at: datetime | None = None,
                         batch: LoanBatch | None = None) -> Loan:
    """The borrower received the principal: the schedule clock starts now."""
    started = at or timezone.now()
    with _unit(batch) as b:
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
        _transition(b, locked, S.ACTIVE, actor_label="chain", reason="drawn down", ref=ref)
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
    with _unit(batch) as b:
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
            _transition(b, locked, S.REPAID, actor_label="chain", reason="repaid in full",
                        ref=ref)
        elif locked.state == S.LATE:
            _refresh_lateness(b, locked, now=paid_at, ref=ref)
    if batch is None:
        loan.refresh_from_db()
    return repayment


def loan_record_claim(*, loan: Loan, lender: TelegramUser, amount: int, ref: str,
                      at: datetime | None = None, batch: LoanBatch | None = None) -> Loan:
    """A lender pulled their share of repayments out of the LoanBook."""
    with _unit(batch) as b:
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
    with _unit(batch) as b:
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
        _transition(b, locked, S.DEFAULTED, actor_label="chain",
                    reason=f"defaulted; backstop cover {cover}", ref=ref)
    return _done(loan, locked, batch)


# --- time ---------------------------------------------------------------------------------

def _refresh_lateness(b: LoanBatch, loan: Loan, *, now: datetime, ref: str = "") -> None:
    overdue = [item for item in b.schedule(loan)
               if item.due_at < now and item.cumulative_due > loan.repaid_amount]
    if loan.state == S.ACTIVE and overdue:
        first = min(overdue, key=lambda item: item.number)
        _transition(b, loan, S.LATE, actor_label="clock",
                    reason=f"installment {first.number} past due")
    elif loan.state == S.LATE and not overdue:
        _transition(b, loan, S.ACTIVE, actor_label="chain",
                    reason="caught up with the schedule", ref=ref)


def loan_refresh_lateness(*, loan: Loan, now: datetime | None = None) -> Loan:
    """Mark a loan late when an installment is past due, or active again once caught up."""
    with _unit(None) as b:
        _refresh_lateness(b, b.lock(loan), now=now or timezone.now())
    loan.refresh_from_db()
    return loan


def loans_refresh_lateness_due(*, now: datetime | None = None, chunk: int = 500) -> int:
    """Mark every active loan with a past-due installment late (and late loans caught up
    active); returns how many loans changed. Safe to run twice or concurrently."""
    now = now or timezone.now()
    candidates = (Loan.objects.filter(state=S.ACTIVE, schedule__due_at__lt=now,
                                      schedule__cumulative_due__gt=F("repaid_amount"))
                  .values_list("pk", flat=True).distinct())
    changed = 0
    for pk in list(candidates)[:chunk]:
        loan = Loan.objects.get(pk=pk)
        before = loan.state
        loan_refresh_lateness(loan=loan, now=now)
        changed += loan.state != before
    return changed
