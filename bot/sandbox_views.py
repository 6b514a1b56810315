"""The sandbox: a web chat on top of the local Bot API emulator, to try the bot as several
people (a borrower, lenders, an admin) with no Telegram account."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from core.signing.devwallet import dev_accounts

# Sandbox people: the demo data's Telegram ids, so their loans show up in the chat. Each signs
# with their own anvil dev account by default (5-9: 0-4 also act for the platform).
PEOPLE = [
    {"id": 910_001, "first_name": "Amara", "username": "demo_amara", "language_code": "en",
     "role": "borrower", "dev_account": 5},
    {"id": 910_004, "first_name": "João", "username": "demo_joao", "language_code": "pt-br",
     "role": "lender", "dev_account": 6},
    {"id": 910_005, "first_name": "Olga", "username": "demo_olga", "language_code": "ru",
     "role": "lender", "dev_account": 7},
    {"id": 910_003, "first_name": "Reza", "username": "demo_reza", "language_code": "fa",
     "role": "borrower", "dev_account": 8},
    {"id": 910_900, "first_name": "Admin", "username": "demo_admin", "language_code": "en",
     "role": "admin", "dev_account": 9},
]


def sandbox(request: HttpRequest) -> HttpResponse:
    if settings.TELEGRAM_BOT_TOKEN and not settings.DEBUG:
        raise Http404("The sandbox runs only without a real bot token.")
    response = render(request, "sandbox/chat.html", {
        "emulator_url": settings.SANDBOX_EMULATOR_URL,
        "people": PEOPLE,
        # Empty unless DEBUG on the local chain: then signing links open with a dev wallet.
        "dev_accounts": dev_accounts(),
    })
    # The page reads the chat from the emulator and shows the photos it holds.
    emulator = urlsplit(settings.SANDBOX_EMULATOR_URL)
    origin = f"{emulator.scheme}://{emulator.netloc}"
    response._csp_update = {"connect-src": [origin], "img-src": [origin]}
    return response
