"""The one place the bot is wired: token and Bot API URL from settings, the sender, the
per-update guard, every journey's handlers, the fallbacks and the error handler."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from telegram import BotCommand, Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.conversation import BotContext
from bot.fallback import build_fallbacks, on_error
from bot.guard import FloodGate, make_prepare
from bot.http import bot_api_request
from bot.journeys import Journey, load_journeys
from bot.metrics import MeteredSender
from bot.sender import Sender

# Not a secret: the local emulator accepts any token.
SANDBOX_TOKEN = "1000000001:sandbox-token-for-the-local-bot-api"  # noqa: S105


def bot_token() -> str:
    """The configured token; without one the bot talks to the local emulator (the sandbox)."""
    return settings.TELEGRAM_BOT_TOKEN or SANDBOX_TOKEN


def build_application(*, token: str | None = None, base_url: str | None = None,
                      sender: Sender | None = None, flood_gate: FloodGate | None = None,
                      journeys: list[Journey] | None = None) -> Application:
    base_url = base_url or settings.TELEGRAM_API_BASE_URL
    application = (
        Application.builder()
        .token(token or bot_token())
        .base_url(base_url)
        .base_file_url(base_url.removesuffix("/bot") + "/file/bot")
        .context_types(ContextTypes(context=BotContext))
        .rate_limiter(sender or MeteredSender())  # the Sender, counting outcomes
        .updater(None)  # updates come through bot.dispatcher (webhook view or runbot)
        .request(bot_api_request())
        .build()
    )
    journeys = journeys if journeys is not None else load_journeys()
    application.add_handler(TypeHandler(Update, make_prepare(flood_gate)), group=-1)
    steps = {}
    for journey in journeys:
        application.add_handlers(journey.handlers, group=0)
        steps.update(journey.steps)
    application.add_handlers(build_fallbacks(steps), group=0)
    application.add_error_handler(on_error)
    application.bot_data["journeys"] = journeys
    return application


async def publish_commands(application: Application) -> None:
    """The command menu, in each language the bot speaks."""
    journeys: list[Journey] = application.bot_data["journeys"]
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            commands = [BotCommand(command, str(description))
                        for journey in journeys for command, description in journey.commands]
        language_code = None if code == settings.LANGUAGE_CODE else code.split("-")[0]
        await application.bot.set_my_commands(commands, language_code=language_code)
