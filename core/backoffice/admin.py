"""The Loan admin: operators read a loan's timeline (chain logs, ledger, messages) and act on
applications through scoring (approve, reject, re-score), so it sits on top, not in loans."""

from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html

from core.audit.services import Operator
from core.backoffice.selectors import loan_timeline
from core.common.admin import ReadOnlyAdmin
from core.common.adminactions import apply_each, ask_reason
from core.common.csvexport import export_action, field_columns
from core.loans.models import FundingPosition, Installment, Loan, LoanTransition
from core.loans.states import LoanState
from core.scoring.review import review_approve, review_reject
from core.scoring.tasks import score_application
from core.users.models import TelegramUser

# Amounts in base units of the stable asset, as stored.
LOAN_COLUMNS = field_columns(
    "id", "borrower_id", "state", "principal", "total_due", "installments", "interval_days",
    "purpose", "grade", "score", "apr_bps", "chain_loan_id", "funding_deadline",
    "funded_amount", "repaid_amount", "covered_amount", "distributed_to_lenders",
    "drawn_down_at", "closed_at", "created_at")


def _reviewer(request) -> TelegramUser | None:
    """The admin Telegram account of the operator: the one with the operator's username."""
    return TelegramUser.objects.filter(is_admin=True,
                                       username__iexact=request.user.get_username()).first()


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
    readonly_fields = ("timeline",)
    actions = ("approve_in_review", "reject_in_review", "rescore",
               export_action(name="loans", columns=LOAN_COLUMNS,
                             description="Export selected loans as CSV"))

    @admin.display(description="Timeline")
    def timeline(self, obj) -> str:
        if obj.pk is None:
            return "—"
        return format_html('<a href="{}">State changes, chain events, ledger postings and '
                           "messages</a>", reverse("admin:loans_loan_timeline", args=[obj.pk]))

    def get_urls(self):
        timeline = path("<int:loan_id>/timeline/", self.admin_site.admin_view(self.timeline_view),
                        name="loans_loan_timeline")
        return [timeline, *super().get_urls()]

    def timeline_view(self, request, loan_id: int):
        loan = get_object_or_404(Loan.objects.select_related("borrower"), pk=loan_id)
        return render(request, "admin/loan_timeline.html", {
            **self.admin_site.each_context(request), "loan": loan,
            "events": loan_timeline(loan=loan), "title": f"Timeline of loan #{loan.pk}"})

    @admin.action(description="Approve selected applications in review")
    def approve_in_review(self, request, queryset):
        reviewer = _reviewer(request)
        if reviewer is None:
            self.message_user(request, "Approving needs an admin Telegram account with your "
                              "username.", messages.ERROR)
            return None
        apply_each(self, request, queryset.filter(state=LoanState.IN_REVIEW),
              lambda loan: review_approve(loan=loan, reviewer=reviewer,
                                          note=f"approved by operator {reviewer}",
                                          by=Operator.staff(request.user, admin=reviewer)),
              "Approved")
        return None

    @admin.action(description="Reject selected applications in review")
    def reject_in_review(self, request, queryset):
        reviewer = _reviewer(request)
        if reviewer is None:
            self.message_user(request, "Rejecting needs an admin Telegram account with your "
                              "username.", messages.ERROR)
            return None
        queryset = queryset.filter(state=LoanState.IN_REVIEW)
        form = ask_reason(request, queryset, action="reject_in_review",
                          question="Reject these applications?", verb="Reject")
        if form is not None:
            return form
        reason = request.POST["reason"].strip()
        apply_each(self, request, queryset,
              lambda loan: review_reject(loan=loan, reviewer=reviewer, reason=reason,
                                         by=Operator.staff(request.user, admin=reviewer)),
              "Rejected")
        return None

    @admin.action(description="Re-run scoring of selected submitted applications")
    def rescore(self, request, queryset):
        queued = 0
        for loan_id in queryset.filter(state=LoanState.SUBMITTED).values_list("pk", flat=True):
            score_application.delay(loan_id)
            queued += 1
        skipped = queryset.count() - queued
        self.message_user(request, f"Scoring queued for {queued} applications"
                          + (f"; {skipped} not submitted were left alone." if skipped else "."))
