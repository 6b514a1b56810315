"""Model instances from hand-written SELECTs, with the values converted as the ORM converts them.

For the few statements every bot update runs: composing and compiling a queryset costs more
Python than the database spends answering it, and a join the ORM cannot say (a person and
their conversation, in one trip) would otherwise take two. Anything else uses the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

M = TypeVar("M", bound=models.Model)
Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


class FieldReader:
    """Reads one column's raw value as the model field would (JSON decoded, and so on)."""

    def __init__(self, model: type[models.Model], name: str) -> None:
        self._field = model._meta.get_field(name)
        self.column = self._field.get_col(model._meta.db_table)
        self._converters: dict[str, list[Converter]] = {}

    def converters(self, connection: BaseDatabaseWrapper) -> list[Converter]:
        # Kept per vendor: the backends' converters depend on settings, not on a connection.
        functions = self._converters.get(connection.vendor)
        if functions is None:
            functions = (connection.ops.get_db_converters(self.column)
                         + self._field.get_db_converters(connection))
            self._converters[connection.vendor] = functions
        return functions

    def read(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        for function in self.converters(connection):
            value = function(value, self.column, connection)
        return value


class ModelColumns(Generic[M]):
    """All concrete columns of `model` under a table alias, and how to read them back.

    `sql` goes into the SELECT list; `build` turns the matching slice of a row into an
    instance (the backend's and the fields' converters applied, as a queryset would).
    """

    def __init__(self, model: type[M], alias: str) -> None:
        self.model = model
        fields = list(model._meta.concrete_fields)
        self.width = len(fields)
        self.sql = ", ".join(f'{alias}."{field.column}"' for field in fields)
        self._attnames = [field.attname for field in fields]
        self._readers = [FieldReader(model, field.name) for field in fields]
        # Per vendor, only the columns that need converting: most need nothing, and a row is
        # built on every update.
        self._converting: dict[str, list[tuple[int, FieldReader]]] = {}

    def build(self, values: Sequence[Any], connection: BaseDatabaseWrapper) -> M:
        converting = self._converting.get(connection.vendor)
        if converting is None:
            converting = [(index, reader) for index, reader in enumerate(self._readers)
                          if reader.converters(connection)]
            self._converting[connection.vendor] = converting
        values = list(values)
        for index, reader in converting:
            values[index] = reader.read(values[index], connection)
        return self.model.from_db(connection.alias, self._attnames, values)
