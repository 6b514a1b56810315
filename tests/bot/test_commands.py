"""The runners: `manage.py runbot` (polling) and `manage.py setwebhook`."""

from __future__ import annotations

import asyncio
import io

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command

from bot.management.commands.runbot import Command as RunBot
from tests.bot.harness import PEOPLE, TOKEN


@pytest.fixture
def bot_settings(settings, emulator):
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.TELEGRAM_API_BASE_URL = emulator.api_base_url
    settings.TELEGRAM_WEBHOOK_SECRET = "secret-for-tests"
    return settings


def test_setwebhook_registers_the_url_and_secret_and_can_go_back_to_polling(db, bot_settings,
                                                                          emulator):
    out = io.StringIO()
    call_command("setwebhook", url="https://bot.example/telegram/webhook/", stdout=out)
    webhook = emulator.call(lambda: dict(emulator.emulator.state.webhook))
    assert webhook["url"] == "https://bot.example/telegram/webhook/"
    assert webhook["secret_token"] == "secret-for-tests"
    commands = emulator.call(lambda: emulator.emulator.state.commands)
    assert "calc" in {command["command"] for command in commands}
    call_command("setwebhook", delete=True, stdout=out)
    assert emulator.call(lambda: emulator.emulator.state.webhook["url"]) == ""


def test_runbot_polls_telegram_and_answers(db, bot_settings, emulator):
    async def scenario():
        command = RunBot(stdout=io.StringIO())
        task = asyncio.create_task(command._run(polling=True))
        emulator.call(emulator.emulator.make_update, {"user": PEOPLE["alice"], "text": "/help"})
        for _ in range(100):
            await asyncio.sleep(0.05)
            sent = emulator.call(lambda: [c.params.get("text", "") for c in
                                          emulator.emulator.state.calls
                                          if c.method == "sendMessage"])
            if sent:
                break
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return sent

    sent = async_to_sync(scenario)()
    assert sent and "Here is what I can do" in sent[0]


def test_the_sandbox_page_lists_the_people_and_points_at_the_emulator(client, settings):
    settings.SANDBOX_EMULATOR_URL = "http://127.0.0.1:8081"
    response = client.get("/sandbox/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Lendgram sandbox" in page and "http://127.0.0.1:8081" in page
    assert "demo_amara" in page and "admin" in page
