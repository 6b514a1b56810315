"""python manage.py rundev: the whole product on one machine (what `make run` starts)."""

from __future__ import annotations

import os
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

from core.devtools.supervisor import Part, run_parts


class Command(BaseCommand):
    help = "Run the web app and a Celery worker (with beat) on the embedded default."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-demo", action="store_true", help="Do not create demo data.")

    def handle(self, *args, host: str, port: int, no_demo: bool, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if not no_demo:
            call_command("seed_demo")
        python = sys.executable
        parts = [
            Part("web", [python, "-m", "uvicorn", "core.asgi:application", "--host", host,
                         "--port", str(port), "--log-level", "info"]),
            Part("worker", [python, "-m", "celery", "-A", "core", "worker", "--beat",
                            "--without-mingle", "--without-gossip", "--concurrency", "1",
                            "--loglevel", "INFO"]),
        ]
        self.stdout.write(self.style.SUCCESS(
            f"Lendgram is starting: http://{host}:{port}/ (Django admin at /admin/). "
            "Ctrl-C stops everything."))
        status = run_parts(parts)
        if status:
            sys.exit(status)
