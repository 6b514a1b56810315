from django.contrib import admin
from django.db.models import Sum

from core.common.admin import ReadOnlyAdmin
from core.common.csvexport import export_action
from core.ledger.models import Account, JournalEntry, Posting


class PostingInline(admin.TabularInline):
    model = Posting
    extra = 0
    can_delete = False
    fields = ("account", "amount")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "kind", "user", "loan", "balance")
    list_filter = ("kind",)
    search_fields = ("code", "user__username", "=loan__id")
    list_select_related = ("user", "loan")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_balance=Sum("postings__amount"))

    @admin.display(ordering="_balance")
    def balance(self, obj) -> int:
        return obj._balance or 0


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "key", "description", "loan")
    search_fields = ("key", "description", "=loan__id")
    date_hierarchy = "occurred_at"
    inlines = (PostingInline,)


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    list_display = ("entry", "account", "amount")
    list_filter = ("account__kind",)
    search_fields = ("account__code", "entry__key")
    list_select_related = ("entry", "account")
    actions = (export_action(
        name="ledger", related=("entry", "account"), description="Export selected postings as CSV",
        columns=[("entry_id", lambda p: p.entry_id), ("occurred_at", lambda p: p.entry.occurred_at),
                 ("key", lambda p: p.entry.key), ("description", lambda p: p.entry.description),
                 ("loan_id", lambda p: p.entry.loan_id), ("account", lambda p: p.account.code),
                 ("kind", lambda p: p.account.kind), ("amount", lambda p: p.amount)]),)
