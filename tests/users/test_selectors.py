"""Reads about users: what onboarding still lacks."""

from __future__ import annotations

from core.users import selectors
from core.users import services as users
from core.users.models import TelegramUser


def test_a_newcomer_lacks_every_onboarding_step_in_order(db):
    person = TelegramUser.objects.create(telegram_id=3001, username="eve")
    assert selectors.onboarding_gaps(user=person) == [
        selectors.LANGUAGE, selectors.ROLE, selectors.TERMS, selectors.PHONE, selectors.WALLET]


def test_a_set_up_borrower_lacks_nothing(alice):
    assert selectors.onboarding_gaps(user=alice) == []


def test_an_older_consent_must_be_renewed(alice):
    TelegramUser.objects.filter(pk=alice.pk).update(terms_version="2020-01")
    alice.refresh_from_db()
    assert selectors.onboarding_gaps(user=alice) == [selectors.TERMS]


def test_choosing_a_role_confirms_the_language(db):
    person = TelegramUser.objects.create(telegram_id=3002, username="finn")
    person = users.user_set_roles(user=person, borrower=False, lender=True)
    assert selectors.onboarding_gaps(user=person)[0] == selectors.TERMS
