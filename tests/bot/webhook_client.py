"""Posting to the webhook view as Telegram does, for the webhook tests and the attacks on it."""

from __future__ import annotations

import json

import pytest
from django.test import AsyncClient

from bot import webhook

SECRET = "s3cret-token_for-tests"
URL = "/telegram/webhook/"


@pytest.fixture
def webhook_secret(settings):
    """The configured secret, and no runtime left installed for the next test."""
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    yield
    webhook.install_runtime(None)


async def post(update: dict | bytes, secret: str | None = SECRET):
    """An update (or raw bytes) with the secret header; None sends no header at all."""
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    body = update if isinstance(update, bytes) else json.dumps(update)
    return await AsyncClient().post(URL, data=body, content_type="application/json",
                                    headers=headers)
