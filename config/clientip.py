"""The client's address as the login lockout sees it: the socket's, or the one the trusted
proxies in front of Django recorded in X-Forwarded-For (TRUSTED_PROXY_COUNT of them)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    # Each trusted proxy appends the address it saw: the one the first of them saw is the
    # client, and anything further left was written by the client itself.
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if part.strip()]
    return forwarded[-proxies] if len(forwarded) >= proxies else remote
