"""The signing page sends real transactions from a browser wallet; the indexer confirms them."""

from __future__ import annotations

import pytest
from eth_account import Account

from core.chain.models import ChainCursor
from core.loans.states import LoanState
from core.signing import actions
from core.signing.models import SigningRequest, SigningStatus
from tests import factories
from tests.browser import InjectedWallet, attach_wallet, screenshot
from tests.chain import dev_key

pytestmark = pytest.mark.django_db(transaction=True)
USD = factories.USD
ALICE, BOB = dev_key(25), dev_key(26)


def test_a_lender_funds_from_the_page_and_the_indexer_confirms_it(chain, live_server, settings,
                                                                 browser_page):
    settings.ONCHAIN_ADDRESSES_FILE = chain.addresses_file
    settings.PUBLIC_BASE_URL = live_server.url
    ChainCursor.objects.create(chain_id=31337, next_block=chain.w3.eth.block_number + 1)
    for key in (ALICE, BOB):
        chain.faucet(key, 500 * USD)
    alice = factories.borrower(telegram_id=7001, username="alice_p",
                               wallet=Account.from_key(ALICE).address)
    bob = factories.lender(telegram_id=7002, username="bob_p",
                           wallet=Account.from_key(BOB).address)
    loan = factories.approved_loan(borrower=alice, principal=80 * USD, installments=1)
    chain.sign(ALICE, actions.open_loan_request(user=alice, loan=loan))
    chain.sync()
    loan.refresh_from_db()

    request, token = actions.fund_request(user=bob, loan=loan, amount=30 * USD)
    wallet = InjectedWallet(BOB, chain_id=31337, rpc_url=chain.rpc_url)
    attach_wallet(browser_page, wallet)
    browser_page.goto(f"{live_server.url}/s/{token}/")
    assert "Fund loan" in browser_page.inner_text("#summary")
    browser_page.click("#go")
    browser_page.wait_for_selector("#notice.ok", timeout=30_000)
    assert wallet.failures == []
    assert wallet.calls.count("eth_sendTransaction") == 2  # approve, then fund
    request.refresh_from_db()
    assert request.status == SigningStatus.SUBMITTED and len(request.tx_hashes) == 2

    chain.sync()
    # A locator, not a string of script: the page's policy refuses eval, Playwright's too.
    browser_page.locator("#notice", has_text="Done").wait_for(timeout=15_000)
    screenshot(browser_page, "signing-fund-confirmed")
    assert SigningRequest.objects.get(pk=request.pk).status == SigningStatus.CONFIRMED
    loan.refresh_from_db()
    assert loan.state == LoanState.FUNDING and loan.funded_amount == 30 * USD
    assert browser_page.errors == []


def test_the_page_refuses_to_send_from_another_wallet(chain, live_server, settings,
                                                      browser_page):
    settings.ONCHAIN_ADDRESSES_FILE = chain.addresses_file
    settings.PUBLIC_BASE_URL = live_server.url
    bob = factories.lender(telegram_id=7003, username="bob_q",
                           wallet=Account.from_key(BOB).address)
    chain.faucet(ALICE, 0)
    request, token = actions.pool_deposit_request(user=bob, amount=5 * USD)
    wallet = InjectedWallet(ALICE, chain_id=31337, rpc_url=chain.rpc_url)
    attach_wallet(browser_page, wallet)
    browser_page.goto(f"{live_server.url}/s/{token}/")
    browser_page.click("#go")
    browser_page.wait_for_selector("#notice.bad", timeout=10_000)
    assert "not the one linked" in browser_page.inner_text("#notice")
    assert "eth_sendTransaction" not in wallet.calls
    request.refresh_from_db()
    assert request.status == SigningStatus.PENDING
