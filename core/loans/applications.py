"""An application's way to the chain: created within the borrower's limit, submitted (scoring
is queued), offered terms from a score, approved, sent to review or rejected, withdrawn by the
borrower, expired."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.common.queueing import publish_by_name_after_commit
from core.loans import amortization
from core.loans.models import Loan, LoanPurpose
from core.loans.selectors import borrower_exposure
from core.loans.states import LoanState
from core.loans.transitions import (
    IllegalTransition,
    LoanRuleViolation,
    actor_label_of,
    loan_transition,
)
from core.users.models import TelegramUser
from core.users.selectors import kyc_tier_limit

S = LoanState
ALLOWED_INSTALLMENTS = (1, 2, 3, 4, 6, 9, 12, 18, 24)
SCORE_APPLICATION = "scoring.score_application"  # a task of scoring, above loans: by name


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
                                actor_label=actor_label_of(borrower), reason="created")
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
