from django.contrib import admin

from core.common.admin import ReadOnlyAdmin
from core.loans.models import FundingPosition, Installment, Loan, LoanTransition, Repayment


class TransitionInline(admin.TabularInline):
    model = LoanTransition
    extra = 0
    can_delete = False
    fields = ("created_at", "from_state", "to_state", "actor_label", "reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class PositionInline(admin.TabularInline):
    model = FundingPosition
    extra = 0
    can_delete = False
    fields = ("lender", "amount", "claimed", "refunded")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class InstallmentInline(admin.TabularInline):
    model = Installment
    extra = 0
    can_delete = False
    fields = ("number", "due_at", "amount", "cumulative_due", "interest", "principal", "paid_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Loan)
class LoanAdmin(ReadOnlyAdmin):
    """Loans change only through services (state machine, chain events), never by hand."""

    list_display = ("id", "borrower", "state", "principal", "total_due", "grade", "apr_bps",
                    "installments", "funded_amount", "repaid_amount", "chain_loan_id",
                    "created_at")
    list_filter = ("state", "grade", "purpose", "installments")
    search_fields = ("=id", "=chain_loan_id", "borrower__username", "=borrower__telegram_id")
    list_select_related = ("borrower",)
    inlines = (TransitionInline, PositionInline, InstallmentInline)
    date_hierarchy = "created_at"


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
