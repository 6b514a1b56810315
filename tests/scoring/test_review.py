"""The admin review queue: approve, reject, and the SLA alert."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.loans.states import LoanState
from core.notifications.models import OutboxMessage
from core.scoring.applications import loan_application_score
from core.scoring.errors import ScoringError
from core.scoring.review import review_approve, review_reject, review_sla_alert
from tests.scoring.support import USD, apply, message


def test_an_admin_approves_a_review_and_the_borrower_gets_the_offer(alice, admin, settings):
    settings.SCORING_REVIEW_AMOUNT = 100 * USD
    loan = apply(alice, principal=150 * USD)
    loan_application_score(loan=loan)
    with pytest.raises(ScoringError):
        review_approve(loan=loan, reviewer=alice)
    review_approve(loan=loan, reviewer=admin)
    loan.refresh_from_db()
    assert loan.state == LoanState.APPROVED
    assert message(loan, "offer_ready").params["offer_reasons"] == ["reviewed"]


def test_an_admin_rejects_a_review_with_reasons_for_the_borrower(alice, admin, settings):
    settings.SCORING_REVIEW_AMOUNT = 100 * USD
    loan = apply(alice, principal=150 * USD)
    loan_application_score(loan=loan)
    review_reject(loan=loan, reviewer=admin, reason="income not plausible")
    loan.refresh_from_db()
    assert loan.state == LoanState.REJECTED
    assert message(loan, "application_refused").params["reasons"][0] == "refusal_by_reviewer"


def test_review_items_older_than_the_sla_alert_admins_once(clock, alice, admin, settings):
    settings.SCORING_REVIEW_AMOUNT = 100 * USD
    loan = apply(alice, principal=150 * USD)
    loan_application_score(loan=loan)
    assert review_sla_alert() == 0
    clock.shift(timedelta(hours=settings.REVIEW_SLA_HOURS))
    assert review_sla_alert() == 0  # at the limit, not past it
    clock.shift(timedelta(hours=1))
    assert review_sla_alert() == 1
    review_sla_alert()
    alerts = OutboxMessage.objects.filter(template_key="review_sla_breached", recipient=admin)
    assert alerts.count() == 1
    assert alerts.get().params["waiting_hours"] == settings.REVIEW_SLA_HOURS + 1
