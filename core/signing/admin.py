from django.contrib import admin, messages

from core.audit.services import Operator
from core.common.admin import ReadOnlyAdmin
from core.common.adminactions import apply_each
from core.signing.models import SigningRequest, SigningStatus
from core.signing.resend import signing_request_resend


@admin.register(SigningRequest)
class SigningRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "kind", "loan", "amount", "status", "expires_at", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("=id", "user__username", "=user__telegram_id", "=loan__id")
    list_select_related = ("user", "loan")
    date_hierarchy = "created_at"
    exclude = ("token_hash", "siwe_nonce")
    actions = ("resend_link",)

    @admin.action(description="Resend a fresh signing link to the person")
    def resend_link(self, request, queryset):
        waiting = queryset.filter(status__in=[SigningStatus.PENDING, SigningStatus.EXPIRED])
        skipped = queryset.count() - waiting.count()
        apply_each(self, request, waiting.select_related("user", "loan"),
                   lambda row: signing_request_resend(request=row,
                                                      by=Operator.staff(request.user)),
                   "New links queued")
        if skipped:
            self.message_user(request, f"{skipped} already sent or failed: not resent.",
                              messages.WARNING)
