"""Attacks on the bot's front door and its chat: forged and replayed webhook updates, an
oversized or malformed body, and contact cards that are not one's own phone. Another person's
buttons are attacked beside each journey's tests (tests/bot/test_loans.py, test_lend.py,
test_admin.py, test_pool_chat.py, test_portfolio.py, test_conversation.py) and, for every
step at once, in test_fuzz.py."""

from __future__ import annotations

import json

import pytest

from bot import webhook
from core.chat.models import ChatSession, ReceivedUpdate
from core.users.models import TelegramUser
from tests.bot.harness import button_data, db, new_person
from tests.bot.webhook_client import SECRET, URL, post, webhook_secret  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("webhook_secret")


def raw_update(chat, person: dict, **body) -> dict:
    """The update Telegram would send for the person's act, not delivered to the bot."""
    return chat.emulator.call(chat.emulator.emulator.make_update, {"user": person, **body},
                              deliver=False)


def test_a_forged_webhook_update_is_refused_whatever_the_secret_looks_like(run_bot, settings):
    person = new_person()

    async def scenario(chat):
        webhook.install_runtime(chat.runtime)
        chat.meet(person)
        update = raw_update(chat, person, text="/start")
        for forged in (None, "", SECRET.upper(), SECRET + " ", " " + SECRET, SECRET[:-1],
                       SECRET + "x", SECRET[:-1] + "é"):
            assert (await post(update, forged)).status_code == 403, forged
        settings.TELEGRAM_WEBHOOK_SECRET = ""  # none configured: nothing gets in, not everything
        assert (await post(update, "")).status_code == 403
        await chat.runtime.dispatcher.idle()
        assert not await db(ReceivedUpdate.objects.exists)
        assert not await db(TelegramUser.objects.filter(telegram_id=person["id"]).exists)
        assert chat.messages(person) == []

    run_bot(scenario)


def test_an_oversized_or_malformed_webhook_body_is_refused_and_recorded_nowhere(run_bot):
    received = []

    async def receive(data):
        received.append(data)

    async def call(app, body: bytes) -> int:
        sent = []
        chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)] or [b""]
        messages = [{"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
                    for i, chunk in enumerate(chunks)]

        async def asgi_receive():
            return messages.pop(0)

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "path": URL, "method": "POST",
                 "headers": [(b"x-telegram-bot-api-secret-token", SECRET.encode())]}
        await app(scope, asgi_receive, send)
        return sent[0]["status"]

    async def scenario(chat):
        app = webhook.DirectWebhook(None, receive=receive)
        big = json.dumps({"update_id": 1, "message": {"text": "x" * (2 * 1024 * 1024)}})
        assert await call(app, big.encode()) == 413
        for body in (b"", b"[]", b"{}", b'{"update_id": "x"}', b"\x00\xff", b"null",
                     b'{"update_id": null}', b"1e999999", b'{"update_id": 1e999}',
                     b'{"update_id": 1e308}', b'{"update_id": true}', b'{"update_id": "12"}',
                     b'{"update_id": -5}', b'{"update_id": 9223372036854775808}'):
            assert await call(app, body) == 400, body
        assert received == []

    run_bot(scenario)


def test_a_replayed_webhook_update_is_handled_once_even_with_other_content(run_bot):
    person = new_person("en")

    async def scenario(chat):
        webhook.install_runtime(chat.runtime)
        chat.meet(person)
        ask = (await chat.say(person, "/start"))[-1]
        press = raw_update(chat, person, kind="callback", message_id=ask["message_id"],
                           callback_data=button_data(ask, "Español"))
        for _ in range(3):
            assert (await post(press)).status_code == 200
        await chat.runtime.dispatcher.idle()
        # The same update id again, its button changed to another language: still a replay.
        altered = json.loads(json.dumps(press))
        altered["callback_query"]["data"] = button_data(ask, "Русский")
        assert (await post(altered)).status_code == 200
        await chat.runtime.dispatcher.idle()

        stored = await db(TelegramUser.objects.get, telegram_id=person["id"])
        assert stored.language == "es"
        session = await db(ChatSession.objects.get, user_id=person["id"])
        assert session.step == "onboard.role"
        texts = [m.get("text", "") for m in chat.messages(person)]
        assert sum("Te escribiré en" in text for text in texts) == 1
        assert not any("I will write to you" in text for text in texts)
        assert await db(ReceivedUpdate.objects.filter(update_id=press["update_id"]).count) == 1

    run_bot(scenario)


