"""The warehouse tables as Delta Lake tables under ``<data>/warehouse/<table>/``.

Why Delta: every write is one atomic commit to the table's transaction log (data files first,
then one ``_delta_log/<version>.json``), so a writer killed at any instant leaves the previous
version, old versions stay readable (time travel), and compaction/vacuum are the library's.

Why the ``reports`` table is the commit point: a load touches four tables, and Delta commits
per table.  So ``facts``, ``checks`` and ``report_values`` are committed first and the
``reports`` commit comes last, carrying in its commit metadata (``nianbao.versions``) the
versions of the other three that belong with it.  A *warehouse version* is a version of
``reports``; readers pin the other tables to the versions it names, so a load killed between
two table commits is invisible, and the next writer rolls those unnamed versions back
(``roll_back_orphans``) before it writes.

``NIANBAO_WAREHOUSE_FAULT=<point>`` kills the process with SIGKILL at a named point; the crash
tests use it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake
from deltalake import Schema as DeltaSchema
from deltalake.transaction import AddAction, RemoveAction, create_table_with_add_actions

FAULT_ENV = "NIANBAO_WAREHOUSE_FAULT"
LOCK_FILE = "_lock"
POINTER = "nianbao.versions"  # reports commit metadata: versions of the other tables
OPERATION = "nianbao.operation"  # load | optimize: what a warehouse version did
DATA_TABLES = ("facts", "checks", "report_values")  # committed before reports
TABLES = (*DATA_TABLES, "reports")  # commit order
PARTITION = ["year"]
ROW_GROUP_SIZE = 131_072  # small enough that row-group statistics prune sorted facts
COMPRESSION = "zstd"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # Delta's directory name for a null year
PANIC_SETTLE_S = 0.5  # see _quiet_panics
WRITER = WriterProperties(compression="ZSTD", max_row_group_size=ROW_GROUP_SIZE)


def fault(point: str) -> None:
    """Die here, like a kill -9, when the fault-injection variable names this point."""
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def delta_table(path: Path, version: int | None = None) -> DeltaTable | None:
    """The Delta table at ``path`` (at ``version``), or None if none was ever committed."""
    if not DeltaTable.is_deltatable(str(path)):
        return None
    dt = DeltaTable(str(path))
    if version is not None and version != dt.version():
        dt.load_as_version(version)
    return dt


def file_list(dt: DeltaTable) -> list[str]:
    """Absolute paths of the Parquet files of the version ``dt`` is at.

    The file list alone is the version's rows only while no deletion vector hides rows in
    them: delta-rs never writes deletion vectors, and a table some other engine gave them
    is refused rather than read wrong.
    """
    if "deletionVectors" in (dt.protocol().reader_features or ()):
        raise ValueError(f"{dt.table_uri}: deletion vectors are not supported here")
    return [u.removeprefix("file://") for u in dt.file_uris()]


def commit_info(dt: DeltaTable, version: int) -> dict:
    """The commitInfo of one version (read from its log entry; history() as a fallback)."""
    entry = Path(dt.table_uri.removeprefix("file://")) / "_delta_log" / f"{version:020d}.json"
    try:
        with open(entry, encoding="utf-8") as f:
            for line in f:
                if line.startswith('{"commitInfo"'):
                    return json.loads(line)["commitInfo"]
    except FileNotFoundError:  # cleaned up after a checkpoint
        pass
    return next((h for h in dt.history() if h.get("version") == version), {})


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One warehouse version: the version of ``reports`` and of each table it goes with."""

    version: int | None = None  # None: nothing committed yet
    versions: dict[str, int] = field(default_factory=dict)
    committed_at: datetime | None = None

    def pinned(self, table: str) -> int | None:
        return self.versions.get(table)


