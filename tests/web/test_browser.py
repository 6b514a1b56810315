"""The pages in a real headless Chromium: every page in English and in Persian (right to left)
without console errors; a backstop pool deposit, and a withdrawal through its cooldown, made
from the page with an injected wallet on anvil; the Telegram Mini App sign-in with init data
signed as Telegram signs it. Screenshots go to build/screenshots/."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote, urlencode, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext as _
from eth_account import Account

from core.chain.models import ChainCursor
from core.common.formatting import format_amount, format_date, format_time
from core.pool.selectors import pool_position
from core.signing import actions
from core.signing.models import SigningKind, SigningRequest, SigningStatus
from core.users.services import user_set_language
from core.web.services import login_link_create
from tests import factories
from tests.browser import InjectedWallet, attach_wallet, screenshot
from tests.chain import dev_key
from tests.factories import USD, active_loan, listed_loan
from tests.web.test_me import BOT_TOKEN, mini_app_fields, signed_init_data

pytestmark = pytest.mark.django_db(transaction=True)
DEPOSITOR = dev_key(31)
WITHDRAWER = dev_key(38)
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


@pytest.fixture
def pool_chain(chain, live_server, settings):
    """The app and its signing page on the session's anvil; the chain (and its clock, which
    the cooldown moves) is put back afterwards."""
    settings.ONCHAIN_ADDRESSES_FILE = chain.addresses_file
    settings.RPC_URL = chain.rpc_url
    settings.PUBLIC_BASE_URL = live_server.url
    settings.CACHES = LOCAL_CACHE
    cache.clear()
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        ChainCursor.objects.create(chain_id=31337, next_block=chain.w3.eth.block_number + 1)
        yield chain
    finally:
        chain.w3.provider.make_request("evm_revert", [snapshot])


def sign_on_the_signing_page(page, base_url: str, name: str) -> None:
    """Follow a form to the signing page and send its steps with the injected wallet."""
    page.wait_for_url(f"{base_url}/s/**")
    screenshot(page, name)
    page.click("#go")
    page.wait_for_selector("#notice.ok", timeout=30_000)


def tokens_shown(text: str) -> Decimal:
    """An English amount as the page prints it (`1,234.50 USDx`) back to whole tokens."""
    return Decimal(text.split("\u00a0")[0].replace(",", ""))


def test_a_depositor_deposits_into_the_pool_from_the_page(pool_chain, live_server,
                                                          browser_page):
    chain = pool_chain
    address = Account.from_key(DEPOSITOR).address
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
    sign_on_the_signing_page(page, live_server.url, "web-pool-deposit-signing")
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


def test_a_depositor_asks_to_withdraw_waits_out_the_cooldown_and_redeems_from_the_page(
        pool_chain, live_server, browser_page):
    chain = pool_chain
    address = Account.from_key(WITHDRAWER).address
    chain.faucet(WITHDRAWER, 500 * USD)
    erin = factories.lender(telegram_id=7302, username="erin_web", wallet=address)
    chain.sign(WITHDRAWER, actions.pool_deposit_request(user=erin, amount=100 * USD))
    wallet = InjectedWallet(WITHDRAWER, chain_id=31337, rpc_url=chain.rpc_url)
    page = browser_page
    attach_wallet(page, wallet)

    sign_in(page, live_server.url, erin)
    page.goto(live_server.url + "/pool/")
    assert page.locator("#unlock-at").count() == 0, "nothing asked for yet"
    page.fill("#withdraw-amount", "40")
    page.click("#withdraw")
    sign_on_the_signing_page(page, live_server.url, "web-pool-withdraw-request-signing")

    chain.sync()
    asked = SigningRequest.objects.get(user=erin, kind=SigningKind.POOL_WITHDRAW)
    assert asked.status == SigningStatus.CONFIRMED
    cooling = pool_position(address=address)
    assert cooling.withdraw_status == "cooling" and cooling.redeemable_shares == 0
    assert cooling.unlock_at - cooling.as_of == timedelta(days=7)
    pool = chain.deployment.contract("LiquidityBackstopPool", chain.w3).functions
    # The page asks for the shares worth 40 tokens, rounded up so that 40 come out: at most one
    # share more than the least that does (a share is worth more than a base unit once the
    # pool has earned premiums).
    asked_shares = cooling.withdraw_requested_shares
    assert pool.previewRedeem(asked_shares).call() >= 40 * USD
    assert pool.previewRedeem(asked_shares - 2).call() < 40 * USD
    page.goto(live_server.url + "/pool/")
    assert page.inner_text("#unlock-at") == (f"{format_date(cooling.unlock_at, 'en')} "
                                             f"{format_time(cooling.unlock_at, 'en')} UTC")
    assert page.locator("#redeemable-assets").count() == 0
    assert "starts the cooldown again" in page.inner_text("#withdraw-restarts")
    screenshot(page, "web-pool-withdraw-cooling")

    chain.mine_after(7 * 86400 + 60)
    ready = pool_position(address=address)
    assert ready.withdraw_status == "ready"
    page.goto(live_server.url + "/pool/")
    shown = page.inner_text("#redeemable-assets")
    assert shown == format_amount(ready.redeemable_assets, "en")
    assert page.locator("#unlock-at").count() == 0
    assert page.locator("#withdraw-amount").count() == 0, "the redeem takes what is ready"
    assert page.inner_text("#window-ends-at") == (f"{format_date(ready.window_ends_at, 'en')} "
                                                  f"{format_time(ready.window_ends_at, 'en')} UTC")
    screenshot(page, "web-pool-withdraw-ready")
    wallet_before = chain.balance(address)
    page.click("#withdraw")
    sign_on_the_signing_page(page, live_server.url, "web-pool-redeem-signing")
    assert wallet.failures == []
    assert wallet.calls.count("eth_sendTransaction") == 2  # the request, then the redeem

    chain.sync()
    redeem = SigningRequest.objects.filter(user=erin, kind=SigningKind.POOL_WITHDRAW).exclude(
        pk=asked.pk).get()
    assert redeem.status == SigningStatus.CONFIRMED
    grown = chain.balance(address) - wallet_before
    assert grown == ready.redeemable_assets
    assert abs(tokens_shown(shown).scaleb(settings.STABLE_DECIMALS) - grown) <= USD // 200
    done = pool_position(address=address)
    assert done.withdraw_status == "none" and done.shares == (
        cooling.shares - cooling.withdraw_requested_shares)
    page.goto(live_server.url + "/pool/")
    assert page.inner_text("#wallet-balance") == format_amount(done.wallet_balance, "en")
    screenshot(page, "web-pool-after-redeem")

    # A request left past its window lapses, and the page says so.
    chain.sign(WITHDRAWER, actions.pool_withdraw_request(user=erin, shares=done.shares // 2,
                                                         ready=False))
    chain.mine_after(9 * 86400 + 60)
    assert pool_position(address=address).withdraw_status == "lapsed"
    page.goto(live_server.url + "/pool/")
    assert "window has closed" in page.inner_text("#withdraw-lapsed")
    assert page.locator("#withdraw-amount").count() == 1
    assert page.errors == []


# --- Telegram Mini App ------------------------------------------------------------------------

# What Telegram's telegram-web-app.js leaves on the page, with the init data of the test.
FAKE_TELEGRAM = """
window.Telegram = {WebApp: {
  initData: %s, initDataUnsafe: {}, version: "7.10", platform: "android",
  colorScheme: "light", themeParams: {}, isExpanded: true,
  ready: () => window.__telegramReady(), expand: () => {}, close: () => {},
}};
"""


def open_mini_app(page, base_url: str, init_data: str, *, via: str) -> list[bool]:
    """Open /me/app/ as Telegram does: through window.Telegram.WebApp or the URL fragment.
    Returns the list the page's `Telegram.WebApp.ready()` calls land in."""
    readies: list[bool] = []
    if via == "webapp":
        page.expose_function("__telegramReady", lambda: readies.append(True))
        page.add_init_script(FAKE_TELEGRAM % json.dumps(init_data))
        page.goto(base_url + "/me/app/")
    else:
        page.goto(base_url + "/me/app/#" + urlencode(
            {"tgWebAppData": init_data, "tgWebAppVersion": "7.10",
             "tgWebAppPlatform": "android"}, quote_via=quote))
    return readies


