"""The local Bot API speaks Telegram's shapes, so the bot under test meets what it will meet."""

from __future__ import annotations

import base64
import io
import json

import httpx
import pytest
import qrcode
from asgiref.sync import async_to_sync
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter

from tests.bot.harness import PEOPLE, TOKEN, serve_locally


def api(emulator, method: str, **kwargs) -> httpx.Response:
    return httpx.post(f"{emulator.api_base_url}{TOKEN}/{method}", timeout=10, **kwargs)


def control(emulator, path: str, body: dict | None = None) -> dict:
    response = httpx.post(f"{emulator.url}/_emu/{path}", json=body or {}, timeout=10)
    response.raise_for_status()
    return response.json()


def test_it_answers_form_encoded_calls_with_ok_and_result(emulator):
    control(emulator, "updates", {"user": PEOPLE["alice"], "text": "hi"})
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "1|x"}]]}
    response = api(emulator, "sendMessage",
                   data={"chat_id": "1001", "text": "123", "reply_markup": json.dumps(markup)})
    body = response.json()
    assert response.status_code == 200 and body["ok"] is True
    assert body["result"]["text"] == "123"  # a numeric text stays text
    assert body["result"]["chat"]["id"] == 1001
    assert body["result"]["reply_markup"] == markup


def test_it_answers_errors_with_error_code_and_description(emulator):
    response = api(emulator, "sendMessage", data={"chat_id": "424242", "text": "hello"})
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400,
                               "description": "Bad Request: chat not found"}


def test_it_refuses_a_wrong_token(emulator):
    response = httpx.post(f"{emulator.api_base_url}0:wrong/getMe", timeout=10)
    assert response.status_code == 401 and response.json()["ok"] is False


def test_it_answers_429_with_retry_after_when_told_to(emulator):
    control(emulator, "updates", {"user": PEOPLE["alice"], "text": "hi"})
    control(emulator, "faults", {"method": "sendMessage", "count": 1, "code": 429,
                                 "description": "Too Many Requests: retry after 7",
                                 "retry_after": 7})
    response = api(emulator, "sendMessage", data={"chat_id": "1001", "text": "x"})
    assert response.status_code == 429
    assert response.json()["parameters"] == {"retry_after": 7}
    assert api(emulator, "sendMessage", data={"chat_id": "1001", "text": "x"}).status_code == 200


def test_it_enforces_telegrams_per_chat_limit_when_switched_on(emulator):
    control(emulator, "updates", {"user": PEOPLE["alice"], "text": "hi"})
    control(emulator, "limits", {"per_chat_per_s": 1})
    assert api(emulator, "sendMessage", data={"chat_id": "1001", "text": "a"}).status_code == 200
    second = api(emulator, "sendMessage", data={"chat_id": "1001", "text": "b"})
    assert second.status_code == 429 and second.json()["parameters"]["retry_after"] >= 1


def test_get_updates_confirms_everything_below_the_offset(emulator):
    for text in ("one", "two", "three"):
        control(emulator, "updates", {"user": PEOPLE["alice"], "text": text})
    first = api(emulator, "getUpdates", data={}).json()["result"]
    assert [u["message"]["text"] for u in first] == ["one", "two", "three"]
    offset = first[1]["update_id"] + 1
    rest = api(emulator, "getUpdates", data={"offset": str(offset)}).json()["result"]
    assert [u["message"]["text"] for u in rest] == ["three"]


def test_python_telegram_bot_uploads_a_photo_and_reads_typed_errors(emulator):
    control(emulator, "updates", {"user": PEOPLE["alice"], "text": "hi"})
    image = io.BytesIO()
    qrcode.make("ethereum:0x0000000000000000000000000000000000000001").save(image, format="PNG")

    async def scenario():
        bot = Bot(TOKEN, base_url=emulator.api_base_url)
        async with bot:
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Open", url="https://x.test")]])
            message = await bot.send_photo(1001, image.getvalue(), caption="Scan me",
                                           reply_markup=keyboard)
            assert message.photo and message.caption == "Scan me"
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await bot.send_message(999, "nobody")
            control(emulator, "people/1001/block", {"blocked": True})
            with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
                await bot.send_message(1001, "hello?")
            control(emulator, "faults", {"method": "getMe", "count": 1, "code": 429,
                                         "description": "Too Many Requests: retry after 3",
                                         "retry_after": 3})
            with pytest.raises(RetryAfter) as caught:
                await bot.get_me()
            assert caught.value.retry_after.total_seconds() == 3
            return message.photo[-1].file_id

    file_id = async_to_sync(scenario)()
    served = httpx.get(f"{emulator.url}/_emu/files/{file_id}", timeout=10)
    assert served.status_code == 200 and served.content == image.getvalue()


