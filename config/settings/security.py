"""Security: HTTPS behind the proxy, cookies, the Content-Security-Policy of every page, and
operators' sign-in (TOTP two-factor with recovery codes, failed-login lockout).

Every default here is the production one; `manage.py rundev` (DEBUG on) relaxes what plain
http on 127.0.0.1 needs relaxed. `manage.py check --deploy` is clean with these defaults.
"""

from __future__ import annotations

import os
from datetime import timedelta

from csp.constants import NONCE, NONE, SELF

from config.envconfig import env_bool
from config.settings.base import DEBUG

# --- HTTPS -------------------------------------------------------------------------------
# Off only where nothing speaks TLS: development, and the local compose stack of infra/
# (plain http on localhost). A real deployment sits behind a TLS proxy that sets
# X-Forwarded-Proto (infra/nginx.conf does).
SECURE_HTTPS = env_bool("DJANGO_SECURE_HTTPS", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = SECURE_HTTPS
# Probes and scrapers inside the cluster speak plain http to the web container.
SECURE_REDIRECT_EXEMPT = [r"^health(/live)?$", r"^metrics$"]
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS") or 31536000) if SECURE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SESSION_COOKIE_HTTPONLY = True
# Telegram's in-app browser opens our links from t.me: Lax keeps the session on that
# top-level navigation while refusing it to cross-site subrequests.
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp) -------------------------------------------------
# Nothing from another origin and no inline code unless it carries the request's nonce.
# Pages that need more say so themselves: the Mini App pages may be framed by Telegram's web
# clients (core/web/framing.py), the sandbox chat talks to the Bot API emulator, the signing
# page talks to WalletConnect's relay when a project id is configured.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}
# What the signing page adds when WALLETCONNECT_PROJECT_ID is set.
WALLETCONNECT_CSP = {
    "connect-src": ["https://*.walletconnect.com", "wss://*.walletconnect.com",
                    "https://*.walletconnect.org", "wss://*.walletconnect.org",
                    "https://*.reown.com", "wss://*.reown.com", "https://*.web3modal.org"],
    "frame-src": ["https://verify.walletconnect.com", "https://verify.walletconnect.org",
                  "https://secure.walletconnect.org", "https://secure.reown.com"],
    "img-src": ["https://*.walletconnect.com", "https://*.reown.com", "https://*.web3modal.org"],
}
# Telegram's web clients, the only sites allowed to frame the Mini App's pages.
TELEGRAM_FRAME_ANCESTORS = ["https://web.telegram.org", "https://webk.telegram.org",
                            "https://webz.telegram.org"]

# --- Operators ----------------------------------------------------------------------------
# Django admin asks staff for a TOTP code (or a recovery code) after the password; set up
# with `manage.py operator_2fa <username>` (README, Operations). Off only in development.
OPERATOR_2FA_REQUIRED = env_bool("OPERATOR_2FA_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = "Lendgram"
# Failed sign-ins lock the username from that address out; the lock lifts by itself.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("ADMIN_LOGIN_FAILURE_LIMIT") or 5)
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("ADMIN_LOGIN_LOCKOUT_MINUTES") or 30))
# Locked per username and address: a stranger's failures cannot lock an operator out everywhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.clientip.client_ip"
# How many proxies in front of Django append to X-Forwarded-For (1 behind infra's nginx);
# 0 trusts only the socket's address.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT") or 0)
