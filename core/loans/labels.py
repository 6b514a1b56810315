"""Words for loan states, purposes and terms, in the reader's language: one set for the bot
and the web pages."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.common.formatting import format_number
from core.loans.models import LoanPurpose
from core.loans.states import LoanState


def state_label(state: str) -> str:
    return {
        LoanState.DRAFT: _("a draft"), LoanState.SUBMITTED: _("being scored"),
        LoanState.SCORED: _("scored"), LoanState.REJECTED: _("refused"),
        LoanState.IN_REVIEW: _("in review"), LoanState.APPROVED: _("approved, not yet listed"),
        LoanState.LISTED: _("listed for lenders"), LoanState.FUNDING: _("being funded"),
        LoanState.FUNDED: _("funded, ready to draw down"), LoanState.ACTIVE: _("active"),
        LoanState.LATE: _("late"), LoanState.REPAID: _("repaid"),
        LoanState.EXPIRED: _("expired"), LoanState.CANCELLED: _("cancelled"),
        LoanState.DEFAULTED: _("defaulted"),
    }.get(state, state)


def purpose_label(purpose: str) -> str:
    return {
        LoanPurpose.BUSINESS: _("Business"), LoanPurpose.EDUCATION: _("Education"),
        LoanPurpose.MEDICAL: _("Medical costs"), LoanPurpose.HOME: _("Home"),
        LoanPurpose.VEHICLE: _("Vehicle"),
        LoanPurpose.DEBT_CONSOLIDATION: _("Paying off other debts"),
        LoanPurpose.PERSONAL: _("Personal"),
    }.get(purpose, purpose)


def term_label(count: int, language: str) -> str:
    return ngettext("%(count)s month", "%(count)s months", count) % {
        "count": format_number(count, language)}
