"""Posting to the ledger: the only writer of journal entries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.common.errors import ServiceError
from core.ledger.models import Account, AccountKind, JournalEntry, Posting
from core.loans.models import Loan
from core.users.models import TelegramUser


class UnbalancedEntry(ServiceError):
    code = "unbalanced"


class LedgerConflict(ServiceError):
    """The same idempotency key was posted before with different lines."""

    code = "ledger_conflict"


def _account_code(kind: str, user: TelegramUser | None, loan: Loan | None) -> str:
    parts = [kind]
    if loan is not None:
        parts.append(f"loan{loan.pk}")
    if user is not None:
        parts.append(f"user{user.pk}")
    return ":".join(parts)


def account_get_or_create(
    *, kind: str, user: TelegramUser | None = None, loan: Loan | None = None
) -> Account:
    if kind not in AccountKind.values:
        raise ServiceError(f"unknown account kind {kind!r}")
    code = _account_code(kind, user, loan)
    account, _ = Account.objects.get_or_create(code=code, defaults={"kind": kind, "user": user,
                                                                     "loan": loan})
    return account


def _normalize(lines: Sequence[tuple[Account, int]]) -> list[tuple[Account, int]]:
    merged: dict[int, tuple[Account, int]] = {}
    for account, amount in lines:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise UnbalancedEntry(f"posting amount {amount!r} is not an integer of base units")
        previous = merged.get(account.pk, (account, 0))[1]
        merged[account.pk] = (account, previous + amount)
    return [(account, amount) for account, amount in merged.values() if amount != 0]


def journal_post(
    *,
    key: str,
    description: str,
    lines: Sequence[tuple[Account, int]],
    loan: Loan | None = None,
    meta: dict | None = None,
    occurred_at: datetime | None = None,
) -> JournalEntry:
    """Post a balanced entry once per key; posting the same key again returns the first entry."""
    postings = _normalize(lines)
    if not postings:
        raise UnbalancedEntry("an entry needs at least one non-zero posting")
    total = sum(amount for _, amount in postings)
    if total != 0:
        raise UnbalancedEntry(f"entry {key!r} does not balance: debits minus credits = {total}")

    existing = JournalEntry.objects.filter(key=key).first()
    if existing is not None:
        return _same_or_conflict(existing, postings)
    try:
        with transaction.atomic():
            entry = JournalEntry.objects.create(
                key=key, description=description[:255], loan=loan, meta=meta or {},
                occurred_at=occurred_at or timezone.now(),
            )
            Posting.objects.bulk_create(
                Posting(entry=entry, account=account, amount=amount) for account, amount in postings
            )
    except IntegrityError:
        # A concurrent writer posted the same key first.
        return _same_or_conflict(JournalEntry.objects.get(key=key), postings)
    return entry


def _same_or_conflict(entry: JournalEntry, postings: list[tuple[Account, int]]) -> JournalEntry:
    stored = sorted(entry.postings.values_list("account_id", "amount"))
    wanted = sorted((account.pk, amount) for account, amount in postings)
    if stored != wanted:
        raise LedgerConflict(f"entry {entry.key!r} was already posted with other amounts")
    return entry


def journal_reverse(*, key: str, reason: str) -> JournalEntry | None:
    """Post the exact opposite of the entry posted under `key` (once); None if there is none.

    The ledger is append-only: an event the chain took back (a reorganisation) is undone by a
    reversing entry, never by deleting history.
    """
    original = JournalEntry.objects.filter(key=key).first()
    if original is None:
        return None
    lines = [(posting.account, -posting.amount)
             for posting in original.postings.select_related("account")]
    return journal_post(key=f"reversal:{key}", description=f"Reversal ({reason}): "
                        f"{original.description}", lines=lines, loan=original.loan,
                        meta={"reverses": key, **original.meta})
