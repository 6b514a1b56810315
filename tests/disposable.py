"""Disposable servers for the fault tests: Redis, PostgreSQL, anvil and Celery workers that a
test starts on free loopback ports, breaks on purpose and throws away.

The shared services (PostgreSQL on 5432, Redis on 6379) are never touched. Where a server
binary is missing the test is skipped with the reason; under CI=true it fails instead, since
CI must run every fault test.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
T = TypeVar("T")


def missing(what: str) -> NoReturn:
    """Skip (a newcomer's machine) or fail (CI) for a server binary that is not installed."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the fault tests: {what}")
    pytest.skip(f"{what}; fault test skipped")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def wait_until(predicate: Callable[[], T], *, timeout: float, what: str,
               interval: float = 0.05) -> T:
    """Poll `predicate` until it returns something truthy (generous timeouts: 2 shared cores)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- Redis ----------------------------------------------------------------------------------

class DisposableRedis:
    """A redis-server with an append-only file fsynced on every write, so what was queued
    survives a stop, a SIGKILL and a restart, as a broker in production must (infra/)."""

    def __init__(self, folder: Path) -> None:
        self.binary = shutil.which("redis-server") or missing(
            "redis-server is not installed (apt-get install redis-server)")
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.pidfile = folder / "redis.pid"
        self.url = f"redis://{HOST}:{self.port}/0"

    def start(self) -> DisposableRedis:
        subprocess.run([self.binary, "--bind", HOST, "--port", str(self.port), "--save", "",
                        "--appendonly", "yes", "--appendfsync", "always",
                        "--dir", str(self.folder), "--daemonize", "yes",
                        "--pidfile", str(self.pidfile), "--logfile",
                        str(self.folder / "redis.log")], check=True, timeout=30)
        wait_until(self.answers, timeout=30, what=f"redis-server on port {self.port}")
        return self

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host=HOST, port=self.port, socket_timeout=1,
                                    socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def client(self):
        import redis

        return redis.Redis(host=HOST, port=self.port, socket_timeout=5)

    def _pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self, *, sig: int = signal.SIGTERM) -> None:
        """Stop the server (SIGTERM: a clean shutdown; SIGKILL: a crash) and wait for it."""
        pid = self._pid()
        if pid is None or not _pid_alive(pid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        wait_until(lambda: not _pid_alive(pid) and not port_open(self.port), timeout=30,
                   what="redis-server to stop")
        with contextlib.suppress(FileNotFoundError):
            self.pidfile.unlink()


# --- PostgreSQL -----------------------------------------------------------------------------

def postgres_bindir() -> Path:
    """Where initdb/pg_ctl live: PG_BINDIR, Debian's /usr/lib/postgresql/<v>/bin, or PATH."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda path: int(Path(path).parent.name)
                         if Path(path).parent.name.isdigit() else 0, reverse=True)
    pg_ctl = shutil.which("pg_ctl")
    candidates.append(str(Path(pg_ctl).parent) if pg_ctl else "")
    for folder in filter(None, candidates):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    missing("PostgreSQL server binaries (initdb, pg_ctl) are not installed "
            "(apt-get install postgresql, or set PG_BINDIR)")


class DisposablePostgres:
    """A PostgreSQL cluster in a temporary folder. PostgreSQL refuses to run as root, so as
    root it runs as the `postgres` OS user (runuser), in a folder that user owns."""

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="lendgram-pg-"))
        self.data = self.folder / "data"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                missing("running as root needs a `postgres` OS user to run PostgreSQL")
            runuser = shutil.which("runuser") or missing("runuser is needed to run PostgreSQL "
                                                          "as the postgres user")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self.prefix = [runuser, "-u", "postgres", "--"]
        self.url = f"postgres://postgres@{HOST}:{self.port}/postgres"

    def _run(self, tool: str, *args: str, timeout: float = 120) -> None:
        subprocess.run([*self.prefix, str(self.bindir / tool), *args], check=True,
                       timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=self.folder)

    def init(self) -> DisposablePostgres:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        return self

    def start(self) -> DisposablePostgres:
        # fsync off: the OS keeps what PostgreSQL wrote across a server crash, which is the
        # failure tested here (not a power cut), and the tests stay fast.
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses={HOST} -c fsync=off "
                   "-c full_page_writes=off -c max_connections=50")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.folder / "server.log"), "-w", "-t", "60", "start")
        return self

    def stop(self, *, mode: str = "fast") -> None:
        """`fast`: a clean shutdown; `immediate`: like a crash (recovery on the next start)."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgres://postgres@{HOST}:{self.port}/{name}"

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop(mode="immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


# --- anvil ----------------------------------------------------------------------------------

class DisposableAnvil:
    """An anvil whose chain (blocks, logs, contracts) is dumped to a file when it stops and
    loaded from it when it starts again on the same port: an RPC node going away and back."""

    def __init__(self, folder: Path) -> None:
        from onchain.devchain import anvil_path

        if not anvil_path().exists():
            missing(f"anvil is not installed at {anvil_path()} (make setup installs it)")
        folder.mkdir(parents=True, exist_ok=True)
        self.state = folder / "anvil-state.json"
        self.port = free_port()
        self.rpc_url = f"http://{HOST}:{self.port}"
        self.chain = None

    def start(self) -> DisposableAnvil:
        from onchain.devchain import DevChain

        extra = ["--dump-state", str(self.state)]
        if self.state.exists():
            extra += ["--load-state", str(self.state)]
        self.chain = DevChain.start(self.port, extra_args=extra, timeout=60)
        return self

    def stop(self) -> None:
        """SIGTERM: anvil writes its state file on the way out."""
        if self.chain is not None:
            self.chain.process.send_signal(signal.SIGTERM)
            try:
                self.chain.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.chain.process.kill()
                self.chain.process.wait()
            self.chain = None


# --- Celery workers -------------------------------------------------------------------------

class CeleryWorker:
    """A real `celery worker` process (solo pool: one process, so SIGKILL kills the task with
    it) logging to a file the test can read."""

    def __init__(self, env: dict[str, str], log: Path, *, beat: bool = False,
                 name: str = "worker") -> None:
        self.env, self.log, self.beat, self.name = env, log, beat, name
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryWorker:
        args = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
                "--loglevel", "INFO", "--without-mingle", "--without-gossip",
                "--without-heartbeat", "-n", f"{self.name}-{os.getpid()}-{time.time_ns()}@%h"]
        if self.beat:
            args += ["--beat", "--schedule", str(self.log.with_suffix(".beat"))]
        self._out = self.log.open("ab")
        self.process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=self._out,
                                        stderr=subprocess.STDOUT)
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float = 90) -> None:
        wait_until(lambda: "ready." in self.output() or self.process.poll() is not None,
                   timeout=timeout, what=f"celery worker {self.name} to be ready")
        assert self.process.poll() is None, self.output()[-3000:]

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None:
            self._out.close()


def worker_env(*, database_url: str, redis_url: str, var_dir: Path,
               **extra: str) -> dict[str, str]:
    """The environment of a process of ours pointed at disposable servers."""
    from django.conf import settings

    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}}
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, LENDGRAM_VAR_DIR=str(var_dir),
               DJANGO_SECRET_KEY=settings.SECRET_KEY, DJANGO_SETTINGS_MODULE="config.settings",
               PYTHONUNBUFFERED="1")
    env.update(extra)
    return env
