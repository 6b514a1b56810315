"""/me through the emulator: a one-time link to the person's own pages."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from core.users.models import TelegramUser
from core.users.services import user_freeze
from tests.bot.harness import PEOPLE, db

pytestmark = pytest.mark.django_db


def url_buttons(message: dict) -> list[dict]:
    return [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row
            if "url" in b]


def test_me_sends_a_one_time_link_that_signs_the_person_in(run_bot, client, settings):
    settings.PUBLIC_BASE_URL = "https://lendgram.example"

    async def scenario(chat):
        chat.meet("bob")
        return await chat.say("bob", "/me")

    replies = run_bot(scenario)
    assert "works once" in replies[-1]["text"]
    [button] = url_buttons(replies[-1])
    assert button["url"].startswith("https://lendgram.example/me/login/")
    path = urlsplit(button["url"]).path
    assert client.get(path).status_code == 302
    assert "@bob" in client.get("/me/").content.decode()
    assert client.get(path).status_code == 403  # once only


def test_me_answers_in_the_persons_language(run_bot):
    async def scenario(chat):
        chat.meet("reza")
        return await chat.say("reza", "/me")

    replies = run_bot(scenario)
    assert "works once" not in replies[-1]["text"]
    assert url_buttons(replies[-1])


def test_a_frozen_account_gets_no_link(run_bot):
    async def scenario(chat):
        chat.meet("bob")
        await chat.say("bob", "/help")
        person = await db(TelegramUser.objects.get, telegram_id=PEOPLE["bob"]["id"])
        await db(user_freeze, user=person, reason="checks")
        return await chat.say("bob", "/me")

    replies = run_bot(scenario)
    assert "frozen" in replies[-1]["text"]
    assert url_buttons(replies[-1]) == []
