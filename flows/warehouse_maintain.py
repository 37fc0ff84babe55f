"""Compaction and vacuum of the warehouse tables, through Delta's own operations.

Why a policy: every load adds small files per touched year partition (a nightly load is a
few hundred reports) and every replace leaves the superseded files behind for time travel.
``optimize`` merges small files (``optimize.compact``) and deletes files no version younger
than the retention needs (``vacuum``); ``maintain`` runs it when it pays (see ``due``).

Retention: ``RETENTION`` (30 days) — time travel (``connect(as_of=…)``, ``--as-of``) reaches
back at least that far; older versions may have lost their files.  Files a killed writer
left (written, never committed) are removed by the same vacuum once older than that.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nianbao.core import delta_log

from . import warehouse_views
from .paths import data_dir, warehouse_dir
from .warehouse_store import DATA_TABLES, WRITER, Store, delta_table

# The policy is core.delta_log's, shared with the documents log the crawler compacts.
POLICY = delta_log.POLICY
RETENTION = POLICY.retention  # 30 days
SMALL_FILE_BYTES = POLICY.small_file_bytes  # a file below this is "small"
MAX_SMALL_FILES = POLICY.max_small_files  # per table: beyond it maintain() compacts
MAX_AGE = POLICY.max_age  # and at least weekly when anything changed since
TARGET_FILE_BYTES = POLICY.target_file_bytes
LOG_TABLES = tuple(warehouse_views.LOG_TABLES)  # documents, runs, portal_runs, extractions
ALL_TABLES = (*DATA_TABLES, "reports", *LOG_TABLES)


@dataclass(slots=True)
class Maintenance:
    """What ``optimize`` did to one table."""

    table: str
    files_added: int = 0
    files_removed: int = 0
    files_vacuumed: int = 0


def optimize(
    data: str | Path | None = None,
    *,
    retention: timedelta = RETENTION,
    tables: tuple[str, ...] | None = None,
) -> list[Maintenance]:
    """Compact small files and vacuum files older than ``retention`` (all tables by default).

    The warehouse tables are compacted under the writer lock and a reports version naming
    the compacted versions is committed (readers pin facts/checks/report_values through
    it: see warehouse_store).  The logs are compacted as they are, the documents log under
    the crawl lock (its writer's) with its folded state (skipped while a crawl runs: the
    crawl compacts it when it ends).  Rows never change.
    """
    store = Store(warehouse_dir(data_dir(data)))
    chosen = tables or ALL_TABLES
    out = []
    with store.writer_lock():
        store.roll_back_orphans()
        for table in chosen:
            if table != "documents":
                out.append(_compact(store, table))
        moved = [m.table for m in out if m.table in DATA_TABLES and m.files_added]
        if moved:
            versions = dict(store.snapshot().versions)
            for table in moved:
                versions[table] = delta_table(store.path(table)).version()
            versions.pop("reports", None)
            store.point(versions, "optimize")
        for m in out:
            m.files_vacuumed = _vacuum(store, m.table, retention)
    if "documents" in chosen:
        out.append(_documents(data_dir(data), retention))
    return out


def _documents(data: Path, retention: timedelta) -> Maintenance:
    # imported here: the crawler (its lock and the log's writer) is not needed to read views
    from nianbao.extract.crawler import maintain_documents_log

    done = maintain_documents_log(data, replace(POLICY, retention=retention))
    if done is None:
        return Maintenance("documents")
    return Maintenance("documents", done.files_added, done.files_removed, done.files_vacuumed)


def _compact(store: Store, table: str) -> Maintenance:
    dt = delta_table(store.path(table))
    m = Maintenance(table)
    if dt is None:
        return m
    # no extra checkpoint: delta-rs writes one every 100 commits, and the warehouse's layout
    # (data files only beside the Delta log) stays as it was
    m.files_added, m.files_removed = delta_log.compact(dt, POLICY, WRITER, checkpoint=False)
    return m


def _vacuum(store: Store, table: str, retention: timedelta) -> int:
    dt = delta_table(store.path(table))
    if dt is None:
        return 0
    return delta_log.vacuum(dt, retention)


def due(data: str | Path | None = None, *, now: datetime | None = None) -> list[str]:
    """Tables worth optimizing: more than MAX_SMALL_FILES small files, or more than one small
    file and no optimize for MAX_AGE (a week) — so a nightly call compacts about weekly."""
    store = Store(warehouse_dir(data_dir(data)))
    now = now or datetime.now(UTC)
    out = []
    for table in ALL_TABLES:
        dt = delta_table(store.path(table))
        if dt is None:
            continue
        if delta_log.is_due(dt, POLICY, now=now):
            out.append(table)
    return out


def maintain(data: str | Path | None = None, *, now: datetime | None = None) -> list[Maintenance]:
    """What the nightly flow calls after its load: optimize the tables ``due`` says need it
    (usually none: then it costs a look at each table's file list)."""
    tables = due(data, now=now)
    return optimize(data, tables=tuple(tables)) if tables else []
