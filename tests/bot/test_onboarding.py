"""/start onboards a person step by step — language, role, terms, their own phone, a wallet
linked by signing — skips what is done on a second /start, and handles deep links."""

from __future__ import annotations

import pytest
from eth_account import Account

from core.chat.models import ChatSession
from core.users.models import KycTier, TelegramUser
from tests import factories
from tests.bot.harness import PEOPLE, db, new_person
from tests.bot.wallets import deliver_outbox, follow_signing_link
from tests.chain import dev_key

pytestmark = pytest.mark.django_db


def reply_markups(chat, person: dict) -> list[dict]:
    """The reply_markup of every sendMessage to this person (reply keyboards included, which
    the emulator does not keep on the message)."""
    return [call["params"].get("reply_markup") for call in chat.calls("sendMessage")
            if call["params"].get("chat_id") == person["id"]]


def test_a_new_borrower_onboards_in_english_and_only_their_own_contact_counts(run_bot):
    alice, key = PEOPLE["alice"], dev_key(20)

    async def scenario(chat):
        replies = await chat.say(alice, "/start")
        assert replies[0]["text"].startswith("Hello, Alice!")
        assert "✓ English" in str(replies[0]["reply_markup"])  # preselected from Telegram

        replies = await chat.press(alice, replies[-1], "English")
        assert replies[0]["text"] == "I will write to you in English."
        assert "What would you like to do?" in replies[-1]["text"]

        replies = await chat.press(alice, replies[-1], "Borrow money")
        assert replies[0]["text"] == "You want to borrow."
        assert "Our terms, in short:" in replies[-1]["text"]

        replies = await chat.press(alice, replies[-1], "I accept")
        assert "share your phone number" in replies[-1]["text"]
        keyboard = reply_markups(chat, alice)[-1]
        assert keyboard["keyboard"][0][0]["request_contact"] is True

        # Someone else's contact card, forwarded: refused, nothing kept, the button again.
        replies = await chat.send(alice, kind="contact", phone="+15559999999",
                                  contact_user_id=424242)
        assert "not your own contact" in replies[-1]["text"]
        assert reply_markups(chat, alice)[-1]["keyboard"][0][0]["request_contact"] is True
        assert (await db(TelegramUser.objects.get, telegram_id=alice["id"])).phone == ""

        replies = await chat.say(alice, "+1 555 123 4567")  # typed: the button is needed
        assert "use the button" in replies[-1]["text"]

        replies = await chat.send(alice, kind="contact", phone="+15551234567")
        assert replies[0]["text"] == "Thank you, your phone number is saved."
        assert reply_markups(chat, alice)[-2] == {"remove_keyboard": True}
        assert replies[1]["text"].startswith("Last step: link your wallet.")
        assert any("photo" in message for message in replies)  # the QR code

        request = await follow_signing_link(None, key, replies)
        assert request.status == "confirmed"
        await deliver_outbox(chat)
        linked = chat.messages(alice)[-1]["text"]
        assert linked.startswith("Your wallet 0x") and "/borrow" in linked

        person = await db(TelegramUser.objects.get, telegram_id=alice["id"])
        assert person.phone == "+15551234567" and person.is_borrower and not person.is_lender
        assert person.wallet_address == Account.from_key(key).address
        assert person.kyc_tier == KycTier.BASIC

        # A second /start skips everything done: welcome back, what next, the share link.
        replies = await chat.say(alice, "/start")
        assert len(replies) == 1
        text = replies[0]["text"]
        assert text.startswith("Welcome back, Alice!") and "/borrow" in text
        assert f"https://t.me/LendgramBot?start=ref_{person.referral_code}" in text
        assert person.referral_code == ""  # made on first use, by that /start
        assert (await db(TelegramUser.objects.get, pk=person.pk)).referral_code

    run_bot(scenario)


def test_a_persian_lender_onboards_right_to_left_in_persian(run_bot):
    reza, key = PEOPLE["reza"], dev_key(21)

    async def scenario(chat):
        replies = await chat.say(reza, "/start")
        assert replies[0]["text"].startswith("سلام رضا!")
        assert "✓ فارسی" in str(replies[0]["reply_markup"])
        replies = await chat.press(reza, replies[-1], "فارسی")
        assert replies[0]["text"] == "از این پس به فارسی برایتان می‌نویسم."
        replies = await chat.press(reza, replies[-1], data=replies[-1]["reply_markup"][
            "inline_keyboard"][0][1]["callback_data"])  # lend
        assert replies[0]["text"] == "می‌خواهید وام بدهید."
        replies = await chat.press(reza, replies[-1], "می‌پذیرم")
        replies = await chat.send(reza, kind="contact", phone="+989121234567",
                                  contact_user_id=99)
        assert "مخاطب خودتان نیست" in replies[-1]["text"]
        replies = await chat.send(reza, kind="contact", phone="+989121234567")
        assert replies[0]["text"] == "سپاس، شماره تلفن شما ذخیره شد."
        await follow_signing_link(None, key, replies)
        await deliver_outbox(chat)
        linked = chat.messages(reza)[-1]["text"]
        assert linked.startswith("کیف پول شما") and "/lend" in linked
        text = (await chat.say(reza, "/start"))[0]["text"]
        assert text.startswith("خوش برگشتید، رضا!") and "/portfolio" in text

    run_bot(scenario)


