"""The statistical warehouse: load extracted reports into Delta tables, query them via DuckDB.

Public API::

    load(inputs, data=None)      ReportInput objects → one new warehouse version
    load_batches(inputs, data=None, batch_size=)
                                 a stream of them → one version per batch (bounded memory)
    ingest(paths, data=None)     read + extract local files, then load them
    connect(data=None, as_of=)   read-only DuckDB connection with every view (at a version)
    export(to, data=None)        main views + codebook as CSV, Parquet or Stata (.dta)
    optimize(data) / maintain()  compaction and vacuum (warehouse_maintain)

Guarantees (see warehouse_store for how): a report's rows are replaced as a whole when it is
loaded again; loading the same input twice changes nothing; a process killed at any instant
leaves the previous complete version readable, never a partial report or a duplicate.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
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
from .warehouse_maintain import maintain, optimize
from .warehouse_store import (
    COMPRESSION,
    DATA_TABLES,
    Store,
    fault,
    file_list,
    partition_year,
    without_reports,
)
from .warehouse_views import apply_views, connect, render

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
    "load_batches",
    "maintain",
    "optimize",
    "render",
    "report_id_for",
]

CHUNK_REPORTS = 20_000  # reports per build batch (~4 M facts): bounds the working memory
BATCH_REPORTS = 20_000  # reports per version in load_batches: one build chunk each


@dataclass(slots=True)
class LoadStats:
    """What one ``load`` did; ``version`` is the warehouse version it wrote (or found, when
    nothing changed) — record it with the run to read the warehouse as that run left it."""

    data: Path
    version: int | None = None
    reports_new: int = 0
    reports_replaced: int = 0
    reports_unchanged: int = 0
    facts_written: int = 0
    checks_written: int = 0
    files_written: int = 0
    files_rewritten: int = 0
    views_applied: bool = False
    views_error: str = ""  # why the views were not refreshed after a committed load
    seconds: float = 0.0

    @property
    def reports_loaded(self) -> int:
        return self.reports_new + self.reports_replaced


def _batched(items: Iterable[ReportInput], n: int) -> Iterator[list[ReportInput]]:
    it = iter(items)
    while True:
        batch = list(islice(it, n))
        if not batch:
            return
        yield batch
        del batch  # not held here while the next one is drawn: one batch alive, not two


def _existing(files: Sequence[str], ids: Sequence[str]) -> dict[str, tuple[int | None, str]]:
    """report_id → (year, digest) of those of ``ids`` that the reports files hold.

    Asked per batch, file by file, with only that batch's ids: the memory it takes is the
    batch's, not the warehouse's (a dict of every report id costs ~300 MB at 10^6 reports and
    grows with each load of a backfill).  The cost is one read of the files' two narrow
    columns per batch.
    """
    out: dict[str, tuple[int | None, str]] = {}
    if not files or not ids:
        return out
    wanted = pa.array(ids, pa.string())
    for path in files:
        t = pq.read_table(path, columns=["report_id", "digest"])
        t = t.filter(pc.is_in(t["report_id"].cast(pa.string()), value_set=wanted))
        if t.num_rows:
            year = partition_year(path)
            rids, digests = t["report_id"].to_pylist(), t["digest"].to_pylist()
            out.update((rid, (year, d)) for rid, d in zip(rids, digests, strict=True))
    return out


class _Plan:
    """What a load writes: digests first, so unchanged reports cost no build; the kept ones
    are built into Arrow tables at once (compact dictionary columns), their inputs let go,
    and their facts, checks and report_values are written to (uncommitted) files in a
    background thread while the next batch is built; only the small reports rows are kept.

    The same report twice in one load: the later one wins (an earlier batch's files are
    rewritten without it).  Replaced reports' old years are remembered, so the replacing
    commit only looks at files in those year partitions.
    """

    def __init__(self, report_files: list[str], force: bool, store: Store) -> None:
        self.report_files, self.force, self.store = report_files, force, store
        self.existing: dict[str, tuple[int | None, str]] = {}  # of the batch being added
        self.extracted_at = datetime.now(UTC)
        self.chunks: list[Chunk] = []
        self.files: list[dict[str, Future]] = []  # per chunk: table → its AddActions
        self.schemas: dict[str, pa.Schema] = {}
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="nianbao-write")
        self.dropped: dict[int, set[str]] = {}  # chunk → ids a later copy supersedes
        self.where: dict[str, tuple[int | None, str]] = {}  # report_id → (chunk, status)
        self.counts = {"new": 0, "replaced": 0, "unchanged": 0}
        self.replaced_years: set[int | None] = set()

    def add(self, inputs: Sequence[ReportInput]) -> None:
        last: dict[str, ReportInput] = {}
        for inp in inputs:  # the same report twice in a batch: the later one wins
            last.pop(inp.report_id, None)
            last[inp.report_id] = inp
        batch = Batch(list(last.values()), list(last), self.extracted_at)
        self.existing = _existing(self.report_files, batch.ids)
        keep = np.ones(len(batch.ids), dtype=bool)
        for k, (rid, digest) in enumerate(zip(batch.ids, batch.digests, strict=True)):
            if rid in self.where:  # seen in an earlier batch of this load: drop that copy
                chunk, status = self.where[rid]
                if chunk is not None:
                    self.dropped.setdefault(chunk, set()).add(rid)
                self.counts[status] -= 1
            status = self._status(rid, digest)
            self.counts[status] += 1
            keep[k] = status != "unchanged"
            self.where[rid] = (len(self.chunks) if keep[k] else None, status)
        if keep.any():
            chunk = batch.chunk(keep)
            data = dict(zip(DATA_TABLES, chunk.tables(), strict=True))
            self.schemas = {t: d.schema for t, d in data.items()}
            self.files.append(
                {t: self.pool.submit(self.store.write_files, t, d) for t, d in data.items()}
            )
            chunk.facts = chunk.checks = chunk.values = None  # the writer holds them now
            self.chunks.append(chunk)

    def _status(self, rid: str, digest: str) -> str:
        """new, replaced or unchanged (nothing to write)."""
        old = self.existing.get(rid)
        if old is None:
            return "new"
        if old[1] == digest and not self.force:
            return "unchanged"
        self.replaced_years.add(old[0])
        return "replaced"

    def fill(self, stats: LoadStats) -> None:
        c = self.counts
        stats.reports_new, stats.reports_replaced = c["new"], c["replaced"]
        stats.reports_unchanged = c["unchanged"]

    def written(self) -> tuple[dict[str, list], pa.Table, list[str], set[int | None]]:
        """(uncommitted files per data table, reports rows, ids written, years written),
        without superseded copies."""
        adds: dict[str, list] = {t: [] for t in DATA_TABLES}
        parts: list[pa.Table] = []
        ids: list[str] = []
        for n, (chunk, files) in enumerate(zip(self.chunks, self.files, strict=True)):
            gone = self.dropped.get(n, set())
            for table, future in files.items():
                done = future.result()
                adds[table] += self.store.without(table, done, gone) if gone else done
            parts.append(without_reports(chunk.reports, gone) if gone else chunk.reports)
            ids += [i for i in chunk.ids if i not in gone]
        reports = pa.concat_tables(parts)
        return adds, reports, ids, set(reports["year"].to_pylist())

    def close(self, failed: bool) -> None:
        """Stop the writer; after a failure delete the files it wrote (never committed)."""
        self.pool.shutdown(wait=True)
        if failed:
            for files in self.files:
                for table, future in files.items():
                    if future.done() and future.exception() is None:
                        self.store.discard(table, future.result())


def _rows(adds: list) -> int:
    return sum(json.loads(a.stats)["numRecords"] for a in adds)


def load(
    inputs: Iterable[ReportInput],
    data: str | Path | None = None,
    *,
    force: bool = False,
    chunk_reports: int = CHUNK_REPORTS,
    refresh_views: bool = True,
) -> LoadStats:
    """Load reports into the warehouse at ``data`` as one new version (all or nothing).

    A report already present is replaced when anything about it changed and left alone when
    not (``force`` replaces it anyway); when nothing changed no version is written.  Inputs
    are read in batches of ``chunk_reports``: only reports to write are built into rows.
    """
    started = time.perf_counter()
    root = data_dir(data)
    store = Store(warehouse_dir(root))
    with store.writer_lock():
        store.roll_back_orphans()
        base = store.snapshot()
        reports = store.table("reports", base)
        plan = _Plan(file_list(reports) if reports else [], force, store)
        committed = False  # not yet: a failure deletes the files written so far
        try:
            for batch in _batched(inputs, chunk_reports):
                plan.add(batch)
            stats = LoadStats(root, base.version)
            plan.fill(stats)
            if stats.reports_loaded:
                adds, reports, ids, years = plan.written()
                stats.facts_written = _rows(adds["facts"])
                stats.checks_written = _rows(adds["checks"])
                replacing = ids if stats.reports_replaced else []
                years |= plan.replaced_years
                committed = True  # from here on its files may be committed: vacuum's
                metrics = store.commit(adds, plan.schemas, reports, replacing, years)
                stats.version = metrics["version"]
                stats.files_written = metrics["num_added_files"]
                stats.files_rewritten = metrics["num_removed_files"]
                fault("committed")
        finally:
            plan.close(failed=not committed)
        if refresh_views:
            _refresh_views(root, stats)
    stats.data = root
    stats.seconds = time.perf_counter() - started
    return stats


def load_batches(
    inputs: Iterable[ReportInput],
    data: str | Path | None = None,
    *,
    batch_size: int = BATCH_REPORTS,
    force: bool = False,
    on_batch: Callable[[LoadStats], None] | None = None,
) -> LoadStats:
    """Load a stream of reports as consecutive ``load()`` calls of ``batch_size`` reports each.

    Why not one ``load()``: a load is one all-or-nothing version, so everything it wrote stays
    uncommitted (and its report rows in memory) until its end; a backfill or a national
    reload of 10^6 reports would hold too much and lose everything to one late failure.
    Here the working set is one batch — as long as the caller's iterable produces reports
    lazily (a generator), at most ``batch_size`` inputs are alive at a time — and each batch
    is committed as its own warehouse version.

    Contract:

    - Each batch is atomic (it is a ``load()``: replace-whole-report, unchanged reports skipped,
      ``force`` as there).  A batch that fails raises; the batches before it stay committed.
      Running the same stream again is safe and cheap: committed reports come back unchanged.
    - The same report in two batches: the later batch replaces it (counted ``replaced``).
    - ``on_batch(stats)`` is called after each batch's commit with that batch's own stats
      (e.g. to record each version with the run, or to report progress).
    - Returns the batches' stats summed (counts, files, seconds); ``version`` is the last
      version written or found; the views are refreshed once, after the last batch.
      An empty stream returns the current version, like ``load([])``.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    total: LoadStats | None = None
    for batch in _batched(inputs, batch_size):
        # views once at the end: rendering them computes the cross-report tables (25_panels)
        stats = load(
            batch,
            data,
            force=force,
            chunk_reports=min(batch_size, CHUNK_REPORTS),
            refresh_views=False,
        )
        del batch  # let the inputs go before the next batch is drawn
        if on_batch is not None:
            on_batch(stats)
        total = stats if total is None else _summed(total, stats)
    if total is None:
        return load([], data, force=force)
    _refresh_views(total.data, total)
    return total


