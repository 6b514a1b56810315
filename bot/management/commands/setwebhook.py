"""python manage.py setwebhook: tell Telegram where to send updates, with the secret token."""

from __future__ import annotations

import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bot.app import build_application, publish_commands


class Command(BaseCommand):
    help = "Register TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET with Telegram."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default=settings.TELEGRAM_WEBHOOK_URL)
        parser.add_argument("--delete", action="store_true", help="Go back to polling.")

    def handle(self, *args, url: str, delete: bool, **options) -> None:
        if not delete and not url:
            raise CommandError("Set TELEGRAM_WEBHOOK_URL (or pass --url).")
        if not delete and not settings.TELEGRAM_WEBHOOK_SECRET:
            raise CommandError("Set TELEGRAM_WEBHOOK_SECRET: the view refuses updates "
                               "without it.")
        info = asyncio.run(self._apply(url=url, delete=delete))
        self.stdout.write(f"webhook: {info.url or '(none, polling)'}; "
                          f"pending updates: {info.pending_update_count}")

    async def _apply(self, *, url: str, delete: bool):
        application = build_application()
        async with application:
            if delete:
                await application.bot.delete_webhook()
            else:
                await application.bot.set_webhook(
                    url=url, secret_token=settings.TELEGRAM_WEBHOOK_SECRET,
                    allowed_updates=["message", "edited_message", "callback_query",
                                     "my_chat_member"],
                    max_connections=40)
                await publish_commands(application)
            return await application.bot.get_webhook_info()
