"""The one sender: Telegram's limits, 429 storms, network trouble and people who blocked the bot."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from asgiref.sync import async_to_sync
from telegram.error import BadRequest, Forbidden

from bot.sender import Sender, _GlobalPace, _Pacer
from core.users.models import TelegramUser
from tests.bot.harness import PEOPLE, db


def fault(chat, **body) -> None:
    from bot.sandbox.emulator import Fault

    chat.emulator.call(lambda: chat.emulator.emulator.state.faults.append(Fault(**body)))


def test_the_pacer_smooths_a_burst_to_the_configured_rate():
    pacer = _Pacer(rate=1.0, burst=3)
    waits = [pacer.reserve(now=100.0) for _ in range(6)]
    assert waits[:3] == [0.0, 0.0, 0.0]  # a short burst goes at once
    assert waits[3:] == [1.0, 2.0, 3.0]  # then one a second


def test_the_pacer_refills_after_a_quiet_spell():
    pacer = _Pacer(rate=30.0)
    assert [round(pacer.reserve(now=0.0), 4) for _ in range(3)] == [0.0, 0.0333, 0.0667]
    assert pacer.reserve(now=10.0) == 0.0


def _leave_times(pace: _GlobalPace, requests: int, *, stall_every: int = 0) -> list[float]:
    """Send `requests` through the pace from as many tasks, the event loop blocked for 80 ms
    every `stall_every` requests (rendering, a slow database call), as a busy bot's is."""
    left: list[float] = []

    async def one() -> None:
        await pace.pass_()
        left.append(time.monotonic())
        if stall_every and len(left) % stall_every == 0:
            time.sleep(0.08)  # blocks the loop on purpose

    async def run() -> None:
        await asyncio.gather(*(one() for _ in range(requests)))

    asyncio.run(run())
    return left


def test_the_global_pace_keeps_telegrams_sliding_second_even_after_the_loop_stalls():
    left = _leave_times(_GlobalPace(rate=29), 75, stall_every=10)
    # Telegram refuses a 31st message inside any second: 30 consecutive ones must span more
    # than a second, with room for the network's jitter (half an interval here).
    spans = [left[i + 30] - left[i] for i in range(len(left) - 30)]
    assert min(spans) >= 1.0 + 0.5 / 29 - 0.002
    gaps = [b - a for a, b in itertools.pairwise(left)]
    assert min(gaps) >= 0.5 / 29 - 0.002  # a stall does not release a bunch at once
    assert len(left) / (left[-1] - left[0]) > 27  # and the pace stays close to the rate


def test_the_global_pace_waits_out_a_hold_after_a_429():
    pace = _GlobalPace(rate=29)
    pace.hold(time.monotonic() + 0.3)
    started = time.monotonic()
    left = _leave_times(pace, 2)
    assert left[0] - started >= 0.29


def test_a_429_storm_is_ridden_out_with_retry_after_and_every_message_arrives(run_bot):
    async def scenario(chat):
        await chat.say("alice", "/help")
        fault(chat, method="sendMessage", count=3, code=429,
              description="Too Many Requests: retry after 1", retry_after=1)
        replies = await chat.say("alice", "/help")
        assert "Here is what I can do" in replies[-1]["text"]
        attempts = [c for c in chat.calls("sendMessage")][-4:]
        assert [c["error_code"] for c in attempts] == [429, 429, 429, None]
        assert chat.runtime.application.bot.rate_limiter.retries == 3

    run_bot(scenario)


def test_it_waits_out_telegrams_flood_limit_instead_of_dropping_messages(run_bot):
    async def scenario(chat):
        await chat.say("alice", "/start")
        chat.emulator.call(lambda: setattr(chat.emulator.emulator.state, "limit_chat_per_s", 1))
        chat.push({"user": PEOPLE["alice"], "text": "/help"})
        chat.push({"user": PEOPLE["alice"], "text": "/help"})  # two answers in a row
        await chat.deliver()
        assert [m["text"][:21] for m in chat.messages("alice")[-2:]] == [
            "Here is what I can do"] * 2
        assert any(c["error_code"] == 429 for c in chat.calls("sendMessage"))

    run_bot(scenario)


def test_transient_network_errors_are_retried_with_backoff(run_bot):
    async def scenario(chat):
        await chat.say("alice", "/help")
        fault(chat, method="sendMessage", count=2, code=502, description="Bad Gateway")
        replies = await chat.say("alice", "/help")
        assert "Here is what I can do" in replies[-1]["text"]

    run_bot(scenario)


def test_it_handles_a_blocked_user_by_marking_them_unreachable(run_bot):
    async def scenario(chat):
        await chat.say("alice", "/help")
        chat.emulator.call(lambda: setattr(chat.emulator.emulator.state.people[1001],
                                           "blocked_bot", True))
        calls_before = len(chat.calls("sendMessage"))
        await chat.say("alice", "/help")  # the reply is refused: no retry loop, no crash
        assert len(chat.calls("sendMessage")) == calls_before + 1
        person = await db(TelegramUser.objects.get, telegram_id=1001)
        assert person.unreachable_since is not None

    run_bot(scenario)


def test_blocking_the_bot_is_noticed_from_telegrams_membership_update(run_bot):
    async def scenario(chat):
        await chat.say("bob", "/start")
        chat.emulator.call(lambda: setattr(chat.emulator.emulator.state.people[1002],
                                           "blocked_bot", True))
        await chat.send("bob", kind="raw", update={"my_chat_member": {
            "chat": {"id": 1002, "type": "private", "first_name": "Bob"},
            "from": {**PEOPLE["bob"], "is_bot": False}, "date": 1_700_000_000,
            "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True,
                                                             "first_name": "L"}},
            "new_chat_member": {"status": "kicked", "until_date": 0,
                                "user": {"id": 1, "is_bot": True, "first_name": "L"}}}})
        assert (await db(TelegramUser.objects.get, telegram_id=1002)).unreachable_since

    run_bot(scenario)


def test_permanent_errors_are_raised_at_once_not_retried(db, emulator):
    from tests.bot.harness import TOKEN

    async def scenario():
        from telegram.ext import ExtBot

        sender = Sender(global_rate=1000, chat_rate=1000, chat_burst=10)
        bot = ExtBot(TOKEN, base_url=emulator.api_base_url, rate_limiter=sender)
        async with bot:
            with pytest.raises(BadRequest):
                await bot.send_message(31337, "nobody is here")
            emulator.call(emulator.emulator.person, PEOPLE["olga"])
            emulator.call(lambda: setattr(emulator.emulator.state.people[1103], "blocked_bot",
                                          True))
            with pytest.raises(Forbidden):
                await bot.send_message(1103, "hello")
        return sender.retries

    assert async_to_sync(scenario)() == 0


def test_in_flight_slots_are_handed_out_first_come_first_served():
    import asyncio

    from bot.sender import FairSlots

    async def scenario():
        slots, order = FairSlots(1), []

        async def request(name: str) -> None:
            async with slots:
                order.append(name)
                await asyncio.sleep(0)

        first = asyncio.create_task(request("first"))
        await asyncio.sleep(0)  # "first" holds the only slot
        waiting = [asyncio.create_task(request(f"waiter{i}")) for i in range(3)]
        await asyncio.sleep(0)
        late = asyncio.create_task(request("late"))  # arrives last, must not jump the queue
        await asyncio.gather(first, *waiting, late)
        return order

    assert async_to_sync(scenario)() == ["first", "waiter0", "waiter1", "waiter2", "late"]
