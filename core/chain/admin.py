from django.contrib import admin
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from core.chain.models import ChainLog, ReconciliationRun
from core.chain.tasks import reconcile
from core.common.admin import ReadOnlyAdmin

DIFFERENCE_COLUMNS = ("loan_id", "chain_loan_id", "field", "ledger", "chain", "lender_id")


@admin.register(ChainLog)
class ChainLogAdmin(ReadOnlyAdmin):
    list_display = ("block_number", "log_index", "contract", "name", "tx_hash", "applied_at",
                    "problem")
    list_filter = ("contract", "name")
    search_fields = ("tx_hash", "=block_number")


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    """Runs of the reconciliation job (core/chain/reconciliation.py); each opens as a report."""

    list_display = ("started_at", "finished_at", "block_number", "loans_checked",
                    "differences_count", "ok", "report")
    list_filter = ("ok",)
    date_hierarchy = "started_at"
    change_list_template = "admin/reconciliation_change_list.html"

    @admin.display(description="Report")
    def report(self, obj) -> str:
        return format_html('<a href="{}">Open the report</a>',
                           reverse("admin:chain_reconciliationrun_report", args=[obj.pk]))

    def get_urls(self):
        report = path("<int:run_id>/report/", self.admin_site.admin_view(self.report_view),
                      name="chain_reconciliationrun_report")
        run = path("run/", self.admin_site.admin_view(self.run_view),
                   name="chain_reconciliationrun_run")
        return [report, run, *super().get_urls()]

    def report_view(self, request, run_id: int):
        run = get_object_or_404(ReconciliationRun, pk=run_id)
        rows = [[difference.get(column, "") for column in DIFFERENCE_COLUMNS]
                for difference in run.differences]
        return render(request, "admin/reconciliation_run.html", {
            **self.admin_site.each_context(request), "run": run, "rows": rows,
            "columns": DIFFERENCE_COLUMNS, "title": "Reconciliation report"})

    def run_view(self, request):
        if request.method == "POST":
            reconcile.delay()
            self.message_user(request, "Reconciliation queued; its run appears here when done.")
        return redirect("admin:chain_reconciliationrun_changelist")
