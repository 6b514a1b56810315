"""The dev wallet signs with anvil's public keys: off DEBUG (or off the local chain) it must
not exist at all, for any method, and no page may offer it. (POST off DEBUG and off anvil is
tests/signing/test_devwallet.py::test_the_dev_wallet_does_not_exist_off_debug_or_off_the_local_chain.)"""

from __future__ import annotations

import pytest

from core.signing.models import SigningKind
from core.signing.services import signing_request_create
from tests.factories import lender

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options", "head"])
def test_the_dev_wallet_is_a_404_for_every_method_when_debug_is_off(client, settings, method):
    settings.DEBUG, settings.CHAIN_ID = False, 31337
    response = getattr(client, method)("/dev/wallet/rpc", {"account": 0, "method":
                                       "eth_sendTransaction"}, content_type="application/json")
    assert response.status_code == 404


def test_no_page_offers_the_dev_wallet_when_debug_is_off(client, settings):
    settings.DEBUG, settings.CHAIN_ID = False, 31337
    user = lender(telegram_id=7_900_001, username="dw")
    _request, token = signing_request_create(user=user, kind=SigningKind.LINK_WALLET,
                                             summary="Link your wallet.")
    page = client.get(f"/s/{token}/").content.decode()
    assert "devwallet" not in page and "/dev/wallet/rpc" not in page


def test_in_debug_on_anvil_a_get_is_told_to_post(client, settings):
    settings.DEBUG, settings.CHAIN_ID = True, 31337
    assert client.get("/dev/wallet/rpc").status_code == 405
