"""Balances, derived from postings at any time."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Sum

from core.ledger.models import Account, Posting
from core.users.models import TelegramUser


def account_balance(*, account: Account, as_of: datetime | None = None) -> int:
    postings = Posting.objects.filter(account=account)
    if as_of is not None:
        postings = postings.filter(entry__occurred_at__lte=as_of)
    return postings.aggregate(total=Sum("amount"))["total"] or 0


def _balances(postings) -> dict[str, int]:
    rows = postings.values("account__code").annotate(total=Sum("amount")).order_by("account__code")
    return {row["account__code"]: row["total"] for row in rows}


def user_balances(*, user: TelegramUser) -> dict[str, int]:
    """Balance of every account the user owns, by account code."""
    return _balances(Posting.objects.filter(account__user=user))


def loan_balances(*, loan_id: int) -> dict[str, int]:
    """Balance of every account attached to the loan, by account code."""
    return _balances(Posting.objects.filter(account__loan_id=loan_id))


def kind_balance(*, kind: str, loan_id: int | None = None,
                 user: TelegramUser | None = None) -> int:
    postings = Posting.objects.filter(account__kind=kind)
    if loan_id is not None:
        postings = postings.filter(account__loan_id=loan_id)
    if user is not None:
        postings = postings.filter(account__user=user)
    return postings.aggregate(total=Sum("amount"))["total"] or 0


def trial_balance() -> int:
    """Sum of every posting ever made: zero while the books balance."""
    return Posting.objects.aggregate(total=Sum("amount"))["total"] or 0


def user_statement(*, user: TelegramUser, limit: int | None = None) -> list[Posting]:
    """The ledger postings on the person's own accounts, newest first (1 query): their
    statement on /me, in its CSV and in their data export."""
    postings = (Posting.objects.filter(account__user=user)
                .select_related("entry", "account")
                .order_by("-entry__occurred_at", "-pk"))
    return list(postings[:limit] if limit else postings)
