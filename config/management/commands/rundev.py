"""python manage.py rundev: the whole product on one machine (what `make run` starts)."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from config.devserver import Part, run_parts
from onchain.devchain import rpc_answers


def _local_anvil_port() -> int | None:
    """The port to run anvil on, when the configured chain is a local anvil we should start."""
    parts = urlsplit(settings.RPC_URL)
    if settings.CHAIN_ID != 31337 or parts.hostname not in {"127.0.0.1", "localhost"}:
        return None
    return parts.port or 8545


def _bot_parts(python: str, *, host: str, web_port: int) -> list[Part]:
    """The bot: against Telegram with a token; without one, against the local Bot API emulator
    that the sandbox chat page talks to (next to the web port unless SANDBOX_EMULATOR_URL says
    otherwise, so two runs on one machine do not collide)."""
    manage = str(settings.BASE_DIR / "manage.py")
    if settings.TELEGRAM_BOT_TOKEN:
        return [Part("bot", [python, manage, "runbot"])]
    if not os.environ.get("SANDBOX_EMULATOR_URL"):
        # Set before any part starts, so the web process's sandbox page points at it too.
        os.environ["SANDBOX_EMULATOR_URL"] = f"http://{host}:{web_port + 81}"
        settings.SANDBOX_EMULATOR_URL = os.environ["SANDBOX_EMULATOR_URL"]
    emulator = urlsplit(settings.SANDBOX_EMULATOR_URL)
    env = {**os.environ, "TELEGRAM_API_BASE_URL": f"{settings.SANDBOX_EMULATOR_URL}/bot",
           # The sandbox's admin person (bot/sandbox_views.py) gets admin rights.
           "ADMIN_TELEGRAM_IDS": os.environ.get("ADMIN_TELEGRAM_IDS") or "910900"}
    return [
        Part("bot-api", [python, "-m", "bot.sandbox.emulator", "--host",
                         emulator.hostname or "127.0.0.1", "--port", str(emulator.port or 8081)],
             ready=lambda: _answers(f"{settings.SANDBOX_EMULATOR_URL}/_emu/health")),
        Part("bot", [python, manage, "runbot"], env=env),
    ]


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (local URL)
            return response.status == 200
    except OSError:
        return False


class Command(BaseCommand):
    help = ("Run the product on the embedded default: a local anvil chain with the contracts "
            "deployed, the web app and a Celery worker with beat.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-demo", action="store_true", help="Do not create demo data.")

    def handle(self, *args, host: str, port: int, no_demo: bool, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if not no_demo:
            call_command("seed_demo")
        python = sys.executable
        bot_parts = _bot_parts(python, host=host, web_port=port)
        parts = []
        chain_port = _local_anvil_port()
        if chain_port and not rpc_answers(settings.RPC_URL):
            # The chain keeps its state beside the database, so both survive a restart together.
            state = settings.VAR_DIR / "anvil-state.json"
            parts.append(Part(
                "chain", [python, "-m", "onchain.devchain", "--port", str(chain_port),
                          "--state", str(state)],
                ready=lambda: rpc_answers(settings.RPC_URL), after_ready=self._deploy))
        elif chain_port:
            self._deploy()
        parts += [
            Part("web", [python, "-m", "uvicorn", "config.asgi:application", "--host", host,
                         "--port", str(port), "--log-level", "info"]),
            Part("worker", [python, "-m", "celery", "-A", "config", "worker", "--beat",
                            "--without-mingle", "--without-gossip", "--concurrency", "1",
                            "--loglevel", "INFO"]),
        ]
        parts += bot_parts
        self.stdout.write(self.style.SUCCESS(
            f"Lendgram is starting: http://{host}:{port}/ (Django admin at /admin/), chain at "
            f"{settings.RPC_URL}. Ctrl-C stops everything."))
        if not settings.TELEGRAM_BOT_TOKEN:
            self.stdout.write(f"No TELEGRAM_BOT_TOKEN: try the bot in the sandbox chat at "
                              f"http://{host}:{port}/sandbox/")
        status = run_parts(parts)
        if status:
            sys.exit(status)

    def _deploy(self) -> None:
        from onchain.deploy import deploy

        addresses = settings.ONCHAIN_ADDRESSES_FILE
        deployment = deploy(settings.RPC_URL, addresses_file=addresses,
                            abi_dir=addresses.parent / "abi")
        self.stdout.write(f"Contracts on chain {settings.CHAIN_ID}: "
                          f"LoanBook {deployment.get('LoanBook')}")
