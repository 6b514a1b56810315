"""A person who blocked the bot is marked unreachable (the sender sees Telegram refuse); when
they talk to the bot again they are reachable again, and messages reach them once more."""

from __future__ import annotations

import httpx
import pytest

from core.notifications.models import OutboxMessage, OutboxStatus
from core.notifications.services import broadcast_enqueue
from core.users.models import TelegramUser
from core.users.services import (
    user_get_or_create_from_telegram,
    user_mark_reachable,
    user_mark_unreachable,
)
from tests.bot.harness import PEOPLE, db
from tests.bot.wallets import deliver_outbox

pytestmark = pytest.mark.django_db


async def block(chat, person_id: int, *, blocked: bool) -> None:
    """The person blocks (or unblocks) the bot; blocking sends the bot a my_chat_member
    update, as Telegram does."""
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{chat.emulator.url}/_emu/people/{person_id}/block",
                                     json={"blocked": blocked}, timeout=10)
        response.raise_for_status()


def test_marking_reachable_clears_the_mark_and_is_harmless_twice():
    bob, _ = user_get_or_create_from_telegram(telegram_id=7001, username="bob7")
    user_mark_unreachable(user=bob)
    assert TelegramUser.objects.get(pk=bob.pk).unreachable_since is not None
    user_mark_reachable(user=bob)
    user_mark_reachable(user=bob)
    assert bob.unreachable_since is None
    assert TelegramUser.objects.get(pk=bob.pk).unreachable_since is None


def test_any_update_from_an_unreachable_person_makes_them_reachable():
    bob, _ = user_get_or_create_from_telegram(telegram_id=7002, username="bob8")
    user_mark_unreachable(user=bob)
    again, created = user_get_or_create_from_telegram(telegram_id=7002, username="bob8")
    assert not created and again.unreachable_since is None
    assert TelegramUser.objects.get(pk=bob.pk).unreachable_since is None


def test_an_id_added_to_the_admins_becomes_an_admin_on_the_next_update(settings):
    user, _ = user_get_or_create_from_telegram(telegram_id=7003, username="ops")
    assert not user.is_admin
    settings.ADMIN_TELEGRAM_IDS = [7003]
    user, _ = user_get_or_create_from_telegram(telegram_id=7003, username="ops")
    assert user.is_admin and TelegramUser.objects.get(pk=user.pk).is_admin


def test_a_person_who_blocked_the_bot_and_writes_again_gets_messages_again(run_bot, settings):
    settings.ADMIN_TELEGRAM_IDS = [PEOPLE["alice"]["id"]]
    alice, _ = user_get_or_create_from_telegram(telegram_id=PEOPLE["alice"]["id"],
                                                username="alice")
    bob_id = PEOPLE["bob"]["id"]

    async def scenario(chat):
        chat.meet("alice")
        await chat.say("bob", "/help")
        # Bob blocks the bot: Telegram's my_chat_member update marks him unreachable.
        await block(chat, bob_id, blocked=True)
        await chat.deliver()
        bob = await db(TelegramUser.objects.get, telegram_id=bob_id)
        assert bob.unreachable_since is not None
        first = await db(broadcast_enqueue, author=alice, text="First news.")
        assert first.recipients == 1  # alice only
        # Bob unblocks the bot and writes: from then on he is reachable.
        await block(chat, bob_id, blocked=False)
        await chat.say("bob", "/help")
        bob = await db(TelegramUser.objects.get, telegram_id=bob_id)
        assert bob.unreachable_since is None
        second = await db(broadcast_enqueue, author=alice, text="Second news.")
        assert second.recipients == 2
        await deliver_outbox(chat)
        assert [m["text"] for m in chat.messages("bob") if "news" in m.get("text", "")] == [
            "Message from the Lendgram team:\n\nSecond news."]

    run_bot(scenario)
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}
