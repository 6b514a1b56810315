"""Redis stopped: the bot keeps answering people (the cache degrades to the database, work
asked for meanwhile waits in the database), and when Redis is back the queued work resumes on
a real worker, with nothing lost and nothing done twice."""

from __future__ import annotations

import json
import signal
import time

from asgiref.sync import async_to_sync

from bot import dbcall
from bot.sandbox.emulator import EmulatorThread
from core.loans import services as loans
from core.loans.models import Loan
from core.loans.states import LoanState
from core.notifications.models import OutboxMessage
from core.scoring.models import Score
from core.scoring.selectors import score_latest_summary
from tests import factories
from tests.bot.harness import TOKEN, Chat, new_person, start_runtime
from tests.disposable import CeleryWorker, wait_until, worker_env

REGISTRY = "0x" + "ab" * 20


def submit(borrower) -> Loan:
    """What /borrow does on "Submit": the service saves and, once committed, asks for
    scoring."""
    return loans.loan_application_submit(borrower=borrower, principal=200 * factories.USD,
                                         installments=3, purpose="business")


def queued(broker) -> list[str]:
    """The names of the tasks waiting in the broker's default queue, oldest first."""
    return [json.loads(raw)["headers"]["task"] for raw in reversed(broker.lrange("celery", 0, -1))]


def scored(loan: Loan) -> bool:
    return Loan.objects.get(pk=loan.pk).state != LoanState.SUBMITTED


def talk_to_the_bot(person: dict) -> dict[str, list[str]]:
    """A person goes through /start, /help and the /calc journey; what the bot answered to
    each, and how long each answer took."""
    emulator = EmulatorThread(token=TOKEN, poll_wait_cap_s=0.2).start()
    dbcall.configure(threads=0)  # the bot's database calls use this test's connection

    async def scenario() -> dict[str, list[str]]:
        runtime = await start_runtime(emulator)
        chat = Chat(emulator, runtime)
        answers: dict[str, list[str]] = {}
        try:
            for text in ("/start", "/help", "/calc", "250"):
                started = time.monotonic()
                replies = await chat.say(person, text)
                answers[text] = [reply.get("text", "") for reply in replies]
                answers[text + " seconds"] = [f"{time.monotonic() - started:.2f}"]
        finally:
            await runtime.stop()
        return answers

    try:
        return async_to_sync(scenario)()
    finally:
        dbcall.configure(threads=None)
        emulator.stop()


def test_the_bot_answers_while_redis_is_down_and_queued_work_resumes_when_it_is_back(
        shared_database, redis_server, celery_broker, settings, tmp_path):
    settings.REDIS_URL = redis_server.url
    settings.CACHES = {"default": {
        "BACKEND": "core.common.cache.ResilientRedisCache", "LOCATION": redis_server.url,
        "KEY_PREFIX": "faults", "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    celery_broker(redis_server.url)
    broker = redis_server.client()
    alice = factories.borrower(telegram_id=7201, username="alice_rd")

    # Work queued while no worker runs survives a crash of Redis (append-only file).
    # (Linking her wallet asked for a refresh of its on-chain signals.)
    first = submit(alice)
    waiting = ["scoring.refresh_wallet_signal", "scoring.score_application"]
    assert queued(broker) == waiting
    redis_server.stop(sig=signal.SIGKILL)
    redis_server.start()
    assert queued(broker) == waiting

    env = worker_env(database_url=shared_database, redis_url=redis_server.url,
                     var_dir=tmp_path / "var", SCORE_REGISTRY_ADDRESS=REGISTRY,
                     DJANGO_SETTINGS_MODULE="tests.faults.worker_settings",
                     FAULT_BEAT_JOBS="scoring.score_pending_applications",
                     FAULT_BEAT_EVERY_S="1", SCORING_PENDING_AFTER_S="1")
    worker = CeleryWorker(env, tmp_path / "worker.log", beat=True, name="rd").start()
    try:
        wait_until(lambda: scored(first), timeout=90, what="the queued application to be scored")
        cached = score_latest_summary(borrower_id=alice.pk)  # now in the Redis cache

        redis_server.stop()
        # The bot answers every step, without waiting on Redis.
        answers = talk_to_the_bot(new_person())
        assert any("Lendgram" in text for text in answers["/start"]), answers
        assert any("Here is what I can do" in text for text in answers["/help"]), answers
        assert any("How much would you like to borrow" in text
                   for text in answers["/calc"]), answers
        assert answers["250"], answers
        assert all(float(seconds[0]) < 10 for key, seconds in answers.items()
                   if key.endswith("seconds")), answers
        # Reads that use the cache fall back to the database.
        assert score_latest_summary(borrower_id=alice.pk) == cached
        # Asking for work does not fail: the application waits, submitted, in the database.
        started = time.monotonic()
        second = submit(alice)
        assert time.monotonic() - started < 10
        assert Loan.objects.get(pk=second.pk).state == LoanState.SUBMITTED
        assert worker.process.poll() is None, "the worker must outlive the outage"

        redis_server.start()
        wait_until(lambda: scored(second), timeout=120,
                   what="the worker to reconnect and the sweep to score the application")
    except BaseException:
        print(worker.output()[-6000:])
        raise
    finally:
        worker.stop()

    for loan in (first, second):
        assert Score.objects.filter(loan=loan).count() == 1
        assert OutboxMessage.objects.filter(dedupe_key__startswith="scoring:",
                                            dedupe_key__endswith=f":{loan.pk}").count() == 1
