"""Bot platform benchmark: the Lendgram bot against a bare python-telegram-bot echo bot, both
fed through a webhook by HTTP, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/bot.py

Creates its own database (lendgram_bench_bot_<pid>) on DATABASE_URL's server and migrates it;
starts the local Bot API emulator in this process and Django under uvicorn in a child process
(one worker, like one web process in production). Then many simulated people, each waiting
for the bot's answer before their next step as people do, replay mixed updates — commands,
amounts typed the way their language writes them, button presses, stickers, free text, edits,
unknown commands — across the platform journeys:

1. through `/telegram/webhook/`: secret check, durable dedupe in PostgreSQL, per-chat
   ordering, the person and their conversation loaded from and saved to the database, the
   journeys' handlers, replies through the sender;
2. through `/bench/echo/`, a webhook view of the same Django process that hands each update to
   a bare python-telegram-bot application answering every message with one message.

Throughput is measured with 64 people at once (the web process always busy); latency, from
the POST leaving here to the bot's first answer reaching the emulator, is measured in a third
phase with 4 people at once, since at full load latency is only the queue. The
sender's Telegram limits (30/s, 1/s per chat) and the per-person flood limit are lifted for
the run: with them the figures would measure Telegram's limits, not the bot. The database is
dropped at the end; the last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import scratch  # bench/scratch.py: this script's folder is first on sys.path
from scratch import free_port, postgres_url_or_exit, scratch_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "5555:bench-token"
SECRET = "bench-secret"
LANGUAGES = ["en", "es", "pt-br", "ru", "fa", "hi"]
QUIET_S = 0.03  # a person reads the answer before the next step


# --- the server child: Django (the real webhook) plus an echo webhook -------------------------


def serve(port: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import logging

    import uvicorn
    from telegram import Update
    from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

    from bot.webhook import DirectWebhook
    from config.asgi import application

    logging.getLogger("httpx").setLevel(logging.WARNING)
    base_url = os.environ["TELEGRAM_API_BASE_URL"]
    # python-telegram-bot's own HTTP client, with the pool size and timeout of the Lendgram
    # application (bot/app.py). Not bot/http.py's pool: it relies on the Sender capping the
    # requests in flight below the pool size, and a bare bot with 64 requests queued on it was
    # slower (241/s vs 345/s), which would flatter the ratio.
    echo = (Application.builder().token(TOKEN).base_url(base_url).updater(None)
            .connection_pool_size(16).pool_timeout(30).build())

    async def echo_message(update, context) -> None:
        await update.effective_chat.send_message(update.effective_message.text or "echo")

    async def echo_button(update, context) -> None:
        await update.callback_query.answer("echo")

    echo.add_handler(MessageHandler(filters.ALL, echo_message))
    echo.add_handler(CallbackQueryHandler(echo_button))
    started = asyncio.Event()
    starting: list[bool] = []
    tasks: set[asyncio.Task] = set()

    async def echo_receive(data: dict) -> None:
        if not started.is_set():
            if not starting:
                starting.append(True)
                await echo.initialize()
                started.set()
            await started.wait()
        task = asyncio.create_task(echo.process_update(Update.de_json(data, echo.bot)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    # Production's ASGI application (core/asgi.py: /telegram/webhook/ answered before Django's
    # middleware), with the echo bot's webhook answered by the same endpoint code.
    app = DirectWebhook(application, path="/bench/echo/", receive=echo_receive)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, lifespan="off")
    uvicorn.Server(config).run()


# --- the load: people stepping through journeys -----------------------------------------------


class Load:
    def __init__(self, emulator, *, url: str, total: int) -> None:
        self.emulator = emulator
        self.url = url
        self.remaining = total
        self.latencies: list[float] = []
        self.first_reply: dict[int, asyncio.Future] = {}
        self.last_call: dict[int, float] = {}
        self.query_chat: dict[str, int] = {}
        self.errors = 0
        self.timeouts = 0
        self.unanswered: list[dict] = []

    def observe(self, call) -> None:
        chat_id = call.params.get("chat_id")
        if call.method == "answerCallbackQuery":
            chat_id = self.query_chat.get(str(call.params.get("callback_query_id")))
        try:
            chat_id = int(chat_id)
        except (TypeError, ValueError):
            return
        now = time.perf_counter()
        self.last_call[chat_id] = now
        waiter = self.first_reply.get(chat_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(now)

    def steps(self, person: dict, rng: random.Random):
        from bot.i18n import format_amount

        language = person["language_code"]
        while True:
            yield {"text": "/start"}
            yield {"kind": "press"}  # a language
            yield {"text": "/help"}
            yield {"text": "/calc"}
            units = rng.randrange(10, 5_000) * 10**6 + rng.choice([0, 500_000, 250_000])
            yield {"text": format_amount(units, language, symbol=False)}
            yield {"kind": "press"}  # a term (or which amount was meant)
            yield {"kind": "press"}  # a term after an ambiguous amount; stale otherwise
            yield {"text": rng.choice(["hello", "what is this?", "1.234", "ok thanks"])}
            yield {"kind": "sticker"}
            yield {"text": "/calc"}
            yield {"kind": "edited", "text": "250"}
            yield {"text": "/frobnicate"}
            yield {"text": "/cancel"}

    async def person(self, http, person: dict, rng: random.Random) -> None:
        chat_id = person["id"]
        for step in self.steps(person, rng):
            if self.remaining <= 0:
                return
            self.remaining -= 1
            body = {"user": person, **step}
            if step.get("kind") == "press":
                buttons = self._latest_buttons(chat_id)
                if not buttons:
                    body = {"user": person, "text": "/language"}
                else:
                    message_id, data = rng.choice(buttons)
                    body = {"user": person, "kind": "callback", "callback_data": data,
                            "message_id": message_id}
            update = self.emulator.make_update(body, deliver=False)
            if "callback_query" in update:
                self.query_chat[update["callback_query"]["id"]] = chat_id
            waiter = asyncio.get_running_loop().create_future()
            self.first_reply[chat_id] = waiter
            sent_at = time.perf_counter()
            async with http.post(self.url, json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
                if response.status != 200:
                    self.errors += 1
            try:
                replied_at = await asyncio.wait_for(waiter, 10)
                self.latencies.append(replied_at - sent_at)
            except TimeoutError:
                self.timeouts += 1
                self.unanswered.append({"update_id": update["update_id"], "step": body})
            while time.perf_counter() - self.last_call.get(chat_id, 0) < QUIET_S:
                await asyncio.sleep(QUIET_S / 2)

    def _latest_buttons(self, chat_id: int) -> list[tuple[int, str]]:
        messages = self.emulator.state.messages.get(chat_id, {})
        for message_id in sorted(messages, reverse=True):
            markup = messages[message_id].get("reply_markup")
            if markup and messages[message_id]["from"]["is_bot"]:
                return [(message_id, button["callback_data"])
                        for row in markup["inline_keyboard"] for button in row
                        if "callback_data" in button]
        return []


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux), to see where the time went."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_cpu_seconds() -> tuple[float, float]:
    """(busy, stolen) CPU seconds of the whole machine so far: busy minus the two processes
    is mostly the database; stolen is time the host gave to other machines (a noisy
    neighbour makes every figure slower)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(value) for value in Path("/proc/stat").read_text().split()[1:9])
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


