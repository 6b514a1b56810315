"""Wallet linking with EIP-4361: verified once, refused when replayed, altered or expired."""

from __future__ import annotations

from datetime import timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from core.signing import services
from core.signing.models import SigningKind, SigningRequest, SigningStatus
from core.users import services as users

pytestmark = pytest.mark.django_db
DOMAIN = "lendgram.example"


@pytest.fixture
def dana(db):
    user, _ = users.user_get_or_create_from_telegram(telegram_id=2001, username="dana")
    return user


@pytest.fixture
def wallet():
    return Account.from_key("0x" + "42" * 32)


def sign(wallet, text):
    return Account.sign_message(encode_defunct(text=text), wallet.key).signature.to_0x_hex()


def start_link(user, wallet):
    request, token = services.signing_request_create(user=user, kind=SigningKind.LINK_WALLET,
                                                     summary="Link your wallet")
    text = services.wallet_link_message(request=request, address=wallet.address, domain=DOMAIN,
                                        uri=f"https://{DOMAIN}/s/{token}")
    return request, token, text


def test_a_signed_message_links_the_wallet_once(dana, wallet):
    request, token, text = start_link(dana, wallet)
    user = services.wallet_link_verify(token=token, text=text, signature=sign(wallet, text),
                                       domain=DOMAIN)
    assert user.wallet_address == wallet.address and user.wallet_verified_at is not None
    request.refresh_from_db()
    assert request.status == SigningStatus.CONFIRMED
    with pytest.raises(services.SigningRequestError) as replay:
        services.wallet_link_verify(token=token, text=text, signature=sign(wallet, text),
                                    domain=DOMAIN)
    assert replay.value.code == "used"


def test_only_a_hash_of_the_token_is_stored(dana, wallet):
    request, token, _ = start_link(dana, wallet)
    assert token not in request.token_hash
    assert SigningRequest.objects.filter(token_hash=services.token_hash(token)).exists()


def test_an_altered_message_is_refused_and_links_nothing(dana, wallet):
    _, token, text = start_link(dana, wallet)
    altered = text.replace("Link this wallet", "Drain this wallet")
    with pytest.raises(services.SigningRequestError) as refused:
        services.wallet_link_verify(token=token, text=altered, signature=sign(wallet, altered),
                                    domain=DOMAIN)
    assert refused.value.code == "altered"
    dana.refresh_from_db()
    assert dana.wallet_address == ""


def test_a_signature_from_another_wallet_is_refused(dana, wallet):
    _, token, text = start_link(dana, wallet)
    thief = Account.from_key("0x" + "43" * 32)
    with pytest.raises(services.SigningRequestError) as refused:
        services.wallet_link_verify(token=token, text=text, signature=sign(thief, text),
                                    domain=DOMAIN)
    assert refused.value.code == "bad_signature"


def test_a_message_for_another_domain_is_refused(dana, wallet):
    _, token, text = start_link(dana, wallet)
    with pytest.raises(services.SigningRequestError) as refused:
        services.wallet_link_verify(token=token, text=text, signature=sign(wallet, text),
                                    domain="phishing.example")
    assert refused.value.code == "wrong_domain"


def test_an_expired_link_says_so(clock, dana, wallet):
    request, token, text = start_link(dana, wallet)
    clock.move_to(request.expires_at)
    with pytest.raises(services.SigningRequestError) as refused:
        services.wallet_link_verify(token=token, text=text, signature=sign(wallet, text),
                                    domain=DOMAIN)
    assert refused.value.code == "expired"
    assert services.signing_request_for_token(token=token).status == SigningStatus.EXPIRED


def test_an_unknown_token_is_refused(db):
    with pytest.raises(services.SigningRequestError) as refused:
        services.signing_request_for_token(token="nope")
    assert refused.value.code == "unknown_token"


def test_a_frozen_user_gets_no_signing_request(dana):
    users.user_freeze(user=dana, reason="review")
    with pytest.raises(services.SigningRequestError, match="frozen"):
        services.signing_request_create(user=dana, kind=SigningKind.LINK_WALLET, summary="x")


def test_a_wallet_linked_to_someone_else_is_refused(dana, wallet, alice):
    users.user_link_wallet(user=alice, address=wallet.address)
    _, token, text = start_link(dana, wallet)
    with pytest.raises(Exception, match="already linked"):
        services.wallet_link_verify(token=token, text=text, signature=sign(wallet, text),
                                    domain=DOMAIN)


def test_reported_transactions_are_confirmed_by_their_last_hash(dana):
    request, token = services.signing_request_create(
        user=dana, kind=SigningKind.CLAIM, summary="Claim",
        transactions=[{"to": "0x" + "00" * 20, "data": "0x", "value": 0}] * 2)
    first, last = "0x" + "aa" * 32, "0x" + "bb" * 32
    with pytest.raises(services.SigningRequestError) as refused:
        services.signing_request_report_txs(token=token, tx_hashes=["0x12"])
    assert refused.value.code == "bad_hashes"
    services.signing_request_report_txs(token=token, tx_hashes=[first, last.upper().replace(
        "0X", "0x")])
    services.signing_request_report_txs(token=token, tx_hashes=[first, last])
    assert services.signing_requests_confirm_tx(tx_hash=first, success=True) == 0
    assert services.signing_requests_confirm_tx(tx_hash=last, success=True) == 1
    request.refresh_from_db()
    assert request.status == SigningStatus.CONFIRMED


def test_a_reverted_transaction_fails_the_request(dana):
    request, token = services.signing_request_create(user=dana, kind=SigningKind.CLAIM,
                                                     summary="Claim")
    tx = "0x" + "cc" * 32
    services.signing_request_report_txs(token=token, tx_hashes=[tx])
    services.signing_requests_confirm_tx(tx_hash=tx, success=False, reason="execution reverted")
    request.refresh_from_db()
    assert (request.status, request.failure_reason) == (SigningStatus.FAILED,
                                                        "execution reverted")


def test_pending_requests_expire_at_the_end_of_their_ttl(clock, dana):
    request, _ = services.signing_request_create(user=dana, kind=SigningKind.CLAIM,
                                                 summary="Claim", ttl=timedelta(minutes=30))
    clock.shift(timedelta(minutes=30) - timedelta(seconds=1))
    assert services.signing_requests_expire() == 0
    clock.shift(timedelta(seconds=1))
    assert services.signing_requests_expire() == 1
    request.refresh_from_db()
    assert request.status == SigningStatus.EXPIRED
