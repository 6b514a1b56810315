"""The pages in a real headless Chromium: every page in English and in Persian (right to left)
without console errors, and a backstop pool deposit made from the page with an injected
wallet on anvil. Screenshots go to build/screenshots/."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from eth_account import Account

from core.common.formatting import format_amount
from core.users.services import user_set_language
from core.wallets.models import ChainCursor, SigningRequest, SigningStatus
from core.wallets.pool import pool_position
from core.web.services import login_link_create
from tests import factories
from tests.browser import InjectedWallet, attach_wallet, screenshot
from tests.chain import dev_key
from tests.factories import USD, active_loan, listed_loan

pytestmark = pytest.mark.django_db(transaction=True)
DEPOSITOR = dev_key(31)
LOCAL_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                           "LOCATION": "web-browser-tests"}}


def sign_in(page, base_url: str, user) -> None:
    page.goto(base_url + urlsplit(login_link_create(user=user)).path)
    page.wait_for_url(f"{base_url}/me/")


@pytest.mark.parametrize("language", ["en", "fa"])
def test_every_page_renders_without_console_errors(language, live_server, browser_page, alice,
                                                   bob, charlie):
    active_loan(borrower=alice, lenders=[(bob, 200 * USD), (charlie, 100 * USD)])
    open_loan = listed_loan(borrower=alice, principal=120 * USD, grade="A")
    user_set_language(user=bob, language=language)
    page = browser_page
    page.context.add_cookies([{"name": "django_language", "value": language,
                               "url": live_server.url}])
    pages = {"dashboard": "/", "loans": "/loans/", "loan": f"/loans/{open_loan.pk}/",
             "pool": "/pool/", "me-signed-out": "/me/"}
    for name, path in pages.items():
        page.goto(live_server.url + path)
        assert page.get_attribute("html", "dir") == ("rtl" if language == "fa" else "ltr")
        screenshot(page, f"web-{name}-{language}")
    sign_in(page, live_server.url, bob)
    assert page.locator("#my-portfolio").is_visible()
    screenshot(page, f"web-me-{language}")
    page.goto(live_server.url + "/pool/")
    screenshot(page, f"web-pool-signed-in-{language}")
    assert page.errors == []


def test_a_depositor_deposits_into_the_pool_from_the_page(chain, live_server, settings,
                                                          browser_page):
    settings.ONCHAIN_ADDRESSES_FILE = chain.addresses_file
    settings.RPC_URL = chain.rpc_url
    settings.PUBLIC_BASE_URL = live_server.url
    settings.CACHES = LOCAL_CACHE
    cache.clear()
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        address = Account.from_key(DEPOSITOR).address
        ChainCursor.objects.create(chain_id=31337, next_block=chain.w3.eth.block_number + 1)
        chain.faucet(DEPOSITOR, 500 * USD)
        dora = factories.lender(telegram_id=7301, username="dora_web", wallet=address)
        before = pool_position(address=address)
        wallet = InjectedWallet(DEPOSITOR, chain_id=31337, rpc_url=chain.rpc_url)
        page = browser_page
        attach_wallet(page, wallet)

        sign_in(page, live_server.url, dora)
        page.goto(live_server.url + "/pool/")
        assert "500.00" in page.inner_text("#wallet-balance")
        page.fill("#deposit-amount", "25")
        page.click("#deposit")
        page.wait_for_url(f"{live_server.url}/s/**")
        screenshot(page, "web-pool-deposit-signing")
        page.click("#go")
        page.wait_for_selector("#notice.ok", timeout=30_000)
        assert wallet.failures == []
        assert wallet.calls.count("eth_sendTransaction") == 2  # approve, then deposit

        chain.sync()
        request = SigningRequest.objects.get(user=dora)
        assert request.kind == "pool_deposit" and request.status == SigningStatus.CONFIRMED
        after = pool_position(address=address)
        assert after.shares > before.shares
        assert after.wallet_balance == before.wallet_balance - 25 * USD
        page.goto(live_server.url + "/pool/")
        # What the shares are worth now, as the contract says (ERC-4626 rounds down).
        assert 25 * USD - 2 <= after.assets <= 25 * USD
        assert page.inner_text("#position-assets") == format_amount(after.assets, "en")
        screenshot(page, "web-pool-after-deposit")
        assert page.errors == []
    finally:
        chain.w3.provider.make_request("evm_revert", [snapshot])
