"""The Django project: settings, URLs, the ASGI/WSGI entry points and the Celery app.

The only package that composes the bot and the domain: `core` never imports it or `bot`.
"""

from config.celery import app as celery_app

__all__ = ["celery_app"]
