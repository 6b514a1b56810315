"""Chat services on the update path: who wrote and where they are (one statement for a known
person), recording, claiming and finishing a chat's updates, read back as the ORM reads them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.chat import services
from core.chat.models import ChatLease, ChatSession, ReceivedUpdate, UpdateStatus
from core.common.rows import ModelColumns
from core.users.models import TelegramUser
from core.users.services import user_get_or_create_from_telegram, user_set_phone

pytestmark = pytest.mark.django_db


def test_someone_new_is_made_in_their_telegram_language_with_no_session():
    person, session = services.chat_arrival(chat_id=501, telegram_id=501, username="nia",
                                            first_name="Nia", language_code="pt-BR")
    assert person.pk and person.username == "nia" and person.language == "pt-br"
    assert session is None


def test_a_known_person_and_their_session_come_back_in_one_statement():
    user_get_or_create_from_telegram(telegram_id=502, username="omar", first_name="Omar")
    services.chat_session_store(chat_id=502, user_id=502, step="calc.term",
                               draft={"amount": 1_500_000_000, "note": "ñ"}, nonce="n1")
    with CaptureQueriesContext(connection) as queries:
        person, session = services.chat_arrival(chat_id=502, telegram_id=502, username="omar",
                                                first_name="Omar")
    assert len(queries) == 1
    assert person == TelegramUser.objects.get(telegram_id=502)
    assert person.username == "omar" and person.first_name == "Omar"
    assert session.step == "calc.term"
    assert session.draft == {"amount": 1_500_000_000, "note": "ñ"}
    assert session.nonce == ChatSession.objects.get(user_id=502).nonce
    assert timezone.is_aware(session.updated_at) and timezone.is_aware(person.created_at)


def test_a_person_is_read_back_exactly_as_the_orm_reads_them():
    person, _ = user_get_or_create_from_telegram(telegram_id=503, username="pia")
    user_set_phone(user=person, phone="+34 600 111 222", contact_user_id=503)
    arrived, _ = services.chat_arrival(chat_id=503, telegram_id=503, username="pia")
    stored = TelegramUser.objects.get(telegram_id=503)
    for field in TelegramUser._meta.concrete_fields:
        assert getattr(arrived, field.attname) == getattr(stored, field.attname), field.name
    assert arrived.phone == "+34600111222", "the encrypted phone is decrypted"


def test_profile_changes_and_reachability_are_refreshed_on_arrival(settings):
    person, _ = user_get_or_create_from_telegram(telegram_id=504, username="old")
    TelegramUser.objects.filter(pk=person.pk).update(unreachable_since=timezone.now())
    settings.ADMIN_TELEGRAM_IDS = [504]
    arrived, _ = services.chat_arrival(chat_id=504, telegram_id=504, username="new",
                                       last_name="Lee")
    stored = TelegramUser.objects.get(pk=person.pk)
    assert (stored.username, stored.last_name, stored.is_admin) == ("new", "Lee", True)
    assert stored.unreachable_since is None and arrived.unreachable_since is None


def test_only_this_chats_live_session_is_returned(settings):
    user_get_or_create_from_telegram(telegram_id=505)
    services.chat_session_store(chat_id=-9000, user_id=505, step="group.step", draft={},
                               nonce="n1")
    assert services.chat_arrival(chat_id=505, telegram_id=505)[1] is None
    services.chat_session_store(chat_id=505, user_id=505, step="calc.amount", draft={},
                               nonce="n1")
    assert services.chat_arrival(chat_id=505, telegram_id=505)[1].step == "calc.amount"
    ChatSession.objects.filter(chat_id=505).update(
        updated_at=timezone.now() - timedelta(seconds=settings.CHAT_SESSION_TTL_S + 60))
    assert services.chat_arrival(chat_id=505, telegram_id=505)[1] is None, "lapsed"


def test_claimed_updates_come_oldest_first_with_their_payloads_decoded():
    for update_id in (30, 10, 20):
        services.update_record(update_id=update_id, chat_id=77,
                               payload={"update_id": update_id, "message": {"text": "é"}})
    services.update_record(update_id=15, chat_id=78, payload={"update_id": 15})
    claimed = services.chat_updates_claim(chat_id=77, owner="me", ttl_s=60)
    assert [update_id for update_id, _ in claimed] == [10, 20, 30]
    assert claimed[0][1] == {"update_id": 10, "message": {"text": "é"}}
    assert services.chat_updates_claim(chat_id=77, owner="other", ttl_s=60) is None


def test_finishing_the_last_update_marks_it_and_gives_the_chat_up():
    services.update_record(update_id=40, chat_id=79, payload={"update_id": 40})
    services.chat_updates_claim(chat_id=79, owner="me", ttl_s=60)
    assert services.update_done(update_id=40, chat_id=79, owner="me", ttl_s=60,
                                last=True) == []
    update = ReceivedUpdate.objects.get(update_id=40)
    assert update.status == UpdateStatus.HANDLED and update.handled_at is not None
    assert ChatLease.objects.get(chat_id=79).owner == ""


def test_finishing_hands_back_what_arrived_meanwhile_and_keeps_the_chat():
    services.update_record(update_id=50, chat_id=80, payload={"update_id": 50})
    services.chat_updates_claim(chat_id=80, owner="me", ttl_s=60)
    services.update_record(update_id=51, chat_id=80, payload={"update_id": 51, "x": [1]})
    following = services.update_done(update_id=50, chat_id=80, owner="me", ttl_s=60, last=True)
    assert following == [(51, {"update_id": 51, "x": [1]})]
    assert ChatLease.objects.get(chat_id=80).owner == "me"
    assert ReceivedUpdate.objects.get(update_id=50).status == UpdateStatus.HANDLED


def test_model_columns_build_instances_equal_to_the_orms():
    services.chat_session_store(chat_id=81, user_id=81, step="s", draft={"a": [1, "b"]},
                               nonce="n1")
    columns = ModelColumns(ChatSession, "s")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns.sql} FROM {ChatSession._meta.db_table} s"
                       " WHERE s.chat_id = %s", [81])
        built = columns.build(cursor.fetchone(), connection)
    stored = ChatSession.objects.get(chat_id=81)
    for field in ChatSession._meta.concrete_fields:
        assert getattr(built, field.attname) == getattr(stored, field.attname), field.name
    assert not built._state.adding and built._state.db == connection.alias


def test_finishing_an_update_stores_the_step_it_led_to_in_the_same_commit():
    services.update_record(update_id=60, chat_id=82, payload={"update_id": 60})
    services.chat_updates_claim(chat_id=82, owner="me", ttl_s=60)
    step = {"chat_id": 82, "user_id": 82, "step": "calc.term", "draft": {"amount": 5},
            "nonce": services.chat_session_nonce()}
    services.update_done(update_id=60, chat_id=82, owner="me", ttl_s=60, last=True,
                         session=step)
    stored = ChatSession.objects.get(chat_id=82, user_id=82)
    assert (stored.step, stored.draft, stored.nonce) == ("calc.term", {"amount": 5},
                                                         step["nonce"])
    services.update_record(update_id=61, chat_id=82, payload={"update_id": 61})
    services.chat_updates_claim(chat_id=82, owner="me", ttl_s=60)
    services.update_done(update_id=61, chat_id=82, owner="me", ttl_s=60, last=True,
                         session={**step, "step": "", "draft": {}, "nonce": "n2"})
    assert ChatSession.objects.filter(chat_id=82, step="", nonce="n2").count() == 1
