"""Append-only logs as Delta tables: one commit per batch of rows, read back whole or in part;
and the maintenance every Delta table here shares (compaction, checkpoint, vacuum, when due).

Why Delta for the logs (documents, runs, portal_runs, extractions): a commit is atomic, so a
writer killed mid-batch leaves whole batches only, and the warehouse views read every log
the same way as the warehouse tables (the file list of the latest version).  Each append is
one commit: callers batch rows (the crawler flushes every 500 fetches or 5 s), so a log grows
by many small files; ``compact`` merges them and checkpoints the Delta log, ``vacuum`` deletes
the files no version within the retention needs, and ``is_due`` says when that pays.  The
warehouse (flows.warehouse_maintain) and the documents log (extract.documents_log) both use
these, with one ``Policy``, so there is one answer to "when is a table compacted".
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable, WriterProperties, write_deltalake

_WRITER = WriterProperties(compression="ZSTD")


@dataclass(frozen=True, slots=True)
class Policy:
    """When a table is compacted and how long replaced files stay (for time travel and for
    readers that opened the previous version).

    ``max_small_files`` bounds what a reader opens per table; ``max_age`` makes a table that
    changed at all compacted about weekly, so the Delta log also gets its checkpoint."""

    retention: timedelta = timedelta(days=30)
    small_file_bytes: int = 32 * 1024 * 1024  # a file below this is "small"
    max_small_files: int = 64  # beyond it a table is due
    max_age: timedelta = timedelta(days=7)  # and at least weekly when it has > 1 small file
    target_file_bytes: int = 128 * 1024 * 1024


POLICY = Policy()


def append(path: str | os.PathLike[str], rows: pa.Table) -> None:
    """One commit adding ``rows`` (new columns of a later schema are merged in)."""
    Path(path).mkdir(parents=True, exist_ok=True)
    write_deltalake(str(path), rows, mode="append", schema_mode="merge", writer_properties=_WRITER)


def table(path: str | os.PathLike[str]) -> DeltaTable | None:
    """The latest version of the Delta table at ``path``, None if nothing was ever committed."""
    if not DeltaTable.is_deltatable(str(path)):
        return None
    return DeltaTable(str(path))


def files(dt: DeltaTable) -> list[str]:
    """The data files of ``dt``'s version (relative paths), oldest first: the order rows were
    appended in, which readers keep."""
    actions = pa.table(dt.get_add_actions(flatten=True)).select(["path", "modification_time"])
    order = sorted(actions.to_pylist(), key=lambda a: (a["modification_time"], a["path"]))
    return [a["path"] for a in order]


def read(
    path: str | os.PathLike[str], schema: pa.Schema, columns: Sequence[str] | None = None
) -> pa.Table:
    """Every row of the latest version, in ``schema`` (missing columns null), oldest file
    first; an empty table if nothing was ever committed.  ``columns`` reads only those (a
    reader that needs five columns of a long log should not decode thirty)."""
    dt = table(path)
    wanted = _projected(schema, columns)
    if dt is None:
        return wanted.empty_table()
    return read_files(path, files(dt), wanted)


def read_files(path: str | os.PathLike[str], names: Iterable[str], schema: pa.Schema) -> pa.Table:
    """The rows of some data files of the table at ``path``, in ``schema``'s columns only."""
    tables = [read_file(path, name, schema) for name in names]
    return pa.concat_tables(tables) if tables else _loose(schema).empty_table()


def read_file(
    path: str | os.PathLike[str], name: str, schema: pa.Schema, rows: pa.Array | None = None
) -> pa.Table:
    """One data file's rows in ``schema``'s columns (missing ones null); with ``rows``, only
    the rows at those positions, in that order."""
    parquet = pq.ParquetFile(Path(path) / name)
    present = set(parquet.schema_arrow.names)
    got = parquet.read(columns=[f.name for f in schema if f.name in present])
    return _conform(got if rows is None else got.take(rows), schema)


def is_due(dt: DeltaTable, policy: Policy = POLICY, *, now: datetime | None = None) -> bool:
    """More than ``max_small_files`` small files, or more than one and no compaction for
    ``max_age``: a nightly call compacts a busy table as soon as it fragments, a quiet one
    weekly, an untouched one never."""
    sizes = pa.table(dt.get_add_actions(flatten=True))["size_bytes"].to_pylist()
    small = sum(1 for s in sizes if s < policy.small_file_bytes)
    if small > policy.max_small_files:
        return True
    return small > 1 and last_compacted(dt) < (now or datetime.now(UTC)) - policy.max_age


def compact(
    dt: DeltaTable,
    policy: Policy = POLICY,
    writer: WriterProperties = _WRITER,
    *,
    checkpoint: bool = True,
) -> tuple[int, int]:
    """Merge small files into ``target_file_bytes`` ones (one Delta commit: readers see the
    old files or the new, never both or neither) and, with ``checkpoint``, checkpoint the log
    so opening the table replays no commit before it (delta-rs itself checkpoints only every
    100 commits).  Rows never change.  Returns (files added, files removed)."""
    metrics = dt.optimize.compact(target_size=policy.target_file_bytes, writer_properties=writer)
    added = int(metrics.get("numFilesAdded", 0))
    if added and checkpoint:
        dt.create_checkpoint()
    return added, int(metrics.get("numFilesRemoved", 0))


def vacuum(dt: DeltaTable, retention: timedelta = POLICY.retention) -> int:
    """Delete files no version younger than ``retention`` needs, and any file a killed writer
    left uncommitted once that old; returns how many were deleted."""
    hours = int(retention.total_seconds() // 3600)
    removed = dt.vacuum(
        retention_hours=hours, dry_run=False, enforce_retention_duration=False, full=True
    )
    return len(removed)


def last_compacted(dt: DeltaTable) -> datetime:
    """When the table was last compacted (or created, if never)."""
    history = dt.history()
    stamp = next((h for h in history if h.get("operation") == "OPTIMIZE"), history[-1])
    return datetime.fromtimestamp(stamp["timestamp"] / 1000, UTC)


def _projected(schema: pa.Schema, columns: Sequence[str] | None) -> pa.Schema:
    return schema if columns is None else pa.schema([schema.field(c) for c in columns])


def _loose(schema: pa.Schema) -> pa.Schema:
    return pa.schema([f.with_nullable(True) for f in schema])  # a column older files lack


def _conform(rows: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = [
        rows[f.name].cast(f.type) if f.name in rows.column_names else pa.nulls(len(rows), f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=_loose(schema))
