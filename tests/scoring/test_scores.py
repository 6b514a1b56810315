"""The latest-score cache: filled after commit, retired by epoch, the database the truth."""

from __future__ import annotations

from django.core.cache import cache

from core.scoring.applications import loan_application_score
from core.scoring.scores import scores_cache_invalidate
from core.scoring.selectors import latest_score_cache_key, score_latest_summary
from tests.scoring.support import apply


def test_the_latest_score_is_cached_and_the_database_stays_the_truth(
        alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        score = loan_application_score(loan=apply(alice))
    key = latest_score_cache_key(borrower_id=alice.pk)
    assert cache.get(key)["score_id"] == score.pk
    scores_cache_invalidate()
    assert cache.get(latest_score_cache_key(borrower_id=alice.pk)) is None
    assert score_latest_summary(borrower_id=alice.pk)["score_id"] == score.pk
