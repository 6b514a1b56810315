"""Bulk inserts for the chain indexer's batches: PostgreSQL's COPY, bulk_create elsewhere.

COPY skips the SQL text and the per-value array dumping of bulk_create, which on a batch of
ten thousand rows is most of the time. Triggers (the ledger's deferred balance check) and
constraints apply to copied rows as to inserted ones.
"""

from __future__ import annotations

from django.db import connection

BULK = 2000  # rows per INSERT where COPY is not available


def _columns(model, *, with_pk: bool):
    return [field for field in model._meta.concrete_fields
            if with_pk or not field.primary_key]


# Values the driver takes as they are: no conversion per row needed.
_PLAIN = {"AutoField", "BigAutoField", "BigIntegerField", "IntegerField", "PositiveIntegerField",
          "PositiveSmallIntegerField", "ForeignKey"}


def _converter(field):
    if field.get_internal_type() in _PLAIN:
        return lambda obj, name=field.attname: getattr(obj, name)
    return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)


def allocate_ids(model, count: int) -> list[int]:
    """Primary keys taken from the table's own sequence, for rows copied with their ids."""
    if not count:
        return []
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                       "FROM generate_series(1, %s)", [table, column, count])
        return [row[0] for row in cursor.fetchall()]


def copy_insert(model, objs: list, *, skip_conflicts: bool = False) -> None:
    """Insert these unsaved instances; with skip_conflicts, rows that break a unique
    constraint are left out (as bulk_create(ignore_conflicts=True)). On PostgreSQL the
    instances get their ids first (from the table's sequence); elsewhere bulk_create."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, ignore_conflicts=skip_conflicts, batch_size=BULK)
        return
    for obj, pk in zip(objs, allocate_ids(model, len(objs)), strict=True):
        obj.pk = pk
    fields = _columns(model, with_pk=True)
    converters = [_converter(field) for field in fields]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in fields)
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        target = table
        if skip_conflicts:
            target = quote(f"copy_{model._meta.db_table}")
            cursor.execute(f"CREATE TEMP TABLE {target} ON COMMIT DROP AS "  # noqa: S608
                           f"SELECT {names} FROM {table} WITH NO DATA")
        with cursor.cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row([convert(obj) for convert in converters])
        if skip_conflicts:
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} "  # noqa: S608
                           f"FROM {target} ON CONFLICT DO NOTHING")
            cursor.execute(f"DROP TABLE {target}")
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias
