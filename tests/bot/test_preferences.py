"""/settings through the emulator: reminders off and on again (kept in the database), the
language shortcut, adding the lender role, and forged buttons refused."""

from __future__ import annotations

import pytest

from core.users.models import TelegramUser
from core.users.services import user_set_language
from tests import factories
from tests.bot.harness import PEOPLE, db
from tests.bot.test_lend import last_alert, plain, press

pytestmark = pytest.mark.django_db


def test_a_borrower_turns_reminders_off_and_it_stays_off(run_bot):
    user_set_language(user=factories.borrower(telegram_id=PEOPLE["lucia"]["id"],
                                              username="lucia"), language="es")

    async def scenario(chat):
        [shown] = await chat.say("lucia", "/settings")
        assert plain(shown) == "\n".join([
            "Tus ajustes:",
            "Recordatorios antes de cada vencimiento y el mismo día: activados",
            "Idioma: Español", "Roles: prestatario"])
        [changed] = await press(chat, "lucia", shown, "1|set|rem|0")
        assert changed["message_id"] == shown["message_id"]
        assert last_alert(chat) == "Guardado."
        stored = await db(TelegramUser.objects.get, telegram_id=PEOPLE["lucia"]["id"])
        assert stored.reminders_enabled is False

        [again] = await chat.say("lucia", "/settings")
        assert "Recordatorios antes de cada vencimiento y el mismo día: desactivados" in plain(
            again)
        assert "1|set|rem|1" in str(again["reply_markup"])

        [with_role] = await press(chat, "lucia", again, "1|set|role|bl")
        stored = await db(TelegramUser.objects.get, telegram_id=PEOPLE["lucia"]["id"])
        assert (stored.is_borrower, stored.is_lender) == (True, True)
        assert "1|set|role" not in str(with_role["reply_markup"])

        [languages] = await press(chat, "lucia", with_role, "1|set|lang")
        assert "1|lang|fa" in str(languages["reply_markup"])

        for forged in ("1|set|rem|7", "1|set|role|l", "1|set|zzz"):
            assert await chat.press("lucia", again, data=forged) == []
            assert "/settings" in last_alert(chat)
        stored = await db(TelegramUser.objects.get, telegram_id=PEOPLE["lucia"]["id"])
        assert (stored.reminders_enabled, stored.is_lender) == (False, True)

    run_bot(scenario)
