"""The signing page's report of transaction hashes, attacked: someone else's real transaction
(read off the chain) or a made-up hash reported as one's own, malformed and oversized reports,
a report on a wallet-link request, a used link reported again. The page only relays; the chain
is the proof, so none of these may confirm a request, move a loan or post to the ledger."""

from __future__ import annotations

import secrets

import pytest
from web3 import Web3

from core.ledger.models import JournalEntry
from core.loans.models import FundingPosition
from core.signing import actions
from core.signing.models import SigningKind, SigningRequest, SigningStatus, SubmittedTransaction
from core.signing.services import signing_request_create, signing_requests_settle_failed
from tests import factories
from tests.chain import dev_key, people_on_chain

USD = factories.USD
KEYS = {"alice": dev_key(91), "bob": dev_key(92), "charlie": dev_key(93)}


def report(client, token: str, hashes) -> tuple[int, dict]:
    response = client.post(f"/s/{token}/submitted", {"tx_hashes": hashes},
                           content_type="application/json")
    return response.status_code, response.json()


@pytest.mark.django_db(transaction=True)
def test_someone_elses_transaction_hash_confirms_nothing_and_moves_no_money(chain, settings,
                                                                          client):
    people = people_on_chain(chain, settings, KEYS, first_telegram_id=7_800_001, suffix="sx",
                             tokens=500 * USD)
    alice, bob, charlie = people["alice"], people["bob"], people["charlie"]
    loan = factories.approved_loan(borrower=alice, principal=100 * USD, installments=1)
    chain.sign(KEYS["alice"], actions.open_loan_request(user=alice, loan=loan))
    chain.sync()
    loan.refresh_from_db()

    bobs, bobs_token = actions.fund_request(user=bob, loan=loan, amount=30 * USD)
    hashes = [Web3.to_hex(receipt["transactionHash"])
              for receipt in chain.send_request(KEYS["bob"], bobs.transactions)]
    assert report(client, bobs_token, hashes)[0] == 200
    # Charlie copies Bob's hashes off the chain and reports them for his own funding.
    charlies, charlies_token = actions.fund_request(user=charlie, loan=loan, amount=30 * USD)
    assert report(client, charlies_token, hashes) == (200, {"ok": True, "status": "submitted"})

    chain.sync()
    signing_requests_settle_failed(w3=chain.w3)
    assert SigningRequest.objects.get(pk=bobs.pk).status == SigningStatus.CONFIRMED
    assert SigningRequest.objects.get(pk=charlies.pk).status == SigningStatus.SUBMITTED
    loan.refresh_from_db()
    assert loan.funded_amount == 30 * USD
    assert not FundingPosition.objects.filter(loan=loan, lender=charlie).exists()
    assert not JournalEntry.objects.filter(postings__account__user=charlie).exists()


@pytest.mark.django_db(transaction=True)
def test_a_made_up_transaction_hash_confirms_nothing(chain, settings, client):
    people = people_on_chain(chain, settings, KEYS, first_telegram_id=7_800_011, suffix="sy",
                             tokens=10 * USD)
    request, token = actions.pool_deposit_request(user=people["bob"], amount=5 * USD)
    made_up = ["0x" + secrets.token_hex(32) for _ in request.transactions]
    entries = JournalEntry.objects.count()
    assert report(client, token, made_up)[0] == 200
    chain.sync()
    signing_requests_settle_failed(w3=chain.w3)
    request.refresh_from_db()
    assert request.status == SigningStatus.SUBMITTED and request.confirmed_at is None
    assert JournalEntry.objects.count() == entries


def _fund_request_for(telegram_id: int):
    alice = factories.borrower(telegram_id=telegram_id, username=f"a{telegram_id}")
    bob = factories.lender(telegram_id=telegram_id + 1, username=f"b{telegram_id}")
    loan = factories.listed_loan(borrower=alice, principal=100 * USD, installments=1)
    return actions.fund_request(user=bob, loan=loan, amount=30 * USD)


@pytest.mark.django_db
@pytest.mark.parametrize("hashes", [
    ["0x" + "'" * 64, "0x" + "ab" * 32],
    ["0x" + "ab" * 31 + "g1", "0x" + "ab" * 32],
    ["0x" + "ab" * 32 + "\x00", "0x" + "ab" * 32],
    ["0x" + "ab" * 32] * 10_000,
    [],
    "0x" + "ab" * 32,
    [{"hash": "0x" + "ab" * 32}],
], ids=["quote", "not-hex", "nul", "ten-thousand", "empty", "not-a-list", "objects"])
def test_a_malformed_or_oversized_report_is_refused_and_changes_nothing(client, hashes):
    request, token = _fund_request_for(7_800_021)
    status, body = report(client, token, hashes)
    assert status == 400 and body["ok"] is False and body["code"] == "bad_hashes"
    request.refresh_from_db()
    assert request.status == SigningStatus.PENDING and request.tx_hashes == []
    assert not SubmittedTransaction.objects.exists()


@pytest.mark.parametrize(("hashes", "language", "error"), [
    ("0x" + "ab" * 32, "es", "Los hashes de las transacciones no son válidos."),
    (["0x" + "'" * 64], "fa", "هش تراکنش‌ها نادرست است."),
], ids=["not-a-list", "not-hex"])
def test_a_refused_report_is_answered_in_the_pages_language(db, client, hashes, language,
                                                            error):
    _request, token = _fund_request_for(7_800_022)
    response = client.post(f"/s/{token}/submitted", {"tx_hashes": hashes},
                           content_type="application/json", headers={"Accept-Language": language})
    assert response.status_code == 400 and response.json()["error"] == error


def test_a_wallet_address_that_is_not_one_is_refused_in_the_pages_language(db, client):
    person = factories.borrower(telegram_id=7_800_023, username="addr")
    _request, token = signing_request_create(user=person, kind=SigningKind.LINK_WALLET,
                                             summary="Link your wallet to Lendgram.")
    response = client.post(f"/s/{token}/message", {"address": "0xnot-an-address"},
                           content_type="application/json", headers={"Accept-Language": "es"})
    assert response.status_code == 400
    assert response.json() == {"ok": False, "code": "bad_address",
                               "error": "La dirección de la billetera no es válida."}


@pytest.mark.django_db
def test_a_transaction_reported_on_a_wallet_link_request_does_not_end_it(client):
    user = factories.lender(telegram_id=7_800_031, username="linky")
    request, token = signing_request_create(user=user, kind=SigningKind.LINK_WALLET,
                                            summary="Link your wallet.")
    status, body = report(client, token, ["0x" + "ab" * 32])
    assert status == 400 and body["code"] == "wrong_kind"
    assert body["error"] == "Transaction hashes are malformed."
    request.refresh_from_db()
    assert request.status == SigningStatus.PENDING
    assert not SubmittedTransaction.objects.exists()


@pytest.mark.django_db
def test_a_used_signing_link_cannot_report_other_hashes(client):
    request, token = _fund_request_for(7_800_041)
    first = ["0x" + "aa" * 32, "0x" + "bb" * 32]
    assert report(client, token, first)[0] == 200
    assert report(client, token, first) == (200, {"ok": True, "status": "submitted"})  # a retry
    status, body = report(client, token, ["0x" + "cc" * 32, "0x" + "dd" * 32])
    assert (status, body["code"]) == (400, "used")
    assert body["error"] == "This signing link was already used."
    request.refresh_from_db()
    assert request.tx_hashes == first
    assert list(SubmittedTransaction.objects.values_list("tx_hash", flat=True)) == first
