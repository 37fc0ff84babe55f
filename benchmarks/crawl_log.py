"""The documents log after a year of nightly crawls: how long a crawl takes to start.

A crawl's first step, before any request, is reading its memory of previous nights
(``known_documents``: per document the latest validators and body) from the ``documents``
Delta log, which gains one row per document per night.  This simulates a registry of
``--portals`` portals × ``--reports`` reports (plus listing pages and attachments), crawled
each night — most documents unchanged (304, or a stored file kept), a few new, changed or
failed — appending the night's rows in commits of ``--flush-rows`` as the crawler flushes.

Two logs get the same nights:

* **never compacted** — the log as it grew before: appends only.  The pre-compaction reader
  (every row and column of the log to Python, then a loop) is timed at ``--old-at`` nights
  while it still fits in memory; at the end the current reader is timed on it with no saved
  state, then once more after one ``maintain(force=True)``.
* **maintained** — what the crawler does now: after each night, under the crawl lock,
  ``documents_log.maintain`` (fold the night into the saved state; compact + checkpoint +
  vacuum when ``delta_log.is_due``).  Its crawl start after the last night is the target
  (< 1 s).

"Crawl start" is ``known_documents`` (what ``Crawler.session`` reads) and, separately,
``current_documents`` (what the nightly flow's select step reads); first run and best of 3.

Run:  python benchmarks/crawl_log.py [--nights 365] [--portals 300] [--reports 30]
      [--flush-rows 500] [--data DIR] [--keep]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
from nianbao.core import delta_log
from nianbao.extract import documents_log as dlog
from nianbao.extract.crawler import DataLock

EPOCH = datetime(2025, 1, 1, 1, 0, tzinfo=UTC)
TITLE = "{year}年{portal}政府信息公开工作年度报告"


@dataclass(slots=True)
class Doc:
    """One document of the simulated registry and what the crawler last stored of it."""

    url: str
    portal_id: str
    kind: str  # listing | report | attachment
    listing_url: str
    parent_url: str | None
    year: int | None
    title: str | None
    version: int = 0  # body version; 0 = never fetched
    is_file: bool = False  # an attachment without validators: kept without a request


@dataclass(slots=True)
class Registry:
    """Portals, their listing pages, reports and attachments; grows by new reports."""

    portals: int
    docs: list[Doc] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(12))
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for p in range(self.portals):
            for page in (1, 2):
                self.docs.append(self._listing(p, page))

    @staticmethod
    def _portal(p: int) -> tuple[str, str]:
        return f"p{p:03d}", f"http://www.p{p:03d}.gov.cn/col/col{1000 + p}"

    def _listing(self, p: int, page: int) -> Doc:
        pid, base = self._portal(p)
        url = f"{base}/index.html" if page == 1 else f"{base}/index_{page}.html"
        return Doc(url, pid, "listing", f"{base}/index.html", None, None, None)

    def add_report(self, p: int) -> None:
        pid, base = self._portal(p)
        n = self.counts.get(pid, 0)
        self.counts[pid] = n + 1
        year = 2025 - n % 12
        url = f"{base}/art/{year}/art_{n:04d}_{p:03d}.html"
        title = TITLE.format(year=year, portal=f"某某县{p}")
        self.docs.append(Doc(url, pid, "report", f"{base}/index.html", None, year, title))
        if self.rng.random() < 1 / 3:  # a report page with its PDF
            self.docs.append(
                Doc(
                    f"{base}/module/download/downfile.jsp?id={p:03d}{n:05d}.pdf",
                    pid,
                    "attachment",
                    f"{base}/index.html",
                    url,
                    year,
                    title,
                    is_file=True,
                )
            )


def _sha(url: str, version: int) -> str:
    return hashlib.sha256(f"{url}#{version}".encode()).hexdigest()


def night_rows(reg: Registry, night: int, new_reports: float) -> pa.Table:
    """One night's fetch rows: every known document once, in crawl order; a few new reports."""
    rng = reg.rng
    for p in range(reg.portals):
        if rng.random() < new_reports:
            reg.add_report(p)
    start = EPOCH + timedelta(days=night)
    run_id = start.strftime("%Y%m%dT%H%M%SZ-") + f"{night:06x}"
    rows = []
    for i, d in enumerate(reg.docs):
        fetched = start + timedelta(milliseconds=250 * i)
        status, attempts, transferred, error = 304, 1, 0, None
        r = rng.random()
        if d.version == 0:
            outcome, status, d.version = "new", 200, 1
        elif d.is_file:
            outcome, status, attempts = "unchanged", None, 0  # a stored file kept
        elif r < 0.002:
            outcome, status, attempts, error = "failed", None, 3, "timeout"
        elif r < 0.006 or (d.kind == "listing" and r < 0.05):
            outcome, status = "changed", 200
            d.version += 1
        else:
            outcome = "unchanged"
        body = outcome != "failed"
        sha = _sha(d.url, d.version) if body else None
        size = 20_000 + d.version if body else None
        if status == 200:
            transferred = size
        rows.append(
            {
                "url": d.url,
                "final_url": d.url if body else None,
                "parent_url": d.parent_url,
                "portal_id": d.portal_id,
                "method": "GET",
                "status": status,
                "outcome": outcome,
                "content_type": "application/pdf" if d.is_file else "text/html",
                "charset": None if d.is_file else "utf-8",
                "sha256": sha,
                "bytes": size,
                "transferred": transferred,
                "etag": f'"{sha[:16]}"' if sha and not d.is_file else None,
                "last_modified": None,
                "fetched_at": fetched,
                "error": error,
                "attempts": attempts,
                "kind": d.kind,
                "title": d.title,
                "list_date": f"{d.year}-01-15" if d.year else None,
                "year": d.year,
                "listing_url": d.listing_url,
                "adapter": "jcms",
                "run_id": run_id,
            }
        )
    return pa.Table.from_pylist(rows, schema=dlog.SCHEMA)


