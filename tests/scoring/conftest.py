from __future__ import annotations

import pytest

from core.scoring.scores import scores_cache_invalidate
from core.users import services as users
from tests import factories

REGISTRY = "0x" + "ab" * 20


@pytest.fixture(autouse=True)
def fresh_score_cache():
    """Cache entries of an earlier run name other rows with the same ids: start a new epoch."""
    scores_cache_invalidate()


@pytest.fixture
def registry(settings):
    """A ScoreRegistry address to sign for (no chain needed to sign)."""
    settings.SCORE_REGISTRY_ADDRESS = REGISTRY
    settings.CHAIN_ID = 31337
    return REGISTRY


@pytest.fixture
def admin(db):
    user, _ = users.user_get_or_create_from_telegram(telegram_id=9001, username="root")
    user.is_admin = True
    user.save(update_fields=["is_admin"])
    return user


@pytest.fixture
def dave(db):
    """A basic-tier borrower (phone and wallet only)."""
    return factories.borrower(telegram_id=1004, username="dave", tier=1)
