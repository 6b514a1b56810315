"""Statements run together: one transaction (one round trip on PostgreSQL), all or nothing,
with each statement's outcome read back in order."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection

from core.chat.models import ChatLease
from core.common.statements import run_one, run_together

pytestmark = pytest.mark.django_db(transaction=True)
LEASES = ChatLease._meta.db_table
INSERT = f"INSERT INTO {LEASES} (chat_id, owner) VALUES (%s, %s)"


def test_each_statement_has_its_outcome_in_order():
    outcomes = run_together([
        (INSERT, (1, "a")),
        (INSERT, (2, "b")),
        (f"UPDATE {LEASES} SET owner = %s WHERE chat_id > %s", ("c", 0)),
        (f"SELECT chat_id, owner FROM {LEASES} WHERE owner = %s ORDER BY chat_id", ("c",)),
        (f"SELECT chat_id FROM {LEASES} WHERE chat_id = %s", (99,)),
    ])
    assert [outcome.rowcount for outcome in outcomes[:3]] == [1, 1, 2]
    assert outcomes[3].rows == [(1, "c"), (2, "c")]
    assert outcomes[4].rows == []


def test_they_commit_all_or_nothing():
    run_one((INSERT, (5, "first")))
    with pytest.raises(IntegrityError):
        run_together([(INSERT, (6, "new")), (INSERT, (5, "again")), (INSERT, (7, "new"))])
    assert list(ChatLease.objects.values_list("chat_id", flat=True)) == [5]
    run_together([(INSERT, (6, "new"))])  # the connection is fine afterwards
    assert ChatLease.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
def test_a_lazy_commit_does_not_outlive_its_transaction():
    run_together([(INSERT, (8, "x"))], durable=False)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
