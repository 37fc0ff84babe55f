"""The ``documents`` log: one row per fetch, the crawler's memory between nights.

An append-only Delta table at ``<data>/warehouse/documents/``: rows are buffered and each
flush is one Delta commit, so a crawl killed with SIGKILL leaves only whole batches.  The
crawler's memory is the latest fetch per document (URL, plus the form body for POSTed listing
requests); a lost unflushed batch only means those URLs are fetched again next time,
conditionally.  A row is a ``DocumentFetch`` record; the table's schema is generated from it.

Reading that memory must not cost the whole history: ``known_documents`` reads the folded
state (``documents_state``) plus the log files added since, and ``maintain`` — run by the
crawler when a crawl ends, under the crawl lock, so no other writer is active — brings the
state up to date and, when ``delta_log.is_due`` says so, compacts the log's small files,
checkpoints it and vacuums files older than the retention.  Every fetch row stays in the log:
researchers read the history (``documents`` view, portal health), so nothing is folded there.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from nianbao.core import delta_log, records

from . import documents_state


@dataclass(slots=True)
class DocumentFetch:
    """One fetch of one document (or a stored file taken as unchanged without a request)."""

    url: str
    final_url: str | None = None
    parent_url: str | None = None
    portal_id: str | None = None
    method: str | None = None
    post_data: str | None = None
    status: records.Int32 | None = None
    outcome: str | None = None
    content_type: str | None = None  # media type, lower case, no parameters
    charset: str | None = None  # charset the server declared, if any
    sha256: str | None = None  # body in the raw store (also for a 304: the stored body)
    bytes: int | None = None  # size of that body
    transferred: int | None = None  # body bytes actually received by this fetch
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime | None = None
    error: str | None = None
    attempts: records.Int32 | None = (
        None  # requests sent; 0 = none (refused, or a stored file kept)
    )
    # what the document is to the crawl
    kind: str | None = None  # listing | report | attachment
    title: str | None = None
    list_date: str | None = None
    year: records.Int32 | None = None
    listing_url: str | None = None
    adapter: str | None = None
    run_id: str | None = None

    def row(self) -> dict:
        """As the mutable dict the crawler passes along (and may still annotate)."""
        return {name: getattr(self, name) for name in FIELDS}


SCHEMA = records.schema(DocumentFetch)
FIELDS = tuple(SCHEMA.names)
# Outcomes whose row names a body in the raw store.
BODY_OUTCOMES = frozenset({"new", "changed", "unchanged"})
REPORT_KINDS = frozenset({"report", "attachment"})


STATE_SCHEMA = documents_state.schema(SCHEMA)
_READ_SCHEMA = pa.schema([SCHEMA.field(c).with_nullable(True) for c in documents_state.COLUMNS])
_KEY_SCHEMA = pa.schema([SCHEMA.field(c).with_nullable(True) for c in documents_state.KEY_COLUMNS])


def log_dir(data: str | os.PathLike[str]) -> Path:
    return Path(data) / "warehouse" / "documents"


def state_path(data: str | os.PathLike[str]) -> Path:
    """The folded state beside the log (a cache: deleting it costs one full fold)."""
    return Path(data) / "warehouse" / "documents_current.parquet"


def doc_key(url: str, method: str | None = "GET", post_data: str | None = None) -> str:
    """The identity of a document: its URL, or method+URL+body for a POSTed listing."""
    if method and method.upper() != "GET":
        return f"{method.upper()} {url} {post_data or ''}"
    return url


def now_utc() -> datetime:
    return datetime.now(UTC)


class DocumentsLog:
    """Thread-safe appender; buffers rows and commits them every ``flush_rows``/``flush_s``.

    Each flush is one Delta version, so flushes are rare (at most one per 5 s: ≤ 720 an hour,
    where a commit per fetched page would be one per page); a killed crawl refetches at most
    one batch, conditionally.  ``maintain`` (at the crawl's end) compacts the files."""

    def __init__(
        self, data: str | os.PathLike[str], flush_rows: int = 500, flush_s: float = 5.0
    ) -> None:
        self.dir = log_dir(data)
        self.flush_rows, self.flush_s = flush_rows, flush_s
        self._rows: list[dict] = []
        self._first_at = 0.0
        self._lock = threading.Lock()

    def append(self, row: DocumentFetch | Mapping[str, object]) -> None:
        if isinstance(row, DocumentFetch):
            row = row.row()
        clean = {name: row.get(name) for name in FIELDS}
        if clean["fetched_at"] is None:
            clean["fetched_at"] = now_utc()
        with self._lock:
            if not self._rows:
                self._first_at = time.monotonic()
            self._rows.append(clean)
            due = (
                len(self._rows) >= self.flush_rows
                or time.monotonic() - self._first_at >= self.flush_s
            )
            if due:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> DocumentsLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _flush_locked(self) -> None:
        if not self._rows:
            return
        delta_log.append(self.dir, records.table(DocumentFetch, self._rows))
        self._rows = []


def read_log(data: str | os.PathLike[str], columns: tuple[str, ...] | None = None) -> pa.Table:
    """Every fetch ever logged (only ``columns``, if given), oldest first."""
    table = delta_log.read(log_dir(data), SCHEMA, columns)
    order = pc.sort_indices(table, [("fetched_at", "ascending")])  # append() stamps every row
    return table.take(order)  # a stable sort: rows of one batch keep their order


def current_state(data: str | os.PathLike[str], *, save: bool = False) -> pa.Table:
    """Per document key its latest fetch and latest fetch with a body (``documents_state``),
    from the saved state plus the log files it does not cover; ``save`` stores the result
    (callers that hold the crawl lock: two savers could otherwise race on the rename)."""
    dt = delta_log.table(log_dir(data))
    if dt is None:
        return STATE_SCHEMA.empty_table()
    files = delta_log.files(dt)
    table_id = dt.metadata().id
    saved = documents_state.load(state_path(data), table_id, STATE_SCHEMA)
    base, covered = saved if saved is not None else (STATE_SCHEMA.empty_table(), set())
    tail = [f for f in files if f not in covered]
    if saved is not None and not tail:
        return base
    state = _fold_onto(log_dir(data), base, tail)
    if save:
        documents_state.save(state_path(data), state, table_id, files)
    return state


def _fold_onto(path: Path, base: pa.Table, tail: list[str]) -> pa.Table:
    """``base`` (a state) with the ``tail`` files folded on.  Every tail row's key columns are
    read, the other columns only of the files holding a picked row: after a year without a
    saved state that is a few nights' files, not all of them."""
    parts = [base.select(list(documents_state.KEY_COLUMNS))]
    parts += [delta_log.read_file(path, name, _KEY_SCHEMA) for name in tail]
    source = np.repeat(np.arange(-1, len(tail)), [len(p) for p in parts])  # -1: base
    offset = np.concatenate([np.arange(len(p)) for p in parts])
    picked = documents_state.pick(pa.concat_tables([p.cast(_KEY_SCHEMA) for p in parts]))
    at = picked.rows.to_numpy()
    pieces, order = [], []
    for i in np.unique(source[at]):
        mine = np.flatnonzero(source[at] == i)
        rows = pa.array(offset[at[mine]])
        if i < 0:
            pieces.append(base.select(list(documents_state.COLUMNS)).take(rows))
        else:
            pieces.append(delta_log.read_file(path, tail[i], _READ_SCHEMA, rows))
        order.append(mine)
    if not pieces:
        return STATE_SCHEMA.empty_table()
    got = pa.concat_tables([p.cast(_READ_SCHEMA) for p in pieces])
    back = np.argsort(np.concatenate(order), kind="stable")  # into the pick's order
    return documents_state.assemble(got.take(pa.array(back)), picked, STATE_SCHEMA)


@dataclass(slots=True)
class LogMaintenance:
    """What ``maintain`` did: the state's size, and the compaction if one was due."""

    documents: int = 0  # document keys in the state
    files_added: int = 0
    files_removed: int = 0
    files_vacuumed: int = 0
    version: int | None = None  # the log's Delta version afterwards


def maintain(
    data: str | os.PathLike[str],
    policy: delta_log.Policy = delta_log.POLICY,
    *,
    force: bool = False,
    now: datetime | None = None,
) -> LogMaintenance:
    """Save the folded state, and compact + checkpoint + vacuum the log if due (or ``force``).

    Call it holding the crawl lock (the crawler does, when a crawl ends): the log's only
    writer is the crawl, so nothing commits between the fold and the compaction, and the
    state saved after it covers exactly the compacted files.  Each step is its own atomic
    commit or rename; a crash between them leaves a readable log and, at worst, a state that
    covers fewer files (the next read folds the rest).  Rows are never dropped or changed.
    """
    out = LogMaintenance()
    dt = delta_log.table(log_dir(data))
    if dt is None:
        return out
    state = current_state(data, save=True)
    out.documents = int(pc.sum(state[documents_state.LATEST]).as_py() or 0)
    if force or delta_log.is_due(dt, policy, now=now):
        before = dt.version()
        out.files_added, out.files_removed = delta_log.compact(dt, policy)
        dt = delta_log.table(log_dir(data))
        assert dt is not None
        if out.files_added and dt.version() == before + 1:  # only our commit: same rows
            documents_state.save(state_path(data), state, dt.metadata().id, delta_log.files(dt))
        elif out.files_added:  # someone else committed too: fold again from the log
            state_path(data).unlink(missing_ok=True)
            current_state(data, save=True)
        out.files_vacuumed = delta_log.vacuum(dt, policy.retention)
    out.version = dt.version()
    return out


@dataclass(frozen=True, slots=True)
class Known:
    """What the previous crawls know about one document, for conditional requests."""

    etag: str | None
    last_modified: str | None
    sha256: str | None  # last body seen (a snapshot, also after removal)
    outcome: str  # latest outcome
    row: dict  # the latest fetch (the columns of documents_state.COLUMNS)
    body_row: dict | None  # the latest fetch that stored a body (same columns)


def known_documents(data: str | os.PathLike[str]) -> dict[str, Known]:
    """Per document key: latest validators and the last body seen (what the crawler reads
    before its first request; the folded state keeps it cheap however long the log is)."""
    out: dict[str, Known] = {}
    last_body: dict[str, dict] = {}
    latest: dict[str, dict] = {}
    for row in current_state(data).to_pylist():
        key, is_latest, is_body = (
            row.pop(documents_state.KEY),
            row.pop(documents_state.LATEST),
            row.pop(documents_state.BODY),
        )
        if is_latest:
            latest[key] = row
        if is_body:
            last_body[key] = row
    for key, row in latest.items():
        body = last_body.get(key)
        out[key] = Known(
            etag=body["etag"] if body else None,
            last_modified=body["last_modified"] if body else None,
            sha256=body["sha256"] if body else None,
            outcome=row["outcome"],
            row=row,
            body_row=body,
        )
    return out


@dataclass(frozen=True, slots=True)
class ReportDocument:
    """A report page or attachment whose bytes the extraction step can read."""

    url: str
    portal_id: str
    sha256: str
    path: Path  # in the raw store
    content_type: str | None
    charset: str | None  # declared by the server; pass to read_bytes(declared_charset=…)
    fetched_at: datetime
    parent_url: str | None  # the report page an attachment hangs off
    kind: str  # report | attachment
    title: str | None
    year: int | None
    state: str  # latest outcome: new, unchanged, removed, failed, blocked …

    @property
    def removed(self) -> bool:
        return self.state in ("removed", "not_found")


def current_documents(
    data: str | os.PathLike[str], include_removed: bool = True
) -> list[ReportDocument]:
    """The current report documents of a data dir: per URL its last stored body.

    A page that later failed or was removed keeps its last snapshot here (``state`` says what
    the latest fetch found).  Read bytes with ``path.read_bytes()`` and hand them to
    ``nianbao.extract.readers.read_bytes``.
    """
    from nianbao.extract.rawstore import RawStore

    store = RawStore(data)
    out: list[ReportDocument] = []
    for known in known_documents(data).values():
        row = known.row
        if row["kind"] not in REPORT_KINDS or not known.sha256:
            continue
        removed = known.outcome in ("removed", "not_found")
        if removed and not include_removed:
            continue
        body_row = known.body_row
        out.append(
            ReportDocument(
                url=row["url"],
                portal_id=row["portal_id"],
                sha256=known.sha256,
                path=store.path(known.sha256),
                content_type=body_row["content_type"] if body_row else row["content_type"],
                charset=body_row["charset"] if body_row else row["charset"],
                fetched_at=body_row["fetched_at"] if body_row else row["fetched_at"],
                parent_url=row["parent_url"],
                kind=row["kind"],
                title=row["title"],
                year=row["year"],
                state=known.outcome,
            )
        )
    out.sort(key=lambda d: (d.portal_id, d.parent_url or d.url, d.url))
    return out
