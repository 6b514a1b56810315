"""/verify through the emulator: the next level's limit, a photo of an identity document and
a selfie fetched from Telegram (getFile and the file URL) and stored encrypted, hints for
anything else at those steps, image files accepted and other files refused, and the
refusals (a request already waiting, a frozen account, an unfinished onboarding)."""

from __future__ import annotations

import base64
import logging

import pytest

from core.kyc.models import KycRequest, KycStatus
from core.users.models import KycTier
from core.users.services import user_freeze
from tests import factories
from tests.bot.harness import PEOPLE, TOKEN
from tests.kyc.fixtures import jpeg, looks_like_an_image, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(db):
    """Onboarded with phone and wallet: the basic level."""
    return factories.borrower(telegram_id=PEOPLE["alice"]["id"], username="alice",
                              tier=KycTier.BASIC)


def photo(image: bytes, mime_type: str = "image/jpeg") -> dict:
    return {"kind": "photo", "content": base64.b64encode(image).decode(), "mime_type": mime_type}


def image_file(content: bytes, name: str, mime_type: str) -> dict:
    return {"kind": "document", "content": base64.b64encode(content).decode(),
            "file_name": name, "mime_type": mime_type}


def texts(replies: list[dict]) -> list[str]:
    return [reply.get("text", "") for reply in replies]


def test_documents_go_from_the_chat_to_the_encrypted_store(run_bot, alice, kyc_folder, caplog):
    caplog.set_level(logging.DEBUG)
    document, selfie = jpeg("navy"), png("tan")

    async def scenario(chat):
        asked = await chat.say("alice", "/verify")
        [intro] = texts(asked)
        assert ("raises your level from basic (phone and wallet) to identity verified: you "
                "could then borrow up to 1,000.00\u00a0USDx in all, instead of "
                "100.00\u00a0USDx.") in intro
        assert "deleted 90 days after the decision" in intro
        assert intro.endswith("First, send the photo of your identity document. /cancel stops.")
        assert texts(await chat.send("alice", **photo(document))) == [
            "Thank you. Now a selfie, please: a photo of your face, well lit, with nothing "
            "covering it."]
        assert texts(await chat.send("alice", **photo(selfie, "image/png"))) == [
            "Thank you: your documents are with our verification team. I will tell you here "
            "as soon as they are checked."]
        return chat.calls("getFile")

    file_calls = run_bot(scenario)
    assert len(file_calls) == 2
    request = KycRequest.objects.get(user=alice)
    assert request.status == KycStatus.PENDING and request.target_tier == KycTier.VERIFIED
    from core.kyc.vault import document_read

    read = {doc.kind: document_read(storage_name=doc.storage_name, sha256=doc.sha256)
            for doc in request.documents.all()}
    assert read == {"id_document": document, "selfie": selfie}
    stored = list(kyc_folder.rglob("*.bin"))
    assert len(stored) == 2 and not any(looks_like_an_image(p.read_bytes()) for p in stored)
    # The updates that carried the photos' file ids keep nothing of them.
    from core.chat.models import ReceivedUpdate

    payloads = ReceivedUpdate.objects.filter(chat_id=PEOPLE["alice"]["id"]).values_list(
        "payload", flat=True)
    assert payloads.count() == 3 and not any("file_id" in str(p) for p in payloads)
    # Our own log lines name neither the file URL (it carries the token) nor the bytes.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("bot", "core"))]
    assert not any(TOKEN in line or "/file/bot" in line for line in ours)
    assert not any(repr(document[:16])[2:-1] in line for line in ours)


def test_the_decision_reaches_the_borrower_in_their_language(run_bot, kyc_folder):
    from django.contrib.auth import get_user_model

    from core.kyc.services import kyc_request_reject
    from tests.bot.harness import db
    from tests.bot.wallets import deliver_outbox

    olga = factories.borrower(telegram_id=PEOPLE["olga"]["id"], username="olga",
                              tier=KycTier.BASIC)
    factories.users.user_set_language(user=olga, language="ru")
    operator = get_user_model().objects.create_superuser("olivia", "o@example.com", "x")

    async def scenario(chat):
        await chat.say("olga", "/verify")
        await chat.send("olga", **photo(jpeg()))
        await chat.send("olga", **photo(jpeg("white")))
        request = await db(KycRequest.objects.get, user=olga)
        await db(kyc_request_reject, request=request, operator=operator, reason="mismatch",
                 note="Снимите лицо крупнее.")
        before = len(chat.messages("olga"))
        await deliver_outbox(chat)
        return chat.messages("olga")[before:]

    [decision] = run_bot(scenario)
    assert decision["text"] == (
        "Не удалось подтвердить вашу личность по присланным фото, потому что селфи не "
        "совпадает с фотографией в документе.\n"
        "Примечание от нашей команды: Снимите лицо крупнее.\n"
        "Ваш уровень проверки не изменился. Отправьте /verify, чтобы попробовать снова с "
        "новыми фото.")


def test_text_and_stickers_at_the_photo_steps_get_a_hint_and_the_step_waits(run_bot, alice,
                                                                           kyc_folder):
    async def scenario(chat):
        await chat.say("alice", "/verify")
        assert texts(await chat.say("alice", "here it is")) == [
            "Please send a photo of your identity document (the paperclip, then Photo), or "
            "/cancel to stop."]
        assert len(await chat.send("alice", kind="sticker")) == 1
        await chat.send("alice", **photo(jpeg()))
        assert texts(await chat.say("alice", "a selfie?")) == [
            "Please send a selfie as a photo, or /cancel to stop."]
        return texts(await chat.send("alice", **photo(jpeg("white"))))

    assert run_bot(scenario)[0].startswith("Thank you: your documents are with")
    assert KycRequest.objects.filter(user=alice).count() == 1