def _summed(a: LoadStats, b: LoadStats) -> LoadStats:
    """Stats of two consecutive loads as one: counts added, the later version and views."""
    return LoadStats(
        b.data,
        b.version,
        a.reports_new + b.reports_new,
        a.reports_replaced + b.reports_replaced,
        a.reports_unchanged + b.reports_unchanged,
        a.facts_written + b.facts_written,
        a.checks_written + b.checks_written,
        a.files_written + b.files_written,
        a.files_rewritten + b.files_rewritten,
        b.views_applied,
        b.views_error,
        a.seconds + b.seconds,
    )


def _refresh_views(root: Path, stats: LoadStats) -> None:
    """Re-render the stored views.  The version is committed: from here on a failure (disk
    full, read-only views file) is a note, not a failed load; the next connect() re-applies."""
    try:
        stats.views_applied = apply_views(root)
    except (OSError, duckdb.Error) as e:
        from .errors import user_error

        stats.views_error = str(user_error(e) or e).strip().splitlines()[0]
    fault("views_applied")


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
    "agencies",
    "panel_checks",
    "report_coverage",
    "narrative_checks",
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

    ``fmt="stata"``: labelled Stata 118 files (``export_stata``): the same files as ``.dta``,
    plus ``report_values.dta`` (one row per report, one variable per catalogue cell);
    ``columns.dta`` also maps each column to its Stata variable name and labels.
    """
    if fmt not in ("csv", "parquet", "stata"):
        raise ValueError("format must be csv, parquet or stata")
    out_dir = Path(to)
    out_dir.mkdir(parents=True, exist_ok=True)
    con = connect(data)
    written: list[Path] = []
    try:
        if fmt == "stata":
            from . import export_stata

            return export_stata.export(con, out_dir, views)
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