async def run_phase(emulator, *, url: str, total: int, people: int, first_id: int,
                    seed: int, server_pid: int) -> dict:
    import aiohttp

    load = Load(emulator, url=url, total=total)
    emulator.observer = load.observe
    rng = random.Random(seed)
    crowd = [{"id": first_id + index, "first_name": f"Bench{index}",
              "language_code": LANGUAGES[index % len(LANGUAGES)]} for index in range(people)]
    connector = aiohttp.TCPConnector(limit=people)
    async with aiohttp.ClientSession(connector=connector) as http:
        started, server_cpu, own_cpu = (time.perf_counter(), _cpu_seconds(server_pid),
                                        time.process_time())
        machine_cpu, stolen = _machine_cpu_seconds()
        await asyncio.gather(*(load.person(http, person, random.Random(rng.random()))
                               for person in crowd))
        elapsed = time.perf_counter() - started
        server_cpu = _cpu_seconds(server_pid) - server_cpu
        own_cpu = time.process_time() - own_cpu
        machine_after, stolen_after = _machine_cpu_seconds()
        rest_cpu = machine_after - machine_cpu - server_cpu - own_cpu
    latencies = sorted(load.latencies)
    return {
        "updates": total,
        "seconds": elapsed,
        "updates_per_s": total / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": load.errors,
        "timeouts": load.timeouts,
        "unanswered": load.unanswered[:5],
        "server_cpu_ms_per_update": server_cpu / total * 1000,
        "load_and_emulator_cpu_ms_per_update": own_cpu / total * 1000,
        "rest_cpu_ms_per_update": max(rest_cpu, 0.0) / total * 1000,
        "stolen_s": stolen_after - stolen,
    }


