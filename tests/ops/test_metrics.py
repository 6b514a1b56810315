"""/metrics speaks Prometheus: the web, worker and bot processes count what they do, and the
deployment's figures (outbox, review queue, chain) are read from the database when scraped."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import MeteredSender
from bot.sandbox.emulator import Fault
from bot.sender import LIMITED_METHODS
from core.chain.models import ChainCursor
from core.chain.tasks import sync_chain
from core.loans.tasks import refresh_lateness
from core.notifications.models import OutboxMessage
from core.notifications.services import notification_enqueue, outbox_mark_failed, outbox_mark_sent
from tests.disposable import CeleryWorker, free_port, wait_until, worker_env

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scrape-me-7f3a9c"
Samples = dict[tuple[str, tuple], float]


@pytest.fixture
def deployment(settings):
    settings.HEALTH_CHECK_RPC = False
    settings.METRICS_TOKEN = ""
    return settings


def scrape(client, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == CONTENT_TYPE_LATEST
    return parse(response.content.decode())


def parse(text: str) -> Samples:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; a labelled series not seen yet is 0, as Prometheus would treat it."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def families(client) -> set[str]:
    response = client.get("/metrics")
    return {family.name for family in text_string_to_metric_families(response.content.decode())}


@pytest.mark.django_db
def test_metrics_exposes_the_lendgram_families_in_prometheus_text(client, deployment):
    names = families(client)
    assert {"lendgram_tasks", "lendgram_task_duration_seconds",
            "lendgram_bot_updates_handled", "lendgram_bot_handler_seconds",
            "lendgram_bot_api_requests", "lendgram_bot_messages", "lendgram_outbox_deliveries",
            "lendgram_outbox_pending", "lendgram_outbox_oldest_age_seconds",
            "lendgram_review_waiting", "lendgram_review_oldest_age_hours"} <= names
    assert "lendgram_rpc_up" not in names, "the chain is not asked when HEALTH_CHECK_RPC is off"
    assert "no-cache" in client.get("/metrics")["Cache-Control"]


@pytest.mark.django_db
def test_the_deployment_gauges_count_the_real_outbox_rows(client, deployment, alice, bob):
    assert value(scrape(client), "lendgram_outbox_pending") == 0
    messages = [notification_enqueue(recipient=person, template_key="offer_ready",
                                     dedupe_key=f"metrics:{person.pk}:{n}")[0]
                for person in (alice, bob) for n in range(2)]
    OutboxMessage.objects.filter(pk=messages[0].pk).update(
        created_at=timezone.now() - timedelta(minutes=7))
    outbox_mark_sent(message=messages[1])
    outbox_mark_failed(message=messages[2], error="Forbidden: bot was blocked by the user")

    samples = scrape(client)
    assert value(samples, "lendgram_outbox_pending") == 2  # one sent, one failed for good
    assert 420 <= value(samples, "lendgram_outbox_oldest_age_seconds") < 480
    assert value(samples, "lendgram_review_waiting") == 0

    outbox_mark_sent(message=messages[0])
    samples = scrape(client)
    assert value(samples, "lendgram_outbox_pending") == 1
    assert value(samples, "lendgram_outbox_oldest_age_seconds") < 60


@pytest.mark.django_db
def test_the_chain_gauges_show_the_node_and_the_indexer_lag(client, deployment, chain):
    deployment.HEALTH_CHECK_RPC = True
    deployment.RPC_URL = chain.rpc_url
    head = chain.w3.eth.block_number
    ChainCursor.objects.create(chain_id=deployment.CHAIN_ID,
                               next_block=head - deployment.CHAIN.confirmations + 1 - 4)
    samples = scrape(client)
    assert value(samples, "lendgram_rpc_up") == 1
    assert value(samples, "lendgram_indexer_lag_blocks") == 4

    deployment.RPC_URL = f"http://127.0.0.1:{free_port()}"
    samples = scrape(client)
    assert value(samples, "lendgram_rpc_up") == 0
    assert ("lendgram_indexer_lag_blocks", ()) not in samples, "unknown, not a made-up figure"


@pytest.mark.django_db
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN,
                                           f"Bearer {TOKEN}x", "Bearer "])
def test_a_metrics_token_refuses_a_missing_or_wrong_bearer(client, deployment, authorization):
    deployment.METRICS_TOKEN = TOKEN
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"lendgram_" not in response.content


@pytest.mark.django_db
def test_a_metrics_token_accepts_the_right_bearer(client, deployment):
    deployment.METRICS_TOKEN = TOKEN
    assert ("lendgram_outbox_pending", ()) in scrape(client, Authorization=f"Bearer {TOKEN}")
    assert ("lendgram_outbox_pending", ()) in scrape(client, Authorization=f"bearer {TOKEN}")


@pytest.mark.django_db
def test_a_celery_task_run_is_counted_with_its_duration(client, deployment):
    before = scrape(client)
    assert refresh_lateness.apply().get() == 0
    after = scrape(client)
    task = {"task": "loans.refresh_lateness"}
    assert (value(after, "lendgram_tasks_total", **task, state="success")
            - value(before, "lendgram_tasks_total", **task, state="success")) == 1
    assert (value(after, "lendgram_task_duration_seconds_count", **task)
            - value(before, "lendgram_task_duration_seconds_count", **task)) == 1


def test_a_real_worker_counts_its_tasks_by_final_state(
        client, deployment, shared_database, redis_server, celery_broker, tmp_path, monkeypatch):
    """A Celery worker process writes its metrics to the shared PROMETHEUS_MULTIPROC_DIR and
    /metrics of the web process reports them: one task succeeds, one retries (dead node)."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    celery_broker(redis_server.url)
    env = worker_env(database_url=shared_database, redis_url=redis_server.url,
                     var_dir=tmp_path / "var", PROMETHEUS_MULTIPROC_DIR=str(folder),
                     RPC_URL=f"http://127.0.0.1:{free_port()}")
    worker = CeleryWorker(env, tmp_path / "worker.log", name="metrics").start()
    try:
        worker.wait_ready()
        refresh_lateness.delay()
        sync_chain.delay()
        wait_until(lambda: "loans.refresh_lateness" in worker.output()
                   and "wallets.sync_chain" in worker.output() and "Retry in" in worker.output(),
                   timeout=60, what="the worker to run both tasks")
    finally:
        worker.stop()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    samples = scrape(client)
    assert value(samples, "lendgram_tasks_total", task="loans.refresh_lateness",
                 state="success") == 1
    assert value(samples, "lendgram_task_duration_seconds_count",
                 task="loans.refresh_lateness") == 1
    assert value(samples, "lendgram_tasks_total", task="wallets.sync_chain", state="retry") >= 1
    assert value(samples, "lendgram_tasks_total", task="wallets.sync_chain",
                 state="success") == 0
    assert value(samples, "lendgram_outbox_pending") == 0, "deployment gauges still there"


