"""Scoring an application end to end: features from real loans, pricing, policy, the loan's
state, the borrower's notification, the review queue and the latest-score cache."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from core.loans import services as loans
from core.loans.models import LoanTransition
from core.loans.states import LoanState
from core.notifications.models import OutboxMessage
from core.scoring import services, tasks
from core.scoring.features import features_for_borrower, features_for_range
from core.scoring.models import PostingStatus, Score
from core.scoring.selectors import latest_score_cache_key, review_queue, score_latest_summary
from core.users import services as users
from tests import factories

USD = factories.USD
LIMITS = {0: 0, 1: 100 * USD, 2: 1_000 * USD, 3: 10_000 * USD}


def apply(borrower, *, principal=200 * USD, installments=3, purpose="business"):
    loan = loans.loan_request_create(borrower=borrower, principal=principal,
                                     installments=installments, purpose=purpose)
    return loans.loan_submit(loan=loan, actor=borrower)


def repaid_loan(borrower, lender, *, late_days=0):
    """A 3-installment loan repaid in one payment, `late_days` after its first due date."""
    loan = factories.active_loan(borrower=borrower, lenders=[(lender, 300 * USD)])
    first_due = loan.schedule.order_by("number").first().due_at
    at = first_due + timedelta(days=late_days) if late_days else loan.drawn_down_at
    loans.loan_record_repayment(loan=loan, amount=loan.total_due, fee=0, premium=0,
                                ref=f"repay:{loan.pk}", at=at)
    return loan


def message(loan, template):
    return OutboxMessage.objects.get(dedupe_key=f"scoring:{template}:{loan.pk}")


def test_a_newcomer_gets_an_offer_and_the_offer_ready_message(alice):
    loan = apply(alice)
    score = services.loan_application_score(loan=loan)
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
    first = services.loan_application_score(loan=loan)
    again = services.loan_application_score(loan=loan)
    assert again.pk == first.pk
    assert Score.objects.filter(loan=loan).count() == 1
    assert OutboxMessage.objects.filter(recipient=alice).count() == 1


def test_the_celery_task_scores_by_id(alice):
    loan = apply(alice)
    tasks.score_application.apply(args=[loan.pk]).get()
    loan.refresh_from_db()
    assert loan.state == LoanState.APPROVED


def test_declaring_income_and_employment_raises_the_score(alice, dave):
    services.borrower_profile_set(user=alice, income_band="3000_plus", employment="employed")
    with_profile = services.loan_application_score(loan=apply(alice))
    without = services.loan_application_score(loan=apply(dave, principal=50 * USD))
    assert with_profile.score > without.score
    assert "reason_income_not_declared" not in with_profile.reasons


def test_on_time_history_raises_and_a_default_lowers_the_score(alice, bob):
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
    card = services.load_scorecard()
    assert card.evaluate(after_repaid).score > card.evaluate(before).score
    assert card.evaluate(after_default).score < card.evaluate(after_repaid).score


def test_late_payments_count_as_late_with_their_days(alice, bob):
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
    score = services.loan_application_score(loan=loan)
    loan.refresh_from_db()
    assert loan.state == LoanState.REJECTED
    reasons = message(loan, "application_refused").params["reasons"]
    assert reasons[0] == "refusal_unresolved_default"
    assert "reason_past_defaults" in reasons
    assert score.decision == "refuse"


def test_a_borrower_frozen_after_submitting_is_refused(alice):
    loan = apply(alice)
    users.user_freeze(user=alice, reason="fraud check")
    services.loan_application_score(loan=loan)
    loan.refresh_from_db()
    assert loan.state == LoanState.REJECTED
    assert "refusal_account_frozen" in message(loan, "application_refused").params["reasons"]


def test_a_term_too_long_for_the_grade_is_refused(alice):
    loan = apply(alice, installments=24)  # a newcomer is graded D: at most 6 installments
    services.loan_application_score(loan=loan)
    loan.refresh_from_db()
    assert loan.state == LoanState.REJECTED
    assert "refusal_term_too_long" in message(loan, "application_refused").params["reasons"]


def test_the_offer_is_capped_by_the_grade_limit(alice):
    loan = apply(alice, principal=900 * USD, installments=3)  # D allows 300
    services.loan_application_score(loan=loan)
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
    services.loan_application_score(loan=loan)
    loan.refresh_from_db()
    assert loan.state == LoanState.IN_REVIEW
    params = message(loan, "application_in_review").params
    assert params["review_reasons"] == ["review_large_amount"]
    assert params["sla_hours"] == settings.REVIEW_SLA_HOURS
    assert OutboxMessage.objects.filter(recipient=admin, template_key="review_requested").exists()
    assert list(review_queue()) == [loan]


def test_an_admin_approves_a_review_and_the_borrower_gets_the_offer(alice, admin, settings):
    settings.SCORING_REVIEW_AMOUNT = 100 * USD
    loan = apply(alice, principal=150 * USD)
    services.loan_application_score(loan=loan)
    with pytest.raises(services.ScoringError):
        services.review_approve(loan=loan, reviewer=alice)
    services.review_approve(loan=loan, reviewer=admin)
    loan.refresh_from_db()
    assert loan.state == LoanState.APPROVED
    assert message(loan, "offer_ready").params["offer_reasons"] == ["reviewed"]


def test_an_admin_rejects_a_review_with_reasons_for_the_borrower(alice, admin, settings):
    settings.SCORING_REVIEW_AMOUNT = 100 * USD
    loan = apply(alice, principal=150 * USD)
    services.loan_application_score(loan=loan)
    services.review_reject(loan=loan, reviewer=admin, reason="income not plausible")
    loan.refresh_from_db()
    assert loan.state == LoanState.REJECTED
    assert message(loan, "application_refused").params["reasons"][0] == "refusal_by_reviewer"


def test_review_items_older_than_the_sla_alert_admins_once(alice, admin, settings):
    settings.SCORING_REVIEW_AMOUNT = 100 * USD
    loan = apply(alice, principal=150 * USD)
    services.loan_application_score(loan=loan)
    assert services.review_sla_alert() == 0
    LoanTransition.objects.filter(loan=loan, to_state=LoanState.IN_REVIEW).update(
        created_at=timezone.now() - timedelta(hours=settings.REVIEW_SLA_HOURS + 1))
    assert services.review_sla_alert() == 1
    services.review_sla_alert()
    alerts = OutboxMessage.objects.filter(template_key="review_sla_breached", recipient=admin)
    assert alerts.count() == 1
    assert alerts.get().params["waiting_hours"] == settings.REVIEW_SLA_HOURS + 1


def test_the_latest_score_is_cached_and_the_database_stays_the_truth(
        alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        score = services.loan_application_score(loan=apply(alice))
    key = latest_score_cache_key(borrower_id=alice.pk)
    assert cache.get(key)["score_id"] == score.pk
    services.scores_cache_invalidate()
    assert cache.get(latest_score_cache_key(borrower_id=alice.pk)) is None
    assert score_latest_summary(borrower_id=alice.pk)["score_id"] == score.pk


def test_the_nightly_batch_scores_everyone_once_and_agrees_with_the_single_path(alice, dave, bob):
    repaid_loan(alice, bob)
    now = timezone.now()
    assert services.scores_rescore_all(batch_key="nightly-test", chunk=1, now=now) == 2
    assert services.scores_rescore_all(batch_key="nightly-test", chunk=1, now=now) == 0
    batch = Score.objects.get(borrower=alice, batch_key="nightly-test")
    single, _ = features_for_borrower(borrower_id=alice.pk, now=now, kyc_limits=LIMITS)
    assert batch.features == single
    assert batch.score == services.load_scorecard().evaluate(single).score
    assert batch.posting_status == PostingStatus.UNSIGNED
    assert score_latest_summary(borrower_id=alice.pk)["score_id"] == batch.pk
    assert not Score.objects.filter(borrower=bob).exists()  # lenders are not scored


def test_scores_are_signed_and_verify_with_the_command(alice, registry, capsys):
    services.scores_rescore_all(batch_key="nightly-sign", chunk=10)
    application = services.loan_application_score(loan=apply(alice))
    assert application.posting_status == PostingStatus.PENDING  # signed inline
    assert services.scores_sign_pending(limit=10) == 1  # the batch score
    for score in Score.objects.filter(borrower=alice):
        assert score.signature and score.posting_status == PostingStatus.PENDING
        call_command("verify_score", str(score.pk))
        assert '"ok": true' in capsys.readouterr().out


def test_a_tampered_score_fails_verification(alice, registry):
    score = services.loan_application_score(loan=apply(alice))
    Score.objects.filter(pk=score.pk).update(score=score.score + 1)
    with pytest.raises(SystemExit):
        call_command("verify_score", str(score.pk))
    score.refresh_from_db()
    assert services.verify_score(score=score)["ok"] is False


def test_posting_is_off_by_default(alice, registry):
    services.loan_application_score(loan=apply(alice))
    assert services.scores_post_pending() == {"posted": 0, "skipped": "SCORE_POSTING is off"}
