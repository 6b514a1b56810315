"""The review queue in the Django admin: pending requests filtered, the images shown
decrypted only to staff (no-store), approve and reject with the borrower told in their
language."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation

from bot.notifications import render
from core.audit.models import OperatorAction
from core.kyc.models import DocumentKind, KycStatus
from core.kyc.services import kyc_request_submit
from core.notifications.models import OutboxMessage
from core.users.models import KycTier
from core.users.services import user_set_language
from tests import factories
from tests.kyc.fixtures import jpeg, uploads

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = get_user_model().objects.create_superuser("olivia", "o@example.com", "x")
    client.force_login(user)
    return user


@pytest.fixture
def waiting(kyc_folder):
    person = factories.borrower(telegram_id=1401, username="ines", tier=KycTier.BASIC)
    user_set_language(user=person, language="pt-br")
    return kyc_request_submit(user=person, uploads=uploads(document=jpeg("red")))


def test_the_queue_lists_pending_requests(client, operator, waiting):
    page = client.get(reverse("admin:kyc_kycrequest_changelist") + "?status__exact=pending")
    assert page.status_code == 200
    assert "@ines" in page.content.decode()
    page = client.get(reverse("admin:kyc_kycrequest_changelist") + "?status__exact=approved")
    assert "@ines" not in page.content.decode()


def test_staff_see_the_images_decrypted_and_never_cached(client, operator, waiting):
    review = client.get(reverse("admin:kyc_kycrequest_review", args=[waiting.pk]))
    assert review.status_code == 200
    assert "no-store" in review["Cache-Control"]
    document = waiting.documents.get(kind=DocumentKind.ID_DOCUMENT)
    url = reverse("admin:kyc_kycdocument_image", args=[document.pk])
    assert url in review.content.decode()
    image = client.get(url)
    assert image.status_code == 200
    assert image.content == jpeg("red")
    assert image["Content-Type"] == "image/jpeg"
    assert "no-store" in image["Cache-Control"] and "private" in image["Cache-Control"]
    assert image["X-Content-Type-Options"] == "nosniff"


def test_the_images_are_not_shown_to_anyone_else(client, waiting):
    document = waiting.documents.first()
    url = reverse("admin:kyc_kycdocument_image", args=[document.pk])
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    clerk = get_user_model().objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(clerk)
    assert client.get(url).status_code == 403
    client.force_login(get_user_model().objects.create_user("someone", password="x"))
    assert client.get(url).status_code == 302


def test_a_reviewer_who_may_only_look_sees_no_decision_buttons(client, waiting):
    viewer = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_kycrequest"))
    client.force_login(viewer)
    review = client.get(reverse("admin:kyc_kycrequest_review", args=[waiting.pk]))
    assert review.status_code == 200 and "Approve" not in review.content.decode()
    refused = client.post(reverse("admin:kyc_kycrequest_approve", args=[waiting.pk]))
    assert refused.status_code == 403
    waiting.refresh_from_db()
    assert waiting.status == KycStatus.PENDING


def test_approving_applies_the_tier_and_tells_the_borrower(client, operator, waiting):
    answer = client.post(reverse("admin:kyc_kycrequest_approve", args=[waiting.pk]),
                         {"note": ""})
    assert answer.status_code == 302
    waiting.refresh_from_db()
    waiting.user.refresh_from_db()
    assert waiting.status == KycStatus.APPROVED and waiting.decided_by == operator
    assert waiting.user.kyc_tier == KycTier.VERIFIED
    [message] = OutboxMessage.objects.filter(recipient=waiting.user)
    with translation.override("pt-br"):
        text = render(message.template_key, message.params, "pt-br").text
    assert text.startswith("Sua identidade foi verificada")
    assert "1.000,00\u00a0USDx" in text
    assert OperatorAction.objects.values_list("kind", "operator", "subject_telegram_id").get() == (
        "kyc_approve", "staff:olivia", waiting.user.telegram_id)


def test_rejecting_records_the_reason_and_tells_the_borrower(client, operator, waiting):
    answer = client.post(reverse("admin:kyc_kycrequest_reject", args=[waiting.pk]),
                         {"reason": "unreadable", "note": "Tire com mais luz."})
    assert answer.status_code == 302
    waiting.refresh_from_db()
    assert (waiting.status, waiting.rejection_reason, waiting.note,
            waiting.decided_by_label) == (KycStatus.REJECTED, "unreadable",
                                          "Tire com mais luz.", "olivia")
    [message] = OutboxMessage.objects.filter(recipient=waiting.user)
    with translation.override("pt-br"):
        text = render(message.template_key, message.params, "pt-br").text
    assert "desfocada" in text and "Tire com mais luz." in text
    assert OperatorAction.objects.values_list("kind", "reason").get() == (
        "kyc_reject", "unreadable: Tire com mais luz.")


def test_a_rejection_without_a_reason_is_refused_on_the_page(client, operator, waiting):
    answer = client.post(reverse("admin:kyc_kycrequest_reject", args=[waiting.pk]),
                         {"reason": ""}, follow=True)
    assert "Choose why the documents are refused" in answer.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == KycStatus.PENDING
    assert not OperatorAction.objects.exists()


def test_a_deleted_document_is_gone_from_the_admin_too(client, operator, waiting):
    from core.kyc.services import kyc_user_documents_erase

    document = waiting.documents.first()
    kyc_user_documents_erase(user=waiting.user)
    url = reverse("admin:kyc_kycdocument_image", args=[document.pk])
    assert client.get(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_review_page_shows_both_images_in_a_browser(live_server, browser_page, kyc_folder):
    from tests.browser import screenshot

    person = factories.borrower(telegram_id=1402, username="noor", tier=KycTier.BASIC)
    request = kyc_request_submit(user=person, uploads=uploads(document=jpeg("red", (320, 200))))
    get_user_model().objects.create_superuser("olivia", "o@example.com", "pw")
    page = browser_page
    missing = []
    page.on("response", lambda r: r.status == 404 and missing.append(r.url))
    page.goto(f"{live_server.url}/admin/login/?next=/admin/kyc/kycrequest/{request.pk}/review/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#kyc-documents img", timeout=15_000)
    images = page.locator("#kyc-documents img")
    assert images.count() == 2
    for index in range(2):
        page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                               arg=images.nth(index).element_handle(), timeout=15_000)
    assert page.locator("input[value^='Approve']").count() == 1
    screenshot(page, "admin-kyc-review")
    # Every resource the page asks for loads, under the admin's Content-Security-Policy.
    assert missing == []
    assert page.errors == []
