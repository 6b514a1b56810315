"""WalletConnect on the signing page: offered only when a project id is configured, from the
bundle `make setup` builds with esbuild and Django serves as a static file (no CDN).

A real WalletConnect session needs the public relay, which this machine cannot reach: these
tests stop at the page offering it with a working provider class loaded in the browser."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders

from core.signing import services
from core.signing.models import SigningKind
from core.users import services as users
from tests.browser import screenshot

BUNDLE = "vendor/walletconnect.min.js"


def link_token() -> str:
    user, _ = users.user_get_or_create_from_telegram(telegram_id=3101, username="wc_user",
                                                     language_code="en")
    _, token = services.signing_request_create(user=user, kind=SigningKind.LINK_WALLET,
                                               summary="Link your wallet to Lendgram.")
    return token


@pytest.mark.django_db
def test_the_page_offers_walletconnect_only_with_a_project_id(client, settings):
    token = link_token()
    settings.WALLETCONNECT_PROJECT_ID = ""
    page = client.get(f"/s/{token}/").content.decode()
    assert "go-walletconnect" not in page and "walletconnect.min.js" not in page
    settings.WALLETCONNECT_PROJECT_ID = "0123456789abcdef0123456789abcdef"
    page = client.get(f"/s/{token}/").content.decode()
    assert 'id="go-walletconnect"' in page and "walletconnect.min.js" in page
    assert '"walletConnect": {"projectId": "0123456789abcdef0123456789abcdef"}' in page


def test_the_walletconnect_bundle_is_built_self_contained():
    path = finders.find(BUNDLE)
    assert path, "the WalletConnect bundle is missing: make setup builds it (npm run " \
                 "build:walletconnect)"
    with open(path, encoding="utf-8") as bundle:
        code = bundle.read()
    assert "LendgramWalletConnect" in code and len(code) > 100_000
    assert "require(" not in code[:2000]  # an IIFE, not a CommonJS module needing globals


@pytest.mark.django_db(transaction=True)
def test_the_browser_loads_the_served_bundle_and_shows_both_wallets(live_server, settings,
                                                                    browser_page):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.WALLETCONNECT_PROJECT_ID = "0123456789abcdef0123456789abcdef"
    token = link_token()
    served = browser_page.request.get(f"{live_server.url}/static/{BUNDLE}")
    assert served.status == 200 and "javascript" in served.headers["content-type"]

    browser_page.goto(f"{live_server.url}/s/{token}/")
    assert browser_page.is_visible("#go") and browser_page.is_visible("#go-walletconnect")
    assert browser_page.evaluate(
        "typeof window.LendgramWalletConnect.EthereumProvider.init") == "function"
    screenshot(browser_page, "signing-walletconnect-offered")
    assert browser_page.errors == []
