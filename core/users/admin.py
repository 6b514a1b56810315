from django.contrib import admin

from core.audit.services import Operator
from core.common.adminactions import apply_each, ask_reason
from core.users import services
from core.users.models import TelegramUser


@admin.register(TelegramUser)
class TelegramUserAdmin(admin.ModelAdmin):
    list_display = ("telegram_id", "username", "language", "is_borrower", "is_lender", "is_admin",
                    "kyc_tier", "wallet_address", "is_frozen", "created_at")
    list_filter = ("language", "is_borrower", "is_lender", "is_admin", "kyc_tier", "is_frozen",
                   "reminders_enabled")
    search_fields = ("=telegram_id", "username", "first_name", "last_name", "wallet_address")
    # Names come from Telegram, cleaned by core (core/common/text.py): not typed in here.
    readonly_fields = ("telegram_id", "username", "first_name", "last_name", "wallet_address",
                       "wallet_verified_at", "consented_at", "terms_version", "frozen_at",
                       "unreachable_since", "personal_data_erased_at", "created_at",
                       "updated_at")
    exclude = ("phone",)
    ordering = ("-created_at",)
    actions = ("freeze", "unfreeze")

    @admin.action(description="Freeze selected accounts")
    def freeze(self, request, queryset):
        form = ask_reason(request, queryset, action="freeze",
                          question="Freeze these accounts? They can no longer borrow, lend or "
                                   "sign until unfrozen.", verb="Freeze")
        if form is not None:
            return form
        reason = request.POST["reason"].strip()
        apply_each(self, request, queryset,
              lambda user: services.user_freeze(user=user, reason=reason,
                                                 by=Operator.staff(request.user)),
                   "Frozen")
        return None

    @admin.action(description="Unfreeze selected accounts")
    def unfreeze(self, request, queryset):
        apply_each(self, request, queryset.filter(is_frozen=True),
              lambda user: services.user_unfreeze(user=user,
                                                   by=Operator.staff(request.user)),
                   "Unfrozen")
