"""ASGI entry point (uvicorn config.asgi:application)."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()
# Telegram's webhook POSTs are answered before Django's middleware (bot/webhook.py says why).
application = import_string("bot.webhook.DirectWebhook")(application)

if settings.DEBUG:
    # Development serves static files itself, as runserver does; production puts them
    # behind the web server (see infra/).
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    application = ASGIStaticFilesHandler(application)
