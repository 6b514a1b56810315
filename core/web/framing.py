"""The pages a Telegram Mini App opens may be framed by Telegram's web clients, and only by
them; every other page keeps the policy's frame-ancestors 'none' (config/settings/security.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.views.decorators.clickjacking import xframe_options_exempt


def telegram_frameable(view: Callable) -> Callable:
    @wraps(view)
    def framed(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        # Browsers obey frame-ancestors and ignore X-Frame-Options when both are sent; the
        # exemption keeps DENY off so older ones do not refuse Telegram either.
        response._csp_replace = {"frame-ancestors": ["'self'", *settings.TELEGRAM_FRAME_ANCESTORS]}
        return response

    return xframe_options_exempt(framed)
