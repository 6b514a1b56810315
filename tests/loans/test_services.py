"""Loan services: applications, offers, and the chain's money events with their ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.ledger.models import AccountKind
from core.ledger.selectors import kind_balance, loan_balances, trial_balance, user_balances
from core.loans import amortization
from core.loans import services as loans
from core.loans.models import FundingPosition, Installment, LoanTransition, Repayment
from core.loans.selectors import borrower_exposure, lender_claimable, loan_next_installment
from core.loans.states import LoanState
from core.users import services as users
from core.users.models import KycTier
from tests.factories import USD, active_loan, approved_loan, listed_loan

pytestmark = pytest.mark.django_db
S = LoanState


def split(loan, amount, fee_bps=1000, premium_bps=500):
    loan.refresh_from_db()
    return amortization.repayment_split(repaid_before=loan.repaid_amount, amount=amount,
                                        principal=loan.principal, total_due=loan.total_due,
                                        fee_bps=fee_bps, premium_bps=premium_bps)


def repay(loan, amount, ref, at=None):
    parts = split(loan, amount)
    return loans.loan_record_repayment(loan=loan, amount=amount, fee=parts.fee,
                                       premium=parts.premium, ref=ref, at=at)


# --- applications -------------------------------------------------------------------------

def test_it_creates_a_draft_with_its_first_history_row(alice):
    loan = loans.loan_request_create(borrower=alice, principal=200 * USD, installments=6,
                                     purpose="education")
    assert loan.state == S.DRAFT
    assert loan.interval_days == 30
    assert LoanTransition.objects.filter(loan=loan, reason="created").count() == 1


@pytest.mark.parametrize(("change", "code"), [
    ({"principal": 0}, "bad_amount"),
    ({"principal": -1}, "bad_amount"),
    ({"installments": 5}, "bad_term"),
    ({"purpose": "yacht"}, "bad_purpose"),
    ({"principal": 1_000 * USD + 1}, "above_limit"),
])
def test_it_refuses_bad_applications(alice, change, code):
    request = {"principal": 100 * USD, "installments": 3, "purpose": "business", **change}
    with pytest.raises(loans.LoanRuleViolation) as refused:
        loans.loan_request_create(borrower=alice, **request)
    assert refused.value.code == code


def test_it_refuses_frozen_unconsented_and_non_borrowers(alice, bob):
    users.user_freeze(user=alice, reason="chargeback investigation")
    with pytest.raises(loans.LoanRuleViolation, match="frozen"):
        loans.loan_request_create(borrower=alice, principal=USD, installments=1,
                                  purpose="business")
    with pytest.raises(loans.LoanRuleViolation) as refused:
        loans.loan_request_create(borrower=bob, principal=USD, installments=1,
                                  purpose="business")
    assert refused.value.code == "not_borrower"


def test_the_kyc_limit_counts_applications_in_flight(alice):
    loans.loan_request_create(borrower=alice, principal=600 * USD, installments=3,
                              purpose="business")
    assert borrower_exposure(borrower=alice) == 600 * USD
    with pytest.raises(loans.LoanRuleViolation) as refused:
        loans.loan_request_create(borrower=alice, principal=401 * USD, installments=3,
                                  purpose="business")
    assert refused.value.code == "above_limit"
    loans.loan_request_create(borrower=alice, principal=400 * USD, installments=3,
                              purpose="business")


def test_an_unverified_borrower_cannot_borrow(alice):
    users.user_set_kyc_tier(user=alice, tier=KycTier.NONE)
    with pytest.raises(loans.LoanRuleViolation, match="verification level"):
        loans.loan_request_create(borrower=alice, principal=USD, installments=1,
                                  purpose="business")


def test_only_the_borrower_submits_or_cancels(alice, bob):
    loan = loans.loan_request_create(borrower=alice, principal=USD, installments=1,
                                     purpose="business")
    with pytest.raises(loans.LoanRuleViolation, match="not your loan"):
        loans.loan_submit(loan=loan, actor=bob)
    with pytest.raises(loans.LoanRuleViolation, match="not your loan"):
        loans.loan_cancel(loan=loan, actor=bob)
    loans.loan_cancel(loan=loan, actor=alice)
    assert loan.state == S.CANCELLED


def test_an_offer_fixes_the_terms_with_the_annuity(alice):
    loan = loans.loan_request_create(borrower=alice, principal=1_000 * USD, installments=12,
                                     purpose="business")
    loans.loan_submit(loan=loan, actor=alice)
    loans.loan_record_offer(loan=loan, grade="B", score=702, apr_bps=2400,
                            reasons=["on_time_history"])
    assert loan.state == S.SCORED
    assert loan.total_due == 1_132_806_775
    assert (loan.grade, loan.score, loan.offer_reasons) == ("B", 702, ["on_time_history"])


def test_an_offer_may_lower_the_principal_to_the_grade_maximum(alice):
    loan = loans.loan_request_create(borrower=alice, principal=900 * USD, installments=3,
                                     purpose="business")
    loans.loan_submit(loan=loan, actor=alice)
    loans.loan_record_offer(loan=loan, grade="D", score=560, apr_bps=3600, reasons=[],
                            max_principal=250 * USD)
    assert loan.principal == 250 * USD


def test_an_offer_needs_a_submitted_application(alice):
    loan = loans.loan_request_create(borrower=alice, principal=USD, installments=1,
                                     purpose="business")
    with pytest.raises(loans.IllegalTransition, match="only a submitted"):
        loans.loan_record_offer(loan=loan, grade="A", score=800, apr_bps=900, reasons=[])


def test_review_then_reject_needs_a_reason(alice):
    loan = loans.loan_request_create(borrower=alice, principal=USD, installments=1,
                                     purpose="business")
    loans.loan_submit(loan=loan, actor=alice)
    loans.loan_record_offer(loan=loan, grade="C", score=640, apr_bps=2000, reasons=[])
    loans.loan_send_to_review(loan=loan, reason="amount above auto-approval threshold")
    with pytest.raises(loans.LoanRuleViolation, match="reason"):
        loans.loan_reject(loan=loan, reason="  ")
    loans.loan_reject(loan=loan, reason="income not verifiable", actor_label="admin:ops")
    last = loan.transitions.last()
    assert (last.to_state, last.actor_label, last.reason) == (
        S.REJECTED, "admin:ops", "income not verifiable")


# --- funding ------------------------------------------------------------------------------

def test_funding_moves_listed_to_funding_to_funded(alice, bob, charlie):
    loan = listed_loan(borrower=alice, principal=300 * USD)
    loans.loan_record_funding(loan=loan, lender=bob, amount=100 * USD, ref="f1")
    assert loan.state == S.FUNDING
    loans.loan_record_funding(loan=loan, lender=bob, amount=50 * USD, ref="f2")
    loans.loan_record_funding(loan=loan, lender=charlie, amount=150 * USD, ref="f3")
    assert loan.state == S.FUNDED
    assert FundingPosition.objects.get(loan=loan, lender=bob).amount == 150 * USD
    assert kind_balance(kind=AccountKind.LOAN_ESCROW, loan=loan) == 300 * USD
    assert user_balances(user=bob) == {f"wallet:user{bob.pk}": -150 * USD}


def test_the_same_funding_event_applies_once(alice, bob):
    loan = listed_loan(borrower=alice, principal=300 * USD)
    for _ in range(3):
        loans.loan_record_funding(loan=loan, lender=bob, amount=100 * USD, ref="chain:tx1:0")
    assert loan.funded_amount == 100 * USD
    assert kind_balance(kind=AccountKind.LOAN_ESCROW, loan=loan) == 100 * USD


@pytest.mark.parametrize("amount", [0, -1, 300 * USD + 1])
def test_funding_outside_what_is_left_is_refused(alice, bob, amount):
    loan = listed_loan(borrower=alice, principal=300 * USD)
    with pytest.raises(loans.LoanRuleViolation, match="left to fund"):
        loans.loan_record_funding(loan=loan, lender=bob, amount=amount, ref="f")
    assert loan.funded_amount == 0 and trial_balance() == 0


def test_a_borrower_cannot_fund_their_own_loan(alice):
    loan = listed_loan(borrower=alice)
    with pytest.raises(loans.LoanRuleViolation, match="own loan"):
        loans.loan_record_funding(loan=loan, lender=alice, amount=USD, ref="f")


def test_funding_is_refused_unless_the_loan_is_listed(alice, bob):
    loan = approved_loan(borrower=alice)
    with pytest.raises(loans.LoanRuleViolation, match="not open for funding"):
        loans.loan_record_funding(loan=loan, lender=bob, amount=USD, ref="f")


def test_listing_twice_with_the_same_chain_id_is_harmless(clock, alice):
    loan = approved_loan(borrower=alice)
    deadline = timezone.now() + timedelta(days=7)
    loans.loan_record_listing(loan=loan, chain_loan_id=77, funding_deadline=deadline)
    loans.loan_record_listing(loan=loan, chain_loan_id=77, funding_deadline=deadline)
    assert loan.state == S.LISTED and loan.transitions.filter(to_state=S.LISTED).count() == 1
    with pytest.raises(loans.LoanRuleViolation, match="already listed"):
        loans.loan_record_listing(loan=loan, chain_loan_id=78, funding_deadline=deadline)


def test_an_expired_loan_refunds_its_lenders(alice, bob):
    loan = listed_loan(borrower=alice, principal=300 * USD)
    loans.loan_record_funding(loan=loan, lender=bob, amount=120 * USD, ref="f1")
    with pytest.raises(loans.LoanRuleViolation, match="refunds need"):
        loans.loan_record_refund(loan=loan, lender=bob, amount=120 * USD, ref="r1")
    loans.loan_expire(loan=loan)
    with pytest.raises(loans.LoanRuleViolation, match="position"):
        loans.loan_record_refund(loan=loan, lender=bob, amount=121 * USD, ref="r1")
    loans.loan_record_refund(loan=loan, lender=bob, amount=120 * USD, ref="r1")
    loans.loan_record_refund(loan=loan, lender=bob, amount=120 * USD, ref="r1")
    assert kind_balance(kind=AccountKind.LOAN_ESCROW, loan=loan) == 0
    assert user_balances(user=bob) == {f"wallet:user{bob.pk}": 0}


def test_a_fully_funded_loan_cannot_be_cancelled(alice, bob):
    loan = listed_loan(borrower=alice, principal=100 * USD)
    loans.loan_record_funding(loan=loan, lender=bob, amount=100 * USD, ref="f1")
    with pytest.raises(loans.IllegalTransition, match="no longer be cancelled"):
        loans.loan_cancel(loan=loan, actor=alice)


# --- drawdown, repayment, claims ----------------------------------------------------------

def test_drawdown_starts_the_schedule(clock, alice, bob):
    loan = listed_loan(borrower=alice, principal=300 * USD, installments=3)
    with pytest.raises(loans.IllegalTransition, match="only a funded loan"):
        loans.loan_record_drawdown(loan=loan, ref="d")
    loans.loan_record_funding(loan=loan, lender=bob, amount=300 * USD, ref="f1")
    start = timezone.now()
    loans.loan_record_drawdown(loan=loan, ref="d", at=start)
    loans.loan_record_drawdown(loan=loan, ref="d", at=start)
    schedule = list(Installment.objects.filter(loan=loan))
    assert [item.number for item in schedule] == [1, 2, 3]
    assert schedule[0].due_at == start + timedelta(days=30)
    assert schedule[-1].cumulative_due == loan.total_due
    assert loan.state == S.ACTIVE
    assert user_balances(user=alice) == {f"wallet:user{alice.pk}": 300 * USD}


def test_the_full_money_path_leaves_the_books_balanced(alice, bob, charlie):
    loan = active_loan(borrower=alice, lenders=[(bob, 100 * USD), (charlie, 200 * USD)],
                       principal=300 * USD, installments=3)
    for item in Installment.objects.filter(loan=loan):
        repay(loan, item.amount, ref=f"repay:{item.number}")
    assert loan.state == S.REPAID and loan.repaid_amount == loan.total_due
    assert Installment.objects.filter(loan=loan, paid_at__isnull=True).count() == 0

    repayments = Repayment.objects.filter(loan=loan)
    assert sum(r.interest for r in repayments) == loan.total_due - loan.principal
    assert sum(r.principal for r in repayments) == loan.principal
    for position in FundingPosition.objects.filter(loan=loan):
        claimable = lender_claimable(position=position)
        loans.loan_record_claim(loan=loan, lender=position.lender, amount=claimable,
                                ref=f"claim:{position.pk}")
    fees = sum(r.fee for r in repayments)
    premiums = sum(r.premium for r in repayments)
    balances = loan_balances(loan=loan)
    dust = balances.get(f"loan_undistributed:loan{loan.pk}", 0)
    assert 0 <= dust < 2  # cumulative floor rule: under one base unit per lender
    assert kind_balance(kind=AccountKind.TREASURY) == fees
    assert kind_balance(kind=AccountKind.BACKSTOP_POOL) == premiums
    assert kind_balance(kind=AccountKind.LENDER_CLAIMABLE, loan=loan) == 0
    lenders_net = (kind_balance(kind=AccountKind.WALLET, user=bob)
                   + kind_balance(kind=AccountKind.WALLET, user=charlie))
    assert lenders_net == loan.total_due - fees - premiums - dust - loan.principal
    assert trial_balance() == 0


def test_claims_above_the_entitlement_are_refused(alice, bob, charlie):
    loan = active_loan(borrower=alice, lenders=[(bob, 100 * USD), (charlie, 200 * USD)])
    repay(loan, 30 * USD, ref="r1")
    position = FundingPosition.objects.get(loan=loan, lender=bob)
    claimable = lender_claimable(position=position)
    assert claimable > 0
    with pytest.raises(loans.LoanRuleViolation, match="claimable"):
        loans.loan_record_claim(loan=loan, lender=bob, amount=claimable + 1, ref="c1")
    with pytest.raises(loans.LoanRuleViolation, match="Only a lender"):
        loans.loan_record_claim(loan=loan, lender=alice, amount=1, ref="c2")
    loans.loan_record_claim(loan=loan, lender=bob, amount=claimable, ref="c3")
    loans.loan_record_claim(loan=loan, lender=bob, amount=claimable, ref="c3")
    position.refresh_from_db()
    assert position.claimed == claimable


def test_overpayment_and_bad_splits_are_refused_without_side_effects(alice, bob):
    loan = active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    with pytest.raises(loans.LoanRuleViolation) as refused:
        loans.loan_record_repayment(loan=loan, amount=loan.total_due + 1, fee=0, premium=0,
                                    ref="r1")
    assert refused.value.code == "overpayment"
    with pytest.raises(loans.LoanRuleViolation, match="add up"):
        loans.loan_record_repayment(loan=loan, amount=10, fee=8, premium=8, ref="r2")
    assert loan.repaid_amount == 0 and not Repayment.objects.exists() and trial_balance() == 0


def test_the_same_repayment_event_applies_once(alice, bob):
    loan = active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    first = repay(loan, 50 * USD, ref="chain:0xabc:1")
    again = repay(loan, 50 * USD, ref="chain:0xabc:1")
    assert first.pk == again.pk and loan.repaid_amount == 50 * USD


def test_a_late_loan_becomes_active_again_when_caught_up(clock, alice, bob):
    loan = active_loan(borrower=alice, lenders=[(bob, 300 * USD)], installments=3)
    first = loan_next_installment(loan=loan)
    loans.loan_refresh_lateness(loan=loan, now=first.due_at - timedelta(minutes=1))
    assert loan.state == S.ACTIVE
    loans.loan_refresh_lateness(loan=loan, now=first.due_at + timedelta(days=1))
    assert loan.state == S.LATE
    repay(loan, first.amount - 1, ref="r1", at=first.due_at + timedelta(days=1))
    assert loan.state == S.LATE
    repay(loan, 1, ref="r2", at=first.due_at + timedelta(days=2))
    assert loan.state == S.ACTIVE
    assert loan_next_installment(loan=loan).number == 2


def test_a_default_distributes_the_cover_and_later_recoveries_refill_the_pool(alice, bob,
                                                                             charlie):
    loan = active_loan(borrower=alice, lenders=[(bob, 100 * USD), (charlie, 200 * USD)])
    with pytest.raises(loans.LoanRuleViolation, match="negative"):
        loans.loan_record_default(loan=loan, cover=-1, ref="d0")
    loans.loan_record_default(loan=loan, cover=150 * USD, ref="default")
    loans.loan_record_default(loan=loan, cover=150 * USD, ref="default")
    assert loan.state == S.DEFAULTED and loan.covered_amount == 150 * USD
    assert kind_balance(kind=AccountKind.BACKSTOP_POOL) == -150 * USD
    assert kind_balance(kind=AccountKind.LENDER_CLAIMABLE, user=bob) == 50 * USD
    assert kind_balance(kind=AccountKind.LENDER_CLAIMABLE, user=charlie) == 100 * USD
    loans.loan_record_repayment(loan=loan, amount=40 * USD, fee=0, premium=0,
                                to_pool=40 * USD, ref="recovery1")
    assert kind_balance(kind=AccountKind.BACKSTOP_POOL) == -110 * USD
    assert loan.state == S.DEFAULTED
    with pytest.raises(loans.IllegalTransition, match="cannot default"):
        loans.loan_record_default(loan=loan, cover=0, ref="default2")
    assert trial_balance() == 0


def test_repayments_are_refused_before_drawdown(alice, bob):
    loan = listed_loan(borrower=alice, principal=100 * USD)
    loans.loan_record_funding(loan=loan, lender=bob, amount=100 * USD, ref="f1")
    with pytest.raises(loans.LoanRuleViolation, match="takes no repayment"):
        loans.loan_record_repayment(loan=loan, amount=USD, fee=0, premium=0, ref="r")


def test_the_lateness_job_marks_only_overdue_loans_and_is_idempotent(clock, alice, bob, charlie):
    overdue = active_loan(borrower=alice, lenders=[(bob, 100 * USD)], principal=100 * USD)
    on_time = active_loan(borrower=alice, lenders=[(charlie, 100 * USD)], principal=100 * USD)
    repay(on_time, loan_next_installment(loan=on_time).amount, ref="paid-first")
    later = loan_next_installment(loan=overdue).due_at + timedelta(hours=1)
    assert loans.loans_refresh_lateness_due(now=later) == 1
    assert loans.loans_refresh_lateness_due(now=later) == 0
    overdue.refresh_from_db()
    on_time.refresh_from_db()
    assert (overdue.state, on_time.state) == (S.LATE, S.ACTIVE)


def test_submitting_an_application_queues_its_scoring_after_the_commit(
        alice, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr("core.common.queueing.publish",
                        lambda task, *args: queued.append((task.name, args)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        loan = loans.loan_application_submit(borrower=alice, principal=100 * USD,
                                             installments=3, purpose="business")
    assert loan.state == LoanState.SUBMITTED and queued == []
    for callback in callbacks:
        callback()
    assert queued == [("scoring.score_application", (loan.pk,))]
