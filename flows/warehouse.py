"""The statistical warehouse: load extracted reports into Parquet, query them through DuckDB.

Public API::

    load(inputs, data=None)      ReportInput objects → a new warehouse generation
    ingest(paths, data=None)     read + extract local files, then load them
    connect(data=None)           read-only DuckDB connection with every view
    export(to, data=None)        main views + codebook as CSV or Parquet

Guarantees (see warehouse_store for how): a report's rows are replaced as a whole when it is
loaded again; loading the same input twice changes nothing; a process killed at any instant
leaves the previous complete state readable, never a partial report or a duplicate.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from nianbao.extract.readers import REPORT_SUFFIXES

from .paths import data_dir, warehouse_dir
from .warehouse_build import Batch, Chunk, ReportInput, canonical_url, report_id_for
from .warehouse_store import COMPRESSION, ROW_GROUP_SIZE, Manifest, PartFile, Store, fault
from .warehouse_views import MANAGED_SCHEMAS, apply_views, connect, render

if TYPE_CHECKING:
    from . import extraction

__all__ = [
    "EXPORT_VIEWS",
    "IngestResult",
    "LoadStats",
    "ReportInput",
    "apply_views",
    "canonical_url",
    "connect",
    "export",
    "ingest",
    "load",
    "render",
    "report_id_for",
]

TABLES = tuple(MANAGED_SCHEMAS)  # reports, facts, checks, report_values
# Row order inside rewritten/compacted files: facts by cell so row-group statistics prune.
SORT_KEYS = {
    "facts": "code, report_id",
    "checks": "report_id, name",
    "reports": "report_id",
    "report_values": "report_id",
}
CHUNK_REPORTS = 20_000  # reports per write batch (~4 M facts): bounds memory
COMPACT_MAX_FILES = 8  # per table and year; beyond it small files are merged
COMPACT_SMALL_ROWS = 2_000_000


@dataclass(slots=True)
class LoadStats:
    """What one ``load`` did."""

    data: Path
    generation: int
    reports_new: int = 0
    reports_replaced: int = 0
    reports_unchanged: int = 0
    facts_written: int = 0
    checks_written: int = 0
    files_written: int = 0
    files_rewritten: int = 0
    files_removed: int = 0
    views_applied: bool = False
    views_error: str = ""  # why the views were not refreshed after a committed load
    seconds: float = 0.0

    @property
    def reports_loaded(self) -> int:
        return self.reports_new + self.reports_replaced


def _batched(items: Iterable[ReportInput], n: int) -> Iterator[list[ReportInput]]:
    it = iter(items)
    while batch := list(islice(it, n)):
        yield batch


def _existing(store: Store, manifest: Manifest) -> dict[str, tuple[int | None, str]]:
    """report_id → (year, digest) of every report in the warehouse."""
    out: dict[str, tuple[int | None, str]] = {}
    for part in manifest.files("reports"):
        t = pq.read_table(store.abspath(part), columns=["report_id", "year", "digest"])
        for rid, year, digest in zip(*(t[c].to_pylist() for c in t.column_names), strict=True):
            out[rid] = (year, digest)
    return out


def _split_by_year(table: pa.Table) -> Iterator[tuple[int | None, pa.Table]]:
    years = table["year"].fill_null(np.iinfo(np.int16).max).to_numpy()
    order = np.argsort(years, kind="stable")
    if not (order == np.arange(len(order))).all():
        table, years = table.take(pa.array(order)), years[order]
    bounds = np.flatnonzero(np.diff(years)) + 1
    for start, stop in zip(np.r_[0, bounds], np.r_[bounds, len(years)], strict=True):
        if stop > start:
            y = int(years[start])
            yield (None if y == np.iinfo(np.int16).max else y), table.slice(start, stop - start)


class _Load:
    """One load: writes new part files, then rewrites/compacts, then commits one manifest.

    Part files are written by a background thread (Parquet encoding releases the GIL) while
    the next chunk is built, so both cores work.
    """

    def __init__(self, store: Store, base: Manifest, force: bool) -> None:
        self.store, self.base, self.force = store, base, force
        self.generation = base.generation + 1
        self.existing = _existing(store, base)
        self.extracted_at = datetime.now(UTC)
        self.new_parts: dict[str, list[PartFile]] = {t: [] for t in TABLES}
        self.seen: dict[str, int] = {}  # report_id → chunk number that wrote it
        self.chunk_parts: list[list[PartFile]] = []
        self.drop: dict[str, set[str]] = {}  # part path → report ids to remove from it
        self.stats = LoadStats(store.root.parent, base.generation)
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nianbao-write")
        self.pending: list[tuple[str, Future[PartFile]]] = []

    def add(self, inputs: Sequence[ReportInput]) -> None:
        last: dict[str, ReportInput] = {}
        for inp in inputs:  # the same report twice in a batch: the later one wins
            rid = inp.report_id
            last.pop(rid, None)
            last[rid] = inp
        batch = Batch(list(last.values()), list(last), self.extracted_at)
        self.drain()
        keep = np.ones(len(batch.ids), dtype=bool)
        for k, (rid, digest) in enumerate(zip(batch.ids, batch.digests, strict=True)):
            if rid in self.seen:  # loaded earlier in this call: drop that copy
                for part in self.chunk_parts[self.seen[rid]]:
                    self.drop.setdefault(part.path, set()).add(rid)
                continue
            old = self.existing.get(rid)
            if old is not None and old[1] == digest and not self.force:
                keep[k] = False
                self.stats.reports_unchanged += 1
            elif old is not None:
                self.stats.reports_replaced += 1
                for table in TABLES:  # its old rows sit in the old year's partition
                    for part in self.base.files(table):
                        if part.year == old[0]:
                            self.drop.setdefault(part.path, set()).add(rid)
            else:
                self.stats.reports_new += 1
        if keep.any():
            chunk = batch.chunk(keep)
            for rid in chunk.ids:
                self.seen[rid] = len(self.chunk_parts)
            self.chunk_parts.append([])
            self._submit(chunk)

    def _submit(self, chunk: Chunk) -> None:
        for table, data in (
            ("reports", chunk.reports),
            ("facts", chunk.facts),
            ("checks", chunk.checks),
            ("report_values", chunk.values),
        ):
            for year, part in _split_by_year(data):
                future = self.pool.submit(self.store.write_part, table, year, part, self.generation)
                self.pending.append((table, future))
        self.stats.facts_written += chunk.facts.num_rows
        self.stats.checks_written += chunk.checks.num_rows

    def drain(self) -> None:
        """Wait for the submitted part files (re-raising a write error)."""
        if not self.pending:
            return
        for table, future in self.pending:
            part = future.result()
            self.new_parts[table].append(part)
            self.chunk_parts[-1].append(part)
            self.stats.files_written += 1
        self.pending = []
        fault("chunk_written")

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def finish(self) -> Manifest | None:
        """Rewrite files holding superseded rows, compact, and build the next manifest."""
        self.drain()
        if not any(self.new_parts.values()) and not self.drop:
            return None
        tables: dict[str, list[PartFile]] = {}
        con = duckdb.connect()
        try:
            for table in TABLES:
                parts = self.base.files(table) + self.new_parts[table]
                parts = self._rewrite(table, parts)
                parts = self._compact(con, table, parts)
                tables[table] = parts
        finally:
            con.close()
        fault("rewritten")
        return Manifest(self.generation, "", tables)

    def _rewrite(self, table: str, parts: list[PartFile]) -> list[PartFile]:
        """Parts with superseded reports' rows become new parts without them (order kept)."""
        out: list[PartFile] = []
        for part in parts:
            ids = self.drop.get(part.path)
            if ids:
                path = self.store.abspath(part)
                present = pq.read_table(path, columns=["report_id"])["report_id"].cast(pa.string())
                gone = pc.is_in(present, pa.array(sorted(ids), pa.string()))
                if pc.any(gone).as_py():
                    self.stats.files_rewritten += 1
                    kept = pq.read_table(path).filter(pc.invert(gone))
                    if kept.num_rows:
                        out.append(self.store.write_part(table, part.year, kept, self.generation))
                    continue
            out.append(part)
        return out

    def _compact(
        self, con: duckdb.DuckDBPyConnection, table: str, parts: list[PartFile]
    ) -> list[PartFile]:
        by_year: dict[int | None, list[PartFile]] = {}
        for p in parts:
            by_year.setdefault(p.year, []).append(p)
        out: list[PartFile] = []
        for year, group in by_year.items():
            small = [p for p in group if p.rows < COMPACT_SMALL_ROWS]
            if len(group) > COMPACT_MAX_FILES and len(small) > 1:
                query = f"SELECT * FROM {_read(self.store, small)} ORDER BY {SORT_KEYS[table]}"
                merged = self._copy(con, query, table, year)
                group = [p for p in group if p not in small] + ([merged] if merged else [])
                self.stats.files_rewritten += len(small)
            out.extend(group)
        return out

    def _copy(
        self, con: duckdb.DuckDBPyConnection, query: str, table: str, year: int | None
    ) -> PartFile | None:
        tmp = self.store.temp_path(table, year)
        con.execute(
            f"COPY ({query}) TO '{tmp.as_posix()}' "
            f"(FORMAT parquet, COMPRESSION {COMPRESSION}, ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
        )
        return self.store.adopt_part(tmp, table, year, self.generation)


