"""PostgreSQL crashes and comes back under the running web app (a real uvicorn serving the
webhook, a disposable PostgreSQL cluster): the webhook answers 5xx only while the database is
down, so Telegram delivers those updates again, and every update is handled exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import psycopg
import pytest

from bot.sandbox.emulator import EmulatorThread
from tests.bot.harness import TOKEN, new_person
from tests.disposable import ROOT, DisposablePostgres, free_port, wait_until, worker_env

SECRET = "fault-test-secret"


@pytest.fixture
def postgres():
    server = DisposablePostgres()
    try:
        yield server.init().start()
    finally:
        server.destroy()


def text_update(update_id: int, person: dict, text: str) -> dict:
    chat = {"id": person["id"], "type": "private", "first_name": person["first_name"]}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1_700_000_000, "chat": chat,
        "from": {**person, "is_bot": False}, "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}}


def post(url: str, update: dict) -> int:
    request = urllib.request.Request(url, json.dumps(update).encode(), method="POST", headers={
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except urllib.error.URLError:
        return 0  # the web app is not listening (yet)


def test_the_webhook_answers_5xx_only_while_postgres_is_down_and_loses_no_update(
        postgres, tmp_path):
    database_url = postgres.create_database("lendgram")
    emulator = EmulatorThread(token=TOKEN, poll_wait_cap_s=0.2).start()
    env = worker_env(database_url=database_url, redis_url="", var_dir=tmp_path / "var",
                     TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=emulator.api_base_url,
                     TELEGRAM_WEBHOOK_SECRET=SECRET, BOT_DB_THREADS="2", LOG_LEVEL="WARNING")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                   env=env, check=True, timeout=300)
    port = free_port()
    log = (tmp_path / "web.log").open("wb")
    web = subprocess.Popen([sys.executable, "-m", "uvicorn", "config.asgi:application", "--host",
                            "127.0.0.1", "--port", str(port), "--no-access-log"], cwd=ROOT,
                           env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/telegram/webhook/"
    person = new_person()
    emulator.call(emulator.emulator.person, person)

    def answered() -> int:
        def read(emu):
            return [m for side, mid in emu.state.timeline.get(person["id"], [])
                    if side == "bot" and (m := emu.state.messages[person["id"]].get(mid))]
        return sum("Here is what I can do" in m.get("text", "")
                   for m in emulator.call(read, emulator.emulator))

    try:
        wait_until(lambda: post(url, text_update(1, person, "/help")) == 200, timeout=120,
                   what="the web app to serve the webhook", interval=0.5)
        wait_until(lambda: answered() == 1, timeout=60, what="the bot to answer update 1")

        postgres.stop(mode="immediate")  # a crash, not a clean shutdown
        while_down = [post(url, text_update(update_id, person, "/help"))
                      for update_id in (2, 3)]
        assert all(status >= 500 for status in while_down), while_down

        postgres.start()
        # Telegram delivers 2 and 3 again, then sends 4: each is taken at the first try.
        after = [post(url, text_update(update_id, person, "/help")) for update_id in (2, 3, 4)]
        assert after == [200, 200, 200]
        assert post(url, text_update(3, person, "/help")) == 200  # a duplicate: dropped
        wait_until(lambda: answered() == 4, timeout=60, what="every update to be answered")
        with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
            rows = conn.execute("SELECT update_id, status FROM chat_receivedupdate "
                                "ORDER BY update_id").fetchall()
        assert [row[0] for row in rows] == [1, 2, 3, 4]
        wait_until(lambda: answered() == 4, timeout=5, what="no update answered twice")
    except BaseException:
        print((tmp_path / "web.log").read_text(errors="replace")[-6000:])
        raise
    finally:
        web.terminate()
        try:
            web.wait(timeout=20)
        except subprocess.TimeoutExpired:
            web.kill()
        log.close()
        emulator.stop()
