"""Whatever arrives, in whatever state, the person gets a helpful answer and nothing crashes."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.guard import FloodGate
from tests.bot.harness import PEOPLE

SORRY = "Sorry, something went wrong"


@pytest.mark.parametrize(("body", "expected"), [
    ({"text": "/frobnicate"}, "I do not know the command /frobnicate"),
    ({"text": "hello there"}, "I did not understand that"),
    ({"kind": "sticker"}, "I can read text messages and button presses only"),
    ({"kind": "photo", "caption": "my id"}, "I can read text messages and button presses only"),
    ({"kind": "location"}, "I can read text messages and button presses only"),
    ({"kind": "contact"}, "I was not expecting a contact here"),
    ({"kind": "edited", "text": "/calc"}, "I read new messages only, not edits"),
])
def test_every_kind_of_message_gets_a_helpful_reply(run_bot, body, expected):
    async def scenario(chat):
        replies = await chat.send("alice", **body)
        assert len(replies) == 1 and expected in replies[0]["text"]

    run_bot(scenario)


def test_a_sticker_in_the_middle_of_a_question_repeats_the_question(run_bot):
    async def scenario(chat):
        await chat.say("alice", "/calc")
        replies = await chat.send("alice", kind="sticker")
        assert "Type only the number, for example" in replies[-1]["text"]
        assert (await chat.say("alice", "10"))[-1]["text"].startswith("10.00")

    run_bot(scenario)


def test_updates_nobody_answers_are_taken_quietly(run_bot, caplog):
    updates = [
        {"inline_query": {"id": "1", "from": {**PEOPLE["alice"], "is_bot": False},
                          "query": "loan", "offset": ""}},
        {"channel_post": {"message_id": 1, "date": 1, "text": "news",
                          "chat": {"id": -100123, "type": "channel", "title": "Loans"}}},
        {"message": {"message_id": 1, "date": 1, "text": "hi all",
                     "from": {**PEOPLE["alice"], "is_bot": False},
                     "chat": {"id": -42, "type": "group", "title": "Friends"}}},
    ]

    async def scenario(chat):
        for update in updates:
            assert await chat.send("alice", kind="raw", update=update) == []

    with caplog.at_level(logging.ERROR):
        run_bot(scenario)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_flood_gets_one_polite_answer_and_then_quiet(run_bot):
    async def scenario(chat):
        for _ in range(3):
            chat.push({"user": PEOPLE["bob"], "text": "/help"})
        for _ in range(5):
            chat.push({"user": PEOPLE["bob"], "text": "spam"})
        await chat.deliver()
        texts = [m["text"] for m in chat.messages("bob")]
        assert sum("Here is what I can do" in t for t in texts) == 3
        assert sum("faster than I can read" in t for t in texts) == 1
        assert len(texts) == 4
        # Other people are not held back by Bob's flood.
        assert "Here is what I can do" in (await chat.say("alice", "/help"))[-1]["text"]

    run_bot(scenario, flood_gate=FloodGate(max_updates=3, window_s=60))


def test_the_flood_window_lets_people_back_in():
    gate = FloodGate(max_updates=2, window_s=10)
    assert [gate.check(7, now=t) for t in (0, 1, 2, 3)] == ["ok", "ok", "warn", "drop"]
    assert gate.check(7, now=11) == "ok"


# --- fuzzing: random people doing random things in random states ----------------------------

people = st.sampled_from([PEOPLE["alice"], PEOPLE["reza"], PEOPLE["lucia"], PEOPLE["priya"]])
texts = st.one_of(
    st.sampled_from(["/start", "/help", "/calc", "/cancel", "/language", "/borrow", "/start x",
                     "/calc@lendgram_bot", "/", "1.234", "1,234", "250", "۱۲۳", "१२३", "0",
                     "-5", "9" * 30, "12,34,567.5", "1 234,5"]),
    st.text(min_size=1, max_size=40).filter(lambda t: t.strip()),
)
button_data = st.one_of(st.sampled_from(["1|lang|fa", "1|lang|zz", "1|calc|x|term|6",
                                         "1|calc|x|amt|5", "2|x", "junk"]),
                        st.text(min_size=1, max_size=64))
actions = st.one_of(
    st.builds(lambda t: {"text": t}, texts),
    st.builds(lambda d: {"kind": "callback", "callback_data": d, "message_id": 1}, button_data),
    st.just({"kind": "latest_button"}),
    st.sampled_from([{"kind": "sticker"}, {"kind": "photo"}, {"kind": "contact"},
                     {"kind": "location"}, {"kind": "edited", "text": "x"}]),
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(people, actions), min_size=1, max_size=8))
def test_random_updates_in_every_state_never_crash_or_go_unanswered(run_bot, caplog, steps):
    async def scenario(chat):
        for person, action in steps:
            before = len(chat.messages(person))
            answers_before = len(chat.callback_answers())
            if action.get("kind") == "latest_button":
                with_buttons = [m for m in chat.messages(person)
                                if any("callback_data" in button for row in
                                       m.get("reply_markup", {}).get("inline_keyboard", [])
                                       for button in row)]
                if not with_buttons:
                    continue
                await chat.press(person, with_buttons[-1])
            else:
                await chat.send(person, **action)
            new = chat.messages(person)[before:]
            pressed = action.get("kind") in ("callback", "latest_button")
            answered = len(chat.callback_answers()) > answers_before
            assert new or (pressed and answered), (action, new)
            assert not any(SORRY in m.get("text", "") for m in new)

    caplog.clear()
    with caplog.at_level(logging.ERROR):
        run_bot(scenario, flood_gate=FloodGate(max_updates=10_000, window_s=1))
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors
