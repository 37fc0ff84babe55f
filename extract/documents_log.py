"""The ``documents`` log: one row per fetch, the crawler's memory between nights.

Written as append-only Parquet part files under ``<data>/warehouse/documents/``; each part is
written to a temp name and ``os.replace``-d into place, so a crawl killed with SIGKILL leaves
only whole parts.  Readers take the union of the parts and keep the latest fetch per document
(URL, plus the form body for POSTed listing requests); a lost unflushed batch only means those
URLs are fetched again next time, conditionally.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA = pa.schema(
    [
        ("url", pa.string()),
        ("final_url", pa.string()),
        ("parent_url", pa.string()),
        ("portal_id", pa.string()),
        ("method", pa.string()),
        ("post_data", pa.string()),
        ("status", pa.int32()),
        ("outcome", pa.string()),
        ("content_type", pa.string()),  # media type, lower case, no parameters
        ("charset", pa.string()),  # charset the server declared, if any
        ("sha256", pa.string()),  # body in the raw store (also for a 304: the stored body)
        ("bytes", pa.int64()),  # size of that body
        ("transferred", pa.int64()),  # body bytes actually received by this fetch
        ("etag", pa.string()),
        ("last_modified", pa.string()),
        ("fetched_at", pa.timestamp("us", tz="UTC")),
        ("error", pa.string()),
        ("attempts", pa.int32()),  # requests sent; 0 = none (refused, or a stored file kept)
        # what the document is to the crawl
        ("kind", pa.string()),  # listing | report | attachment
        ("title", pa.string()),
        ("list_date", pa.string()),
        ("year", pa.int32()),
        ("listing_url", pa.string()),
        ("adapter", pa.string()),
        ("run_id", pa.string()),
    ]
)
FIELDS = tuple(SCHEMA.names)
# Outcomes whose row names a body in the raw store.
BODY_OUTCOMES = frozenset({"new", "changed", "unchanged"})
REPORT_KINDS = frozenset({"report", "attachment"})


def log_dir(data: str | os.PathLike[str]) -> Path:
    return Path(data) / "warehouse" / "documents"


def doc_key(url: str, method: str | None = "GET", post_data: str | None = None) -> str:
    """The identity of a document: its URL, or method+URL+body for a POSTed listing."""
    if method and method.upper() != "GET":
        return f"{method.upper()} {url} {post_data or ''}"
    return url


def now_utc() -> datetime:
    return datetime.now(UTC)


class DocumentsLog:
    """Thread-safe appender; buffers rows and flushes a part every ``flush_rows``/``flush_s``."""

    def __init__(
        self, data: str | os.PathLike[str], flush_rows: int = 50, flush_s: float = 2.0
    ) -> None:
        self.dir = log_dir(data)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.flush_rows, self.flush_s = flush_rows, flush_s
        self._rows: list[dict] = []
        self._first_at = 0.0
        self._lock = threading.Lock()
        self._seq = 0

    def append(self, row: Mapping[str, object]) -> None:
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
        table = pa.Table.from_pylist(self._rows, schema=SCHEMA)
        self._seq += 1
        # Names sort by time, so a reader can order parts without trusting clocks per row.
        name = f"part-{time.time_ns():020d}-{os.getpid()}-{self._seq:06d}-{uuid.uuid4().hex[:8]}"
        write_parquet_atomic(table, self.dir / f"{name}.parquet")
        self._rows = []


def write_parquet_atomic(table: pa.Table, dest: Path, **write_options: object) -> None:
    """Write ``dest`` whole or not at all: a ``.tmp-`` file, fsynced, then renamed into place.
    ``write_options`` go to ``pyarrow.parquet.write_table`` (compression, row groups…)."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-", suffix=".parquet")
    os.close(fd)
    try:
        pq.write_table(table, tmp, **write_options)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parts(data: str | os.PathLike[str]) -> list[Path]:
    d = log_dir(data)
    if not d.is_dir():
        return []
    return sorted(p for p in d.glob("part-*.parquet"))


def read_log(data: str | os.PathLike[str]) -> pa.Table:
    """Every fetch ever logged, oldest first (union of the parts)."""
    tables = [pq.read_table(p, schema=SCHEMA) for p in _parts(data)]
    if not tables:
        return SCHEMA.empty_table()
    return pa.concat_tables(tables)


def latest_rows(data: str | os.PathLike[str]) -> dict[str, dict]:
    """The latest fetch per document key."""
    out: dict[str, dict] = {}
    for row in read_log(data).to_pylist():  # oldest first: later rows overwrite
        out[doc_key(row["url"], row["method"], row["post_data"])] = row
    return out


@dataclass(frozen=True, slots=True)
class Known:
    """What the previous crawls know about one document, for conditional requests."""

    etag: str | None
    last_modified: str | None
    sha256: str | None  # last body seen (a snapshot, also after removal)
    outcome: str  # latest outcome
    row: dict  # the latest fetch
    body_row: dict | None  # the latest fetch that stored a body


def known_documents(data: str | os.PathLike[str]) -> dict[str, Known]:
    """Per document key: latest validators and the last body seen."""
    out: dict[str, Known] = {}
    last_body: dict[str, dict] = {}
    latest: dict[str, dict] = {}
    for row in read_log(data).to_pylist():
        key = doc_key(row["url"], row["method"], row["post_data"])
        latest[key] = row
        if row["sha256"]:
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


def sweep_temp(data: str | os.PathLike[str]) -> None:
    """Drop temp files a killed writer left behind (call only while holding the crawl lock)."""
    d = log_dir(data)
    if d.is_dir():
        for f in d.glob(".tmp-*"):
            f.unlink(missing_ok=True)


def compact(data: str | os.PathLike[str]) -> int:
    """Merge all parts into one (history kept); returns how many parts were merged.

    Crash-safe: the merged part is in place before the old ones go, and a reader that sees
    both only reads duplicate rows, which the latest-per-key rule absorbs.
    """
    parts = _parts(data)
    if len(parts) < 2:
        return 0
    table = pa.concat_tables(pq.read_table(p, schema=SCHEMA) for p in parts)
    # Same name stem as the newest part + suffix: sorts after everything it replaces.
    dest = parts[-1].with_name(parts[-1].stem + "-compact.parquet")
    write_parquet_atomic(table, dest)
    for p in parts:
        if p != dest:
            p.unlink(missing_ok=True)
    return len(parts)