def _read(store: Store, parts: Sequence[PartFile]) -> str:
    paths = ", ".join("'" + store.abspath(p).as_posix().replace("'", "''") + "'" for p in parts)
    return f"read_parquet([{paths}], union_by_name = true, hive_partitioning = false)"


def load(
    inputs: Iterable[ReportInput],
    data: str | Path | None = None,
    *,
    force: bool = False,
    chunk_reports: int = CHUNK_REPORTS,
) -> LoadStats:
    """Load reports into the warehouse at ``data`` as one new generation (all or nothing).

    A report already present is replaced when anything about it changed and left alone when
    not (``force`` replaces it anyway).  Inputs are consumed in chunks, so a generator of
    ReportInputs keeps memory bounded.
    """
    started = time.perf_counter()
    root = data_dir(data)
    store = Store(warehouse_dir(root))
    with store.writer_lock():
        base = store.manifest()
        job = _Load(store, base, force)
        try:
            for batch in _batched(inputs, chunk_reports):
                job.add(batch)
            manifest = job.finish()
        finally:
            job.close()
        stats = job.stats
        if manifest is not None:
            store.commit(manifest)
            stats.generation = manifest.generation
            fault("committed")
        current = manifest or base
        # The generation is committed: from here on a failure (disk full, read-only views
        # file) is a note, not a failed load; the next connect() or load re-applies the views.
        try:
            stats.views_applied = apply_views(root, current)
        except (OSError, duckdb.Error) as e:
            from .errors import user_error

            stats.views_error = str(user_error(e) or e).strip().splitlines()[0]
        fault("views_applied")
        if stats.views_applied:
            # The previous generation stays: connections opened before this load still read it.
            # (Views that could not be applied still name an older one: no GC then.)
            older = [g for g in store.manifest_numbers() if g < current.generation]
            keep = [current] + ([store.manifest(older[-1])] if older else [])
            try:
                stats.files_removed = store.collect_garbage(keep, TABLES)
            except OSError:  # what stays is garbage: the next load removes it
                pass
    stats.data = root
    stats.seconds = time.perf_counter() - started
    return stats