def append_night(data: Path, rows: pa.Table, flush_rows: int) -> None:
    """As the crawler's DocumentsLog does: one Delta commit per ``flush_rows`` rows."""
    for offset in range(0, len(rows), flush_rows):
        delta_log.append(dlog.log_dir(data), rows.slice(offset, flush_rows))


def old_known_documents(data: Path) -> dict[str, dict]:
    """The reader before the folded state: every row and column to Python, then a loop."""
    latest: dict[str, dict] = {}
    last_body: dict[str, dict] = {}
    for row in dlog.read_log(data).to_pylist():
        key = dlog.doc_key(row["url"], row["method"], row["post_data"])
        latest[key] = row
        if row["sha256"]:
            last_body[key] = row
    return latest


def timed(fn: Callable[[], object], runs: int = 3) -> tuple[float, float, object]:
    """(first, best) seconds of ``runs`` calls, and the last result."""
    times, got = [], None
    for _ in range(runs):
        gc.collect()
        t = time.perf_counter()
        got = fn()
        times.append(time.perf_counter() - t)
    return times[0], min(times), got


def describe(data: Path) -> str:
    dt = delta_log.table(dlog.log_dir(data))
    assert dt is not None
    live = delta_log.files(dt)
    on_disk = len(list(dlog.log_dir(data).glob("*.parquet")))
    commits = len(list((dlog.log_dir(data) / "_delta_log").glob("*.json")))
    rows = sum(
        a["num_records"]
        for a in pa.table(dt.get_add_actions(flatten=True)).select(["num_records"]).to_pylist()
    )
    state = dlog.state_path(data)
    st = f"{state.stat().st_size / 1e6:.1f} MB" if state.exists() else "none"
    return (
        f"rows {rows:,} · Delta version {dt.version()} · files in version {len(live)} "
        f"· data files on disk {on_disk} · commit JSONs {commits} · saved state {st}"
    )


