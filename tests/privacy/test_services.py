"""The export holds everything about the person (and no identity image); erasure removes what
the law allows, keeps the lending records, and waits while a loan or position needs contact."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from core.chat.models import ChatSession, ReceivedUpdate, UpdateStatus
from core.chat.services import chat_session_store
from core.common.errors import ServiceError
from core.kyc.models import KycDocument, KycRequest, KycStatus
from core.kyc.services import kyc_request_approve, kyc_request_submit
from core.ledger.models import Posting
from core.loans import services as loans
from core.loans.models import Loan
from core.loans.states import LoanState
from core.notifications.models import OutboxMessage, OutboxStatus
from core.notifications.services import notification_enqueue, outbox_mark_sent
from core.privacy.models import DataRequest
from core.privacy.services import (
    privacy_erase,
    privacy_erasure_blockers,
    privacy_export,
    privacy_export_file,
)
from core.scoring.models import BorrowerProfile
from core.scoring.profile import borrower_profile_set
from core.users.models import KycTier
from core.users.services import user_refresh_from_telegram
from tests import factories
from tests.kyc.fixtures import uploads

pytestmark = pytest.mark.django_db
USD = factories.USD


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_superuser("olivia", "o@example.com", "x")


@pytest.fixture
def dana(db, kyc_folder, operator):
    """A borrower who was verified with documents and has a loan running."""
    user = factories.borrower(telegram_id=1501, username="dana", tier=KycTier.BASIC)
    kyc_request_approve(request=kyc_request_submit(user=user, uploads=uploads()),
                        operator=operator)
    user.refresh_from_db()
    return user


def cancelled_application(user) -> Loan:
    loan = loans.loan_application_submit(borrower=user, principal=50 * USD, installments=3,
                                         purpose="education")
    return loans.loan_cancel(loan=loan, actor=user, reason="changed my mind")


def test_the_export_holds_profile_loans_positions_ledger_and_kyc_decisions(dana, bob):
    borrower_profile_set(user=dana, income_band="500_1500", employment="employed")
    loan = factories.active_loan(borrower=dana, lenders=[(bob, 300 * USD)])
    export = json.loads(privacy_export_file(user=dana))
    assert export["format"] == "lendgram-personal-data/1"
    assert export["profile"]["phone"] == "+15550001501"
    assert export["profile"]["username"] == "dana"
    assert export["profile"]["kyc_tier"] == KycTier.VERIFIED
    assert export["borrower_profile"] == {"income_band": "500_1500", "employment": "employed"}
    [exported_loan] = export["loans"]
    assert (exported_loan["id"], exported_loan["state"], exported_loan["principal"]) == (
        loan.pk, LoanState.ACTIVE, 300 * USD)
    assert len(exported_loan["schedule"]) == 3
    assert LoanState.ACTIVE in [move["to"] for move in exported_loan["history"]]
    assert len(export["ledger"]) == Posting.objects.filter(account__user=dana).count() > 0
    [kyc] = export["kyc_requests"]
    assert kyc["status"] == KycStatus.APPROVED and len(kyc["documents"]) == 2
    assert all(set(doc) == {"kind", "content_type", "size", "sha256", "stored", "deleted_at"}
               for doc in kyc["documents"])
    lender_export = privacy_export(user=bob)
    assert lender_export["positions"] == [{
        "loan_id": loan.pk, "loan_state": LoanState.ACTIVE, "amount": 300 * USD, "claimed": 0,
        "refunded": 0, "since": lender_export["positions"][0]["since"]}]
    assert DataRequest.objects.filter(user=dana, kind="export").count() == 1


def test_erasure_waits_while_a_loan_runs(dana, bob):
    factories.active_loan(borrower=dana, lenders=[(bob, 300 * USD)])
    assert len(privacy_erasure_blockers(user=dana)) == 1
    with pytest.raises(ServiceError, match="still open"):
        privacy_erase(user=dana)
    with pytest.raises(ServiceError, match="still running"):
        privacy_erase(user=bob)
    dana.refresh_from_db()
    assert dana.phone and KycDocument.objects.filter(deleted_at__isnull=True).count() == 2


def test_erasure_removes_personal_data_and_keeps_the_lending_records(dana, kyc_folder):
    loan = cancelled_application(dana)
    borrower_profile_set(user=dana, income_band="500_1500", employment="employed")
    chat_session_store(chat_id=dana.telegram_id, user_id=dana.telegram_id, step="borrow.amount",
                       draft={"amount": 5}, nonce="n1")
    ReceivedUpdate.objects.create(update_id=77, chat_id=dana.telegram_id,
                                  payload={"message": {"contact": {"phone_number": "+1555"}}},
                                  status=UpdateStatus.HANDLED)
    message, _ = notification_enqueue(recipient=dana, template_key="broadcast",
                                      dedupe_key="b:1", params={"text": "hello dana"})
    outbox_mark_sent(message=message)
    assert len(list(kyc_folder.rglob("*.bin"))) == 2

    privacy_erase(user=dana)
    dana.refresh_from_db()
    assert (dana.phone, dana.username, dana.first_name, dana.last_name) == ("", "", "", "")
    assert dana.personal_data_erased_at is not None
    assert dana.wallet_address and dana.kyc_tier == KycTier.VERIFIED
    assert not list(kyc_folder.rglob("*.bin"))
    assert KycRequest.objects.get(user=dana).status == KycStatus.APPROVED
    assert not BorrowerProfile.objects.filter(user=dana).exists()
    assert not ChatSession.objects.filter(user_id=dana.telegram_id).exists()
    assert ReceivedUpdate.objects.get(update_id=77).payload == {}
    kept = OutboxMessage.objects.get(dedupe_key="b:1")
    assert kept.params == {} and kept.status == OutboxStatus.SENT
    assert Loan.objects.get(pk=loan.pk).state == LoanState.CANCELLED
    erasure = DataRequest.objects.get(user=dana, kind="erasure")
    # The KYC decision's message, still to deliver, keeps its text; the delivered one not.
    assert erasure.details == {"kyc_documents": 2, "borrower_profile": 1, "message_texts": 1}


def test_names_telegram_sends_after_erasure_are_not_stored_again(dana):
    privacy_erase(user=dana)
    dana.refresh_from_db()
    user_refresh_from_telegram(user=dana, username="dana", first_name="Dana", last_name="D")
    dana.refresh_from_db()
    assert (dana.username, dana.first_name, dana.last_name) == ("", "", "")


def test_a_pending_kyc_request_is_withdrawn_by_erasure(db, kyc_folder):
    person = factories.borrower(telegram_id=1502, username="eve", tier=KycTier.BASIC)
    request = kyc_request_submit(user=person, uploads=uploads())
    privacy_erase(user=person)
    request.refresh_from_db()
    assert request.status == KycStatus.WITHDRAWN and request.documents_deleted_at is not None
    assert not list(kyc_folder.rglob("*.bin"))