def test_changing_the_language_during_onboarding_switches_at_once(run_bot):
    person = new_person("en")

    async def scenario(chat):
        replies = await chat.say(person, "/start")
        replies = await chat.press(person, replies[-1], "Español")
        assert replies[0]["text"] == "Te escribiré en Español."
        assert "¿Qué te gustaría hacer?" in replies[-1]["text"]
        assert (await db(TelegramUser.objects.get, telegram_id=person["id"])).language == "es"

    run_bot(scenario)


def test_declining_the_terms_keeps_nothing_and_start_asks_again(run_bot):
    person = new_person("en")

    async def scenario(chat):
        replies = await chat.say(person, "/start")
        replies = await chat.press(person, replies[-1], "English")
        replies = await chat.press(person, replies[-1], "Both")
        replies = await chat.press(person, replies[-1], "I do not accept")
        assert "Without accepting the terms" in replies[-1]["text"]
        user = await db(TelegramUser.objects.get, telegram_id=person["id"])
        assert user.consented_at is None
        replies = await chat.say(person, "/start")
        assert "Our terms, in short:" in replies[-1]["text"]  # language and role are done

    run_bot(scenario)


def test_cancel_in_the_middle_of_each_step_stops_and_start_resumes(run_bot):
    person = new_person("en")
    path = ["English", "Borrow money", "I accept"]

    async def scenario(chat):
        for depth, label in enumerate(path):
            replies = await chat.say(person, "/start")
            for earlier in path[:depth]:
                replies = await chat.press(person, replies[-1], earlier)
            stopped = await chat.say(person, "/cancel")
            assert stopped[-1]["text"].startswith("Cancelled.")
            assert not await db(ChatSession.objects.filter(user_id=person["id"]).exclude(
                step="").exists)
            # The buttons of the cancelled step change nothing now.
            assert await chat.press(person, replies[-1], label) == []
            assert "no longer active" in chat.callback_answers()[-1]["text"]
        user = await db(TelegramUser.objects.get, telegram_id=person["id"])
        assert user.is_borrower and user.consented_at is None
        replies = await chat.say(person, "/start")  # language and role are done: the terms
        replies = await chat.press(person, replies[-1], "I accept")
        assert "share your phone number" in replies[-1]["text"]
        assert (await chat.say(person, "/cancel"))[-1]["text"].startswith("Cancelled.")
        replies = await chat.send(person, kind="contact", phone="+15551234567")
        assert "not expecting a contact" in replies[-1]["text"]
        assert (await db(TelegramUser.objects.get, telegram_id=person["id"])).phone == ""

    run_bot(scenario)


def test_a_forged_onboarding_button_changes_nothing(run_bot):
    person = new_person("en")

    async def scenario(chat):
        replies = await chat.say(person, "/start")
        await chat.press(person, replies[-1], data="1|onb|forged|role|bl")
        await chat.press(person, replies[-1], data="1|onb|x|lang|zz")
        user = await db(TelegramUser.objects.get, telegram_id=person["id"])
        assert not user.is_borrower and not user.is_lender
        assert all("no longer active" in answer["text"] for answer in chat.callback_answers())

    run_bot(scenario)


def test_a_referral_link_records_who_invited_once_and_never_oneself(run_bot):
    inviter = factories.lender(telegram_id=6001, username="inviter")
    newcomer, other = new_person("en"), new_person("en")

    async def scenario(chat):
        from core.users.services import user_referral_code

        code = await db(user_referral_code, user=inviter)
        await chat.say(newcomer, f"/start ref_{code}")
        second = await db(factories.lender, telegram_id=6002, username="second")
        await chat.say(newcomer, f"/start ref_{await db(user_referral_code, user=second)}")
        user = await db(TelegramUser.objects.get, telegram_id=newcomer["id"])
        assert user.referred_by_id == inviter.pk  # the first invitation counts, once

        own = await db(user_referral_code, user=user)
        await chat.say(other, "/start ref_unknown1")
        await chat.say(newcomer, f"/start ref_{own}")
        assert (await db(TelegramUser.objects.get, telegram_id=other["id"])).referred_by_id is None
        assert (await db(TelegramUser.objects.get, pk=user.pk)).referred_by_id == inviter.pk

    run_bot(scenario)
