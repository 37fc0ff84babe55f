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
from nianbao.transform.result import ExtractResult
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from . import runlog
from .health import UNHEALTHY, PortalNight, assess
from .paths import data_dir as resolve_data_dir
from .warehouse_build import ReportInput, report_id_for

Progress = Callable[..., None]
# Set by the CLI for progress bars; not a flow parameter (deployments need JSON parameters).
PROGRESS: Progress | None = None


@dataclass(slots=True)
class Extracted:
    doc: ReportDocument
    result: ExtractResult | None
    error: str | None = None
    unsupported: str | None = None  # the format kind no reader handles yet


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


@task(name="extract-report", cache_policy=NO_CACHE)
def extract_report(doc: ReportDocument) -> Extracted:
    from nianbao.extract.document import DocumentError, UnsupportedFormat
    from nianbao.extract.readers import read_bytes
    from nianbao.transform.report import extract_document

    try:
        data = doc.path.read_bytes()
    except OSError as e:
        return Extracted(doc, None, f"snapshot missing: {e}")
    try:
        document = read_bytes(data, source=doc.url, declared_charset=doc.charset)
    except UnsupportedFormat as e:
        return Extracted(doc, None, str(e), unsupported=e.kind)
    except DocumentError as e:
        return Extracted(doc, None, str(e))
    except Exception as e:  # a reader bug must not stop the night either
        return Extracted(doc, None, f"reading failed: {type(e).__name__}: {e}")
    try:
        return Extracted(doc, extract_document(document))
    except Exception as e:  # a transform bug must not stop the night
        return Extracted(doc, None, f"extraction failed: {type(e).__name__}: {e}")


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

    # 2. extract every report snapshot not yet loaded with this parser version.
    from nianbao.transform.result import PARSER_VERSION

    loaded = _loaded_keys(data_path)
    by_portal = {p.portal_id: p for p in portals}
    todo = [
        d
        for d in current_documents(data_path)
        if (report_id_for(d.url, d.sha256), d.sha256, PARSER_VERSION) not in loaded
    ]
    if progress:
        progress("extract_start", total=len(todo))
    extracted: list[Extracted] = []
    for fut in [extract_report.submit(d) for d in todo]:
        extracted.append(fut.result())
        if progress:
            progress("extract_advance")

    # 3. load the reports that yielded facts.
    inputs: list[ReportInput] = []
    per_portal: dict[str, dict[str, int]] = {}
    problems: list[tuple[str, str]] = []  # (document URL or "", what went wrong)
    unsupported: dict[str, int] = {}
    for ex in extracted:
        counts = per_portal.setdefault(ex.doc.portal_id, {"extracted": 0, "flagged": 0})
        if ex.result is None:
            if ex.unsupported:
                unsupported[ex.unsupported] = unsupported.get(ex.unsupported, 0) + 1
                run.unsupported += 1
                continue
            run.failed += 1
            problems.append((ex.doc.url, ex.error or "unknown error"))
            continue
        if not ex.result.facts:
            continue  # pages without tables (notices, 详见附件 pages, unsupported attachments)
        portal = by_portal.get(ex.doc.portal_id)
        counts["extracted"] += 1
        run.extracted += 1
        if ex.result.failed_checks or ex.result.errors:
            counts["flagged"] += 1
            run.flagged += 1
        inputs.append(
            ReportInput(
                result=ex.result,
                sha256=ex.doc.sha256,
                source_url=ex.doc.url,
                fetched_at=ex.doc.fetched_at,
                level=portal.level if portal else None,
                region_code=portal.region_code if portal else None,
                portal_id=ex.doc.portal_id,
                agency=None if ex.result.meta.agency else (portal.agency if portal else None),
            )
        )
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
