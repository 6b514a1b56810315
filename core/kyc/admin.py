"""The KYC review queue: operators see each pending request with its two images (decrypted
only inside the admin, by a view that needs the staff login and sends no-store headers; the
images have no URL outside it) and approve or reject it with a reason."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from core.common.admin import ReadOnlyAdmin
from core.common.errors import ServiceError
from core.kyc.models import KycDocument, KycRequest, KycStatus, RejectionReason
from core.kyc.services import kyc_request_approve, kyc_request_reject
from core.kyc.vault import VaultError, document_read

DECIDE = "kyc.change_kycrequest"


@admin.register(KycRequest)
class KycRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "from_tier", "target_tier", "status", "created_at",
                    "decided_at", "decided_by_label")
    list_filter = ("status", "target_tier")
    search_fields = ("=id", "user__username", "=user__telegram_id")
    list_select_related = ("user",)
    ordering = ("created_at",)
    readonly_fields = ("user", "from_tier", "target_tier", "status", "created_at",
                       "review", "decided_at", "decided_by_label", "rejection_reason", "note",
                       "documents_kept", "documents_deleted_at")
    exclude = ("decided_by",)

    @admin.display(description="Review")
    def review(self, obj) -> str:
        return format_html('<a href="{}">Documents and decision</a>',
                           reverse("admin:kyc_kycrequest_review", args=[obj.pk]))

    @admin.display(description="Documents")
    def documents_kept(self, obj) -> str:
        documents = obj.documents.all()
        return format_html_join(", ", "{} ({}, {} bytes{})", (
            (doc.get_kind_display(), doc.content_type, doc.size,
             ", deleted" if doc.deleted_at else "") for doc in documents)) or "—"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:request_id>/review/", view(self.review_view),
                 name="kyc_kycrequest_review"),
            path("<int:request_id>/approve/", view(require_POST(self.approve_view)),
                 name="kyc_kycrequest_approve"),
            path("<int:request_id>/reject/", view(require_POST(self.reject_view)),
                 name="kyc_kycrequest_reject"),
            path("document/<int:document_id>/", view(self.document_view),
                 name="kyc_kycdocument_image"),
            *super().get_urls(),
        ]

    def _viewable(self, request) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def review_view(self, request, request_id: int):
        self._viewable(request)
        kyc = get_object_or_404(KycRequest.objects.select_related("user"), pk=request_id)
        response = render(request, "admin/kyc/review.html", {
            **self.admin_site.each_context(request), "kyc": kyc,
            "documents": kyc.documents.order_by("kind"), "reasons": RejectionReason.choices,
            "can_decide": kyc.status == KycStatus.PENDING and request.user.has_perm(DECIDE),
            "title": f"KYC request #{kyc.pk}: documents and decision"})
        response["Cache-Control"] = "no-store, private"
        return response

    def document_view(self, request, document_id: int):
        """The decrypted image, for the staff's eyes only: never cached, never a download."""
        self._viewable(request)
        document = get_object_or_404(KycDocument, pk=document_id, deleted_at__isnull=True)
        try:
            data = document_read(storage_name=document.storage_name, sha256=document.sha256)
        except VaultError as error:
            return HttpResponse(str(error), status=410, content_type="text/plain")
        response = HttpResponse(data, content_type=document.content_type)
        response["Cache-Control"] = "no-store, private"
        response["Pragma"] = "no-cache"
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Disposition"] = "inline"
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    def _decide(self, request, request_id: int, decide, done: str):
        if not request.user.has_perm(DECIDE):
            raise PermissionDenied
        kyc = get_object_or_404(KycRequest, pk=request_id)
        try:
            decide(kyc)
        except ServiceError as error:
            self.message_user(request, f"{kyc}: {error}", messages.WARNING)
            return HttpResponseRedirect(reverse("admin:kyc_kycrequest_review", args=[kyc.pk]))
        self.message_user(request, f"KYC request #{kyc.pk} {done}; the borrower is told.",
                          messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:kyc_kycrequest_changelist")
                                    + "?status__exact=pending")

    def approve_view(self, request, request_id: int):
        note = request.POST.get("note", "")
        return self._decide(request, request_id, lambda kyc: kyc_request_approve(
            request=kyc, operator=request.user, note=note), "approved")

    def reject_view(self, request, request_id: int):
        reason, note = request.POST.get("reason", ""), request.POST.get("note", "")
        return self._decide(request, request_id, lambda kyc: kyc_request_reject(
            request=kyc, operator=request.user, reason=reason, note=note), "rejected")
