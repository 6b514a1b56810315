"""Posting to the ledger: the only writer of journal entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.common.bulk import BULK, copy_insert
from core.common.errors import ServiceError
from core.ledger.models import Account, AccountKind, JournalEntry, Posting
from core.users.models import TelegramUser


class UnbalancedEntry(ServiceError):
    code = "unbalanced"


class LedgerConflict(ServiceError):
    """The same idempotency key was posted before with different lines."""

    code = "ledger_conflict"


def _account_code(kind: str, user: TelegramUser | None, loan_id: int | None) -> str:
    parts = [kind]
    if loan_id is not None:
        parts.append(f"loan{loan_id}")
    if user is not None:
        parts.append(f"user{user.pk}")
    return ":".join(parts)


def account_get_or_create(
    *, kind: str, user: TelegramUser | None = None, loan_id: int | None = None
) -> Account:
    if kind not in AccountKind.values:
        raise ServiceError(f"unknown account kind {kind!r}")
    code = _account_code(kind, user, loan_id)
    account, _ = Account.objects.get_or_create(code=code, defaults={"kind": kind, "user": user,
                                                                     "loan_id": loan_id})
    return account


def _normalize(lines: Sequence[tuple], key=lambda account: account.pk) -> list[tuple]:
    """Lines merged per account (first appearance keeps its place), zeros dropped."""
    merged: dict = {}
    for account, amount in lines:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise UnbalancedEntry(f"posting amount {amount!r} is not an integer of base units")
        previous = merged.get(key(account), (account, 0))[1]
        merged[key(account)] = (account, previous + amount)
    return [(account, amount) for account, amount in merged.values() if amount != 0]


def _check_balanced(key: str, postings: list[tuple]) -> None:
    if not postings:
        raise UnbalancedEntry("an entry needs at least one non-zero posting")
    total = sum(amount for _, amount in postings)
    if total != 0:
        raise UnbalancedEntry(f"entry {key!r} does not balance: debits minus credits = {total}")


def journal_post(
    *,
    key: str,
    description: str,
    lines: Sequence[tuple[Account, int]],
    loan_id: int | None = None,
    meta: dict | None = None,
    occurred_at: datetime | None = None,
) -> JournalEntry:
    """Post a balanced entry once per key; posting the same key again returns the first entry."""
    postings = _normalize(lines)
    _check_balanced(key, postings)
    existing = JournalEntry.objects.filter(key=key).first()
    if existing is not None:
        return _same_or_conflict(existing, postings)
    try:
        with transaction.atomic():
            entry = JournalEntry.objects.create(
                key=key, description=description[:255], loan_id=loan_id, meta=meta or {},
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
                        f"{original.description}", lines=lines, loan_id=original.loan_id,
                        meta={"reverses": key, **original.meta})


@dataclass(frozen=True)
class AccountSpec:
    """An account named by what it is, before it need exist (a batch creates it at flush)."""

    kind: str
    user: TelegramUser | None = None
    loan_id: int | None = None

    @property
    def code(self) -> str:
        return _account_code(self.kind, self.user, self.loan_id)


@dataclass
class _PendingEntry:
    entry: JournalEntry
    postings: list[tuple[AccountSpec, int]]


@dataclass
class LedgerBatch:
    """Journal entries posted in memory and written with a few bulk inserts at flush().

    The same rules as journal_post: balanced integer lines merged per account, one entry per
    key, the same key with other lines is a conflict. Used inside one database transaction
    (the deferred trigger checks every entry's balance at commit on PostgreSQL).
    """

    _pending: dict[str, _PendingEntry] = field(default_factory=dict)
    _in_db: set[str] = field(default_factory=set)
    _not_in_db: set[str] = field(default_factory=set)

    def preload(self, keys) -> None:
        """Learn in one query which of these keys were posted before."""
        keys = set(keys) - self._in_db - self._not_in_db
        if not keys:
            return
        found = set(JournalEntry.objects.filter(key__in=keys).values_list("key", flat=True))
        self._in_db |= found
        self._not_in_db |= keys - found

    def has(self, key: str) -> bool:
        """Whether an entry was posted under this key, in the database or in this batch."""
        if key in self._pending or key in self._in_db:
            return True
        if key not in self._not_in_db:
            self.preload([key])
        return key in self._in_db

    def post(self, *, key: str, description: str, lines: Sequence[tuple[AccountSpec, int]],
             loan_id: int | None = None, meta: dict | None = None,
             occurred_at: datetime | None = None) -> None:
        postings = _normalize(lines, key=lambda spec: spec.code)
        _check_balanced(key, postings)
        for spec, _ in postings:
            if spec.kind not in AccountKind.values:
                raise ServiceError(f"unknown account kind {spec.kind!r}")
        wanted = sorted((spec.code, amount) for spec, amount in postings)
        if key in self._pending:
            stored = sorted((spec.code, amount) for spec, amount in self._pending[key].postings)
        elif self.has(key):
            stored = sorted(Posting.objects.filter(entry__key=key)
                            .values_list("account__code", "amount"))
        else:
            self._pending[key] = _PendingEntry(
                JournalEntry(key=key, description=description[:255], loan_id=loan_id,
                             meta=meta or {}, occurred_at=occurred_at or timezone.now()),
                postings)
            return
        if stored != wanted:
            raise LedgerConflict(f"entry {key!r} was already posted with other amounts")

    def mark(self) -> int:
        return len(self._pending)

    def rollback_to(self, mark: int) -> None:
        """Forget the entries posted since mark() (their event failed and is taken back)."""
        for key in list(self._pending)[mark:]:
            del self._pending[key]

    def _accounts(self, specs: dict[str, AccountSpec]) -> dict[str, Account]:
        accounts = {account.code: account
                    for account in Account.objects.filter(code__in=list(specs))}
        missing = [spec for code, spec in specs.items() if code not in accounts]
        if missing:
            Account.objects.bulk_create(
                [Account(code=spec.code, kind=spec.kind, user=spec.user, loan_id=spec.loan_id)
                 for spec in missing], ignore_conflicts=True, batch_size=BULK)
            accounts.update((account.code, account) for account in Account.objects.filter(
                code__in=[spec.code for spec in missing]))
        return accounts

    def flush(self) -> int:
        """Write every pending entry; returns how many."""
        pending = list(self._pending.values())
        if not pending:
            return 0
        specs = {spec.code: spec for item in pending for spec, _ in item.postings}
        accounts = self._accounts(specs)
        entries = [item.entry for item in pending]
        copy_insert(JournalEntry, entries)
        copy_insert(Posting, [Posting(entry=entry, account=accounts[spec.code], amount=amount)
                              for entry, item in zip(entries, pending, strict=True)
                              for spec, amount in item.postings])
        self._in_db |= set(self._pending)
        self._pending.clear()
        return len(entries)

