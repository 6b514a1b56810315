from django.contrib import admin

from core.common.admin import ReadOnlyAdmin
from core.privacy.models import DataRequest


@admin.register(DataRequest)
class DataRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "kind", "created_at")
    list_filter = ("kind",)
    search_fields = ("=user__telegram_id",)
    list_select_related = ("user",)