def onboard_to_the_phone_step():
    async def steps(chat, person):
        chat.meet(person)
        ask = (await chat.say(person, "/start"))[-1]
        role = (await chat.press(person, ask, "English"))[-1]
        terms = (await chat.press(person, role, "Borrow money"))[-1]
        return (await chat.press(person, terms, "I accept"))[-1]

    return steps


@pytest.mark.parametrize(("contact", "answer"), [
    ({"contact_user_id": None, "phone": "+15551230001"}, "not your own contact"),
    ({"contact_user_id": 0, "phone": "+15551230002"}, "not your own contact"),
    ({"phone": "+1555' OR 1=1 --"}, "does not look like a phone number"),
    ({"phone": "+1" + "5" * 10_000}, "does not look like a phone number"),
    ({"phone": "\u202e+15551230003"}, "does not look like a phone number"),
    ({"phone": "+1555123\x000004"}, "does not look like a phone number"),
    ({"phone": "+１５５５１２３０００５"}, "does not look like a phone number"),
], ids=["no-user-id", "user-id-zero", "quote", "ten-thousand", "rtl", "nul", "wide-digits"])
def test_a_contact_that_is_not_ones_own_phone_is_refused_and_keeps_nothing(run_bot, contact,
                                                                         answer):
    person = new_person()

    async def scenario(chat):
        asked = await onboard_to_the_phone_step()(chat, person)
        assert "phone number" in asked["text"]
        replies = await chat.send(person, kind="contact", **contact)
        assert answer in replies[-1]["text"]
        stored = await db(TelegramUser.objects.get, telegram_id=person["id"])
        assert stored.phone == ""
        session = await db(ChatSession.objects.get, user_id=person["id"])
        assert session.step == "onboard.phone"

    run_bot(scenario)


def test_a_contact_sent_outside_the_phone_step_is_not_kept(run_bot):
    person = new_person()

    async def scenario(chat):
        chat.meet(person)
        await chat.say(person, "/help")
        replies = await chat.send(person, kind="contact", phone="+15551239999")
        assert "I was not expecting a contact here" in replies[-1]["text"]
        assert (await db(TelegramUser.objects.get, telegram_id=person["id"])).phone == ""

    run_bot(scenario)


def test_an_unknown_command_of_5000_characters_is_answered_not_failed(run_bot):
    """Found by test_fuzz.py: the answer echoed the whole command, longer than Telegram sends
    (BadRequest "Message is too long"), so the person got an apology instead."""
    person = new_person()

    async def scenario(chat):
        chat.meet(person)
        replies = await chat.say(person, "/" + "x" * 5000)
        assert replies[-1]["text"].startswith("I do not know the command /" + "x" * 32 + "…")
        assert "something went wrong" not in replies[-1]["text"]

    run_bot(scenario)


@pytest.mark.parametrize("query", ["x" * 10_000, "1" * 5000, "²³", "@" + "%" * 100, "٣" * 30])
def test_an_admins_search_of_any_text_is_answered_and_finds_nobody(run_bot, settings, query):
    """Found by test_fuzz.py: a 10,000-character search was a LIKE too complex for SQLite,
    int() refused 5,000 digits and "²", and the answer echoed the whole text."""
    admin = new_person()
    settings.ADMIN_TELEGRAM_IDS = [admin["id"]]

    async def scenario(chat):
        chat.meet(admin)
        home = (await chat.say(admin, "/admin"))[-1]
        await chat.press(admin, home, "Find a user")
        answer = (await chat.say(admin, query))[-1]["text"]
        assert answer.startswith("Nobody matches ") and len(answer) < 300
        assert "something went wrong" not in answer

    run_bot(scenario)
