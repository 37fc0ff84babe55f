"""The documents log's maintenance: folded state, compaction, the crawl lock, crashes.

The crawler's memory (``known_documents``) and the nightly selection (``current_documents``)
are read from a saved fold of the log plus the files added since; maintenance compacts the
log.  Neither may change what those two return, nor drop a fetch row from the log: each test
compares against the plain definition (every row, in fetch order, the last one per key wins).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nianbao.core import delta_log
from nianbao.extract import documents_log as dlog
from nianbao.extract.crawler import Crawler, CrawlLocked, DataLock, maintain_documents_log
from nianbao.extract.rawstore import RawStore

T0 = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)


def _row(url: str, night: int, i: int, outcome: str, sha: str | None, **extra: object) -> dict:
    return {
        "url": url,
        "portal_id": extra.pop("portal_id", "p1"),
        "kind": extra.pop("kind", "report"),
        "method": "GET",
        "outcome": outcome,
        "sha256": sha,
        "etag": f'"{sha[:8]}"' if sha else None,
        "content_type": "text/html",
        "charset": "utf-8",
        "title": f"{url} 年报",
        "year": 2024,
        "status": 304 if outcome == "unchanged" else 200,
        "run_id": f"night-{night}",
        "fetched_at": T0 + timedelta(days=night, seconds=i),
        **extra,
    }


def write_nights(data: Path, nights: range, flush_rows: int = 3) -> None:
    """Nights of a small portal, in many small commits (``flush_rows`` rows each)."""
    store = RawStore(data)
    with dlog.DocumentsLog(data, flush_rows=flush_rows, flush_s=3600) as log:
        for n in nights:
            for row in night(store, n):
                log.append(row)


def night(store: RawStore, n: int) -> list[dict]:
    """One night: reports that stay, change, fail, disappear and appear; a POSTed listing page
    beside its GET twin; an attachment."""
    rows: list[dict] = []

    def add(url: str, outcome: str, body: bytes | None, **extra: object) -> None:
        sha = store.put(body) if body is not None else None
        rows.append(_row(url, n, len(rows), outcome, sha, **extra))

    add("L", "unchanged", b"list", kind="listing")
    add("L", "changed", f"page2-{n}".encode(), kind="listing", method="POST",
        post_data="page=2")  # fmt: skip
    add("a", "unchanged", b"a-v1")  # the same body every night
    add("b", "changed", f"b-v{n // 3}".encode())  # a new body every third night
    if n % 4 == 3:
        add("c", "failed", None, error="timeout")  # keeps its last body
    else:
        add("c", "unchanged", b"c-v1")
    if n < 5:
        add("d", "unchanged", b"d-v1")
    else:
        add("d", "removed", None, status=404)  # removed: snapshot kept
    if n >= 6:
        add(f"new{n}", "new", f"new{n}".encode())
    add("a.pdf", "unchanged", b"pdf", kind="attachment", parent_url="a",
        content_type="application/pdf")  # fmt: skip
    return rows


def oracle(data: Path) -> dict[str, tuple]:
    """The plain definition: every row in fetch order; per key the last row and the last row
    with a body.  Compared on the fields the crawler and current_documents read."""
    latest: dict[str, dict] = {}
    body: dict[str, dict] = {}
    for row in dlog.read_log(data).to_pylist():
        key = dlog.doc_key(row["url"], row["method"], row["post_data"])
        latest[key] = row
        if row["sha256"]:
            body[key] = row
    return {k: _view(r, body.get(k)) for k, r in latest.items()}


def _view(row: dict, body: dict | None) -> tuple:
    b = body or {}
    return (row["outcome"], row["kind"], row["title"], row["fetched_at"],
            b.get("sha256"), b.get("etag"), b.get("content_type"), b.get("fetched_at"))  # fmt: skip


def known(data: Path) -> dict[str, tuple]:
    return {k: _view(v.row, v.body_row) for k, v in dlog.known_documents(data).items()}


def current(data: Path) -> list[tuple]:
    return [(d.url, d.sha256, d.state, d.fetched_at, d.kind) for d in dlog.current_documents(data)]


def log_files(data: Path) -> int:
    dt = delta_log.table(dlog.log_dir(data))
    assert dt is not None
    return len(delta_log.files(dt))


def test_state_and_compaction_keep_the_crawlers_memory(tmp_path: Path) -> None:
    write_nights(tmp_path, range(12))
    rows = dlog.read_log(tmp_path)
    assert len(rows) == 12 * 7 + 6  # every fetch is a row
    assert log_files(tmp_path) == 30  # 90 rows in commits of 3
    want = oracle(tmp_path)
    got = dlog.known_documents(tmp_path)
    # the values the crawler acts on, spelled out
    store = RawStore(tmp_path)
    assert got["b"].sha256 == store.put(b"b-v3") and got["b"].outcome == "changed"
    assert got["c"].outcome == "failed" and got["c"].sha256 == store.put(b"c-v1")
    assert got["c"].etag == f'"{store.put(b"c-v1")[:8]}"'  # from the last fetch with a body
    assert got["d"].outcome == "removed" and got["d"].sha256 == store.put(b"d-v1")
    assert got[dlog.doc_key("L", "POST", "page=2")].sha256 == store.put(b"page2-11")
    assert got["L"].sha256 == store.put(b"list")
    assert got["a.pdf"].row["parent_url"] == "a"
    assert known(tmp_path) == want
    docs_before = current(tmp_path)
    assert ("d", store.put(b"d-v1"), "removed", T0 + timedelta(days=4, seconds=5), "report") in (
        docs_before
    )
    assert len(docs_before) == 5 + 6  # a, b, c, d, a.pdf, new6 … new11

    done = dlog.maintain(tmp_path, force=True)
    assert (done.files_removed, done.files_added, done.documents) == (30, 1, 13)
    assert log_files(tmp_path) == 1
    assert dlog.read_log(tmp_path).equals(rows)  # no row folded away, none changed
    assert known(tmp_path) == want
    assert current(tmp_path) == docs_before
    assert dlog.state_path(tmp_path).exists()


def test_maintain_is_idempotent(tmp_path: Path) -> None:
    write_nights(tmp_path, range(6))
    first = dlog.maintain(tmp_path, force=True)
    version = first.version
    state = dlog.state_path(tmp_path).read_bytes()
    again = dlog.maintain(tmp_path, force=True)
    assert (again.files_added, again.files_removed, again.version) == (0, 0, version)
    assert dlog.state_path(tmp_path).read_bytes() == state
    assert known(tmp_path) == oracle(tmp_path)


def test_nights_after_a_compaction_are_folded_onto_the_state(tmp_path: Path) -> None:
    write_nights(tmp_path, range(5))
    dlog.maintain(tmp_path, force=True)
    write_nights(tmp_path, range(5, 9))  # the tail the state does not cover
    assert log_files(tmp_path) > 1
    assert known(tmp_path) == oracle(tmp_path)
    assert len(dlog.known_documents(tmp_path)) == 7 + 3  # new6, new7, new8
    dlog.maintain(tmp_path)  # not due: the state is saved, the files stay
    assert log_files(tmp_path) > 1 and known(tmp_path) == oracle(tmp_path)


def test_a_stale_or_foreign_state_is_never_believed(tmp_path: Path) -> None:
    write_nights(tmp_path, range(4))
    dlog.maintain(tmp_path, force=True)
    saved = dlog.state_path(tmp_path).read_bytes()
    # the log deleted and crawled again from scratch: the old state names another table
    shutil.rmtree(dlog.log_dir(tmp_path))
    write_nights(tmp_path, range(2))
    dlog.state_path(tmp_path).write_bytes(saved)
    assert known(tmp_path) == oracle(tmp_path)
    assert "new6" not in dlog.known_documents(tmp_path)
    dlog.state_path(tmp_path).write_bytes(b"PAR1 half a file")  # unreadable: a full fold
    assert known(tmp_path) == oracle(tmp_path)


def test_due_policy_decides_when_the_crawl_end_compacts(tmp_path: Path) -> None:
    write_nights(tmp_path, range(3))  # 21 rows: 7 small files
    few = delta_log.Policy(max_small_files=10)
    assert dlog.maintain(tmp_path, few).files_added == 0  # 7 ≤ 10, compacted "recently"
    later = datetime.now(UTC) + timedelta(days=8)
    assert dlog.maintain(tmp_path, few, now=later).files_removed == 7  # a week: due
    write_nights(tmp_path, range(3, 6))
    assert dlog.maintain(tmp_path, delta_log.Policy(max_small_files=5)).files_added == 1


def test_the_crawl_maintains_the_log_under_its_lock(tmp_path: Path, monkeypatch) -> None:
    write_nights(tmp_path, range(3))
    seen = []
    real = dlog.maintain

    def spy(data, policy=delta_log.POLICY, **kw):
        with pytest.raises(CrawlLocked):  # the crawl still holds the data directory
            with DataLock(Path(data)):
                pass
        seen.append(real(data, policy, **kw))
        return seen[-1]

    monkeypatch.setattr(dlog, "maintain", spy)
    summary = Crawler([], tmp_path).run()
    assert summary.log_note is None
    assert len(seen) == 1 and seen[0].documents == 7
    assert dlog.state_path(tmp_path).exists()
    # ``nianbao optimize`` waits for no crawl: a running one maintains the log when it ends
    with DataLock(tmp_path):
        assert maintain_documents_log(tmp_path) is None
    done = maintain_documents_log(tmp_path)
    assert done is not None and done.files_removed == 7


def test_a_failed_maintenance_is_noted_not_raised(tmp_path: Path, monkeypatch) -> None:
    def broken(*a, **kw):
        raise OSError("disk full")

    monkeypatch.setattr(dlog, "maintain", broken)
    summary = Crawler([], tmp_path).run()
    assert summary.log_note == "documents log maintenance failed: OSError: disk full"


# A maintain() killed (SIGKILL) at its n-th atomic step: 1 = the first state save (before the
# compaction), 2 = right after the compaction's Delta commit, 3 = the state save after it.
KILLER = """
import os, signal, sys
from nianbao.core import delta_log
from nianbao.extract import documents_log as dlog, documents_state

