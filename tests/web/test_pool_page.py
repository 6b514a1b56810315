"""The pool page's forms without a chain: deposits become signing requests, and nothing is
offered when the pool cannot be read (the deposit itself runs on anvil in test_browser)."""

from __future__ import annotations

import pytest

from core.signing.models import SigningRequest

pytestmark = pytest.mark.django_db


def test_a_deposit_becomes_a_signing_request_on_the_signing_page(client, signed_in, bob):
    signed_in(bob)
    response = client.post("/pool/deposit", {"amount": "12.5"})
    assert response.status_code == 302 and response["Location"].startswith("/s/")
    request = SigningRequest.objects.get(user=bob)
    assert (request.kind, request.amount) == ("pool_deposit", 12_500_000)
    assert [step["step"] for step in request.transactions] == ["approve", "pool_deposit"]
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("amount", ["0", "-3", "abc", "1.0000001", ""])
def test_a_deposit_of_a_bad_amount_is_refused(client, signed_in, bob, amount):
    signed_in(bob)
    response = client.post("/pool/deposit", {"amount": amount})
    assert response.status_code == 400 and b'id="refused"' in response.content
    assert not SigningRequest.objects.exists()


def test_pool_actions_need_a_signed_in_person(client):
    assert client.post("/pool/deposit", {"amount": "5"})["Location"] == "/me/"
    assert client.post("/pool/withdraw", {"amount": "5"})["Location"] == "/me/"


def test_a_withdrawal_is_refused_while_the_pool_cannot_be_read(client, signed_in, bob):
    signed_in(bob)
    assert b"The pool cannot be read right now." in client.get("/pool/").content
    response = client.post("/pool/withdraw", {"amount": "5"})
    assert response.status_code == 400
    assert not SigningRequest.objects.exists()


def test_a_connected_wallet_address_is_checked(client):
    assert client.get("/pool/position?address=0x123").status_code == 400
    assert client.get("/pool/position?address=0x" + "ab" * 20).status_code == 503
