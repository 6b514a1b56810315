"""The dev wallet (anvil's accounts 0-9 signing through the server) in the sandbox, in a real
browser: only in DEBUG on the local chain 31337, refused anywhere else."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import expect

from bot.sandbox.emulator import EmulatorThread
from bot.signing import signing_markup
from core.chain.models import ChainCursor
from core.loans.states import LoanState
from core.signing import actions, services
from core.signing.links import signing_links
from core.signing.models import SigningKind, SigningStatus
from core.users import services as users
from onchain.devwallet import dev_address
from tests import factories
from tests.browser import screenshot

AMARA = {"id": 910_001, "first_name": "Amara", "username": "demo_amara", "language_code": "en"}


@pytest.fixture
def dev_site(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.DEBUG = True
    settings.CHAIN_ID = 31337
    return live_server.url


@pytest.fixture
def emulator(settings):
    thread = EmulatorThread().start()
    settings.SANDBOX_EMULATOR_URL = thread.url
    yield thread
    thread.stop()


def _post(url: str, data: dict, *, form: bool = False) -> dict:
    if form:
        body, kind = urllib.parse.urlencode(data).encode(), "application/x-www-form-urlencoded"
    else:
        body, kind = json.dumps(data).encode(), "application/json"
    request = urllib.request.Request(url, body, {"Content-Type": kind})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def bot_sends_signing_links(emulator, chat_id: int, request, token) -> None:
    """What the bot does with a signing request: a message with the wallet buttons."""
    markup = signing_markup(signing_links(request=request, token=token)).to_dict()
    _post(f"{emulator.api_base_url}123:sandbox/sendMessage",
          {"chat_id": chat_id, "text": "Link your wallet", "reply_markup": json.dumps(markup)},
          form=True)


@pytest.mark.django_db(transaction=True)
def test_a_link_from_the_sandbox_is_signed_by_the_dev_account_the_person_picked(
        dev_site, emulator, browser_page):
    user, _ = users.user_get_or_create_from_telegram(telegram_id=AMARA["id"],
                                                     username=AMARA["username"],
                                                     language_code="en")
    request, token = services.signing_request_create(user=user, kind=SigningKind.LINK_WALLET,
                                                     summary="Link your wallet to Lendgram.")
    _post(f"{emulator.url}/_emu/updates", {"user": AMARA, "text": "/start"})
    bot_sends_signing_links(emulator, AMARA["id"], request, token)

    browser_page.goto(f"{dev_site}/sandbox/")
    browser_page.select_option("#devwallet-account", "7")  # Amara's own pick, not the default
    link = browser_page.locator("a", has_text="Open the signing page")
    link.wait_for(timeout=10_000)
    # The pick re-renders the chat (asynchronously): its links then carry the picked account.
    expect(browser_page.locator("a", has_text="MetaMask")).to_have_attribute(
        "href", f"{dev_site}/s/{token}/#dev-account=7", timeout=10_000)
    screenshot(browser_page, "sandbox-dev-wallet")
    with browser_page.context.expect_page() as opened:
        link.click()
    page = opened.value
    page.wait_for_selector("#devwallet:not([hidden])")
    assert page.input_value("#devwallet select") == "7"
    page.click("#go")
    page.wait_for_selector("#notice.ok", timeout=15_000)
    screenshot(page, "signing-dev-wallet-linked")

    user.refresh_from_db()
    request.refresh_from_db()
    assert user.wallet_address == dev_address(7)
    assert request.status == SigningStatus.CONFIRMED
    assert browser_page.errors == []


@pytest.mark.django_db(transaction=True)
def test_an_open_loan_request_is_sent_on_anvil_by_the_dev_wallet(dev_site, chain, settings,
                                                                 browser_page):
    settings.RPC_URL = chain.rpc_url
    settings.ONCHAIN_ADDRESSES_FILE = chain.addresses_file
    ChainCursor.objects.create(chain_id=31337, next_block=chain.w3.eth.block_number + 1)
    alice = factories.borrower(telegram_id=4801, username="alice_dw", wallet=dev_address(9))
    loan = factories.approved_loan(borrower=alice, principal=120 * factories.USD,
                                   installments=2)
    request, token = actions.open_loan_request(user=alice, loan=loan)

    browser_page.goto(f"{dev_site}/s/{token}/#dev-account=9")
    browser_page.click("#go")
    browser_page.wait_for_selector("#notice.ok", timeout=30_000)
    request.refresh_from_db()
    assert request.status == SigningStatus.SUBMITTED and len(request.tx_hashes) == 1
    receipt = chain.w3.eth.get_transaction_receipt(request.tx_hashes[0])
    assert receipt["status"] == 1 and receipt["from"] == dev_address(9)

    chain.sync()
    loan.refresh_from_db()
    request.refresh_from_db()
    assert loan.state == LoanState.LISTED and loan.chain_loan_id is not None
    assert request.status == SigningStatus.CONFIRMED
    assert browser_page.errors == []


@pytest.mark.django_db
@pytest.mark.parametrize(("debug", "chain_id"), [(False, 31337), (True, 1449000)])
def test_the_dev_wallet_does_not_exist_off_debug_or_off_the_local_chain(client, settings, debug,
                                                                        chain_id):
    settings.DEBUG, settings.CHAIN_ID = debug, chain_id
    reply = client.post("/dev/wallet/rpc", {"account": 5, "method": "eth_accounts"},
                        content_type="application/json")
    assert reply.status_code == 404
    user, _ = users.user_get_or_create_from_telegram(telegram_id=4811, username="zed",
                                                     language_code="en")
    _, token = services.signing_request_create(user=user, kind=SigningKind.LINK_WALLET,
                                               summary="Link your wallet to Lendgram.")
    page = client.get(f"/s/{token}/").content.decode()
    assert "devwallet.js" not in page and "devwallet-config" not in page
    sandbox = client.get("/sandbox/").content.decode()
    assert 'id="dev-accounts" type="application/json">[]<' in sandbox


@pytest.mark.django_db
def test_the_dev_wallet_answers_for_the_chosen_account_in_debug_on_anvil(client, settings):
    settings.DEBUG, settings.CHAIN_ID = True, 31337
    reply = client.post("/dev/wallet/rpc", {"account": 6, "method": "eth_requestAccounts"},
                        content_type="application/json")
    assert reply.json() == {"result": [dev_address(6)]}
    refused = client.post("/dev/wallet/rpc", {"account": 6, "method": "eth_sign",
                                              "params": [dev_address(6), "0x00"]},
                          content_type="application/json")
    assert refused.json()["error"]["code"] == 4200
    other = client.post("/dev/wallet/rpc", {"account": 11, "method": "eth_accounts"},
                        content_type="application/json")
    assert other.json()["error"]["code"] == 4100
