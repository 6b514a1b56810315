"""The loans app's services, in one place for callers outside it; each concern has its module:

- transitions.py: the state machine's checked, recorded moves and the loan errors;
- applications.py: an application from draft to approved, rejected, withdrawn or expired;
- money_events.py: the chain's money events (listing, funding, refund, closure, drawdown,
  repayment, claim, default) with their ledger entries;
- lateness.py: late and caught-up loans as time passes.
"""

from core.loans.applications import (
    ALLOWED_INSTALLMENTS,
    SCORE_APPLICATION,
    loan_application_submit,
    loan_approve,
    loan_cancel,
    loan_expire,
    loan_record_offer,
    loan_reject,
    loan_request_create,
    loan_send_to_review,
    loan_submit,
)
from core.loans.lateness import loan_refresh_lateness, loans_refresh_lateness_due
from core.loans.money_events import (
    loan_record_claim,
    loan_record_closure,
    loan_record_default,
    loan_record_drawdown,
    loan_record_funding,
    loan_record_listing,
    loan_record_refund,
    loan_record_repayment,
)
from core.loans.transitions import IllegalTransition, LoanRuleViolation, loan_transition

__all__ = [
    "ALLOWED_INSTALLMENTS", "SCORE_APPLICATION", "IllegalTransition", "LoanRuleViolation",
    "loan_application_submit", "loan_approve", "loan_cancel", "loan_expire",
    "loan_record_claim", "loan_record_closure", "loan_record_default", "loan_record_drawdown",
    "loan_record_funding", "loan_record_listing", "loan_record_offer", "loan_record_refund",
    "loan_record_repayment", "loan_refresh_lateness", "loan_reject", "loan_request_create",
    "loan_send_to_review", "loan_submit", "loan_transition", "loans_refresh_lateness_due",
]
