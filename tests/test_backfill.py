"""`nianbao backfill`: an archive loaded by an older extractor is re-extracted from the raw
store (nothing fetched) on Dask worker processes, and the warehouse converges on this version.

The archive: the five real seed reports and a notice that is not a report, stored as a crawl
would have stored them (raw store + documents log, URLs on a portal served by this test), then
extracted and loaded with an older extractor version recorded.  The portal counts requests.
"""

from __future__ import annotations

import csv
import json
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import SEED_FILES, extract
from nianbao.core.version import extractor_version
from nianbao.extract.documents_log import DocumentsLog
from nianbao.extract.rawstore import RawStore
from nianbao.flows import runlog
from nianbao.flows.backlog import backlog
from nianbao.flows.cli import main
from nianbao.flows.warehouse import ReportInput, connect, load

OLD = "0.0.9+0123456789ab"  # what an earlier release recorded
NOTICE = "<html><body><h1>关于公开征求意见的通知</h1><p>详见附件。</p></body></html>"


class _Counting(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.hits.append(self.path)
        self.send_error(500, "a backfill must not fetch")

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Archive:
    data: Path
    registry: Path
    hits: list[str]
    urls: list[str]  # the report URLs (the notice last)


def _facts(data: Path) -> list[tuple]:
    con = connect(data)
    try:
        return con.execute("SELECT report_id, code, value, raw FROM facts ORDER BY ALL").fetchall()
    finally:
        con.close()


def _versions(data: Path) -> dict[str, str]:
    con = connect(data)
    try:
        return dict(con.execute("SELECT source_url, parser_version FROM reports").fetchall())
    finally:
        con.close()


@pytest.fixture
def archive(tmp_path: Path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    _Counting.hits = hits = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/xxgk/ndbg"
    registry = tmp_path / "portals.csv"
    with registry.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["portal_id", "agency", "level", "region_code", "list_url", "adapter", "notes"])
        w.writerow(["p1", "示例市人民政府", "city", "320800", f"{base}/", "generic", "test"])
    data = tmp_path / "data"
    store = RawStore(data)
    bodies = [p.read_bytes() for p in SEED_FILES] + [NOTICE.encode()]
    urls = [f"{base}/t2024_{i}.html" for i in range(len(bodies))]
    fetched = datetime(2025, 3, 1, tzinfo=UTC)
    inputs, settled = [], []
    with DocumentsLog(data) as log:
        for url, body in zip(urls, bodies, strict=True):
            sha = store.put(body)
            log.append(
                {
                    "url": url,
                    "portal_id": "p1",
                    "kind": "report",
                    "outcome": "new",
                    "sha256": sha,
                    "status": 200,
                    "content_type": "text/html",
                    "fetched_at": fetched,
                    "year": 2024,
                }  # fmt: skip
            )
            result = replace(extract(body, source=url), parser_version=OLD)
            if result.facts:
                inputs.append(ReportInput(result, sha, url, fetched, "city", "320800", "p1"))
            else:
                settled.append(
                    {"run_id": "old", "url": url, "portal_id": "p1", "sha256": sha,
                     "parser_version": OLD, "extracted_at": fetched, "outcome": "not_a_report"}
                )  # fmt: skip
    load(inputs, data)
    runlog.write_extractions(data, settled)
    yield Archive(data, registry, hits, urls)
    server.shutdown()


def test_the_backlog_sorts_snapshots_into_new_stale_and_current(archive: Archive):
    before = backlog(archive.data)
    assert before.version == extractor_version() != OLD
    assert sorted(d.url for d in before.stale) == sorted(archive.urls)  # all 6, the notice too
    assert before.new == [] and before.current == 0
    assert backlog(archive.data, version=OLD).current == len(archive.urls)
    assert [d.url for d in before.for_night(2)] == [d.url for d in before.stale[:2]]
    assert len(backlog(archive.data, year=2023).stale) == 0
    assert len(backlog(archive.data, portal_ids=["p1"], year=2024).stale) == 6
    # A snapshot fetched tonight is new: a night takes it whatever the stale limit.
    with DocumentsLog(archive.data) as log:
        url = archive.urls[0].replace("t2024_0", "t2025_0")
        sha = RawStore(archive.data).put(SEED_FILES[0].read_bytes() + b"\n")
        log.append({"url": url, "portal_id": "p1", "kind": "report", "outcome": "new",
                    "sha256": sha, "fetched_at": datetime.now(UTC), "year": 2025})  # fmt: skip
    after = backlog(archive.data)
    assert [d.url for d in after.new] == [url]
    assert [d.url for d in after.for_night(0)] == [url]
    assert len(after.for_night(3)) == 4


def _backfill(archive: Archive, capsys, *extra: str) -> dict:
    argv = ["backfill", "--data", str(archive.data), "--registry", str(archive.registry)]
    code = main([*argv, "--json", *extra])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0, out
    return json.loads(out[-1])


def test_backfill_re_extracts_every_report_from_the_raw_store(archive, capsys, prefect_server):
    old_facts = _facts(archive.data)
    assert set(_versions(archive.data).values()) == {OLD}
    result = _backfill(archive, capsys, "--workers", "2")
    assert archive.hits == []  # zero HTTP requests
    assert (result["selected"], result["stale"], result["new"]) == (6, 6, 0)
    assert result["not_reports"] == 1 and result["workers"] == 2
    run = result["run"]
    assert (run["flow"], run["status"], run["extracted"], run["failed"]) == ("backfill", "ok", 5, 0)
    assert run["facts_loaded"] == 5 * 200  # every cell of the five 2021-format seeds
    versions = _versions(archive.data)
    assert sorted(versions) == sorted(archive.urls[:5])
    assert set(versions.values()) == {extractor_version()}
    assert _facts(archive.data) == old_facts  # same numbers, now stamped with this version
    con = connect(archive.data)
    try:
        runs = con.execute("SELECT run_id, flow, extracted FROM runs").fetchall()
        tried = con.execute(
            "SELECT outcome, count(*) FROM extractions WHERE run_id = ? GROUP BY 1 ORDER BY 1",
            [run["run_id"]],
        ).fetchall()
    finally:
        con.close()
    assert runs == [(run["run_id"], "backfill", 5)]
    assert tried == [("not_a_report", 1), ("report", 5)]
    # Converged: nothing is stale any more, and a second backfill has nothing to do.
    assert backlog(archive.data).current == 6
    again = _backfill(archive, capsys, "--workers", "1")
    assert (again["selected"], again["already_current"], again["run"]["extracted"]) == (0, 6, 0)
    assert archive.hits == []


def test_backfill_on_an_existing_dask_cluster(archive, capsys, prefect_server, monkeypatch):
    """The external-cluster path: a cluster this test starts, passed by --dask-address, as an
    HPC or Kubernetes cluster would be (workers allowed children, pointed at the Prefect API)."""
    import dask
    from distributed import LocalCluster

    with (
        dask.config.set({"distributed.worker.daemon": False}),
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"PREFECT_API_URL": prefect_server.api_url},
        ) as cluster,
    ):
        result = _backfill(archive, capsys, "--dask-address", cluster.scheduler_address,
                           "--portal", "p1", "--year", "2024")  # fmt: skip
    assert result["dask_address"] == cluster.scheduler_address and result["workers"] is None
    assert (result["selected"], result["run"]["extracted"]) == (6, 5)
    assert set(_versions(archive.data).values()) == {extractor_version()}
    assert archive.hits == []