class Store:
    """The Delta tables under ``<data>/warehouse`` and the writer lock."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, table: str) -> Path:
        return self.root / table

    def table(self, table: str, snapshot: Snapshot | None = None) -> DeltaTable | None:
        """``table`` as of ``snapshot`` (latest if None); None if it has no version there."""
        if snapshot is not None and snapshot.pinned(table) is None:
            return None
        return delta_table(self.path(table), snapshot.pinned(table) if snapshot else None)

    # -- reading -------------------------------------------------------------------------
    def snapshot(self, as_of: int | datetime | None = None) -> Snapshot:
        """The warehouse version ``as_of`` (a reports version or a time; default: the latest).

        Raises ValueError for a version that does not exist (or a time before the first).
        """
        reports = delta_table(self.path("reports"))
        if reports is None:
            if as_of is not None:
                raise ValueError("the warehouse has no versions yet")
            return Snapshot()
        if as_of is not None:
            try:
                reports.load_as_version(as_of)
            except Exception as e:  # delta-rs: DeltaError / ValueError, wording varies
                raise ValueError(f"no warehouse version {_describe(as_of)}") from e
        version = reports.version()
        info = commit_info(reports, version)
        at = info.get("timestamp")
        if isinstance(as_of, datetime) and at and at / 1000 > as_of.timestamp():
            raise ValueError(f"no warehouse version {_describe(as_of)}")  # before the first
        for v in range(version - 1, -1, -1):  # an OPTIMIZE of reports names no versions:
            if POINTER in info:  # the last version that did still holds for the others
                break
            info = commit_info(reports, v)
        versions = json.loads(info.get(POINTER, "{}"))
        versions["reports"] = version
        when = datetime.fromtimestamp(at / 1000, UTC) if at else None
        return Snapshot(version, versions, when)

    def history(self) -> list[dict]:
        """Every warehouse version, newest first: Delta's history of the reports table."""
        reports = delta_table(self.path("reports"))
        return reports.history() if reports is not None else []

    # -- writing -------------------------------------------------------------------------
    @contextlib.contextmanager
    def writer_lock(self, blocking: bool = True) -> Iterator[bool]:
        """Exclusive lock for anything that commits; yields False if not acquired.

        Delta's own concurrency control would let two loaders race and one retry or fail;
        one writer at a time keeps the reports-last commit protocol simple.  flock is
        released by the kernel when the process dies, so a killed loader never leaves the
        warehouse locked.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def roll_back_orphans(self) -> list[str]:
        """Undo table versions no reports version names (a writer killed mid-load).

        Call under the writer lock.  Restoring is itself a commit, so the dead writer's
        versions stay in the history; their files go with the next vacuum.
        """
        current = self.snapshot()
        undone = []
        for table in DATA_TABLES:
            dt = delta_table(self.path(table))
            if dt is None:
                continue
            pinned = current.pinned(table)
            if pinned is None:  # killed during the very first load: never visible
                shutil.rmtree(self.path(table))
                undone.append(table)
            elif dt.version() > pinned:
                dt.restore(pinned)
                undone.append(table)
        return undone

    def write_files(self, table: str, data: pa.Table) -> list[AddAction]:
        """Write ``data`` as new Parquet files of ``table`` (one per year partition), not yet
        committed: the actions that add them.

        pyarrow writes the data tables rather than delta-rs: it encodes the ready-made
        dictionary columns as they are, and the loader calls this per build batch in a
        background thread, so writing overlaps building the next batch.  Files of a load that
        never commits are referenced by no version; vacuum deletes them.
        """
        if not data.num_rows:
            return []
        years = data["year"]
        if pa.types.is_dictionary(years.type):
            years = years.cast(years.type.value_type)
        ys = years.to_numpy(zero_copy_only=False)
        nulls = np.asarray(years.is_null()) if years.null_count else None
        data = data.drop_columns(["year"])
        actions = []
        for year in sorted(
            {None if v is None else int(v) for v in years.unique().to_pylist()},
            key=lambda v: (v is None, v or 0),
        ):
            if year is None:
                mask = nulls
            else:
                mask = ys == year if nulls is None else (ys == year) & ~nulls
            part = data if mask.all() else data.filter(pa.array(mask))
            actions.append(self._write_file(table, year, part))
        return actions

    def _write_file(self, table: str, year: int | None, data: pa.Table) -> AddAction:
        rel = _file_name(year)
        path = self.path(table) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(data, path, compression=COMPRESSION, row_group_size=ROW_GROUP_SIZE)
        return self._action(table, year, rel, data.num_rows)

    def _action(self, table: str, year: int | None, rel: str, rows: int) -> AddAction:
        """The action adding the written file ``rel`` (``rows`` rows) of partition ``year``."""
        value = None if year is None else str(year)
        stats = json.dumps({"numRecords": rows})
        now = int(time.time() * 1000)
        size = (self.path(table) / rel).stat().st_size
        return AddAction(rel, size, {"year": value}, now, True, stats)

    def _rewrites(
        self, table: str, dt: DeltaTable, ids: pa.Array, years: set[int | None], adds: list
    ) -> list[AddAction | RemoveAction]:
        """The actions of one table's commit: remove every file of ``years`` holding rows of
        reports ``ids`` and add what remains of it; files without such rows stay as they are.
        The first rewritten file of a year also takes in the new files ``adds`` of that year
        (so replacing does not leave a trail of small files); the other adds stay."""
        new: dict[int | None, list[AddAction]] = {}
        for add in adds:
            new.setdefault(partition_year(add.path), []).append(add)
        actions: list[AddAction | RemoveAction] = []
        root = self.path(table)
        now = int(time.time() * 1000)
        for path in file_list(dt):
            year = partition_year(path)
            if year not in years:
                continue
            rids = pq.read_table(path, columns=["report_id"], read_dictionary=["report_id"])
            hit = _hits(rids["report_id"], ids)
            if not pc.any(hit).as_py():
                continue
            rel = os.path.relpath(path, root)
            value = NULL_PARTITION if year is None else str(year)
            part = {"year": None if year is None else value}
            actions.append(RemoveAction(rel, True, now, os.path.getsize(path), part))
            merged = new.pop(year, [])
            kept = self._rewrite_file(table, year, path, hit, [root / m.path for m in merged])
            if kept is not None:
                actions.append(kept)
            for m in merged:
                (root / m.path).unlink()
        return actions + [a for rest in new.values() for a in rest]

    def _rewrite_file(
        self, table: str, year: int | None, path: str, hit: pa.ChunkedArray, merged: list[Path]
    ) -> AddAction | None:
        """A new file of ``year``: the rows of ``path`` where ``hit`` is False, then the rows of
        the uncommitted files ``merged``; None when that is no row at all.

        Streamed row group by row group: after compaction one file holds a whole year
        partition (~30 M facts at national scale), which read at once would take gigabytes,
        so the cost of replacing one report stays a row group's, not the partition's.
        """
        source = pq.ParquetFile(path)
        schema = source.schema_arrow
        others = [pq.read_schema(m) for m in merged]
        if any(o != schema for o in others):  # e.g. a delta-rs file beside a pyarrow one
            schema = _plain(schema)
        drop = hit.combine_chunks() if isinstance(hit, pa.ChunkedArray) else hit
        rel = _file_name(year)
        out = self.path(table) / rel
        rows = 0
        with pq.ParquetWriter(out, schema, compression=COMPRESSION) as writer:
            offset = 0
            for batch in source.iter_batches(batch_size=ROW_GROUP_SIZE):
                mask = pc.invert(drop.slice(offset, batch.num_rows))
                offset += batch.num_rows
                rows += self._put(writer, batch.filter(mask), schema)
            for m in merged:
                for batch in pq.ParquetFile(m).iter_batches(batch_size=ROW_GROUP_SIZE):
                    rows += self._put(writer, batch, schema)
        if not rows:
            out.unlink()
            return None
        return self._action(table, year, rel, rows)

    @staticmethod
    def _put(writer: pq.ParquetWriter, batch: pa.RecordBatch, schema: pa.Schema) -> int:
        if batch.num_rows:
            table = pa.Table.from_batches([batch])
            writer.write_table(
                table if table.schema == schema else table.cast(schema),
                row_group_size=ROW_GROUP_SIZE,
            )
        return batch.num_rows

    def without(self, table: str, adds: list[AddAction], ids: set[str]) -> list[AddAction]:
        """Uncommitted files ``adds`` again without the rows of reports ``ids`` (the same
        report later in the same load); the old files are deleted."""
        out = []
        for add in adds:
            path = self.path(table) / add.path
            keep = without_reports(pq.read_table(path), ids)
            if keep.num_rows:
                out.append(self._write_file(table, partition_year(str(path)), keep))
            path.unlink()
        return out

    def discard(self, table: str, adds: list[AddAction]) -> None:
        """Delete uncommitted files (a load that failed before its commit)."""
        for add in adds:
            with contextlib.suppress(OSError):
                (self.path(table) / add.path).unlink()

    def commit(
        self,
        adds: dict[str, list[AddAction]],
        schemas: dict[str, pa.Schema],
        reports: pa.Table,
        ids: list[str],
        years: set[int | None],
    ) -> dict:
        """Commit one load: the data tables' files written by ``write_files`` (each table's
        old rows of the reports ``ids`` replaced), then the ``reports`` rows, last.

        ``years``: every year partition the old rows of those reports are in; only files
        there that hold such rows are rewritten.  Returns the operation metrics summed.
        """
        metrics = {"num_added_files": 0, "num_removed_files": 0}
        versions = {}
        id_array = pa.array(sorted(ids), pa.string())
        tables = {t: delta_table(self.path(t)) for t in DATA_TABLES}

        def prepare(table: str) -> list[AddAction | RemoveAction]:
            dt, actions = tables[table], list(adds.get(table, ()))
            if dt is not None and ids:
                return self._rewrites(table, dt, id_array, years, actions)
            return actions

        with ThreadPoolExecutor(2, thread_name_prefix="nianbao-rewrite") as pool:
            prepared = dict(zip(DATA_TABLES, pool.map(prepare, DATA_TABLES), strict=True))
        with _quiet_panics():
            for table in DATA_TABLES:
                dt, actions = tables[table], prepared[table]
                props = CommitProperties(custom_metadata={OPERATION: "load"})
                if dt is None:
                    schema = DeltaSchema.from_arrow(_plain(schemas[table]))
                    create_table_with_add_actions(
                        str(self.path(table)),
                        schema,
                        [a for a in actions if isinstance(a, AddAction)],
                        mode="error",
                        partition_by=PARTITION,
                        commit_properties=props,
                    )
                else:
                    dt.create_write_transaction(
                        actions, "append", dt.schema(), PARTITION, commit_properties=props
                    )
                dt = DeltaTable(str(self.path(table)))
                versions[table] = dt.version()
                metrics["num_added_files"] += sum(isinstance(a, AddAction) for a in actions)
                metrics["num_removed_files"] += sum(isinstance(a, RemoveAction) for a in actions)
                fault(f"{table}_committed")
            meta = {POINTER: json.dumps(versions), OPERATION: "load"}
            predicate = _predicate(ids, years)
            metrics["version"], done = self._write("reports", reports, predicate, meta)
        _add(metrics, done)
        return metrics

    def _write(
        self, table: str, data: pa.Table, predicate: str | None, meta: dict
    ) -> tuple[int, dict]:
        """One Delta commit; (its version, its operation metrics).

        Columns a later release added to the record (e.g. the region columns of ``reports``) are
        merged into an older table's schema in the same commit; its older files read them as
        null."""
        path = self.path(table)
        exists = DeltaTable.is_deltatable(str(path))
        write_deltalake(
            str(path),
            data,
            mode="overwrite" if exists and predicate else "append",
            predicate=predicate if exists else None,
            schema_mode="merge" if exists else None,
            partition_by=PARTITION,
            writer_properties=WRITER,
            commit_properties=CommitProperties(custom_metadata=meta or None),
        )
        dt = DeltaTable(str(path))
        return dt.version(), commit_info(dt, dt.version()).get("operationMetrics", {})

    def point(self, versions: dict[str, int], operation: str) -> int:
        """Commit a reports version that changes no row, naming new versions of the others
        (after compaction, so readers see the compacted files)."""
        reports = delta_table(self.path("reports"))
        assert reports is not None
        meta = {POINTER: json.dumps(versions), OPERATION: operation}
        empty = reports.schema().to_arrow()
        write_deltalake(
            str(self.path("reports")),
            pa.schema(empty).empty_table(),
            mode="append",
            partition_by=PARTITION,
            commit_properties=CommitProperties(custom_metadata=meta),
        )
        return DeltaTable(str(self.path("reports"))).version()


@contextlib.contextmanager
def _quiet_panics() -> Iterator[None]:
    """Hold what is written to fd 2 during a delta-rs call; drop it if the call fails.

    On a full disk delta-rs raises a proper error (``… (os error 28)``, which the CLI turns
    into one line) but its writer threads also print Rust panic traces straight to fd 2.
    The exception says what happened, so that noise is dropped; after a successful call
    anything held is passed on.  (Other threads' stderr is held meanwhile, too: use it around a
    whole commit, never around calls running in parallel.)
    """
    sys.stderr.flush()
    try:
        held, saved = tempfile.TemporaryFile(), os.dup(2)
    except OSError:  # no temp space: let the noise through
        yield
        return
    os.dup2(held.fileno(), 2)
    ok = False
    try:
        yield
        ok = True
    finally:
        if not ok:  # the writer threads panic a moment after the error is returned
            time.sleep(PANIC_SETTLE_S)
        os.dup2(saved, 2)
        os.close(saved)
        if ok and held.tell():
            held.seek(0)
            os.write(2, held.read())
        held.close()


def _add(metrics: dict, done: dict) -> None:
    for key in ("num_added_files", "num_removed_files"):
        metrics[key] += int(done.get(key, 0))


def _predicate(ids: Iterable[str], years: set[int | None]) -> str | None:
    """``report_id IN (…)``, narrowed to the year partitions involved; None: nothing to
    replace (only new reports: a plain append)."""
    ids = list(ids)
    if not ids:
        return None
    known = sorted(y for y in years if y is not None)
    parts = [f"year IN ({', '.join(map(str, known))})"] if known else []
    if None in years:
        parts.append("year IS NULL")
    quoted = ", ".join("'" + i.replace("'", "''") + "'" for i in ids)
    return f"({' OR '.join(parts)}) AND report_id IN ({quoted})"


def _file_name(year: int | None) -> str:
    """A new data file's path in its table: ``year=<y>/part-<uuid>-c000.zstd.parquet``."""
    value = NULL_PARTITION if year is None else str(year)
    return f"year={value}/part-{uuid.uuid4()}-c000.zstd.parquet"


