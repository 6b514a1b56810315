"""Broadcast benchmark: 3,000 messages to 3,000 people through the notification outbox, against
the local Bot API emulator enforcing Telegram's limits.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/broadcast.py

Creates its own database (lendgram_bench_broadcast_<pid>) on DATABASE_URL's server, migrates
it, creates the people and queues one message for each through core's outbox service
(`notification_enqueue`, one dedupe key per person, six languages). Then the bot delivers the
outbox the way `manage.py runbot` does (bot/outbox.py `deliver_forever`: claims through core's
conditional UPDATE, rendering in each person's language, the one sender of bot/sender.py with
the production limits from settings) to the emulator, which answers 429 with `retry_after`
beyond 30 messages a second overall or 1 a second in one chat, as Telegram does.

`--mode rounds` measures the plain loop of `deliver_outbox_once` calls instead, for comparison.
The emulator runs in a child process, as Telegram is a remote server. Figures: messages per
second from the first request to the last message sent, its ratio to Telegram's 30 a second,
and the 429 answers after the first second. The database is dropped at the end; the last line
is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import scratch  # bench/scratch.py: this script's folder is first on sys.path
from scratch import free_port, postgres_url_or_exit, scratch_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "5555:bench-broadcast-token"
CEILING_PER_S = 30.0  # Telegram: about 30 messages a second overall
LANGUAGES = ["en", "es", "pt-br", "ru", "fa", "hi"]
FIRST_ID = 6_000_000
WARM_UP, WARM_UP_ID = 10, 5_000_000


def queue_messages(count: int, first_id: int) -> None:
    """The people and one reminder each, through core's services (not timed)."""
    from core.notifications.services import notification_enqueue
    from core.users.models import TelegramUser

    TelegramUser.objects.bulk_create(
        TelegramUser(telegram_id=first_id + index, first_name=f"Person {index}",
                     language=LANGUAGES[index % len(LANGUAGES)])
        for index in range(count))
    for index, user in enumerate(TelegramUser.objects.order_by("telegram_id")):
        notification_enqueue(recipient=user, template_key="installment_due_soon",
                             dedupe_key=f"bench:broadcast:{user.pk}",
                             params={"loan_id": 1000 + index, "installment": 1,
                                     "amount": 125_500_000 + index, "due_date": "2026-12-05",
                                     "days_left": 3})


async def deliver(args, emulator_url: str) -> dict:
    from bot import outbox
    from bot.app import build_application
    from bot.dbcall import run_in_db
    from core.notifications.models import OutboxMessage, OutboxStatus

    def unsent() -> int:
        return OutboxMessage.objects.exclude(status=OutboxStatus.SENT).count()

    application = build_application(token=TOKEN, base_url=f"{emulator_url}/bot", journeys=[])
    await application.initialize()
    # Warm both sides (connections, the emulator's first requests), as a bot that has been
    # running would be, then let Telegram's one-second window empty before measuring.
    for index in range(WARM_UP):
        await application.bot.send_message(chat_id=WARM_UP_ID + index, text="warm-up")
    await asyncio.sleep(1.5)
    started = time.time()
    try:
        if args.mode == "rounds":
            while await outbox.deliver_outbox_once(application.bot):
                pass
        else:
            task = asyncio.create_task(outbox.deliver_forever(application.bot, idle_s=0.2))
            while await run_in_db(unsent):
                await asyncio.sleep(0.5)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await application.shutdown()
    return {"started": started, "unsent": await run_in_db(unsent)}


def serve_emulator(port: int, people: int) -> None:
    """The child process: the emulator with Telegram's limits on, as a remote server would be
    (its own process, so its clock of arrivals is not disturbed by the bot's event loop)."""
    from aiohttp import web

    from bot.sandbox.emulator import BotApiEmulator

    emulator = BotApiEmulator(token=TOKEN)
    emulator.state.limit_global_per_s = CEILING_PER_S
    emulator.state.limit_chat_per_s = 1.0
    for index in range(people):  # people who have started the bot
        emulator.person({"id": FIRST_ID + index, "first_name": f"Person {index}"})
    for index in range(WARM_UP):
        emulator.person({"id": WARM_UP_ID + index, "first_name": f"Warm-up {index}"})
    web.run_app(emulator.make_app(), host="127.0.0.1", port=port, access_log=None,
                print=None)


async def _wait_for(url: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the emulator did not start")


async def run(args) -> dict:
    import aiohttp

    port = free_port()
    child = subprocess.Popen([sys.executable, __file__, "--serve-emulator", str(port),
                              "--messages", str(args.messages)], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_for(f"{base}/_emu/health")
        cpu = time.process_time()
        outcome = await deliver(args, base)
        cpu = time.process_time() - cpu
        async with aiohttp.ClientSession() as http, http.get(f"{base}/_emu/calls") as response:
            calls = [call for call in await response.json() if call["method"] == "sendMessage"
                     and int(call["params"]["chat_id"]) >= FIRST_ID]
    finally:
        child.terminate()
        child.wait(30)
    if os.environ.get("BENCH_DUMP"):
        Path(os.environ["BENCH_DUMP"]).write_text(json.dumps(calls))
    sent = [call for call in calls if call["ok"]]
    started = outcome["started"]
    elapsed = max(call["at"] for call in sent) - started
    throttled = [call for call in calls if call["error_code"] == 429]
    return {
        "messages": len(sent),
        "distinct_chats": len({call["params"]["chat_id"] for call in sent}),
        "unsent": outcome["unsent"],
        "seconds": elapsed,
        "messages_per_s": len(sent) / elapsed,
        "http_429": len(throttled),
        "http_429_after_first_second": sum(call["at"] > started + 1.0 for call in throttled),
        "cpu_ms_per_message": cpu / max(len(sent), 1) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3_000)
    parser.add_argument("--mode", choices=["pipeline", "rounds"], default="pipeline")
    parser.add_argument("--serve-emulator", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_emulator:
        serve_emulator(args.serve_emulator, args.messages)
        return

    base_url = postgres_url_or_exit("broadcast")
    with scratch_database(base_url, "broadcast") as name:
        os.environ["DATABASE_URL"] = scratch.database_url(base_url, name, "conn_max_age=600")
        os.environ.pop("REDIS_URL", None)
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django
        from django.core.management import call_command

        django.setup()
        import logging

        logging.getLogger("httpx").setLevel(logging.WARNING)
        call_command("migrate", verbosity=0)
        queue_messages(args.messages, first_id=FIRST_ID)
        from django.db import connections

        connections.close_all()
        figures = asyncio.run(run(args))
        connections.close_all()

    ratio = figures["messages_per_s"] / CEILING_PER_S
    print(f"{args.mode}: {figures['messages']} messages to {figures['distinct_chats']} chats in "
          f"{figures['seconds']:.1f} s: {figures['messages_per_s']:.2f}/s "
          f"({ratio:.3f} of Telegram's {CEILING_PER_S:.0f}/s); 429 answers: "
          f"{figures['http_429']} ({figures['http_429_after_first_second']} after the first "
          f"second); unsent: {figures['unsent']}; CPU {figures['cpu_ms_per_message']:.2f} ms "
          "per message (the bot's process)")
    print(f"goals: ratio >= 0.95 ({ratio:.3f}); no 429 after the first second "
          f"({figures['http_429_after_first_second']})")
    print(json.dumps({"messages_per_s": round(figures["messages_per_s"], 2),
                      "ratio_vs_ceiling": round(ratio, 3),
                      "http_429_after_first_second": figures["http_429_after_first_second"]}))


if __name__ == "__main__":
    main()