def metered_sender() -> MeteredSender:
    return MeteredSender(global_rate=10_000, chat_rate=10_000, chat_burst=100,
                         network_backoff_s=0.01)


def fault(chat, **body) -> None:
    chat.emulator.call(lambda: chat.emulator.emulator.state.faults.append(Fault(**body)))


def message_calls(chat) -> list[dict]:
    return [call for call in chat.calls() if call["method"] in LIMITED_METHODS]


def test_the_bot_counts_each_update_it_handles_and_each_message_it_sends(
        client, deployment, run_bot):
    before = scrape(client)
    seen = {}

    async def scenario(chat):
        assert "Here is what I can do" in (await chat.say("alice", "/help"))[-1]["text"]
        await chat.say("alice", "hello there")
        seen["messages"] = message_calls(chat)

    run_bot(scenario, sender=metered_sender())
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("lendgram_bot_updates_handled_total") == 2
    assert grew("lendgram_bot_handler_seconds_count") == 2
    assert value(after, "lendgram_bot_handler_seconds_sum") > value(
        before, "lendgram_bot_handler_seconds_sum")
    assert len(seen["messages"]) >= 2
    assert all(call["error_code"] is None for call in seen["messages"])
    assert grew("lendgram_bot_messages_total", outcome="sent") == len(seen["messages"])
    assert grew("lendgram_bot_messages_total", outcome="throttled") == 0
    assert grew("lendgram_bot_api_requests_total", method="sendMessage", outcome="ok") == sum(
        call["method"] == "sendMessage" for call in seen["messages"])


def test_the_bot_counts_throttled_and_refused_messages(client, deployment, run_bot):
    before = scrape(client)

    async def scenario(chat):
        await chat.say("alice", "/help")
        fault(chat, method="sendMessage", count=1, code=429,
              description="Too Many Requests: retry after 1", retry_after=1)
        assert "Here is what I can do" in (await chat.say("alice", "/help"))[-1]["text"]
        fault(chat, method="sendMessage", count=1, code=403,
              description="Forbidden: bot was blocked by the user")
        assert await chat.say("alice", "/help") == []

    run_bot(scenario, sender=metered_sender())
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("lendgram_bot_updates_handled_total") == 3
    assert grew("lendgram_bot_messages_total", outcome="throttled") == 1
    assert grew("lendgram_bot_messages_total", outcome="failed") == 1
    assert grew("lendgram_bot_messages_total", outcome="sent") == 2
    assert grew("lendgram_bot_api_requests_total", method="sendMessage", outcome="throttled") == 1
    assert grew("lendgram_bot_api_requests_total", method="sendMessage", outcome="refused") == 1


MULTIPROCESS_CHILD = textwrap.dedent("""
    import sys
    import django
    django.setup()
    from bot import metrics
    for _ in range(int(sys.argv[1])):
        metrics.update_handled(0.01)
    metrics.outbox_settled("sent")
""")
MULTIPROCESS_SCRAPE = textwrap.dedent("""
    import django
    django.setup()
    from core.ops.metrics import exposition
    print(exposition().decode())
""")


def test_in_multiprocess_mode_metrics_report_the_sum_of_every_process(tmp_path):
    """Several bot/worker processes write to one PROMETHEUS_MULTIPROC_DIR; a web process's
    /metrics then reports their sum."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder),
           "DJANGO_SETTINGS_MODULE": "config.settings", "HEALTH_CHECK_RPC": "0",
           # an empty database of its own: the deployment gauges are not this test's business
           "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}

    def python(code: str, *args: str) -> str:
        done = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    python(MULTIPROCESS_CHILD, "2")
    python(MULTIPROCESS_CHILD, "3")
    samples = parse(python(MULTIPROCESS_SCRAPE))
    assert value(samples, "lendgram_bot_updates_handled_total") == 5
    assert value(samples, "lendgram_bot_handler_seconds_count") == 5
    assert value(samples, "lendgram_outbox_deliveries_total", outcome="sent") == 2
    assert len([name for name in os.listdir(folder) if name.startswith("counter_")]) == 2, \
        "each process wrote its own file to the shared folder"
