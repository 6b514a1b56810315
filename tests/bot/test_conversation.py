"""Conversation state lives in the database: restarts, second processes and stale buttons
never lose or corrupt what a person was doing."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.db import DatabaseError

from bot import callbacks
from core.chat.models import ChatSession, ReceivedUpdate, UpdateStatus
from core.users.models import TelegramUser
from tests.bot.harness import PEOPLE, Chat, button_data, db, refusing, start_runtime


def test_start_creates_the_person_and_greets_in_their_language(run_bot):
    async def scenario(chat):
        replies = await chat.say("lucia", "/start")
        assert len(replies) == 1
        assert replies[0]["text"].startswith("¡Hola, Lucía!")
        assert "¿En qué idioma te escribo?" in replies[0]["text"]
        assert "inline_keyboard" in replies[0]["reply_markup"]
        person = await db(TelegramUser.objects.get, telegram_id=PEOPLE["lucia"]["id"])
        assert person.language == "es"

    run_bot(scenario)


def test_choosing_a_language_changes_how_the_bot_speaks(run_bot):
    async def scenario(chat):
        replies = await chat.say("alice", "/language")
        done = await chat.press("alice", replies[-1], "Русский")
        assert "Готово" in done[-1]["text"]
        assert (await db(TelegramUser.objects.get, telegram_id=1001)).language == "ru"
        assert "Вот что я умею" in (await chat.say("alice", "/help"))[-1]["text"]

    run_bot(scenario)


def test_a_restart_in_the_middle_of_a_conversation_loses_nothing(db, emulator):
    async def first_process():
        runtime = await start_runtime(emulator)
        chat = Chat(emulator, runtime)
        await chat.say("alice", "/calc")
        replies = await chat.say("alice", "1500")
        await runtime.stop()  # the process goes away between two messages
        return replies[-1]

    async def second_process(term_message):
        runtime = await start_runtime(emulator)
        chat = Chat(emulator, runtime)
        try:
            return await chat.press("alice", term_message, "6 months")
        finally:
            await runtime.stop()

    term_message = async_to_sync(first_process)()
    session = ChatSession.objects.get(user_id=1001)
    assert session.step == "calc.term" and session.draft == {"amount": 1_500_000_000}
    replies = async_to_sync(second_process)(term_message)
    assert "Estimate for 1,500.00\u00a0USDx over 6 installments" in replies[-1]["text"]
    assert ChatSession.objects.get(user_id=1001).step == ""


def test_two_bot_processes_share_the_load_on_one_database(db, emulator):
    async def scenario():
        first, second = await start_runtime(emulator), await start_runtime(emulator)
        try:
            chat_a, chat_b = Chat(emulator, first), Chat(emulator, second)
            await chat_a.say("alice", "/calc")  # process A takes the first message ...
            replies = await chat_b.say("alice", "250,5")  # ... process B the next one
            assert replies[-1]["text"].startswith("250.50")
            replies = await chat_a.press("alice", replies[-1], "3 months")
            assert "over 3 installments" in replies[-1]["text"]
        finally:
            await first.stop()
            await second.stop()

    async_to_sync(scenario)()


def test_cancel_works_in_every_state(run_bot):
    async def scenario(chat):
        assert "nothing to cancel" in (await chat.say("alice", "/cancel"))[-1]["text"]
        await chat.say("alice", "/calc")
        assert "Cancelled" in (await chat.say("alice", "/cancel"))[-1]["text"]
        await chat.say("alice", "/calc")
        await chat.say("alice", "100")
        assert "Cancelled" in (await chat.say("alice", "/cancel"))[-1]["text"]
        assert (await db(ChatSession.objects.get, user_id=1001)).step == ""
        assert "did not understand" in (await chat.say("alice", "100"))[-1]["text"]

    run_bot(scenario)


def test_a_stale_button_gets_a_clear_answer_and_changes_nothing(run_bot):
    async def scenario(chat):
        await chat.say("alice", "/calc")
        old_terms = (await chat.say("alice", "100"))[-1]
        await chat.say("alice", "/cancel")
        await chat.say("alice", "/calc")
        await chat.say("alice", "200")
        before = await db(ChatSession.objects.values("step", "draft", "nonce").get, user_id=1001)
        replies = await chat.press("alice", old_terms, "6 months")
        assert replies == []
        assert "no longer active" in chat.callback_answers()[-1]["text"]
        after = await db(ChatSession.objects.values("step", "draft", "nonce").get, user_id=1001)
        assert after == before

    run_bot(scenario)


def test_a_forged_button_gets_a_clear_answer_and_changes_nothing(run_bot):
    async def scenario(chat):
        await chat.say("alice", "/calc")
        terms = (await chat.say("alice", "100"))[-1]
        real = button_data(terms, "6 months")
        before = await db(ChatSession.objects.values("step", "draft").get, user_id=1001)
        forged = [real.replace("term|6", "term|7"), "1|calc|AAAAAAAA|term|6", "2|calc|x",
                  "garbage", callbacks.encode("lang", "xx"), "1|lang", "1|calc|" + "A" * 40]
        for data in forged:
            assert await chat.press("alice", terms, data=data) == []
        answers = [a.get("text", "") for a in chat.callback_answers()]
        assert len(answers) == len(forged) and all(answers)
        assert await db(ChatSession.objects.values("step", "draft").get, user_id=1001) == before
        assert (await db(TelegramUser.objects.get, telegram_id=1001)).language == "en"

    run_bot(scenario)


def test_another_persons_button_press_does_not_move_my_conversation(run_bot):
    async def scenario(chat):
        await chat.say("alice", "/calc")
        alices_terms = (await chat.say("alice", "100"))[-1]
        await chat.say("bob", "/help")
        # Bob replays Alice's button data in his own chat.
        assert await chat.press("bob", alices_terms,
                                data=button_data(alices_terms, "6 months")) == []
        assert (await db(ChatSession.objects.get, user_id=1001)).step == "calc.term"

    run_bot(scenario)


def test_an_ambiguous_amount_is_asked_back_never_guessed(run_bot):
    async def scenario(chat):
        await chat.say("lucia", "/calc")
        question = (await chat.say("lucia", "1.234"))[-1]
        assert question["text"] == "¿Querías decir 1.234,00\u00a0USDx o 1,234\u00a0USDx?"
        assert (await db(ChatSession.objects.get, user_id=1101)).draft == {}
        replies = await chat.press("lucia", question, "1,234")
        assert replies[-1]["text"].startswith("1,234\u00a0USDx. ¿En cuántas cuotas")
        assert (await db(ChatSession.objects.get, user_id=1101)).draft == {"amount": 1_234_000}

    run_bot(scenario)


def test_a_step_is_kept_only_with_its_update_marked_handled(run_bot):
    """If marking the update handled fails, the step it led to is not kept either: the
    update is handled again from the step it started in, and the person is asked again."""
    async def scenario(chat):
        await chat.say("alice", "/calc")
        async with refusing("UPDATE chat_receivedupdate SET status",
                            DatabaseError("connection lost")):
            replies = await chat.say("alice", "100")
        assert "months" in str(replies[-1]["reply_markup"]), "the answer went out"
        assert (await db(ChatSession.objects.get, user_id=1001)).step == "calc.amount"
        pending = await db(ReceivedUpdate.objects.get, chat_id=1001,
                           status=UpdateStatus.PENDING)
        assert await chat.runtime.dispatcher.sweep_once() == 1
        await chat.runtime.dispatcher.idle()
        assert (await db(ReceivedUpdate.objects.get, update_id=pending.update_id)).status == (
            UpdateStatus.HANDLED)
        session = await db(ChatSession.objects.get, user_id=1001)
        assert (session.step, session.draft) == ("calc.term", {"amount": 100_000_000})
        asked_again = chat.messages("alice")[-1]
        assert asked_again["message_id"] != replies[-1]["message_id"]
        replies = await chat.press("alice", asked_again, "6 months")
        assert "over 6 installments" in replies[-1]["text"]

    run_bot(scenario)
