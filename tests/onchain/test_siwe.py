"""EIP-4361 sign-in messages: what is accepted, and every reason a message is refused."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from hypothesis import given
from hypothesis import strategies as st

from onchain import siwe

DOMAIN, CHAIN = "lendgram.example", 31337
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def wallet():
    return Account.from_key("0x" + "11" * 32)


def signed(wallet, **changes):
    message = siwe.build_message(domain=DOMAIN, address=wallet.address,
                                 uri=f"https://{DOMAIN}/s/tok", chain_id=CHAIN,
                                 nonce="abcdef0123456789", statement="Link this wallet.",
                                 now=NOW)
    text = message.text()
    for old, new in changes.items():
        text = text.replace(old, new)
    signature = Account.sign_message(encode_defunct(text=text), wallet.key).signature
    return text, signature.to_0x_hex()


def check(text, signature, **expected):
    return siwe.verify(text=text, signature=signature, domain=expected.get("domain", DOMAIN),
                       chain_id=expected.get("chain_id", CHAIN),
                       nonce=expected.get("nonce", "abcdef0123456789"),
                       now=expected.get("now", NOW + timedelta(minutes=1)))


def test_a_signed_message_verifies_and_round_trips(wallet):
    text, signature = signed(wallet)
    message = check(text, signature)
    assert message.address == wallet.address
    assert message.text() == text
    assert message.expiration_time == NOW + timedelta(minutes=15)


@pytest.mark.parametrize(("expected", "reason"), [
    ({"domain": "evil.example"}, "wrong_domain"),
    ({"chain_id": 1}, "wrong_chain"),
    ({"nonce": "0000000000000000"}, "wrong_nonce"),
    ({"now": NOW + timedelta(minutes=16)}, "expired"),
    ({"now": NOW - timedelta(minutes=10)}, "not_yet_valid"),
])
def test_a_message_for_another_context_is_refused(wallet, expected, reason):
    text, signature = signed(wallet)
    with pytest.raises(siwe.SiweError) as refused:
        check(text, signature, **expected)
    assert refused.value.reason == reason


def test_an_altered_message_is_refused(wallet):
    text, signature = signed(wallet)
    altered = text.replace("Link this wallet.", "Link this wallet!")
    with pytest.raises(siwe.SiweError) as refused:
        check(altered, signature)
    assert refused.value.reason == "bad_signature"


def test_a_message_signed_by_someone_else_is_refused(wallet):
    text, _ = signed(wallet)
    other = Account.from_key("0x" + "22" * 32)
    forged = Account.sign_message(encode_defunct(text=text), other.key).signature.to_0x_hex()
    with pytest.raises(siwe.SiweError, match="not from the address"):
        check(text, forged)


def test_a_garbage_signature_is_refused(wallet):
    text, _ = signed(wallet)
    with pytest.raises(siwe.SiweError) as refused:
        check(text, "0x1234")
    assert refused.value.reason == "bad_signature"


def test_a_lowercase_address_is_not_eip55(wallet):
    text, signature = signed(wallet, **{wallet.address: wallet.address.lower()})
    with pytest.raises(siwe.SiweError, match="checksum"):
        check(text, signature)


def test_short_nonces_are_refused(wallet):
    with pytest.raises(siwe.SiweError):
        siwe.build_message(domain=DOMAIN, address=wallet.address, uri="https://x", chain_id=1,
                           nonce="short")


def test_server_nonces_are_unique_and_long_enough():
    nonces = {siwe.new_nonce() for _ in range(1000)}
    assert len(nonces) == 1000 and all(len(n) >= 8 and n.isalnum() for n in nonces)


@given(st.text(max_size=400))
def test_parsing_arbitrary_text_never_crashes(text):
    with contextlib.suppress(siwe.SiweError):
        siwe.parse_message(text)
