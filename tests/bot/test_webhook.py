"""Webhook mode: the view checks the secret, records each update once, answers fast, and the
bot handles every chat in order."""

from __future__ import annotations

import gc

import pytest
from django.db import OperationalError

from bot import webhook
from core.chat.models import ReceivedUpdate, UpdateStatus
from tests.bot.harness import PEOPLE, db, refusing
from tests.bot.webhook_client import post, webhook_secret  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("webhook_secret")


def text_update(update_id: int, person: dict, text: str, message_id: int | None = None) -> dict:
    chat = {"id": person["id"], "type": "private", "first_name": person["first_name"]}
    message = {"message_id": message_id or update_id, "date": 1_700_000_000, "chat": chat,
               "from": {**person, "is_bot": False}, "text": text}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0,
                                "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


def seen_by(chat, person: dict) -> list[str]:
    chat.push({"user": person, "text": "(opens the chat)"})  # the emulator learns the person
    return [m.get("text", "") for m in chat.messages(person)]


def test_it_refuses_an_update_without_the_secret_token(run_bot):
    async def scenario(chat):
        webhook.install_runtime(chat.runtime)
        response = await post(text_update(1, PEOPLE["alice"], "/help"), secret="wrong")
        assert response.status_code == 403
        assert not await db(ReceivedUpdate.objects.exists)

    run_bot(scenario)


def test_it_ignores_a_duplicate_update(run_bot):
    async def scenario(chat):
        webhook.install_runtime(chat.runtime)
        seen_by(chat, PEOPLE["alice"])
        update = text_update(10, PEOPLE["alice"], "/help")
        for _ in range(3):
            assert (await post(update)).status_code == 200
        await chat.runtime.dispatcher.idle()
        helps = [m for m in chat.messages("alice") if "Here is what I can do" in m["text"]]
        assert len(helps) == 1
        assert await db(ReceivedUpdate.objects.filter(update_id=10,
                                                      status=UpdateStatus.HANDLED).count) == 1

    run_bot(scenario)


def test_it_answers_503_when_the_update_cannot_be_recorded_so_telegram_retries(run_bot):
    async def scenario(chat):
        webhook.install_runtime(chat.runtime)
        seen_by(chat, PEOPLE["alice"])
        update = text_update(20, PEOPLE["alice"], "/help")
        async with refusing("INSERT INTO chat_receivedupdate",
                            OperationalError("database is down")):
            assert (await post(update)).status_code == 503
        assert (await post(update)).status_code == 200  # Telegram's redelivery is taken
        await chat.runtime.dispatcher.idle()
        assert any("Here is what I can do" in m["text"] for m in chat.messages("alice"))

    run_bot(scenario)


def test_it_keeps_each_chats_order_while_chats_run_side_by_side(run_bot):
    async def scenario(chat):
        webhook.install_runtime(chat.runtime)
        alice, bob = PEOPLE["alice"], PEOPLE["bob"]
        seen_by(chat, alice), seen_by(chat, bob)
        # Interleaved deliveries: each person starts /calc and then types an amount.
        updates = [text_update(31, alice, "/calc"), text_update(32, bob, "/calc"),
                   text_update(33, alice, "120"), text_update(34, bob, "75.5")]
        for update in updates:
            assert (await post(update)).status_code == 200
        await chat.runtime.dispatcher.idle()
        for person, amount in ((alice, "120.00"), (bob, "75.50")):
            texts = [m["text"] for m in chat.messages(person)]
            assert "How much would you like to borrow" in texts[-2]
            assert texts[-1].startswith(amount)

    run_bot(scenario)


def test_it_handles_a_late_older_update_instead_of_taking_it_for_a_duplicate(run_bot):
    async def scenario(chat):
        webhook.install_runtime(chat.runtime)
        alice = PEOPLE["alice"]
        seen_by(chat, alice)
        # Telegram redelivers 41 after 42 went through (41 first failed on our side).
        assert (await post(text_update(42, alice, "/help"))).status_code == 200
        await chat.runtime.dispatcher.idle()
        assert (await post(text_update(41, alice, "/calc"))).status_code == 200
        await chat.runtime.dispatcher.idle()
        texts = [m["text"] for m in chat.messages(alice)]
        assert "Here is what I can do" in texts[-2]
        assert "How much would you like to borrow" in texts[-1]

    run_bot(scenario)


def test_updates_recorded_together_are_handled_oldest_first(run_bot):
    async def scenario(chat):
        alice = PEOPLE["alice"]
        seen_by(chat, alice)
        from bot.dispatcher import _record

        # Recorded while no process was handling them (out of order), as after a crash.
        for update in (text_update(53, alice, "99"), text_update(51, alice, "/calc"),
                       text_update(52, alice, "/help")):
            await _record(update["update_id"], alice["id"], update)
        await chat.runtime.dispatcher.sweep_once()
        await chat.runtime.dispatcher.idle()
        texts = [m["text"] for m in chat.messages(alice)]
        assert "How much would you like to borrow" in texts[-3]
        assert "Here is what I can do" in texts[-2]
        assert texts[-1].startswith("99.00")

    run_bot(scenario)


def test_an_update_with_nul_characters_is_recorded_and_answered(run_bot):
    async def scenario(chat):
        webhook.install_runtime(chat.runtime)
        seen_by(chat, PEOPLE["alice"])
        assert (await post(text_update(70, PEOPLE["alice"], "hello\x00there"))).status_code == 200
        await chat.runtime.dispatcher.idle()
        assert "did not understand" in chat.messages("alice")[-1]["text"]

    run_bot(scenario)


def test_the_webhooks_own_runtime_keeps_loaded_code_out_of_full_collections(run_bot, settings):
    """The web process starts its bot on the first update and then freezes what is loaded,
    so the garbage collector's full passes (90 ms each with everything scanned) stay short."""
    async def scenario(chat):
        settings.TELEGRAM_BOT_TOKEN = chat.runtime.bot.token
        settings.TELEGRAM_API_BASE_URL = chat.runtime.bot.base_url.removesuffix(
            chat.runtime.bot.token)
        webhook.install_runtime(None)
        seen_by(chat, PEOPLE["alice"])
        frozen_before = gc.get_freeze_count()
        try:
            assert (await post(text_update(40, PEOPLE["alice"], "/help"))).status_code == 200
            own = await webhook.get_runtime()
            assert own is not chat.runtime
            await own.dispatcher.idle()
            assert gc.get_freeze_count() > frozen_before
            assert any("Here is what I can do" in m["text"] for m in chat.messages("alice"))
        finally:
            await (await webhook.get_runtime()).stop()
            gc.unfreeze()

    run_bot(scenario)