def partition_year(path: str) -> int | None:
    """The year partition a Delta data file sits in (``…/year=2022/part-….parquet``)."""
    value = Path(path).parent.name.removeprefix("year=")
    return int(value) if value.isdigit() else None


def _hits(column: pa.ChunkedArray, ids: pa.Array) -> pa.ChunkedArray:
    """Per row: is its report id one of ``ids``?  Looked up once per distinct id of a
    dictionary column, not once per row."""
    out = []
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            known = pc.is_in(chunk.dictionary.cast(pa.string()), value_set=ids)
            out.append(pc.take(known, chunk.indices).fill_null(False))
        else:
            out.append(pc.is_in(chunk.cast(pa.string()), value_set=ids))
    return pa.chunked_array(out, pa.bool_())


def _plain(schema: pa.Schema) -> pa.Schema:
    """``schema`` with dictionary columns as their value type (what the Delta table holds)."""
    return pa.schema(
        f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in schema
    )


def _describe(as_of: int | datetime) -> str:
    return str(as_of) if isinstance(as_of, int) else f"at or before {as_of.isoformat()}"


def without_reports(table: pa.Table, ids: set[str]) -> pa.Table:
    """``table`` without the rows of reports ``ids``."""
    ids_array = pa.array(sorted(ids), pa.string())
    return table.filter(pc.invert(pc.is_in(table["report_id"].cast(pa.string()), ids_array)))