# --- ingest: local files ------------------------------------------------------------------


@dataclass(slots=True)
class IngestResult:
    stats: LoadStats | None
    loaded: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.is_file()
                    and not f.name.startswith(".")
                    and f.suffix.lower() in REPORT_SUFFIXES
                )
            )
        else:
            out.append(p)
    return [p.absolute() for p in out]


def ingest(
    paths: Iterable[str | Path],
    data: str | Path | None = None,
    *,
    level: str | None = None,
    region_code: str | None = None,
    source_url: str | None = None,
    force: bool = False,
    limits: extraction.Limits | None = None,
) -> IngestResult:
    """Read, extract and load local files (directories are walked).

    Each file is read in a worker process under ``limits``.  A local file's report id comes
    from its content hash unless ``source_url`` (one file only) says where it was published.
    Files that are not reports (unreadable, refused by a limit, no report tables) are listed
    in ``failed`` with their reason; the others are loaded.
    """
    from .extraction import extract_all, job_for_path

    files = _expand(paths)
    if source_url and len(files) != 1:
        raise ValueError("source_url applies to exactly one file")
    result = IngestResult(None)

    def inputs() -> Iterator[ReportInput]:
        for outcome in extract_all(map(job_for_path, files), limits):
            path = Path(outcome.job.path)
            if not outcome.ok:
                result.failed.append((path, outcome.describe()))
                continue
            result.loaded.append(path)
            assert outcome.result is not None and outcome.sha256 is not None
            yield ReportInput(
                outcome.result,
                sha256=outcome.sha256,
                source_url=source_url,
                level=level,
                region_code=region_code,
            )

    result.stats = load(inputs(), data, force=force)
    return result


