from django.contrib import admin

from core.users.models import TelegramUser


@admin.register(TelegramUser)
class TelegramUserAdmin(admin.ModelAdmin):
    list_display = ("telegram_id", "username", "language", "is_borrower", "is_lender", "is_admin",
                    "kyc_tier", "wallet_address", "is_frozen", "created_at")
    list_filter = ("language", "is_borrower", "is_lender", "is_admin", "kyc_tier", "is_frozen",
                   "reminders_enabled")
    search_fields = ("=telegram_id", "username", "first_name", "last_name", "wallet_address")
    readonly_fields = ("telegram_id", "wallet_address", "wallet_verified_at", "consented_at",
                       "terms_version", "frozen_at", "unreachable_since", "created_at",
                       "updated_at")
    exclude = ("phone",)
    ordering = ("-created_at",)
