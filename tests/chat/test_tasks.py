"""The beat's prune of handled updates: past the dedupe window only, never a pending one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from core.chat import services
from core.chat.models import ReceivedUpdate, UpdateStatus
from core.chat.tasks import prune_updates

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 5, 0, 30, tzinfo=UTC)


def received(update_id: int, *, ago: timedelta, handled: bool = True) -> None:
    with time_machine.travel(NOW - ago, tick=False):
        assert services.update_record(update_id=update_id, chat_id=7, payload={})
    if handled:
        ReceivedUpdate.objects.filter(update_id=update_id).update(status=UpdateStatus.HANDLED)


def test_the_task_forgets_handled_updates_older_than_a_week_and_keeps_the_rest():
    received(1, ago=timedelta(days=8))
    received(2, ago=timedelta(days=8), handled=False)  # still to be handled after a crash
    received(3, ago=timedelta(days=6, hours=23))
    received(4, ago=timedelta(minutes=1))
    with time_machine.travel(NOW, tick=False):
        assert prune_updates.apply().get() == 1
        assert prune_updates.apply().get() == 0
    assert sorted(ReceivedUpdate.objects.values_list("update_id", flat=True)) == [2, 3, 4]
    # Telegram redelivering a kept update: still recognised as seen.
    assert not services.update_record(update_id=4, chat_id=7, payload={})


def test_a_prune_inside_telegrams_redelivery_window_is_refused():
    received(1, ago=timedelta(hours=30))
    with pytest.raises(ValueError, match="at least"):
        services.updates_prune(older_than=timedelta(hours=24))
    with time_machine.travel(NOW, tick=False):
        assert services.updates_prune(older_than=timedelta(hours=48)) == 0
        assert services.updates_prune(older_than=timedelta(hours=48),
                                      now=NOW + timedelta(hours=19)) == 1
