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


class ModelColumns(Generic[M]):
    """All concrete columns of `model` under a table alias, and how to read them back.

    `sql` goes into the SELECT list; `build` turns the matching slice of a row into an
    instance (the backend's and the fields' converters applied, as a queryset would).
    """

    def __init__(self, model: type[M], alias: str) -> None:
        self.model = model
        self._fields = list(model._meta.concrete_fields)
        self.width = len(self._fields)
        self.sql = ", ".join(f'{alias}."{field.column}"' for field in self._fields)
        self._attnames = [field.attname for field in self._fields]
        self._converters: dict[str, list[tuple[int, Any, list[Converter]]]] = {}

    def _converters_for(self, connection: BaseDatabaseWrapper) -> list:
        # Kept per vendor: the backends' converters depend on settings, not on a connection.
        found = self._converters.get(connection.vendor)
        if found is None:
            found = []
            for index, field in enumerate(self._fields):
                column = field.get_col(self.model._meta.db_table)
                functions = (connection.ops.get_db_converters(column)
                             + field.get_db_converters(connection))
                if functions:
                    found.append((index, column, functions))
            self._converters[connection.vendor] = found
        return found

    def build(self, values: Sequence[Any], connection: BaseDatabaseWrapper) -> M:
        values = list(values)
        for index, column, functions in self._converters_for(connection):
            for function in functions:
                values[index] = function(values[index], column, connection)
        return self.model.from_db(connection.alias, self._attnames, values)


class FieldReader:
    """Reads one column's raw value as the model field would (JSON decoded, and so on)."""

    def __init__(self, model: type[models.Model], name: str) -> None:
        self._field = model._meta.get_field(name)
        self._column = self._field.get_col(model._meta.db_table)
        self._converters: dict[str, list[Converter]] = {}

    def read(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        functions = self._converters.get(connection.vendor)
        if functions is None:
            functions = (connection.ops.get_db_converters(self._column)
                         + self._field.get_db_converters(connection))
            self._converters[connection.vendor] = functions
        for function in functions:
            value = function(value, self._column, connection)
        return value
