"""User services: profile from Telegram, roles, consent, phone, wallet, KYC and freezing."""

from __future__ import annotations

import pytest
from django.db import connection

from core.common.errors import ServiceError
from core.users import services
from core.users.models import KycTier, TelegramUser
from core.users.selectors import kyc_tier_limit, user_search

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("code", "language"), [
    ("es", "es"), ("es-419", "es"), ("pt-BR", "pt-br"), ("pt", "pt-br"), ("ru", "ru"),
    ("fa", "fa"), ("hi", "hi"), ("de", "en"), (None, "en"), ("", "en"),
])
def test_telegram_language_codes_map_to_supported_languages(code, language):
    assert services.language_from_telegram(code) == language


def test_a_user_is_created_once_and_refreshed_from_telegram():
    user, created = services.user_get_or_create_from_telegram(
        telegram_id=42, username="dana", language_code="ru")
    assert created and user.language == "ru"
    user, created = services.user_get_or_create_from_telegram(
        telegram_id=42, username="dana_new", language_code="es")
    assert not created and user.username == "dana_new"
    assert user.language == "ru", "a chosen language is not overwritten by Telegram's"


def test_admins_come_from_the_configured_ids(settings):
    settings.ADMIN_TELEGRAM_IDS = [7]
    admin, _ = services.user_get_or_create_from_telegram(telegram_id=7)
    user, _ = services.user_get_or_create_from_telegram(telegram_id=8)
    assert admin.is_admin and not user.is_admin


def test_an_id_taken_off_the_admin_list_loses_admin_rights_at_its_next_update(settings):
    settings.ADMIN_TELEGRAM_IDS = [7]
    admin, _ = services.user_get_or_create_from_telegram(telegram_id=7)
    settings.ADMIN_TELEGRAM_IDS = []
    services.user_refresh_from_telegram(user=admin, username="former")
    admin.refresh_from_db()
    assert not admin.is_admin
    settings.ADMIN_TELEGRAM_IDS = [7]
    services.user_refresh_from_telegram(user=admin, username="former")
    admin.refresh_from_db()
    assert admin.is_admin


def test_the_phone_is_encrypted_at_rest():
    user, _ = services.user_get_or_create_from_telegram(telegram_id=50)
    services.user_set_phone(user=user, phone="+44 7700 900123", contact_user_id=50)
    user.refresh_from_db()
    assert user.phone == "+447700900123"
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM users_telegramuser WHERE id = %s", [user.pk])
        stored = cursor.fetchone()[0]
    assert "7700900123" not in stored and stored.startswith("gAAAA")


def test_only_the_users_own_contact_is_accepted():
    user, _ = services.user_get_or_create_from_telegram(telegram_id=51)
    with pytest.raises(ServiceError) as refused:
        services.user_set_phone(user=user, phone="+15550001", contact_user_id=99)
    assert refused.value.code == "not_own_contact"
    with pytest.raises(ServiceError) as refused:
        services.user_set_phone(user=user, phone="call me", contact_user_id=51)
    assert refused.value.code == "bad_phone"


def test_roles_need_at_least_one_choice():
    user, _ = services.user_get_or_create_from_telegram(telegram_id=52)
    with pytest.raises(ServiceError, match="at least one"):
        services.user_set_roles(user=user, borrower=False, lender=False)
    services.user_set_roles(user=user, borrower=True, lender=True)
    assert user.roles == ["borrower", "lender"]


def test_phone_and_wallet_earn_the_basic_tier(alice):
    user, _ = services.user_get_or_create_from_telegram(telegram_id=53)
    services.user_set_phone(user=user, phone="+15550053", contact_user_id=53)
    assert user.kyc_tier == KycTier.NONE
    services.user_link_wallet(user=user, address="0x" + "ab" * 20)
    assert user.kyc_tier == KycTier.BASIC
    assert kyc_tier_limit(tier=KycTier.BASIC) == 100_000_000
    assert kyc_tier_limit(tier=KycTier.NONE) == 0


def test_a_wallet_links_to_one_account_only(alice):
    user, _ = services.user_get_or_create_from_telegram(telegram_id=54)
    with pytest.raises(ServiceError) as refused:
        services.user_link_wallet(user=user, address=alice.wallet_address.upper().replace(
            "0X", "0x"))
    assert refused.value.code == "wallet_taken"
    with pytest.raises(ServiceError) as refused:
        services.user_link_wallet(user=user, address="0x123")
    assert refused.value.code == "bad_address"


def test_freezing_needs_a_reason_and_unfreezing_clears_it(alice):
    with pytest.raises(ServiceError, match="why"):
        services.user_freeze(user=alice, reason=" ")
    services.user_freeze(user=alice, reason="fraud review")
    assert alice.is_frozen and alice.frozen_at is not None
    services.user_unfreeze(user=alice)
    assert not alice.is_frozen and alice.frozen_reason == ""


def test_language_and_tier_are_validated(alice):
    with pytest.raises(ServiceError):
        services.user_set_language(user=alice, language="xx")
    with pytest.raises(ServiceError):
        services.user_set_kyc_tier(user=alice, tier=9)
    services.user_set_language(user=alice, language="fa")
    assert TelegramUser.objects.get(pk=alice.pk).language == "fa"


def test_admins_find_users_by_id_username_or_wallet(alice):
    assert user_search(query=str(alice.telegram_id)) == [alice]
    assert user_search(query="@ALICE") == [alice]
    assert user_search(query=alice.wallet_address.upper().replace("0X", "0x")) == [alice]
    assert user_search(query="  ") == []


def test_unreachable_is_recorded_once(alice):
    services.user_mark_unreachable(user=alice)
    first = alice.unreachable_since
    services.user_mark_unreachable(user=alice)
    assert alice.unreachable_since == first
