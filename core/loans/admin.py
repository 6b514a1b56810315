"""Read-only admin of the loans' own records; the Loan admin itself, which acts through
scoring and web, is core/backoffice/admin.py."""

from django.contrib import admin

from core.common.admin import ReadOnlyAdmin
from core.common.csvexport import export_action, field_columns
from core.loans.models import FundingPosition, Installment, LoanTransition, Repayment

# Amounts in base units of the stable asset, as stored.
REPAYMENT_COLUMNS = field_columns(
    "id", "loan_id", "ref", "amount", "interest", "principal", "fee", "premium", "to_pool",
    "to_lenders", "paid_at")


@admin.register(LoanTransition)
class LoanTransitionAdmin(ReadOnlyAdmin):
    list_display = ("loan", "from_state", "to_state", "actor_label", "reason", "created_at")
    list_filter = ("to_state", "from_state")
    search_fields = ("=loan__id", "actor_label", "reason")


@admin.register(FundingPosition)
class FundingPositionAdmin(ReadOnlyAdmin):
    list_display = ("loan", "lender", "amount", "claimed", "refunded", "created_at")
    list_filter = ("loan__state",)
    search_fields = ("=loan__id", "lender__username", "=lender__telegram_id")
    list_select_related = ("loan", "lender")


@admin.register(Installment)
class InstallmentAdmin(ReadOnlyAdmin):
    list_display = ("loan", "number", "due_at", "amount", "interest", "principal", "paid_at")
    list_filter = ("loan__state",)
    search_fields = ("=loan__id",)


@admin.register(Repayment)
class RepaymentAdmin(ReadOnlyAdmin):
    list_display = ("loan", "amount", "interest", "principal", "fee", "premium", "to_pool",
                    "to_lenders", "paid_at")
    search_fields = ("=loan__id", "ref")
    date_hierarchy = "paid_at"
    actions = (export_action(name="repayments", columns=REPAYMENT_COLUMNS,
                             description="Export selected repayments as CSV"),)
