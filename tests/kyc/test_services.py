"""Asking for a higher tier with documents, the operators' decision (the tier and its limit
apply at once, the borrower hears it in their language), and the refusals."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError

from bot.notifications import render
from core.common.errors import ServiceError
from core.kyc.models import DocumentKind, KycDocument, KycRequest, KycStatus
from core.kyc.services import (
    kyc_request_approve,
    kyc_request_reject,
    kyc_request_submit,
)
from core.notifications.models import OutboxMessage
from core.scoring.selectors import borrowing_limit
from core.users.models import KycTier
from core.users.services import user_freeze, user_set_kyc_tier, user_set_language
from tests import factories
from tests.kyc.fixtures import jpeg, looks_like_an_image, uploads

pytestmark = pytest.mark.django_db
USD = factories.USD


@pytest.fixture
def dana(db):
    """A borrower at the basic tier (phone and wallet)."""
    return factories.borrower(telegram_id=1201, username="dana", tier=KycTier.BASIC)


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_superuser("olivia", "olivia@example.com", "x")


def text_of(message: OutboxMessage, language: str) -> str:
    from django.utils import translation

    with translation.override(language):
        return render(message.template_key, message.params, language).text


def test_sending_both_documents_opens_a_request_for_the_next_tier(kyc_folder, dana):
    request = kyc_request_submit(user=dana, uploads=uploads())
    assert (request.status, request.from_tier, request.target_tier) == (
        KycStatus.PENDING, KycTier.BASIC, KycTier.VERIFIED)
    documents = {doc.kind: doc for doc in request.documents.all()}
    assert documents[DocumentKind.ID_DOCUMENT].content_type == "image/jpeg"
    assert documents[DocumentKind.SELFIE].content_type == "image/png"
    stored = list(kyc_folder.rglob("*.bin"))
    assert len(stored) == 2
    assert not any(looks_like_an_image(path.read_bytes()) for path in stored)


def test_the_database_row_holds_no_image(kyc_folder, dana):
    image = jpeg("purple")
    request = kyc_request_submit(user=dana, uploads=uploads(document=image))
    row = KycDocument.objects.filter(request=request).values().first()
    assert set(row) == {"id", "request_id", "kind", "storage_name", "content_type", "size",
                        "sha256", "created_at", "deleted_at"}
    assert all(not isinstance(value, bytes) for value in row.values())


def test_admins_hear_that_documents_wait(kyc_folder, dana, settings):
    settings.ADMIN_TELEGRAM_IDS = [1900]
    ada = factories.lender(telegram_id=1900, username="ada")
    request = kyc_request_submit(user=dana, uploads=uploads())
    [message] = OutboxMessage.objects.filter(recipient=ada)
    assert message.template_key == "kyc_review_requested"
    assert f"request #{request.pk}" in text_of(message, "en")


def test_a_second_request_is_refused_while_one_waits(kyc_folder, dana):
    kyc_request_submit(user=dana, uploads=uploads())
    with pytest.raises(ServiceError, match="already with our team"):
        kyc_request_submit(user=dana, uploads=uploads())
    assert KycRequest.objects.count() == 1
    assert len(list(kyc_folder.rglob("*.bin"))) == 2


def test_the_database_also_refuses_two_pending_requests(kyc_folder, dana):
    KycRequest.objects.create(user=dana, from_tier=1, target_tier=2)
    with pytest.raises(IntegrityError):
        KycRequest.objects.create(user=dana, from_tier=1, target_tier=2)


def test_a_frozen_account_cannot_send_documents(kyc_folder, dana):
    user_freeze(user=dana, reason="checks")
    with pytest.raises(ServiceError, match="frozen"):
        kyc_request_submit(user=dana, uploads=uploads())
    assert not list(kyc_folder.rglob("*.bin"))


def test_the_highest_tier_has_nothing_to_ask_for(kyc_folder, dana):
    user_set_kyc_tier(user=dana, tier=KycTier.ENHANCED)
    with pytest.raises(ServiceError, match="highest"):
        kyc_request_submit(user=dana, uploads=uploads())


def test_what_is_not_a_jpeg_or_png_is_refused_and_nothing_is_stored(kyc_folder, dana):
    with pytest.raises(ServiceError, match="JPEG or PNG"):
        kyc_request_submit(user=dana, uploads=uploads(selfie=b"GIF89a not accepted"))
    assert not list(kyc_folder.rglob("*.bin"))
    assert not KycRequest.objects.exists()


def test_an_image_over_the_size_limit_is_refused(kyc_folder, dana, settings):
    settings.KYC_MAX_DOCUMENT_BYTES = 100
    with pytest.raises(ServiceError, match="too large"):
        kyc_request_submit(user=dana, uploads=uploads())


def test_approval_raises_the_tier_and_the_limit_at_once(kyc_folder, dana, operator, settings):
    assert borrowing_limit(user=dana).kyc_available == settings.KYC_TIER_LIMITS[1]
    request = kyc_request_submit(user=dana, uploads=uploads())
    kyc_request_approve(request=request, operator=operator, note="Welcome!")
    dana.refresh_from_db()
    request.refresh_from_db()
    assert dana.kyc_tier == KycTier.VERIFIED
    assert borrowing_limit(user=dana).kyc_available == settings.KYC_TIER_LIMITS[2]
    assert (request.status, request.decided_by, request.decided_by_label) == (
        KycStatus.APPROVED, operator, "olivia")
    assert request.decided_at is not None
    [message] = OutboxMessage.objects.filter(recipient=dana)
    assert text_of(message, "en") == (
        "Your identity is verified: your verification level is now identity verified. You "
        "can now borrow up to 1,000.00\u00a0USDx in all.\n"
        "A note from our team: Welcome!\n/borrow — ask for a loan")


def test_rejection_tells_the_reason_in_the_borrowers_language(kyc_folder, dana, operator):
    user_set_language(user=dana, language="es")
    request = kyc_request_submit(user=dana, uploads=uploads())
    kyc_request_reject(request=request, operator=operator, reason="expired")
    dana.refresh_from_db()
    assert dana.kyc_tier == KycTier.BASIC
    request.refresh_from_db()
    assert (request.status, request.rejection_reason) == (KycStatus.REJECTED, "expired")
    [message] = OutboxMessage.objects.filter(recipient=dana)
    spanish = text_of(message, "es")
    assert "el documento ha caducado" in spanish
    assert "/verify" in spanish


def test_a_rejection_needs_a_reason_and_other_needs_a_note(kyc_folder, dana, operator):
    request = kyc_request_submit(user=dana, uploads=uploads())
    with pytest.raises(ServiceError, match="Choose why"):
        kyc_request_reject(request=request, operator=operator, reason="")
    with pytest.raises(ServiceError, match="note"):
        kyc_request_reject(request=request, operator=operator, reason="other", note=" ")
    request.refresh_from_db()
    assert request.status == KycStatus.PENDING


def test_a_decided_request_cannot_be_decided_again(kyc_folder, dana, operator):
    request = kyc_request_submit(user=dana, uploads=uploads())
    kyc_request_approve(request=request, operator=operator)
    with pytest.raises(ServiceError, match="already decided"):
        kyc_request_reject(request=request, operator=operator, reason="expired")
    assert OutboxMessage.objects.filter(recipient=dana).count() == 1


def test_the_next_request_after_approval_asks_for_the_enhanced_tier(kyc_folder, dana, operator):
    kyc_request_approve(request=kyc_request_submit(user=dana, uploads=uploads()),
                        operator=operator)
    dana.refresh_from_db()
    second = kyc_request_submit(user=dana, uploads=uploads())
    assert (second.from_tier, second.target_tier) == (KycTier.VERIFIED, KycTier.ENHANCED)


def test_approval_never_lowers_a_tier_raised_meanwhile(kyc_folder, dana, operator):
    request = kyc_request_submit(user=dana, uploads=uploads())
    user_set_kyc_tier(user=dana, tier=KycTier.ENHANCED)
    kyc_request_approve(request=request, operator=operator)
    dana.refresh_from_db()
    assert dana.kyc_tier == KycTier.ENHANCED


def test_a_request_racing_another_in_is_refused_and_leaves_no_file(kyc_folder, dana,
                                                                   monkeypatch):
    import core.kyc.services as services

    # The check passes (as in a second process at the same moment); the database refuses.
    KycRequest.objects.create(user=dana, from_tier=1, target_tier=2)
    monkeypatch.setattr(services, "kyc_pending_request", lambda *, user: None)
    with pytest.raises(ServiceError, match="already with our team"):
        kyc_request_submit(user=dana, uploads=uploads())
    assert not list(kyc_folder.rglob("*.bin"))
