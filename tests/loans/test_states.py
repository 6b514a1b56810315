"""Every transition of the state machine, allowed and refused, through the service."""

from __future__ import annotations

import itertools

import pytest

from core.loans.models import Loan, LoanTransition
from core.loans.services import IllegalTransition, loan_transition
from core.loans.states import TERMINAL, TRANSITIONS, LoanState, can_transition

ALL_PAIRS = list(itertools.product(LoanState.values, LoanState.values))


def test_the_machine_follows_design_md():
    S = LoanState
    happy_path = [S.DRAFT, S.SUBMITTED, S.SCORED, S.IN_REVIEW, S.APPROVED, S.LISTED, S.FUNDING,
                  S.FUNDED, S.ACTIVE, S.REPAID]
    for before, after in itertools.pairwise(happy_path):
        assert can_transition(before, after), (before, after)
    assert can_transition(S.SCORED, S.APPROVED)
    assert can_transition(S.SCORED, S.REJECTED)
    assert can_transition(S.FUNDING, S.EXPIRED)
    assert can_transition(S.ACTIVE, S.LATE) and can_transition(S.LATE, S.DEFAULTED)
    assert {S.REPAID, S.REJECTED, S.EXPIRED, S.CANCELLED, S.DEFAULTED} == TERMINAL


@pytest.mark.django_db
@pytest.mark.parametrize(("from_state", "to_state"), ALL_PAIRS)
def test_each_transition_is_applied_or_refused_as_the_machine_says(alice, from_state, to_state):
    loan = Loan.objects.create(borrower=alice, principal=100, installments=1, purpose="personal",
                               state=from_state)
    if to_state in TRANSITIONS[from_state]:
        loan_transition(loan=loan, to_state=to_state, actor=alice, reason="test")
        assert loan.state == to_state
        record = LoanTransition.objects.get(loan=loan)
        assert (record.from_state, record.to_state, record.actor, record.reason) == (
            from_state, to_state, alice, "test")
        assert record.actor_label == f"user:{alice.telegram_id}"
        assert (loan.closed_at is not None) == (to_state in TERMINAL)
    else:
        with pytest.raises(IllegalTransition, match=f"cannot go from {from_state} to {to_state}"):
            loan_transition(loan=loan, to_state=to_state, actor=alice)
        loan.refresh_from_db()
        assert loan.state == from_state
        assert not LoanTransition.objects.filter(loan=loan).exists()
