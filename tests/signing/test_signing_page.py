"""The signing page in a real browser with an injected test wallet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.signing import services
from core.signing.models import SigningKind, SigningRequest, SigningStatus
from core.users import services as users
from tests.browser import InjectedWallet, attach_wallet, screenshot

pytestmark = pytest.mark.django_db(transaction=True)
KEY = "0x" + "5a" * 32


@pytest.fixture
def site(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server.url


def link_request(language="en"):
    user, _ = users.user_get_or_create_from_telegram(telegram_id=3001, username="erin",
                                                     language_code=language)
    request, token = services.signing_request_create(user=user, kind=SigningKind.LINK_WALLET,
                                                     summary="Link your wallet to Lendgram.")
    return user, request, token


def test_a_wallet_links_from_the_signing_page(site, browser_page, settings):
    user, request, token = link_request()
    wallet = InjectedWallet(KEY, chain_id=settings.CHAIN_ID)
    attach_wallet(browser_page, wallet)
    browser_page.goto(f"{site}/s/{token}/")
    browser_page.click("#go")
    browser_page.wait_for_selector("#notice.ok", timeout=15_000)
    screenshot(browser_page, "signing-link-wallet")
    assert "linked" in browser_page.inner_text("#notice")
    assert "personal_sign" in wallet.calls
    user.refresh_from_db()
    request.refresh_from_db()
    assert user.wallet_address == wallet.account.address
    assert request.status == SigningStatus.CONFIRMED
    assert browser_page.errors == []


def test_a_used_link_says_so_and_offers_no_button(site, browser_page, settings):
    _, request, token = link_request()
    SigningRequest.objects.filter(pk=request.pk).update(status=SigningStatus.CONFIRMED)
    browser_page.goto(f"{site}/s/{token}/")
    assert browser_page.locator("#go").count() == 0
    assert "Done" in browser_page.inner_text("#notice")


def test_an_expired_link_says_so(site, browser_page):
    _, request, token = link_request()
    SigningRequest.objects.filter(pk=request.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1))
    browser_page.goto(f"{site}/s/{token}/")
    assert browser_page.locator("#go").count() == 0
    assert "expired" in browser_page.inner_text("#notice")


def test_an_unknown_link_is_a_404_page(site, browser_page):
    response = browser_page.goto(f"{site}/s/not-a-token/")
    assert response.status == 404
    assert "does not work" in browser_page.inner_text("h1")


def test_the_page_renders_right_to_left_for_persian(site, browser_page):
    _, _, token = link_request(language="fa")
    browser_page.goto(f"{site}/s/{token}/")
    assert browser_page.get_attribute("html", "dir") == "rtl"
    assert browser_page.get_attribute("html", "lang") == "fa"
    assert browser_page.inner_text("h1") == "کیف پول خود را متصل کنید"
    screenshot(browser_page, "signing-link-wallet-fa")
    assert browser_page.errors == []
