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
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake

FAULT_ENV = "NIANBAO_WAREHOUSE_FAULT"
LOCK_FILE = "_lock"
POINTER = "nianbao.versions"  # reports commit metadata: versions of the other tables
OPERATION = "nianbao.operation"  # load | optimize: what a warehouse version did
DATA_TABLES = ("facts", "checks", "report_values")  # committed before reports
TABLES = (*DATA_TABLES, "reports")  # commit order
PARTITION = ["year"]
ROW_GROUP_SIZE = 131_072  # small enough that row-group statistics prune sorted facts
COMPRESSION = "zstd"
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

    def commit(self, tables: dict[str, pa.Table], ids: list[str], years: set[int | None]) -> dict:
        """Write one load: each table's rows of the reports ``ids`` replaced, reports last.

        ``years``: every year partition the old or new rows of those reports are in, so the
        replacing write only rewrites files there.  facts, checks and report_values are
        written side by side (delta-rs encodes without the GIL: both cores work); reports is
        committed only once all three are.  Returns the operation metrics summed.
        """
        predicate = _predicate(ids, years)
        metrics = {"num_added_files": 0, "num_removed_files": 0}
        versions = {}
        with _quiet_panics(), ThreadPoolExecutor(2, thread_name_prefix="nianbao-write") as pool:
            running = {
                t: pool.submit(self._write, t, tables[t], predicate, {}) for t in DATA_TABLES
            }
            for table, future in running.items():
                versions[table], done = future.result()
                _add(metrics, done)
                fault(f"{table}_committed")
            meta = {POINTER: json.dumps(versions), OPERATION: "load"}
            metrics["version"], done = self._write("reports", tables["reports"], predicate, meta)
        _add(metrics, done)
        return metrics

    def _write(
        self, table: str, data: pa.Table, predicate: str | None, meta: dict
    ) -> tuple[int, dict]:
        """One Delta commit; (its version, its operation metrics)."""
        path = self.path(table)
        exists = DeltaTable.is_deltatable(str(path))
        write_deltalake(
            str(path),
            data,
            mode="overwrite" if exists and predicate else "append",
            predicate=predicate if exists else None,
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
    anything held is passed on.  (Other threads' stderr is held meanwhile, too: use it around a whole commit, never
    around calls running in parallel.)
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


def _describe(as_of: int | datetime) -> str:
    return str(as_of) if isinstance(as_of, int) else f"at or before {as_of.isoformat()}"