def crawl_start(label: str, data: Path) -> float:
    first, best, known = timed(lambda: dlog.known_documents(data))
    c_first, c_best, docs = timed(lambda: dlog.current_documents(data))
    print(
        f"  {label}: known_documents first {first:.3f}s best {best:.3f}s "
        f"({len(known):,} documents) · current_documents first {c_first:.3f}s "
        f"best {c_best:.3f}s ({len(docs):,} reports/attachments)"
    )
    return first


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nights", type=int, default=365)
    ap.add_argument("--portals", type=int, default=300)
    ap.add_argument("--reports", type=int, default=30, help="reports per portal at the start")
    ap.add_argument("--new-reports", type=float, default=1 / 30, help="per portal per night")
    ap.add_argument("--flush-rows", type=int, default=500, help="rows per Delta commit")
    ap.add_argument("--old-at", type=int, nargs="*", default=[30, 90])
    ap.add_argument("--data", type=Path, default=None, help="work directory (default: temp)")
    ap.add_argument("--keep", action="store_true", help="keep the two logs afterwards")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="crawl-log-", dir=args.data))
    plain, kept = work / "never-compacted", work / "maintained"
    reg = Registry(args.portals)
    for p in range(args.portals):
        for _ in range(args.reports):
            reg.add_report(p)
    print(
        f"registry: {args.portals} portals, {len(reg.docs):,} documents at the start "
        f"(listings, reports, attachments); {args.nights} nights, commits of "
        f"{args.flush_rows} rows"
    )
    write_s = maintain_s = 0.0
    maintain_max = (0.0, 0)
    compactions = 0
    try:
        for night in range(args.nights):
            rows = night_rows(reg, night, args.new_reports)
            t = time.perf_counter()
            append_night(plain, rows, args.flush_rows)
            append_night(kept, rows, args.flush_rows)
            write_s += time.perf_counter() - t
            t = time.perf_counter()
            with DataLock(kept):  # as Crawler.session does when the crawl ends
                done = dlog.maintain(kept)
            took = time.perf_counter() - t
            maintain_s += took
            maintain_max = max(maintain_max, (took, night + 1))
            compactions += bool(done.files_added)
            if night + 1 in args.old_at:
                first, _, known = timed(lambda: old_known_documents(plain), runs=1)
                print(
                    f"night {night + 1}: pre-compaction reader on the never-compacted log: "
                    f"{first:.2f}s ({len(known):,} documents); {describe(plain)}"
                )
            if (night + 1) % 30 == 0 or night + 1 == args.nights:
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(
                    f"night {night + 1}: {len(rows):,} rows tonight · writes {write_s:.0f}s · "
                    f"maintenance {maintain_s:.1f}s total, {compactions} compactions · "
                    f"peak RSS {rss:.0f} MB",
                    flush=True,
                )
        print(f"\nafter {args.nights} nights")
        print(f"never compacted: {describe(plain)}")
        crawl_start("current reader, no saved state (a full fold)", plain)
        with DataLock(plain):
            t = time.perf_counter()
            done = dlog.maintain(plain, force=True)
        print(
            f"  one maintain(force=True): {time.perf_counter() - t:.1f}s, files "
            f"{done.files_removed} → {done.files_added}, vacuumed {done.files_vacuumed} "
            f"(retention {delta_log.POLICY.retention.days} days)"
        )
        print(f"  then: {describe(plain)}")
        crawl_start("after compaction", plain)
        print(
            f"maintained nightly: {describe(kept)}\n"
            f"  maintenance at each crawl end: mean {maintain_s / args.nights:.2f}s, "
            f"max {maintain_max[0]:.2f}s (night {maintain_max[1]}), {compactions} compactions"
        )
        first = crawl_start("crawl start", kept)
        print(f"TARGET crawl start < 1 s after {args.nights} nights: first run {first:.3f}s")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept: {work}")


if __name__ == "__main__":
    main()
