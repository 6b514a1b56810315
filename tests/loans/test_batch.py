"""The loans' unit of work: many money events share one batch, and a failed event leaves no
trace in it, as a savepoint per event would."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.common.errors import ServiceError
from core.ledger.models import JournalEntry
from core.ledger.selectors import trial_balance
from core.loans import services as loans
from core.loans.batch import LoanBatch
from core.loans.models import FundingPosition, LoanTransition
from core.loans.states import LoanState
from tests.factories import USD, listed_loan

pytestmark = pytest.mark.django_db


def test_a_failed_event_is_taken_back_and_the_batch_goes_on(alice, bob, charlie):
    loan = listed_loan(borrower=alice, principal=300 * USD)
    batch = LoanBatch()
    with pytest.raises(ServiceError), batch.event():
        loans.loan_record_funding(loan=loan, lender=bob, amount=300 * USD, ref="f1",
                                  batch=batch)
        raise ServiceError("something after the funding refused the event")
    locked = batch.lock(loan)
    assert (locked.state, locked.funded_amount) == (LoanState.LISTED, 0)
    assert batch.position(locked, bob) is None
    assert not batch.ledger.has("f1")

    with batch.event():
        loans.loan_record_funding(loan=loan, lender=charlie, amount=100 * USD, ref="f2",
                                  batch=batch)
    batch.flush()

    loan.refresh_from_db()
    assert (loan.state, loan.funded_amount) == (LoanState.FUNDING, 100 * USD)
    assert list(FundingPosition.objects.values_list("lender_id", "amount")) == [
        (charlie.pk, 100 * USD)]
    assert list(JournalEntry.objects.values_list("key", flat=True)) == ["f2"]
    assert list(loan.transitions.filter(ref__in=["f1", "f2"])
                .values_list("to_state", "ref")) == [(LoanState.FUNDING, "f2")]
    assert trial_balance() == 0


def test_many_events_of_one_loan_are_written_with_a_fixed_number_of_queries(alice, bob,
                                                                            charlie):
    loan = listed_loan(borrower=alice, principal=300 * USD)
    batch = LoanBatch()
    batch.lock_many(pks=[loan.pk])
    batch.ledger.preload(f"f{i}" for i in range(30))  # as the indexer does for its logs
    with CaptureQueriesContext(connection) as queries:
        for i in range(30):
            with batch.event():
                loans.loan_record_funding(loan=loan, lender=(bob, charlie)[i % 2],
                                          amount=10 * USD, ref=f"f{i}", batch=batch)
        batch.flush()
    # positions, loan, transitions, accounts, entries, postings: not 30 times as many
    assert len(queries) <= 10
    loan.refresh_from_db()
    assert (loan.state, loan.funded_amount) == (LoanState.FUNDED, 300 * USD)
    assert JournalEntry.objects.count() == 30 and trial_balance() == 0
    assert list(LoanTransition.objects.filter(loan=loan, ref__startswith="f")
                .values_list("to_state", flat=True)) == [LoanState.FUNDING, LoanState.FUNDED]