step = [0]
def tick():
    step[0] += 1
    if step[0] == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)

real_save, real_compact = documents_state.save, delta_log.compact
def save(*a, **k):
    path, state, table_id, files = a
    tmp = path.with_name("." + path.name + ".killed.tmp")
    import pyarrow.parquet as pq
    pq.write_table(state, tmp)  # the temporary file is written, the rename never happens
    tick()
    return real_save(*a, **k)
def compact(*a, **k):
    got = real_compact(*a, **{**k, "checkpoint": False})
    tick()
    return got
documents_state.save, delta_log.compact = save, compact
dlog.maintain(sys.argv[1], force=True)
print("survived")
"""


@pytest.mark.parametrize("step", [1, 2, 3])
def test_a_killed_maintenance_leaves_a_readable_log(tmp_path: Path, step: int) -> None:
    write_nights(tmp_path, range(8))
    rows, want, docs = dlog.read_log(tmp_path), oracle(tmp_path), current(tmp_path)
    # debris of an earlier compaction killed before its commit: a data file no version names
    (dlog.log_dir(tmp_path) / "part-00000-killed-c000.zstd.parquet").write_bytes(b"PAR1 half")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, str(tmp_path), str(step)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert dlog.read_log(tmp_path).equals(rows)
    assert known(tmp_path) == want and current(tmp_path) == docs
    assert log_files(tmp_path) == (20 if step == 1 else 1)  # 58 rows in commits of 3
    done = dlog.maintain(tmp_path, force=True, policy=delta_log.Policy(retention=timedelta(0)))
    assert known(tmp_path) == want and dlog.read_log(tmp_path).equals(rows)
    assert log_files(tmp_path) == 1 and done.files_vacuumed >= 1
    on_disk = sorted(p.name for p in dlog.log_dir(tmp_path).glob("*.parquet"))
    assert len(on_disk) == 1  # the debris and the replaced files are gone


def test_projection_reads_only_the_columns_asked(tmp_path: Path) -> None:
    write_nights(tmp_path, range(2))
    got = dlog.read_log(tmp_path, ("url", "fetched_at", "run_id"))
    assert got.column_names == ["url", "fetched_at", "run_id"]
    assert got["run_id"].to_pylist()[:1] == ["night-0"] and len(got) == 14


def test_rows_fetched_out_of_file_order_keep_their_own_values(tmp_path: Path) -> None:
    """A later commit may hold an earlier fetch (a clock step back): the fold picks rows in
    fetch order across files and must return each row's own columns with its own key."""
    with dlog.DocumentsLog(tmp_path, flush_rows=1) as log:
        log.append(_row("a", 0, 10, "new", "sha-a", title="A"))
        log.append(_row("b", 0, 5, "new", "sha-b", title="B"))
        log.append(_row("c", 0, 1, "new", None, title="C"))
    dlog.maintain(tmp_path)  # state saved: now fold a tail onto it, also out of order
    with dlog.DocumentsLog(tmp_path, flush_rows=1) as log:
        log.append(_row("a", 1, 20, "changed", "sha-a2", title="A2"))
        log.append(_row("c", 0, 0, "failed", None, title="C0"))  # older than the state's c
    got = dlog.known_documents(tmp_path)
    assert {k: (v.row["title"], v.sha256, v.outcome) for k, v in got.items()} == {
        "a": ("A2", "sha-a2", "changed"),
        "b": ("B", "sha-b", "new"),
        "c": ("C", None, "new"),
    }
    assert known(tmp_path) == oracle(tmp_path)
    dlog.state_path(tmp_path).unlink()
    assert known(tmp_path) == oracle(tmp_path)
