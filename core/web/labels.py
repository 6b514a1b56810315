"""Words for ledger accounts on the pages (loan words: core/loans/labels.py, shared with the
bot)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.ledger.models import AccountKind


def account_label(kind: str) -> str:
    return {
        AccountKind.WALLET: _("Your wallet"),
        AccountKind.LENDER_CLAIMABLE: _("Repayments to collect"),
    }.get(kind, kind)
