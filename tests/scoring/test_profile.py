"""What borrowers declare and what their wallets show: both reach the score."""

from __future__ import annotations

from core.scoring.applications import loan_application_score
from core.scoring.profile import borrower_profile_set
from tests.scoring.support import USD, apply


def test_declaring_income_and_employment_raises_the_score(alice, dave):
    borrower_profile_set(user=alice, income_band="3000_plus", employment="employed")
    with_profile = loan_application_score(loan=apply(alice))
    without = loan_application_score(loan=apply(dave, principal=50 * USD))
    assert with_profile.score > without.score
    assert "reason_income_not_declared" not in with_profile.reasons
