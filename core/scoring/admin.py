from django.contrib import admin

from core.common.admin import ReadOnlyAdmin
from core.scoring.models import BorrowerProfile, Score, WalletSignal


@admin.register(Score)
class ScoreAdmin(ReadOnlyAdmin):
    list_display = ("id", "borrower", "score", "grade", "pd_bps", "kind", "decision",
                    "model_version", "posting_status", "created_at")
    list_filter = ("grade", "kind", "decision", "posting_status", "model_version")
    search_fields = ("borrower__username", "borrower__telegram_id", "wallet_address", "tx_hash")
    raw_id_fields = ("borrower", "loan")


@admin.register(BorrowerProfile)
class BorrowerProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "income_band", "employment", "updated_at")
    raw_id_fields = ("user",)


@admin.register(WalletSignal)
class WalletSignalAdmin(ReadOnlyAdmin):
    list_display = ("user", "address", "tx_count", "first_tx_at", "checked_at")
