"""The nightly flow's counting stages, without Prefect or a portal: outcomes tallied, each
portal's row judged, the run's status (tests/test_nightly.py runs the whole flow)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from nianbao.extract.crawler import CrawlSummary, PortalSummary
from nianbao.extract.documents_log import ReportDocument
from nianbao.flows.extraction import Job, Outcome
from nianbao.flows.nightly import Loaded, judge, result, summarise
from nianbao.flows.runlog import PortalRun
from nianbao.flows.tally import tally
from nianbao.transform.result import ExtractResult

NOW = datetime(2026, 3, 1, 2, tzinfo=UTC)


def doc(url: str, portal_id: str = "p1") -> ReportDocument:
    return ReportDocument(url, portal_id, "ab" * 32, Path("/x"), None, None, NOW, None,
                          "report", None, None, "new")  # fmt: skip


def outcome(url: str, reason: str | None = None, errors: list[str] | None = None) -> Outcome:
    result = None if reason else ExtractResult(url, "2021", errors=errors or [])
    return Outcome(Job(url, url), result, reason=reason, error="why" if reason else None)


def night(*summaries: PortalSummary) -> CrawlSummary:
    return CrawlSummary("r1", Path("/d"), list(summaries), NOW)


def test_outcomes_are_counted_per_portal_and_reason():
    extracted = [
        (doc("a"), outcome("a")),
        (doc("b"), outcome("b", errors=["requests.x: missing"])),
        (doc("c", "p2"), outcome("c", "unsupported:ofd")),
        (doc("d", "p2"), outcome("d", "not_a_report")),
        (doc("e", "p2"), outcome("e", "limit:time")),
        (doc("f", "p2"), outcome("f", "limit:time")),
    ]
    t = tally(extracted, {})
    assert [i.source_url for i in t.inputs] == ["a", "b"]
    assert (t.extracted["p1"], t.flagged["p1"], t.extracted["p2"]) == (2, 1, 0)
    assert (t.failed, dict(t.unsupported)) == (2, {"ofd": 1})
    assert t.describe() == "1 documents in formats not read yet (ofd 1); 2× limit:time (e.g. e)"


def test_portal_rows_and_run_status(tmp_path):
    ok = PortalSummary("p1", status="ok", listed=3, new=2, changed=1)
    down = PortalSummary("p2", status="failed", error="connection refused")
    crawled = night(ok, down)
    counts = tally([(doc("a"), outcome("a"))], {})
    portals = judge(crawled, counts, tmp_path)  # no history: a first night
    assert [(p.portal_id, p.new, p.failed, p.extracted, p.health) for p in portals] == [
        ("p1", 3, 0, 1, "ok"),
        ("p2", 0, 1, 0, "unhealthy"),
    ]
    assert portals[1].reason == "portal failed: connection refused"
    run = summarise(crawled, counts, Loaded(facts=200, version=7), portals)
    assert (run.status, run.unhealthy, run.extracted, run.warehouse_version) == (
        "degraded",
        1,
        1,
        7,
    )
    assert result(run, portals)["portals"][0]["started_at"] == NOW.isoformat()


def test_a_failed_load_or_nothing_crawled_fails_the_run():
    crawled = night(PortalSummary("p1", status="ok", listed=3))
    fine = [PortalRun("r1", "p1", NOW, listed=3)]
    counts = tally([], {})
    assert summarise(crawled, counts, Loaded(), fine).status == "ok"
    broken = summarise(crawled, counts, Loaded(error="warehouse load failed: OSError: x"), fine)
    assert broken.status == "failed" and broken.detail == "1× warehouse load failed: OSError: x"
    late = summarise(crawled, counts, Loaded(note="warehouse maintenance failed: x"), fine)
    assert late.status == "ok" and late.detail == "1× warehouse maintenance failed: x"
    empty = night(PortalSummary("p1", status="blocked"))
    assert summarise(empty, counts, Loaded(), fine).status == "failed"


def test_workers_bound_the_hosts_crawled_at_once(prefect_server, tmp_path):
    """The crawl stage's task runner is sized by the `workers` setting: with one worker the
    hosts are crawled one at a time, with four they overlap."""
    from urllib.parse import urlsplit

    from nianbao.demo.portal import start_portal
    from nianbao.extract.crawler import CrawlConfig, Crawler
    from nianbao.extract.http import HttpConfig
    from nianbao.extract.registry import load_registry
    from nianbao.flows.nightly import crawl

    def most_at_once(portals, ids, workers: int) -> int:
        active, peak = set(), 0

        def progress(event: str, **info) -> None:
            nonlocal peak
            if event == "portal_start":
                active.add(info["portal_id"])
                peak = max(peak, len(active))
            elif event == "portal_done":
                active.discard(info["portal_id"])

        config = CrawlConfig(http=HttpConfig(delay=0.2))
        crawler = Crawler(portals, tmp_path / f"data{workers}", config, progress=progress)
        summary = crawl(crawler, ids, workers)
        assert {s.portal_id for s in summary.portals} == set(ids)
        return peak

    with start_portal(seed=0, faults=False) as portal:
        portals = load_registry(portal.write_registry(tmp_path / "registry.csv"))
        one_per_host = {urlsplit(p.list_url).netloc: p.portal_id for p in portals}
        ids = sorted(one_per_host.values())[:4]
        assert most_at_once(portals, ids, 1) == 1
        assert most_at_once(portals, ids, 4) > 1
