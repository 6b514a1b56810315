"""The run command, as a newcomer starts it: web answers, demo data is there, the worker
takes jobs through the embedded (file-system) broker and applies them to the database, and a
local chain runs with the contracts deployed and indexed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.disposable import free_port

ROOT = Path(__file__).resolve().parents[2]


def django_shell(code: str, *, env: dict) -> str:
    return subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
                          cwd=ROOT, env=env, check=True, capture_output=True, text=True,
                          timeout=120).stdout.strip()


def wait_for(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except OSError:
        return None


STATE_OF_OVERDUE = ("from core.loans.models import Loan; print(Loan.objects.get("
                    "borrower__username='demo_priya', state__in=['active', 'late']).state)")


CURSOR = ("from core.chain.models import ChainCursor; "
          "print(ChainCursor.objects.values_list('next_block', flat=True).first())")


def test_the_run_command_serves_admin_and_runs_jobs_on_the_embedded_default(tmp_path):
    # Nothing of the suite's own settings either: the run command turns debug on by itself.
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG",
                          "DJANGO_SECURE_HTTPS", "OPERATOR_2FA_REQUIRED", "DJANGO_SECRET_KEY"}}
    env.update(LENDGRAM_VAR_DIR=str(tmp_path), PYTHONUNBUFFERED="1",
               RPC_URL=f"http://127.0.0.1:{free_port()}",
               ONCHAIN_ADDRESSES_FILE=str(tmp_path / "addresses.json"))
    port = free_port()
    log = (tmp_path / "rundev.log").open("w")
    process = subprocess.Popen([sys.executable, "manage.py", "rundev", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: http_status(f"http://127.0.0.1:{port}/admin/login/") == 200,
                 timeout=60, what="the web app")
        # Static files served by Django and plain http: debug is on in the run command only.
        assert http_status(f"http://127.0.0.1:{port}/static/admin/css/base.css") == 200
        wait_for(lambda: "ready." in (tmp_path / "rundev.log").read_text(), timeout=60,
                 what="the Celery worker")
        assert django_shell(STATE_OF_OVERDUE, env=env) == "active"
        subprocess.run([sys.executable, "-m", "celery", "-A", "config", "call",
                        "loans.refresh_lateness"], cwd=ROOT, env=env, check=True, timeout=60,
                       capture_output=True)
        wait_for(lambda: django_shell(STATE_OF_OVERDUE, env=env) == "late",
                 timeout=60, what="the worker to mark the overdue demo loan late")
        # The chain came up with the contracts deployed, and beat runs the indexer over it.
        assert "LoanBook" in (tmp_path / "addresses.json").read_text()
        wait_for(lambda: django_shell(CURSOR, env=env) not in {"", "None"}, timeout=60,
                 what="the chain indexer to run")
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    assert process.returncode == 0, (tmp_path / "rundev.log").read_text()[-3000:]