async def run(args, database_url: str) -> dict:
    from aiohttp import web

    from bot.sandbox.emulator import BotApiEmulator

    emulator = BotApiEmulator(token=TOKEN)
    runner = web.AppRunner(emulator.make_app(), access_log=None)
    await runner.setup()
    emulator_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", emulator_port).start()

    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "TELEGRAM_BOT_TOKEN": TOKEN,
           "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{emulator_port}/bot",
           "TELEGRAM_WEBHOOK_SECRET": SECRET, "BOT_SEND_RATE_GLOBAL": "1000000",
           "BOT_SEND_RATE_PER_CHAT": "1000000", "BOT_SEND_BURST_PER_CHAT": "1000",
           "BOT_FLOOD_MAX_UPDATES": "1000000", "LOG_LEVEL": "WARNING", "DJANGO_DEBUG": "0",
           "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "x" * 40}
    env.pop("REDIS_URL", None)
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], env=env,
                              cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_for_server(base)
        # Warm both paths (imports, the bot runtime, connection pools) before measuring.
        await run_phase(emulator, url=f"{base}/telegram/webhook/", total=100, people=10,
                        first_id=8_000_000, seed=1, server_pid=server.pid)
        await run_phase(emulator, url=f"{base}/bench/echo/", total=100, people=10,
                        first_id=8_100_000, seed=1, server_pid=server.pid)
        # Throughput: enough people at once to keep the web process busy all the time.
        lendgram = await run_phase(emulator, url=f"{base}/telegram/webhook/",
                                   total=args.updates, people=args.people,
                                   first_id=9_000_000, seed=args.seed,
                                   server_pid=server.pid)
        echo = await run_phase(emulator, url=f"{base}/bench/echo/", total=args.updates,
                               people=args.people, first_id=9_500_000, seed=args.seed,
                               server_pid=server.pid)
        # Latency: a load the process carries without queueing (at full load, latency is
        # just the queue: people / throughput).
        light = await run_phase(emulator, url=f"{base}/telegram/webhook/",
                                total=args.latency_updates, people=args.latency_people,
                                first_id=9_800_000, seed=args.seed, server_pid=server.pid)
    finally:
        server.terminate()
        server.wait(30)
        await runner.cleanup()
    return {"lendgram": lendgram, "echo": echo, "light": light}


async def _wait_for_server(base: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.post(f"{base}/telegram/webhook/", json={}) as response:
                    if response.status == 403:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the web process did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=5_000)
    parser.add_argument("--people", type=int, default=64)
    parser.add_argument("--latency-updates", type=int, default=1_000)
    parser.add_argument("--latency-people", type=int, default=4)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    base_url = postgres_url_or_exit("bot")
    with scratch_database(base_url, "bot") as name:
        database_url = scratch.database_url(base_url, name, "conn_max_age=600")
        os.environ["DATABASE_URL"] = database_url
        os.environ.pop("REDIS_URL", None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        from django.db import connections

        connections.close_all()
        results = asyncio.run(run(args, database_url))

    lendgram, echo, light = results["lendgram"], results["echo"], results["light"]
    for label, figures in (("lendgram webhook", lendgram), ("bare echo bot", echo),
                           ("lendgram, light", light)):
        print(f"{label:17} {figures['updates']} updates in {figures['seconds']:.1f} s: "
              f"{figures['updates_per_s']:.0f}/s, p50 {figures['p50_ms']:.1f} ms, "
              f"p99 {figures['p99_ms']:.1f} ms, errors {figures['errors']}, "
              f"timeouts {figures['timeouts']}; CPU per update: web process "
              f"{figures['server_cpu_ms_per_update']:.2f} ms, load + emulator "
              f"{figures['load_and_emulator_cpu_ms_per_update']:.2f} ms, database and the "
              f"rest {figures['rest_cpu_ms_per_update']:.2f} ms; stolen by the host "
              f"{figures['stolen_s']:.1f} s")
        for unanswered in figures["unanswered"]:
            print(f"  no answer within 10 s: {unanswered}")
    ratio = lendgram["updates_per_s"] / echo["updates_per_s"]
    print(f"goals: ratio >= 0.5 ({ratio:.2f}); p99 < 50 ms at light load "
          f"({light['p99_ms']:.1f} ms, {args.latency_people} people at once)")
    print(json.dumps({"updates_per_s": round(lendgram["updates_per_s"], 1),
                      "echo_updates_per_s": round(echo["updates_per_s"], 1),
                      "ratio_vs_echo": round(ratio, 3),
                      "p50_ms": round(light["p50_ms"], 2),
                      "p99_ms": round(light["p99_ms"], 2)}))


if __name__ == "__main__":
    main()
