"""Scoring an application end to end: features from real loans, pricing, policy, the loan's
state and the borrower's notification."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from core.loans import services as loans
from core.loans.states import LoanState
from core.notifications.models import OutboxMessage
from core.scoring import tasks
from core.scoring.applications import loan_application_score
from core.scoring.features import features_for_borrower, features_for_range
from core.scoring.models import Score
from core.scoring.scorecard import load_scorecard
from core.scoring.selectors import review_queue
from core.users import services as users
from tests import factories
from tests.scoring.support import LIMITS, USD, apply, message, repaid_loan


def test_a_newcomer_gets_an_offer_and_the_offer_ready_message(alice):
    loan = apply(alice)
    score = loan_application_score(loan=loan)
    loan.refresh_from_db()
    assert loan.state == LoanState.APPROVED
    assert (loan.grade, loan.score) == (score.grade, score.score)
    assert score.decision == "approve" and score.loan_id == loan.pk
    params = message(loan, "offer_ready").params
    assert params == {"loan_id": loan.pk, "grade": loan.grade, "score": loan.score,
                      "pd_bps": score.pd_bps, "apr_bps": loan.apr_bps,
                      "principal": loan.principal, "total_due": loan.total_due,
                      "installments": 3, "interval_days": 30, "reasons": score.reasons,
                      "offer_reasons": []}
    assert "reason_no_repayment_history" in score.reasons
    assert score.features["purpose"] == "business"
    assert score.features["wallet_age_days"] is None  # never read from the chain: missing


def test_scoring_twice_changes_nothing(alice):
    loan = apply(alice)
    first = loan_application_score(loan=loan)
    again = loan_application_score(loan=loan)
    assert again.pk == first.pk
    assert Score.objects.filter(loan=loan).count() == 1
    assert OutboxMessage.objects.filter(recipient=alice).count() == 1


def test_the_celery_task_scores_by_id(alice):
    loan = apply(alice)
    tasks.score_application.apply(args=[loan.pk]).get()
    loan.refresh_from_db()
    assert loan.state == LoanState.APPROVED


def test_on_time_history_raises_and_a_default_lowers_the_score(clock, alice, bob):
    now = timezone.now()
    before, _ = features_for_borrower(borrower_id=alice.pk, now=now, kyc_limits=LIMITS)
    repaid_loan(alice, bob)
    after_repaid, _ = features_for_borrower(borrower_id=alice.pk, now=now, kyc_limits=LIMITS)
    assert after_repaid["on_time_installments"] == 3
    assert after_repaid["loans_completed"] == 1
    defaulted = factories.active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    loans.loan_record_default(loan=defaulted, cover=0, ref=f"default:{defaulted.pk}")
    later = timezone.now() + timedelta(days=200)
    after_default, facts = features_for_borrower(borrower_id=alice.pk, now=later,
                                                 kyc_limits=LIMITS)
    assert after_default["defaults"] == 1 and facts.unresolved_defaults == 1
    assert after_default["late_installments"] == 3
    assert after_default["max_days_late"] >= 100
    card = load_scorecard()
    assert card.evaluate(after_repaid).score > card.evaluate(before).score
    assert card.evaluate(after_default).score < card.evaluate(after_repaid).score


def test_late_payments_count_as_late_with_their_days(clock, alice, bob):
    repaid_loan(alice, bob, late_days=12)
    values, _ = features_for_borrower(borrower_id=alice.pk, now=timezone.now() + timedelta(
        days=100), kyc_limits=LIMITS)
    assert values["late_installments"] == 1
    assert values["on_time_installments"] == 2
    assert values["max_days_late"] == 12


def test_an_unresolved_default_refuses_with_adverse_action_reasons(alice, bob):
    defaulted = factories.active_loan(borrower=alice, lenders=[(bob, 300 * USD)])
    loans.loan_record_default(loan=defaulted, cover=0, ref=f"default:{defaulted.pk}")
    loan = apply(alice, principal=100 * USD)
    score = loan_application_score(loan=loan)
    loan.refresh_from_db()
    assert loan.state == LoanState.REJECTED
    reasons = message(loan, "application_refused").params["reasons"]
    assert reasons[0] == "refusal_unresolved_default"
    assert "reason_past_defaults" in reasons
    assert score.decision == "refuse"


def test_a_borrower_frozen_after_submitting_is_refused(alice):
    loan = apply(alice)
    users.user_freeze(user=alice, reason="fraud check")
    loan_application_score(loan=loan)
    loan.refresh_from_db()
    assert loan.state == LoanState.REJECTED
    assert "refusal_account_frozen" in message(loan, "application_refused").params["reasons"]


def test_a_term_too_long_for_the_grade_is_refused(alice):
    loan = apply(alice, installments=24)  # a newcomer is graded D: at most 6 installments
    loan_application_score(loan=loan)
    loan.refresh_from_db()
    assert loan.state == LoanState.REJECTED
    assert "refusal_term_too_long" in message(loan, "application_refused").params["reasons"]


def test_the_offer_is_capped_by_the_grade_limit(alice):
    loan = apply(alice, principal=900 * USD, installments=3)  # D allows 300
    loan_application_score(loan=loan)
    loan.refresh_from_db()
    assert loan.principal == 300 * USD
    assert message(loan, "offer_ready").params["offer_reasons"] == ["offer_amount_reduced"]


def test_its_own_application_does_not_count_as_exposure(alice):
    loan = apply(alice, principal=500 * USD)
    values, facts = features_for_borrower(borrower_id=alice.pk, now=timezone.now(),
                                          kyc_limits=LIMITS, exclude_loan_id=loan.pk)
    assert facts.exposure == 0 and values["exposure_pct"] == 0
    values, facts = features_for_range(first_id=alice.pk, last_id=alice.pk, now=timezone.now(),
                                       kyc_limits=LIMITS)[0]
    assert facts.exposure == 500 * USD and values["exposure_pct"] == 50


def test_large_amounts_go_to_review_and_admins_hear_of_it(alice, admin, settings):
    settings.SCORING_REVIEW_AMOUNT = 100 * USD
    loan = apply(alice, principal=150 * USD)
    loan_application_score(loan=loan)
    loan.refresh_from_db()
    assert loan.state == LoanState.IN_REVIEW
    params = message(loan, "application_in_review").params
    assert params["review_reasons"] == ["review_large_amount"]
    assert params["sla_hours"] == settings.REVIEW_SLA_HOURS
    assert OutboxMessage.objects.filter(recipient=admin, template_key="review_requested").exists()
    assert list(review_queue()) == [loan]
