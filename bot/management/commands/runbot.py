"""python manage.py runbot: the bot in polling mode (getUpdates), with outbox delivery.

`--no-polling` runs only the outbox deliverer and the recovery sweep, beside web processes
that receive updates by webhook.
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings
from django.core.management.base import BaseCommand

from bot.app import publish_commands
from bot.metrics import serve_bot_metrics
from bot.runtime import BotRuntime

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the Telegram bot (polling) and deliver the notification outbox."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-polling", action="store_true",
                            help="Webhook deployments: deliver the outbox and sweep only.")

    def handle(self, *args, no_polling: bool, **options) -> None:
        # One line per Bot API request is noise at INFO; the sender logs what matters.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        asyncio.run(self._run(polling=not no_polling))

    async def _run(self, *, polling: bool) -> None:
        serve_bot_metrics()  # BOT_METRICS_PORT, when the bot runs in its own process
        runtime = await BotRuntime().start(settle_heap=True)
        where = settings.TELEGRAM_API_BASE_URL
        self.stdout.write(f"bot running ({'polling' if polling else 'outbox only'}) "
                          f"against {where}")
        try:
            await publish_commands(runtime.application)
            if polling:
                await runtime.poll_forever()
            else:
                await asyncio.Event().wait()
        finally:
            await runtime.stop()
