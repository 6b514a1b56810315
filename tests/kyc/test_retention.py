"""The nightly job deletes the documents of requests decided more than
KYC_DOCUMENT_RETENTION_DAYS ago; the decision stays, pending requests keep theirs, and a
second run (or one after a crash) changes nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model

from core.kyc.models import KycDocument, KycStatus
from core.kyc.services import kyc_request_approve, kyc_request_reject, kyc_request_submit
from core.kyc.tasks import purge_documents
from core.kyc.vault import VaultError, document_read
from core.users.models import KycTier
from tests import factories
from tests.kyc.fixtures import uploads

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


@pytest.fixture
def people(db):
    operator = get_user_model().objects.create_superuser("olivia", "o@example.com", "x")
    return operator, [factories.borrower(telegram_id=1300 + n, username=f"b{n}",
                                         tier=KycTier.BASIC) for n in range(3)]


def stored_files(folder) -> int:
    return len(list(folder.rglob("*.bin")))


def test_documents_are_deleted_once_their_retention_has_passed(clock, kyc_folder, people,
                                                                settings):
    settings.KYC_DOCUMENT_RETENTION_DAYS = 30
    operator, (approved_one, rejected_one, waiting_one) = people
    approved = kyc_request_submit(user=approved_one, uploads=uploads())
    kyc_request_approve(request=approved, operator=operator)
    clock.shift(5 * DAY)
    rejected = kyc_request_submit(user=rejected_one, uploads=uploads())
    kyc_request_reject(request=rejected, operator=operator, reason="mismatch")
    waiting = kyc_request_submit(user=waiting_one, uploads=uploads())
    assert stored_files(kyc_folder) == 6

    clock.shift(24 * DAY)  # 29 days after the first decision: nothing is due
    assert purge_documents.apply().get() == 0
    assert stored_files(kyc_folder) == 6

    clock.shift(1 * DAY)  # the first decision is 30 days old
    assert purge_documents.apply().get() == 2
    approved.refresh_from_db()
    assert approved.documents_deleted_at is not None
    assert approved.status == KycStatus.APPROVED and approved.decided_by == operator
    assert all(doc.storage_name == "" and doc.deleted_at for doc in approved.documents.all())
    assert stored_files(kyc_folder) == 4
    assert purge_documents.apply().get() == 0  # run again: nothing more

    clock.shift(365 * DAY)
    assert purge_documents.apply().get() == 2  # the rejected one; the waiting one stays
    assert stored_files(kyc_folder) == 2
    assert all(doc.deleted_at is None for doc in waiting.documents.all())


def test_a_run_interrupted_after_deleting_a_file_finishes_the_job(clock, kyc_folder, people):
    operator, (person, *_others) = people
    request = kyc_request_submit(user=person, uploads=uploads())
    kyc_request_approve(request=request, operator=operator)
    document = request.documents.first()
    (kyc_folder / document.storage_name).unlink()  # a crash after one file went
    clock.shift(91 * DAY)
    assert purge_documents.apply().get() == 2
    assert not KycDocument.objects.filter(deleted_at__isnull=True).exists()
    with pytest.raises(VaultError):
        document_read(storage_name=document.storage_name, sha256=document.sha256)
    assert stored_files(kyc_folder) == 0


def test_the_purge_is_on_the_nightly_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["kyc.purge_documents"]
    assert entry["task"] == purge_documents.name == "kyc.purge_documents"


def test_the_job_deletes_the_objects_from_the_bucket_too(clock, kyc_bucket, people):
    client, bucket = kyc_bucket
    operator, (person, *_others) = people
    request = kyc_request_submit(user=person, uploads=uploads())
    kyc_request_reject(request=request, operator=operator, reason="unreadable")
    assert client.list_objects_v2(Bucket=bucket)["KeyCount"] == 2
    clock.shift(91 * DAY)
    assert purge_documents.apply().get() == 2
    assert client.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    request.refresh_from_db()
    assert request.status == KycStatus.REJECTED and request.rejection_reason == "unreadable"