@pytest.mark.parametrize("via", ["webapp", "fragment"])
def test_a_mini_app_opens_the_persons_own_page_signed_in_and_in_their_language(
        via, live_server, settings, browser_page, alice, bob, charlie):
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    loan = active_loan(borrower=alice, lenders=[(bob, 200 * USD), (charlie, 100 * USD)])
    user_set_language(user=bob, language="es")
    page = browser_page

    readies = open_mini_app(page, live_server.url,
                            signed_init_data(mini_app_fields(bob.telegram_id)), via=via)
    page.wait_for_url(f"{live_server.url}/me/")
    assert readies == ([True] if via == "webapp" else [])
    assert page.get_attribute("html", "lang") == "es"
    with translation.override("es"):
        assert page.inner_text("h1") == _("My account") != "My account"
    assert "@bob" in page.inner_text("main")
    portfolio = page.locator("#my-portfolio")
    assert portfolio.locator(f'a[href="/loans/{loan.pk}/"]').is_visible()
    assert format_amount(200 * USD, "es") in portfolio.inner_text()
    screenshot(page, f"web-mini-app-signed-in-{via}")
    assert page.errors == []


REFUSED_BY_SERVER = "Failed to load resource: the server responded with a status of 403"


@pytest.mark.parametrize("forgery", ["another_bots_token", "someone_elses_id"])
def test_a_mini_app_refuses_forged_init_data_with_a_clear_message(
        forgery, live_server, settings, browser_page, bob, charlie):
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    page = browser_page
    refused_urls: list[str] = []
    page.on("console", lambda m: m.text.startswith(REFUSED_BY_SERVER) and refused_urls.append(
        m.location["url"]))
    fields = mini_app_fields(bob.telegram_id)
    if forgery == "another_bots_token":
        init_data = signed_init_data(fields, bot_token="999:another-bot")
    else:  # bob's valid signature, charlie's id put in its place
        init_data = signed_init_data(fields).replace(str(bob.telegram_id),
                                                     str(charlie.telegram_id))

    open_mini_app(page, live_server.url, init_data, via="webapp")
    notice = page.wait_for_selector("#notice.bad")
    assert notice.inner_text() == "Telegram's sign-in data could not be verified."
    assert urlsplit(page.url).path == "/me/app/"
    screenshot(page, f"web-mini-app-refused-{forgery}")
    # Chromium notes every 4xx answer in the console; the refusal is the only one and nothing
    # on the page failed.
    assert refused_urls == [live_server.url + "/me/app/auth"]
    assert [e for e in page.errors if not e.startswith(REFUSED_BY_SERVER)] == []
    page.goto(live_server.url + "/me/")
    assert page.locator("#my-portfolio").count() == 0
    assert "@bob" not in page.inner_text("main") and "@charlie" not in page.inner_text("main")