def test_backfill_mistakes_are_one_line(archive, capsys):
    argv = ["backfill", "--data", str(archive.data)]
    assert main([*argv, "--workers", "0"]) == 2
    assert capsys.readouterr().err.strip() == "nianbao: error: --workers: 0 must be >= 1"


def test_outcomes_are_paired_with_their_documents_not_by_position(tmp_path: Path):
    """A batch's outcomes arrive in completion order: pairing them by position gave one URL
    another document's report (seen as a flaky backfill test)."""
    from nianbao.extract.documents_log import ReportDocument
    from nianbao.flows.backfill import job_for, paired
    from nianbao.flows.extraction import Outcome

    docs = [
        ReportDocument(
            url=f"http://example.gov.cn/t{i}.html", portal_id="p1", sha256=f"{i:064x}",
            path=tmp_path / f"{i}.html", content_type="text/html", charset=None,
            fetched_at=datetime(2025, 3, 1, tzinfo=UTC), parent_url=None, kind="report",
            title=None, year=2024, state="new",
        )
        for i in range(3)
    ]  # fmt: skip
    outcomes = [Outcome(job_for(d), sha256=d.sha256, reason="not_a_report") for d in docs]
    pairs = paired(docs, outcomes[::-1])
    assert [(d.url, o.job.source) for d, o in pairs] == [(d.url, d.url) for d in docs[::-1]]
    with pytest.raises(ValueError):
        paired(docs, outcomes[:2])
