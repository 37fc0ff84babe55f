"""One typed definition per record, and its Arrow schema generated from it.

A record kind (a document-log row, a run, a portal run, a report, a fact, a check) is written
once, as a frozen dataclass whose field annotations say the column types.  `schema(cls)` turns
it into the Arrow schema the warehouse stores and the views read, and `table(cls, rows)` builds
the Arrow table, so no hand-written schema or dict literal can drift from the definition.

Annotations map as follows (``X | None`` makes the column nullable; everything else is
non-nullable so a missing value fails loudly at write time):

    str → string        int → int64        float → float64     bool → bool_
    datetime → timestamp[us, UTC]           date → date32
    Annotated[T, pa_type] → pa_type  (e.g. Annotated[int, pa.int16()] for a year)
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any

import pyarrow as pa

__all__ = ["Int16", "Int32", "column_names", "schema", "table"]

UTC_MICROS = pa.timestamp("us", tz="UTC")

# The narrow integer columns records share, spelled once.
Int16 = Annotated[int, pa.int16()]
Int32 = Annotated[int, pa.int32()]

_BASE: dict[Any, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    datetime: UTC_MICROS,
    date: pa.date32(),
}


def _arrow_type(hint: Any) -> tuple[pa.DataType, bool]:
    """(Arrow type, nullable) for one field annotation."""
    nullable = False
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) != len(typing.get_args(hint)) - 1 or len(args) != 1:
            raise TypeError(f"only `T | None` unions can become a column, not {hint!r}")
        nullable, hint = True, args[0]
        origin = typing.get_origin(hint)
    if origin is Annotated:
        base, *extra = typing.get_args(hint)
        explicit = [e for e in extra if isinstance(e, pa.DataType)]
        if explicit:
            return explicit[0], nullable
        hint = base
    if hint not in _BASE:
        raise TypeError(f"no Arrow column type for annotation {hint!r}")
    return _BASE[hint], nullable


@cache
def schema(cls: type) -> pa.Schema:
    """The Arrow schema of a record dataclass, columns in field order.

    Fields declared with ``field(metadata={"column": False})`` are not stored.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = []
    for f in dataclasses.fields(cls):
        if not f.metadata.get("column", True):
            continue
        arrow, nullable = _arrow_type(hints[f.name])
        fields.append(pa.field(f.name, arrow, nullable=nullable))
    return pa.schema(fields)


def column_names(cls: type) -> tuple[str, ...]:
    """The stored column names of a record dataclass."""
    return tuple(schema(cls).names)


def table(cls: type, rows: Iterable[Any]) -> pa.Table:
    """An Arrow table of `cls`'s schema from record instances (or mappings with its keys)."""
    names = column_names(cls)
    columns: dict[str, list] = {n: [] for n in names}
    for row in rows:
        get = row.get if isinstance(row, Mapping) else lambda n, r=row: getattr(r, n)
        for n in names:
            columns[n].append(get(n))
    out = pa.Table.from_pydict(columns, schema=schema(cls))
    for f in out.schema:
        if not f.nullable and out.column(f.name).null_count:
            raise ValueError(f"{cls.__name__}.{f.name} is required but missing in some rows")
    return out
