"""The loan state machine of design.md; services are the only code that moves a loan."""

from django.db import models


class LoanState(models.TextChoices):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    SCORED = "scored"
    REJECTED = "rejected"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    LISTED = "listed"
    FUNDING = "funding"
    FUNDED = "funded"
    ACTIVE = "active"
    LATE = "late"
    REPAID = "repaid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    DEFAULTED = "defaulted"


S = LoanState
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.SCORED, S.CANCELLED}),
    S.SCORED: frozenset({S.REJECTED, S.IN_REVIEW, S.APPROVED, S.CANCELLED}),
    S.IN_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED}),
    # An approved offer that is never listed on chain lapses like an unfunded listing.
    S.APPROVED: frozenset({S.LISTED, S.CANCELLED, S.EXPIRED}),
    S.LISTED: frozenset({S.FUNDING, S.FUNDED, S.CANCELLED, S.EXPIRED}),
    S.FUNDING: frozenset({S.FUNDED, S.CANCELLED, S.EXPIRED}),
    S.FUNDED: frozenset({S.ACTIVE}),
    S.ACTIVE: frozenset({S.LATE, S.REPAID, S.DEFAULTED}),
    S.LATE: frozenset({S.ACTIVE, S.REPAID, S.DEFAULTED}),
    S.REPAID: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
    S.CANCELLED: frozenset(),
    S.DEFAULTED: frozenset(),
}

TERMINAL = frozenset(state for state, targets in TRANSITIONS.items() if not targets)
# Loans whose borrower still owes money: they count against borrowing limits.
OUTSTANDING = frozenset({S.FUNDED, S.ACTIVE, S.LATE, S.DEFAULTED})
# Applications in flight: they also count, so limits cannot be raced with parallel requests.
IN_FLIGHT = frozenset({S.DRAFT, S.SUBMITTED, S.SCORED, S.IN_REVIEW, S.APPROVED, S.LISTED,
                       S.FUNDING})
OPEN_FOR_FUNDING = frozenset({S.LISTED, S.FUNDING})
# What a borrower can do with their loan in each state (the bot's buttons and core's actions).
REPAYABLE = frozenset({S.ACTIVE, S.LATE, S.DEFAULTED})
# Cancelled off chain (a state change) before listing; once listed and unfunded, on chain.
CANCELLABLE_OFF_CHAIN = frozenset({S.SUBMITTED, S.SCORED, S.IN_REVIEW, S.APPROVED})


def can_transition(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())
