from django.contrib import admin

from core.audit.models import OperatorAction


@admin.register(OperatorAction)
class OperatorActionAdmin(admin.ModelAdmin):
    """Read-only: the trail is written by the services that act, never edited by hand."""

    list_display = ("created_at", "operator", "kind", "target", "reason")
    list_filter = ("kind",)
    search_fields = ("operator", "target", "reason", "=loan_id", "=subject_telegram_id")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