def test_the_hints_are_in_the_persons_language(run_bot, kyc_folder):
    factories.users.user_set_language(
        user=factories.borrower(telegram_id=PEOPLE["lucia"]["id"], username="lucia",
                                tier=KycTier.BASIC), language="es")

    async def scenario(chat):
        [intro] = texts(await chat.say("lucia", "/verify"))
        hint = texts(await chat.send("lucia", kind="sticker"))
        return intro, hint

    intro, hint = run_bot(scenario)
    assert "podrías pedir hasta 1.000,00\u00a0USDx en total" in intro
    assert hint == ["Envía una foto de tu documento de identidad (el clip y luego Foto), o "
                    "/cancel para parar."]


def test_an_image_sent_as_a_file_is_accepted_and_another_file_is_refused(run_bot, alice,
                                                                          kyc_folder):
    async def scenario(chat):
        await chat.say("alice", "/verify")
        refused = await chat.send("alice", **image_file(b"%PDF-1.7", "id.pdf",
                                                        "application/pdf"))
        assert texts(refused) == ["This file is not a JPEG or PNG image. Please send it as a "
                                  "photo, or as a JPEG or PNG file."]
        await chat.send("alice", **image_file(png(), "id.png", "image/png"))
        return texts(await chat.send("alice", **photo(jpeg())))

    assert run_bot(scenario)[0].startswith("Thank you: your documents are with")
    request = KycRequest.objects.get(user=alice)
    assert request.documents.get(kind="id_document").content_type == "image/png"


def test_a_file_that_claims_to_be_an_image_but_is_not_is_refused_by_core(run_bot, alice,
                                                                         kyc_folder):
    async def scenario(chat):
        await chat.say("alice", "/verify")
        await chat.send("alice", **image_file(b"not really a png", "id.png", "image/png"))
        return texts(await chat.send("alice", **photo(jpeg())))

    assert run_bot(scenario) == ["Please send a JPEG or PNG image. Send /verify to start "
                                 "again."]
    assert not KycRequest.objects.exists()
    assert not list(kyc_folder.rglob("*.bin"))


def test_a_second_request_is_refused_while_the_first_waits(run_bot, alice, kyc_folder):
    async def scenario(chat):
        await chat.say("alice", "/verify")
        await chat.send("alice", **photo(jpeg()))
        await chat.send("alice", **photo(jpeg("white")))
        return texts(await chat.say("alice", "/verify"))

    assert run_bot(scenario) == ["Your documents are already with our team. You will hear "
                                 "from me as soon as they are checked."]


def test_a_frozen_account_is_refused(run_bot, alice, kyc_folder):
    user_freeze(user=alice, reason="checks")

    async def scenario(chat):
        return texts(await chat.say("alice", "/verify"))

    assert run_bot(scenario) == ["Your account is frozen, so it cannot be verified now."]


def test_the_highest_level_has_nothing_more_to_verify(run_bot, alice, kyc_folder):
    factories.users.user_set_kyc_tier(user=alice, tier=KycTier.ENHANCED)

    async def scenario(chat):
        return texts(await chat.say("alice", "/verify"))

    assert run_bot(scenario) == ["Your account is already at the highest verification level."]


def test_someone_not_onboarded_is_sent_to_start(run_bot, kyc_folder):
    async def scenario(chat):
        chat.meet("bob")
        return texts(await chat.say("bob", "/verify"))

    [reply] = run_bot(scenario)
    assert "/start" in reply
    assert not KycRequest.objects.exists()


def test_cancel_between_the_two_photos_keeps_nothing(run_bot, alice, kyc_folder):
    async def scenario(chat):
        await chat.say("alice", "/verify")
        await chat.send("alice", **photo(jpeg()))
        cancelled = texts(await chat.say("alice", "/cancel"))
        after = texts(await chat.send("alice", **photo(jpeg("white"))))
        return cancelled, after

    cancelled, after = run_bot(scenario)
    assert cancelled == ["Cancelled. Nothing was saved. /help lists what I can do."]
    assert after == ["I can read text messages and button presses only. /help lists what I "
                     "can do."]
    assert not KycRequest.objects.exists() and not list(kyc_folder.rglob("*.bin"))


def test_verify_and_privacy_are_in_help_and_the_command_menu(run_bot):
    from bot.app import publish_commands

    async def scenario(chat):
        chat.meet("bob")
        helped = texts(await chat.say("bob", "/help"))[0]
        await publish_commands(chat.runtime.application)
        return helped, chat.calls("setMyCommands")

    helped, menus = run_bot(scenario)
    assert "/verify — verify your identity to borrow more" in helped
    assert "/privacy — your data: download it or delete it" in helped
    assert len(menus) == 6
    for menu in menus:
        assert {"verify", "privacy"} <= {entry["command"] for entry in menu["params"]["commands"]}


def test_a_real_bot_token_in_a_file_url_is_masked_in_log_lines():
    from core.ops.logs import redact

    line = ("HTTP Request: GET https://api.telegram.org/file/bot123456789:"
            "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/photos/file_7.jpg \"HTTP/1.1 200 OK\"")
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in redact(line)
