from django.contrib import admin

from core.chat.models import ChatSession, ReceivedUpdate
from core.common.admin import ReadOnlyAdmin


@admin.register(ReceivedUpdate)
class ReceivedUpdateAdmin(ReadOnlyAdmin):
    list_display = ("update_id", "chat_id", "status", "received_at", "handled_at")
    list_filter = ("status",)
    search_fields = ("=update_id", "=chat_id")


@admin.register(ChatSession)
class ChatSessionAdmin(ReadOnlyAdmin):
    list_display = ("chat_id", "user_id", "step", "updated_at")
    search_fields = ("=chat_id", "=user_id", "step")
