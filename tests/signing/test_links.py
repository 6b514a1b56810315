"""Links to a signing request: the page, every wallet, and EIP-681 for a single call."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from django.conf import settings

from core.signing import actions
from core.signing.links import signing_links
from tests import factories

pytestmark = pytest.mark.django_db

LENDER_WALLET = "0x" + "ab" * 20


@pytest.fixture
def listed(alice):
    return factories.listed_loan(borrower=alice)


def test_every_wallet_link_opens_the_same_signing_page(listed):
    lender = factories.lender(telegram_id=3001, username="lena", wallet=LENDER_WALLET)
    request, token = actions.fund_request(user=lender, loan=listed, amount=10 * 10**6)
    links = signing_links(request=request, token=token)
    assert links.page == f"{settings.PUBLIC_BASE_URL}/s/{token}/"
    assert links.wallets["metamask"].startswith("https://link.metamask.io/dapp/")
    assert links.wallets["metamask"].endswith(f"/s/{token}/")
    for wallet in ("trust", "coinbase"):
        assert links.page in unquote(links.wallets[wallet])


def test_an_approve_and_fund_pair_has_no_single_call_link(listed):
    lender = factories.lender(telegram_id=3002, username="leo", wallet=LENDER_WALLET)
    request, token = actions.fund_request(user=lender, loan=listed, amount=10 * 10**6)
    assert len(request.transactions) == 2
    assert signing_links(request=request, token=token).eip681 is None


def test_a_single_call_gets_an_eip681_link_with_its_typed_arguments(alice, listed):
    request, token = actions.cancel_request(user=alice, loan=listed)
    uri = signing_links(request=request, token=token).eip681
    book = request.transactions[0]["to"]
    assert uri == f"ethereum:{book}@{request.chain_id}/cancel?uint256={listed.chain_loan_id}"


def test_wallet_linking_has_no_transaction_link(alice):
    request, token = actions.wallet_link_request(user=alice)
    assert signing_links(request=request, token=token).eip681 is None


def test_the_qr_code_is_a_png():
    from core.signing.links import SigningLinks

    assert SigningLinks(page="https://x.example/s/t/", wallets={}, eip681=None).qr_png()[
        :8] == b"\x89PNG\r\n\x1a\n"