# --- export -------------------------------------------------------------------------------

EXPORT_VIEWS = (
    "reports",
    "facts",
    "checks",
    "check_failures",
    "requests_wide",
    "appeals_wide",
    "active_wide",
    "report_summary",
    "disclosure_rate_by_year_region",
    "denial_reason_shares",
    "correction_rates_by_year",
    "totals_by_year",
    "totals_by_province_year",
)


def export(
    to: str | Path,
    data: str | Path | None = None,
    *,
    fmt: str = "csv",
    views: Sequence[str] = EXPORT_VIEWS,
) -> list[Path]:
    """Write ``views`` and ``codebook`` (the cells view) to directory ``to``; returns the files.

    CSV is UTF-8 with a byte-order mark so Excel shows Chinese labels; list columns become
    ``a;b`` strings there.  ``columns.csv`` lists every exported column with its type and, for
    catalogue-derived columns, the code it comes from.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError("format must be csv or parquet")
    out_dir = Path(to)
    out_dir.mkdir(parents=True, exist_ok=True)
    con = connect(data)
    written: list[Path] = []
    try:
        col_rows: list[tuple[str, str, str]] = []
        for view in ("codebook", *views):
            source = "cells" if view == "codebook" else view
            rel = con.sql(f"SELECT * FROM {source}")
            for name, dtype in zip(rel.columns, rel.types, strict=True):
                col_rows.append((view, name, str(dtype)))
            path = out_dir / f"{view}.{fmt}"
            if fmt == "parquet":
                rel.write_parquet(str(path), compression=COMPRESSION)
            else:
                _write_csv(con, source, rel, path)
            written.append(path)
        path = out_dir / f"columns.{fmt}"
        cols = pa.table(
            {k: [r[i] for r in col_rows] for i, k in enumerate(("file", "column", "type"))}
        )
        if fmt == "parquet":
            pq.write_table(cols, path)
        else:
            _csv_bytes(cols, path)
        written.append(path)
    finally:
        con.close()
    return written


def _write_csv(
    con: duckdb.DuckDBPyConnection, source: str, rel: duckdb.DuckDBPyRelation, path: Path
) -> None:
    select = ", ".join(
        f'array_to_string("{c}", \';\') AS "{c}"' if str(t).endswith("[]") else f'"{c}"'
        for c, t in zip(rel.columns, rel.types, strict=True)
    )
    reader = con.sql(f"SELECT {select} FROM {source}").arrow()
    import pyarrow.csv as pacsv

    from .csv_safety import escape_formulas

    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf")
        writer = None
        for batch in reader:
            if writer is None:
                writer = pacsv.CSVWriter(f, batch.schema)
            writer.write_batch(escape_formulas(batch))
        if writer is None:
            pacsv.write_csv(reader.schema.empty_table(), f)
        else:
            writer.close()


def _csv_bytes(table: pa.Table, path: Path) -> None:
    import pyarrow.csv as pacsv

    from .csv_safety import escape_formulas

    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf")
        pacsv.write_csv(escape_formulas(table), f)
