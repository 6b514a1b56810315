"""Signing people in to their personal pages: a one-time link from the bot, or the init data
Telegram hands a Mini App (checked with the bot token's HMAC, as Telegram documents)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import timedelta
from urllib.parse import parse_qsl

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from core.common.errors import ServiceError
from core.users.models import TelegramUser
from core.web.models import LoginToken

LOGIN_LINK_TTL = timedelta(minutes=15)
# Telegram signs init data once when the Mini App opens; older data is refused (replay).
INIT_DATA_MAX_AGE = timedelta(hours=1)
SESSION_KEY = "web_user_id"


class LoginRefused(ServiceError):
    code = "login_refused"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login_link_create(*, user: TelegramUser, ttl: timedelta = LOGIN_LINK_TTL) -> str:
    """A link that signs `user` in once, within `ttl`; returns the full URL."""
    if user.is_frozen:
        raise LoginRefused(_("Your account is frozen."), code="frozen")
    token = secrets.token_urlsafe(24)
    LoginToken.objects.create(token_hash=_hash(token), user=user,
                              expires_at=timezone.now() + ttl)
    return f"{settings.PUBLIC_BASE_URL}/me/login/{token}/"


def login_token_redeem(*, token: str) -> TelegramUser:
    """The person behind a login link; the link works once (a conditional UPDATE claims it)."""
    now = timezone.now()
    row = LoginToken.objects.select_related("user").filter(token_hash=_hash(token)).first()
    if row is None or row.expires_at <= now:
        raise LoginRefused(_("This login link has expired. Send /me to the bot for a new one."),
                           code="expired")
    claimed = LoginToken.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now)
    if not claimed:
        raise LoginRefused(_("This login link was already used. Send /me to the bot for a new "
                             "one."), code="used")
    if row.user.is_frozen:
        raise LoginRefused(_("Your account is frozen."), code="frozen")
    return row.user


def webapp_init_data_verify(*, init_data: str, bot_token: str | None = None,
                            now=None) -> TelegramUser:
    """The person a Telegram Mini App was opened by, from its signed init data.

    secret = HMAC_SHA256(key="WebAppData", msg=bot_token); the `hash` field must equal
    HMAC_SHA256(key=secret, msg=the other fields as sorted "key=value" lines).
    """
    bot_token = bot_token if bot_token is not None else settings.TELEGRAM_BOT_TOKEN
    refused = LoginRefused(_("Telegram's sign-in data could not be verified."), code="bad_init")
    if not bot_token or not init_data:
        raise refused
    fields = dict(parse_qsl(init_data, keep_blank_values=True))
    received = fields.pop("hash", "")
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not received or not hmac.compare_digest(expected, received):
        raise refused
    try:
        signed_at = int(fields.get("auth_date", "0"))
        telegram_id = int(json.loads(fields.get("user", "{}"))["id"])
    except (ValueError, KeyError, TypeError):
        raise refused from None
    now = now or timezone.now()
    if now.timestamp() - signed_at > INIT_DATA_MAX_AGE.total_seconds():
        raise LoginRefused(_("Telegram's sign-in data is too old. Open the page from the bot "
                             "again."), code="stale_init")
    user = TelegramUser.objects.filter(telegram_id=telegram_id).first()
    if user is None:
        raise LoginRefused(_("Start the bot first, then open this page again."), code="unknown")
    if user.is_frozen:
        raise LoginRefused(_("Your account is frozen."), code="frozen")
    return user
