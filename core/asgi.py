"""ASGI entry point (uvicorn core.asgi:application)."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")

application = get_asgi_application()

if settings.DEBUG:
    # Development serves static files itself, as runserver does; production puts them
    # behind the web server (see infra/).
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    application = ASGIStaticFilesHandler(application)