def test_a_photo_a_person_sends_is_fetched_with_get_file_and_the_file_url(emulator):
    picture = io.BytesIO()
    qrcode.make("a photo").save(picture, format="PNG")
    update = control(emulator, "updates", {"user": PEOPLE["alice"], "kind": "photo",
                                           "content": base64.b64encode(picture.getvalue())
                                           .decode(), "mime_type": "image/png"})
    sizes = update["message"]["photo"]
    assert len(sizes) == 2 and sizes[-1]["file_size"] == len(picture.getvalue())
    base = emulator.url

    async def scenario():
        bot = Bot(TOKEN, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot")
        async with bot:
            file = await bot.get_file(sizes[-1]["file_id"])
            # python-telegram-bot turns the path into the download URL (with the token).
            assert file.file_path == f"{base}/file/bot{TOKEN}/files/{sizes[-1]['file_id']}"
            downloaded = bytes(await file.download_as_bytearray())
            with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
                await bot.get_file("no-such-file")
            return downloaded

    assert async_to_sync(scenario)() == picture.getvalue()
    # The download needs the bot's token, as Telegram's does.
    path = f"{base}/file/bot0:wrong/files/{sizes[-1]['file_id']}"
    assert httpx.get(path, timeout=10).status_code == 401


def test_an_image_sent_as_a_file_arrives_as_a_document_the_bot_can_fetch(emulator):
    update = control(emulator, "updates", {"user": PEOPLE["alice"], "kind": "document",
                                           "content": base64.b64encode(b"%PDF-1.7").decode(),
                                           "file_name": "passport.pdf",
                                           "mime_type": "application/pdf"})
    document = update["message"]["document"]
    assert (document["file_name"], document["mime_type"], document["file_size"]) == (
        "passport.pdf", "application/pdf", 8)
    answer = api(emulator, "getFile", data={"file_id": document["file_id"]}).json()["result"]
    served = httpx.get(f"{emulator.url}/file/bot{TOKEN}/{answer['file_path']}", timeout=10)
    assert served.content == b"%PDF-1.7"


def test_the_bot_sends_a_file_with_its_name(emulator):
    control(emulator, "updates", {"user": PEOPLE["alice"], "text": "hi"})

    async def scenario():
        bot = Bot(TOKEN, base_url=emulator.api_base_url)
        async with bot:
            return await bot.send_document(1001, b'{"a": 1}', filename="data.json",
                                           caption="Your data")

    message = async_to_sync(scenario)()
    assert message.document.file_name == "data.json" and message.caption == "Your data"
    served = httpx.get(f"{emulator.url}/_emu/files/{message.document.file_id}", timeout=10)
    assert served.content == b'{"a": 1}'


def test_it_refuses_callback_data_longer_than_64_bytes(emulator):
    control(emulator, "updates", {"user": PEOPLE["alice"], "text": "hi"})
    markup = {"inline_keyboard": [[{"text": "x", "callback_data": "x" * 65}]]}
    response = api(emulator, "sendMessage",
                   data={"chat_id": "1001", "text": "t", "reply_markup": json.dumps(markup)})
    assert response.status_code == 400 and "BUTTON_DATA_INVALID" in response.json()["description"]


def test_webhook_delivery_sends_the_secret_and_redelivers_until_answered_2xx(emulator):
    from aiohttp import web

    received: list[tuple[int, str]] = []

    async def receiver(request: web.Request) -> web.Response:
        body = await request.json()
        received.append((body["update_id"],
                         request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")))
        return web.Response(status=500 if len(received) == 1 else 200)

    async def start_receiver():
        app = web.Application()
        app.router.add_post("/hook", receiver)
        return await serve_locally(app)

    runner, port = emulator.call(start_receiver)
    try:
        api(emulator, "setWebhook", data={"url": f"http://127.0.0.1:{port}/hook",
                                          "secret_token": "abc"})
        assert api(emulator, "getUpdates", data={}).status_code == 409
        update = control(emulator, "updates", {"user": PEOPLE["alice"], "text": "hi"})
        import time

        for _ in range(50):
            if len(received) >= 2:
                break
            time.sleep(0.05)
        assert received[:2] == [(update["update_id"], "abc")] * 2
    finally:
        api(emulator, "deleteWebhook", data={})
        emulator.call(runner.cleanup)


def test_a_button_answer_is_shown_only_to_the_person_who_pressed(emulator):
    control(emulator, "updates", {"user": PEOPLE["alice"], "text": "hi"})
    control(emulator, "updates", {"user": PEOPLE["bob"], "text": "hi"})
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "1|x"}]]}
    sent = api(emulator, "sendMessage", data={"chat_id": "1001", "text": "Sure?",
                                              "reply_markup": json.dumps(markup)}).json()
    control(emulator, "updates", {"user": PEOPLE["alice"], "callback_data": "1|x",
                                  "message_id": sent["result"]["message_id"]})
    updates = api(emulator, "getUpdates", data={"timeout": 0}).json()["result"]
    query_id = next(u["callback_query"]["id"] for u in updates if "callback_query" in u)
    assert api(emulator, "answerCallbackQuery",
               data={"callback_query_id": query_id, "text": "Done"}).json()["ok"]

    def answers(person: str) -> list[str]:
        chat = httpx.get(f"{emulator.url}/_emu/chats/{PEOPLE[person]['id']}", timeout=10)
        return [answer["text"] for answer in chat.json()["callback_answers"].values()]

    assert answers("alice") == ["Done"]
    assert answers("bob") == []
