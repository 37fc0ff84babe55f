"""Append-only logs as Delta tables: one commit per batch of rows, read back whole.

Why Delta for the logs (documents, runs, portal_runs, extractions): a commit is atomic, so a
writer killed mid-batch leaves whole batches only, and the warehouse views read every log
the same way as the warehouse tables (the file list of the latest version).  Each append is
one commit: callers batch rows (the crawler flushes every ~1,000 fetches or a minute), and
``optimize`` (flows.warehouse_maintain) compacts the small files and checkpoints the log.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable, WriterProperties, write_deltalake

_WRITER = WriterProperties(compression="ZSTD")


def append(path: str | os.PathLike[str], rows: pa.Table) -> None:
    """One commit adding ``rows`` (new columns of a later schema are merged in)."""
    Path(path).mkdir(parents=True, exist_ok=True)
    write_deltalake(str(path), rows, mode="append", schema_mode="merge", writer_properties=_WRITER)


def read(path: str | os.PathLike[str], schema: pa.Schema) -> pa.Table:
    """Every row of the latest version, in ``schema`` (missing columns null), oldest file
    first; an empty table if nothing was ever committed."""
    if not DeltaTable.is_deltatable(str(path)):
        return schema.empty_table()
    dt = DeltaTable(str(path))
    actions = pa.table(dt.get_add_actions(flatten=True)).select(["path", "modification_time"])
    order = sorted(actions.to_pylist(), key=lambda a: a["modification_time"])
    tables = [_conform(pq.read_table(Path(path) / a["path"]), schema) for a in order]
    return pa.concat_tables(tables) if tables else schema.empty_table()


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = [
        table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(len(table), f.type)
        for f in schema
    ]
    loose = pa.schema([f.with_nullable(True) for f in schema])  # a column older files lack
    return pa.Table.from_arrays(columns, schema=loose)
