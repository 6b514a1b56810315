"""The chat tells the person whether a transaction they signed away from it went through:
failures always, confirmations when no chain-event message already says so; once each."""

from __future__ import annotations

import pytest

from core.notifications.models import OutboxMessage
from core.signing.models import SigningKind, SigningStatus
from core.signing.services import (
    signing_request_create,
    signing_request_report_txs,
    signing_requests_confirm_tx,
    signing_requests_unconfirm_tx,
)
from tests import factories

pytestmark = pytest.mark.django_db
TX = "0x" + "12" * 32


def submitted(kind: str, *, amount: int | None = 5 * factories.USD):
    user = factories.lender(telegram_id=8101, username="lena")
    request, token = signing_request_create(
        user=user, kind=kind, summary="…", amount=amount,
        transactions=[{"to": "0x" + "00" * 20, "data": "0x", "value": 0, "step": kind}])
    signing_request_report_txs(token=token, tx_hashes=[TX])
    return request


def outcomes() -> list[tuple[str, dict]]:
    return list(OutboxMessage.objects.order_by("pk").values_list("template_key", "params"))


def test_a_confirmed_refund_is_told_once_even_when_a_reorg_confirms_it_again():
    request = submitted(SigningKind.REFUND)
    assert signing_requests_confirm_tx(tx_hash=TX, success=True) == 1
    signing_requests_unconfirm_tx(tx_hash=TX)
    assert signing_requests_confirm_tx(tx_hash=TX, success=True) == 1
    request.refresh_from_db()
    assert request.status == SigningStatus.CONFIRMED
    assert outcomes() == [("signing_confirmed", {
        "request_id": request.pk, "kind": "refund", "step": "refund", "loan_id": None,
        "amount": 5 * factories.USD})]


def test_a_confirmed_funding_leaves_the_telling_to_its_chain_event():
    submitted(SigningKind.FUND)
    assert signing_requests_confirm_tx(tx_hash=TX, success=True) == 1
    assert outcomes() == []


def test_a_failed_transaction_is_always_told():
    request = submitted(SigningKind.FUND)
    assert signing_requests_confirm_tx(tx_hash=TX, success=False, reason="reverted") == 1
    request.refresh_from_db()
    assert request.status == SigningStatus.FAILED
    assert [key for key, _ in outcomes()] == ["signing_failed"]
    assert signing_requests_confirm_tx(tx_hash=TX, success=False) == 0  # settled already
    assert len(outcomes()) == 1
