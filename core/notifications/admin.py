from django.contrib import admin

from core.common.admin import ReadOnlyAdmin
from core.notifications.models import Broadcast, OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "template_key", "recipient", "chat_id", "status", "attempts",
                    "sent_at")
    list_filter = ("status", "template_key")
    search_fields = ("dedupe_key", "=chat_id", "recipient__username")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"


@admin.register(Broadcast)
class BroadcastAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "author", "recipients", "text")
    list_select_related = ("author",)
    search_fields = ("text",)
