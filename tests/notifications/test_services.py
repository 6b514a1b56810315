"""The outbox: one message per dedupe key, exclusive claims, retries and permanent failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.notifications import services
from core.notifications.models import OutboxMessage, OutboxStatus
from core.notifications.selectors import outbox_backlog

pytestmark = pytest.mark.django_db


def enqueue(user, key="loan:1:funded:1002"):
    return services.notification_enqueue(recipient=user, template_key="loan_funded",
                                         dedupe_key=key, params={"loan_id": 1})


def test_the_same_event_never_queues_two_messages(bob):
    first, created = enqueue(bob)
    again, created_again = enqueue(bob)
    assert created and not created_again and first.pk == again.pk
    assert OutboxMessage.objects.count() == 1
    assert first.chat_id == bob.telegram_id


def test_a_message_needs_a_dedupe_key(bob):
    with pytest.raises(Exception, match="dedupe"):
        enqueue(bob, key="")


def test_a_claimed_message_is_not_claimed_again_until_its_claim_lapses(bob):
    enqueue(bob)
    claimed = services.outbox_claim()
    assert [m.status for m in claimed] == [OutboxStatus.SENDING]
    assert claimed[0].attempts == 1
    assert services.outbox_claim() == []
    OutboxMessage.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    reclaimed = services.outbox_claim()
    assert len(reclaimed) == 1 and reclaimed[0].attempts == 2


def test_sent_messages_are_done(bob):
    enqueue(bob)
    message = services.outbox_claim()[0]
    services.outbox_mark_sent(message=message, telegram_message_id=555)
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.sent_at is not None
    assert services.outbox_claim() == []
    assert outbox_backlog()["pending"] == 0


def test_transient_failures_back_off_and_then_give_up(bob):
    enqueue(bob)
    message = services.outbox_claim()[0]
    services.outbox_mark_retry(message=message, error="timeout", retry_after=30)
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.next_attempt_at > timezone.now() + timedelta(seconds=25)
    assert services.outbox_claim() == []
    OutboxMessage.objects.update(attempts=services.MAX_ATTEMPTS)
    services.outbox_mark_retry(message=message, error="timeout")
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED and "gave up" in message.last_error


def test_permanent_failures_are_never_retried(bob):
    enqueue(bob)
    message = services.outbox_claim()[0]
    services.outbox_mark_failed(message=message, error="Forbidden: bot was blocked by the user")
    OutboxMessage.objects.update(next_attempt_at=timezone.now() - timedelta(days=1))
    assert services.outbox_claim() == []


def test_channel_messages_have_no_recipient_user():
    message, created = services.notification_enqueue_to_chat(
        chat_id=-1001234, template_key="loan_listed", dedupe_key="listed:1")
    assert created and message.recipient is None and message.chat_id == -1001234


def test_the_backlog_reports_its_oldest_message(bob):
    enqueue(bob, key="a")
    enqueue(bob, key="b")
    OutboxMessage.objects.filter(dedupe_key="a").update(
        created_at=timezone.now() - timedelta(minutes=5))
    backlog = outbox_backlog()
    assert backlog["pending"] == 2 and backlog["oldest_age_s"] >= 299
