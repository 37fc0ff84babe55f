"""The nightly Prefect flow: crawl → extract → load → health → run summary.

Tasks: one per host (its portals crawled one after another, so a host never sees two of our
requests at once; hosts run in parallel), one per portal inside it (retried once when the
portal crawl itself broke), one per report extraction, one load.  Every failure is caught at its
task and recorded: one bad portal or report never fails the night.  The run fails as a whole
only when nothing could be crawled or the warehouse could not be written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from nianbao.extract.crawler import CrawlConfig, Crawler, PortalCrawl, PortalSummary
from nianbao.extract.documents_log import ReportDocument, current_documents
from nianbao.extract.http import HttpConfig
from nianbao.extract.registry import Portal, load_registry
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from . import runlog
from .extraction import Job, Limits, Outcome, extract_all
from .health import UNHEALTHY, PortalNight, assess
from .paths import data_dir as resolve_data_dir
from .warehouse_build import ReportInput, report_id_for

Progress = Callable[..., None]
# Set by the CLI for progress bars; not a flow parameter (deployments need JSON parameters).
PROGRESS: Progress | None = None


@dataclass(slots=True)
class NightlyResult:
    run: runlog.RunSummary
    portals: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = asdict(self.run)
        for k in ("started_at", "finished_at"):
            if out[k] is not None:
                out[k] = out[k].isoformat()
        return {"run": out, "portals": self.portals}


# --------------------------------------------------------------------------- tasks


@task(name="crawl-portal", retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def crawl_portal(crawler: Crawler, portal: Portal, summary: PortalSummary) -> PortalSummary:
    """Crawl one portal; raises (so Prefect retries) when the portal crawl itself broke."""
    summary.status, summary.error = "pending", None
    PortalCrawl(crawler, portal, summary).run()
    if summary.status == "error":
        raise RuntimeError(summary.error or "portal crawl failed")
    return summary


@task(name="crawl-host", cache_policy=NO_CACHE)
def crawl_host(
    crawler: Crawler, portals: list[Portal], summaries: dict[str, PortalSummary]
) -> None:
    for portal in portals:
        s = summaries[portal.portal_id]
        crawler.progress("portal_start", portal_id=portal.portal_id, url=portal.list_url)
        try:
            crawl_portal(crawler, portal, s)
        except Exception as e:  # recorded in the summary; the host's other portals go on
            s.status = "error"
            s.error = s.error or f"{type(e).__name__}: {e}"
        crawler.progress("portal_done", portal_id=portal.portal_id, summary=s)


@task(name="extract-reports", cache_policy=NO_CACHE)
def extract_reports(
    docs: list[ReportDocument], limits: Limits, progress: Progress | None
) -> list[tuple[ReportDocument, Outcome]]:
    """Every document through the one extraction entry, each in a worker process with limits."""
    by_path: dict[str, list[ReportDocument]] = {}
    for d in docs:
        by_path.setdefault(str(d.path), []).append(d)
    jobs = [Job(path=str(d.path), source=d.url, charset=d.charset) for d in docs]
    out: list[tuple[ReportDocument, Outcome]] = []
    for outcome in extract_all(jobs, limits):
        out.append((_owner(by_path, outcome.job), outcome))
        if progress:
            progress("extract_advance")
    return out


def _owner(by_path: dict[str, list[ReportDocument]], job: Job) -> ReportDocument:
    """The document a job was made for (two URLs may share one snapshot file)."""
    docs = by_path[job.path]
    return next((d for d in docs if d.url == job.source), docs[0])


@task(name="load-warehouse", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def load_reports(inputs: list[ReportInput], data: Path):
    from .warehouse import load

    return load(inputs, data)


# --------------------------------------------------------------------------- helpers


def _loaded_keys(data: Path) -> set[tuple[str, str, str]]:
    """(report_id, sha256, parser_version) already in the warehouse: not extracted again."""
    from .warehouse import connect

    try:
        con = connect(data)
    except Exception:  # no warehouse yet
        return set()
    try:
        rows = con.execute("SELECT report_id, sha256, parser_version FROM reports").fetchall()
    except Exception:
        return set()
    finally:
        con.close()
    return {(r[0], r[1], r[2]) for r in rows}


def _select(data: Path) -> list[ReportDocument]:
    """Report snapshots to extract: neither loaded nor settled with this parser version."""
    from nianbao.transform.result import PARSER_VERSION

    loaded = _loaded_keys(data)
    settled = runlog.settled_extractions(data)
    return [
        d
        for d in current_documents(data)
        if (report_id_for(d.url, d.sha256), d.sha256, PARSER_VERSION) not in loaded
        and (d.url, d.sha256, PARSER_VERSION) not in settled
    ]


def _extraction_row(run_id: str, doc: ReportDocument, outcome: Outcome) -> dict:
    from nianbao.transform.result import PARSER_VERSION

    result = outcome.result
    return {
        "run_id": run_id,
        "url": doc.url,
        "portal_id": doc.portal_id,
        "sha256": doc.sha256,
        "parser_version": result.parser_version if result else PARSER_VERSION,
        "extracted_at": datetime.now(UTC),
        "outcome": outcome.reason or "report",
        "error": outcome.error,
        "n_facts": len(result.facts) if result else 0,
    }


@dataclass(slots=True)
class _Tally:
    """Counts extraction outcomes into the run summary and makes the warehouse inputs."""

    run: runlog.RunSummary
    portals: dict[str, Portal]
    per_portal: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (URL or "", what happened)
    unsupported: dict[str, int] = field(default_factory=dict)

    def add(self, doc: ReportDocument, outcome: Outcome) -> ReportInput | None:
        counts = self.per_portal.setdefault(doc.portal_id, {"extracted": 0, "flagged": 0})
        reason = outcome.reason or ""
        if reason.startswith("unsupported:"):
            kind = reason.split(":", 1)[1]
            self.unsupported[kind] = self.unsupported.get(kind, 0) + 1
            self.run.unsupported += 1
            return None
        if reason == "not_a_report":  # notices, 详见附件 pages: explained in `extractions`
            return None
        if reason:
            self.run.failed += 1
            detail = reason if reason.startswith("limit:") else outcome.describe()
            self.problems.append((doc.url, detail))
            return None
        result = outcome.result
        assert result is not None
        counts["extracted"] += 1
        self.run.extracted += 1
        if result.failed_checks or result.errors:
            counts["flagged"] += 1
            self.run.flagged += 1
        portal = self.portals.get(doc.portal_id)
        return ReportInput(
            result=result,
            sha256=doc.sha256,
            source_url=doc.url,
            fetched_at=doc.fetched_at,
            level=portal.level if portal else None,
            region_code=portal.region_code if portal else None,
            portal_id=doc.portal_id,
            agency=None if result.meta.agency else (portal.agency if portal else None),
        )


def _night(run_id: str, started: datetime, s: PortalSummary) -> PortalNight:
    failed = s.failed + (1 if s.status in ("failed", "error") and s.listed == 0 else 0)
    blocked = s.blocked + (1 if s.status == "blocked" and s.blocked == 0 else 0)
    return PortalNight(
        portal_id=s.portal_id,
        run_id=run_id,
        started=started.isoformat(),
        listed=s.listed,
        new=s.new + s.changed,
        unchanged=s.unchanged,
        blocked=blocked,
        failed=failed,
        error=s.error,
        status=s.status,
    )


def _describe(
    problems: list[tuple[str, str]], unsupported: dict[str, int], n_unsupported: int
) -> str:
    """One readable line: problems grouped by message, each with a count and one example."""
    parts: list[str] = []
    if unsupported:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(unsupported.items()))
        parts.append(f"{n_unsupported} documents in formats not read yet ({kinds})")
    groups: dict[str, list[str]] = {}
    for url, message in problems:
        groups.setdefault(message, []).append(url)
    for message, urls in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        example = f" (e.g. {urls[0]})" if urls[0] else ""
        parts.append(f"{len(urls)}× {message}{example}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- the flow


@flow(name="nightly", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=8))
def nightly(
    registry: str | None = None,
    data: str | None = None,
    delay: float = 1.0,
    portal_ids: list[str] | None = None,
    workers: int = 8,
) -> dict:
    """Crawl every registered portal, extract new snapshots, load them, judge portal health."""
    progress = PROGRESS
    data_path = resolve_data_dir(data)
    data_path.mkdir(parents=True, exist_ok=True)
    registry_path = registry or os.environ.get("NIANBAO_REGISTRY") or "data/portals.csv"
    portals = load_registry(registry_path)
    config = CrawlConfig(http=HttpConfig(delay=delay), workers=workers)
    crawler = Crawler(portals, data_path, config, progress=progress)
    run = runlog.RunSummary(run_id=crawler.run_id)
    summaries: dict[str, PortalSummary] = {}

    # 1. crawl: one task per host, in parallel; portals of a host one after another.
    with crawler.session(portal_ids) as groups:
        summaries = crawler.summaries
        futures = [crawl_host.submit(crawler, group, summaries) for group in groups]
        for f in futures:
            f.wait()
    crawl_summary = crawler.finish()

    # 2. extract every report snapshot not yet loaded (or settled) with this parser version.
    todo = _select(data_path)
    if progress:
        progress("extract_start", total=len(todo))
    extracted = extract_reports(todo, Limits(), progress)
    runlog.write_extractions(data_path, [_extraction_row(run.run_id, d, o) for d, o in extracted])

    # 3. load the reports that yielded facts.
    tally = _Tally(run, {p.portal_id: p for p in portals})
    inputs = [i for d, o in extracted if (i := tally.add(d, o)) is not None]
    per_portal, problems, unsupported = tally.per_portal, tally.problems, tally.unsupported
    load_failed = False
    if inputs:
        try:
            stats = load_reports(inputs, data_path)
            run.facts_loaded = stats.facts_written
        except Exception as e:
            load_failed = True
            problems.append(("", f"warehouse load failed: {type(e).__name__}: {e}"))

    # 4. health per portal against its own history, and the run summary.
    history = runlog.portal_history(data_path)
    rows: list[dict] = []
    for s in crawl_summary.portals:
        night = _night(run.run_id, run.started_at, s)
        health = assess(history.get(s.portal_id, []), night)
        counts = per_portal.get(s.portal_id, {"extracted": 0, "flagged": 0})
        rows.append(
            runlog.portal_row(
                night,
                health,
                crawl_status=s.status,
                adapter=s.adapter,
                removed=s.removed + s.not_found,
                **counts,
            )
        )
        run.unhealthy += health.status == UNHEALTHY
        run.failed += s.failed
    run.portals = len(crawl_summary.portals)
    run.listed = sum(s.listed for s in crawl_summary.portals)
    run.new = sum(s.new + s.changed for s in crawl_summary.portals)
    run.unchanged = sum(s.unchanged for s in crawl_summary.portals)
    run.blocked = sum(1 for r in rows if r["blocked"])
    crawled_any = any(s.listed > 0 or s.unchanged > 0 for s in crawl_summary.portals)
    if load_failed or (crawl_summary.portals and not crawled_any):
        run.status = "failed"
    elif run.unhealthy or run.failed:
        run.status = "degraded"
    run.detail = _describe(problems, unsupported, run.unsupported)
    run.finished_at = datetime.now(UTC)
    runlog.write_portal_runs(data_path, rows)
    runlog.write_run(data_path, run)
    from .warehouse_views import apply_views

    apply_views(data_path)
    return NightlyResult(run, rows).to_dict()
