"""Ledger rules: balanced entries only, integer amounts, one entry per key, derived balances."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.ledger.models import AccountKind, JournalEntry, Posting
from core.ledger.selectors import account_balance, trial_balance, user_balances
from core.ledger.services import (
    LedgerConflict,
    UnbalancedEntry,
    account_get_or_create,
    journal_post,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def wallet(bob):
    return account_get_or_create(kind=AccountKind.WALLET, user=bob)


@pytest.fixture
def treasury(db):
    return account_get_or_create(kind=AccountKind.TREASURY)


def test_a_balanced_entry_is_posted_and_balances_follow(wallet, treasury, bob):
    journal_post(key="e1", description="fee", lines=[(treasury, 700), (wallet, -700)])
    assert account_balance(account=treasury) == 700
    assert account_balance(account=wallet) == -700
    assert user_balances(user=bob) == {wallet.code: -700}
    assert trial_balance() == 0


@pytest.mark.parametrize("lines", [
    [("treasury", 700), ("wallet", -699)],
    [("treasury", 1)],
    [],
    [("treasury", 0), ("wallet", 0)],
])
def test_an_unbalanced_or_empty_entry_is_refused(wallet, treasury, lines):
    accounts = {"wallet": wallet, "treasury": treasury}
    with pytest.raises(UnbalancedEntry):
        journal_post(key="bad", description="bad",
                     lines=[(accounts[name], amount) for name, amount in lines])
    assert not JournalEntry.objects.exists() and not Posting.objects.exists()


@pytest.mark.parametrize("amount", [1.5, "10", True])
def test_non_integer_amounts_are_refused(wallet, treasury, amount):
    with pytest.raises(UnbalancedEntry, match="integer"):
        journal_post(key="bad", description="bad", lines=[(treasury, amount), (wallet, -1)])


def test_the_same_key_posts_once(wallet, treasury):
    first = journal_post(key="chain:1:0xaa:0", description="x",
                         lines=[(treasury, 5), (wallet, -5)])
    again = journal_post(key="chain:1:0xaa:0", description="x",
                         lines=[(wallet, -5), (treasury, 5)])
    assert first.pk == again.pk and Posting.objects.count() == 2


def test_the_same_key_with_other_amounts_is_a_conflict(wallet, treasury):
    journal_post(key="k", description="x", lines=[(treasury, 5), (wallet, -5)])
    with pytest.raises(LedgerConflict):
        journal_post(key="k", description="x", lines=[(treasury, 6), (wallet, -6)])


def test_lines_on_one_account_are_merged(wallet, treasury):
    entry = journal_post(key="k", description="x",
                         lines=[(treasury, 3), (treasury, 2), (wallet, -5)])
    assert sorted(entry.postings.values_list("amount", flat=True)) == [-5, 5]


def test_balances_can_be_read_as_of_a_past_time(clock, wallet, treasury):
    past = timezone.now() - timedelta(days=3)
    journal_post(key="old", description="x", lines=[(treasury, 5), (wallet, -5)],
                 occurred_at=past)
    journal_post(key="new", description="x", lines=[(treasury, 7), (wallet, -7)])
    assert account_balance(account=treasury, as_of=past + timedelta(seconds=1)) == 5
    assert account_balance(account=treasury) == 12


def test_account_codes_are_stable(bob, alice):
    assert account_get_or_create(kind=AccountKind.WALLET, user=bob).code == f"wallet:user{bob.pk}"
    assert account_get_or_create(kind=AccountKind.WALLET, user=bob).pk == account_get_or_create(
        kind=AccountKind.WALLET, user=bob).pk
    assert account_get_or_create(kind=AccountKind.TREASURY).code == "treasury"


def test_a_zero_posting_is_refused_by_the_database(treasury):
    entry = JournalEntry.objects.create(key="raw", description="raw", occurred_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Posting.objects.create(entry=entry, account=treasury, amount=0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="the deferred balance trigger exists on PostgreSQL only")
def test_postgres_refuses_to_commit_an_unbalanced_entry_written_around_the_service(bob):
    wallet = account_get_or_create(kind=AccountKind.WALLET, user=bob)
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        entry = JournalEntry.objects.create(key="raw", description="raw",
                                            occurred_at=timezone.now())
        Posting.objects.create(entry=entry, account=wallet, amount=10)
    assert not JournalEntry.objects.filter(key="raw").exists()


def test_a_reversal_posts_the_exact_opposite_once(wallet, treasury):
    from core.ledger.services import journal_reverse

    journal_post(key="chain:1:0xblock:0xtx:0", description="fee", lines=[(treasury, 9),
                                                                         (wallet, -9)])
    first = journal_reverse(key="chain:1:0xblock:0xtx:0", reason="reorg")
    again = journal_reverse(key="chain:1:0xblock:0xtx:0", reason="reorg")
    assert first.pk == again.pk and first.key == "reversal:chain:1:0xblock:0xtx:0"
    assert account_balance(account=treasury) == 0 and account_balance(account=wallet) == 0
    assert journal_reverse(key="never-posted", reason="reorg") is None
