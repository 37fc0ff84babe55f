"""The nightly Prefect flow: crawl → select → extract → load → judge → summarise.

Tasks: one per host (its portals crawled one after another, so a host never sees two of our
requests at once; hosts run in parallel, at most ``workers`` at a time), one per portal inside
it (retried once when the portal crawl itself broke), one extraction task (each document in a
worker process of a pool of ``extract_workers``), one load.  Every failure is caught at its
task and recorded: one bad portal or report never fails the night.  The run fails as a whole
only when nothing could be crawled or the warehouse could not be written.

Each stage is a function of what the earlier ones returned; the progress display is passed
in, never kept in a module global, so two flows in one process cannot cross their displays.
"""

# No `from __future__ import annotations` here: a served deployment runs the flow from a
# by-value (cloudpickled) copy of this function whose globals hold only the names its code uses,
# so Prefect could not resolve a string annotation such as "Progress" when it validates the
# parameters ("`NightlyModel` is not fully defined").
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nianbao.extract.crawler import Crawler, CrawlSummary, PortalCrawl, PortalSummary
from nianbao.extract.documents_log import ReportDocument
from nianbao.extract.registry import Portal, load_registry
from nianbao.extract.registry_growth import with_derived
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from . import runlog, settings
from .backlog import backlog
from .extraction import Job, Limits, Outcome, extract_all
from .health import UNHEALTHY, assess
from .runlog import PortalRun, RunSummary
from .tally import Tally, extraction_record, tally
from .warehouse_build import ReportInput, region_fields

Progress = Callable[..., None]


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


# --------------------------------------------------------------------------- stages


def crawl(crawler: Crawler, portal_ids: list[str] | None, workers: int) -> CrawlSummary:
    """Stage 1: one task per host, at most ``workers`` hosts at a time; a host's portals in
    order.  The runner is sized here, not in the decorator, because ``workers`` is a setting."""
    with (
        crawler.session(portal_ids) as groups,
        ThreadPoolTaskRunner(max_workers=workers) as runner,
    ):
        params = [
            {"crawler": crawler, "portals": g, "summaries": crawler.summaries} for g in groups
        ]
        for future in [runner.submit(crawl_host, p) for p in params]:
            future.wait()
    return crawler.finish()


def select(data: Path, stale_limit: int) -> list[ReportDocument]:
    """Stage 2: snapshots this extractor version has not done: all new ones, and at most
    ``stale_limit`` that an older version did (so a release converges night by night)."""
    return backlog(data).for_night(stale_limit)


def extract(
    run_id: str, todo: list[ReportDocument], cfg: settings.Settings, progress: Progress | None
) -> list[tuple[ReportDocument, Outcome]]:
    """Stage 3: read every selected document; log what became of each in `extractions`."""
    if progress:
        progress("extract_start", total=len(todo))
    extracted = extract_reports(todo, cfg.limits(), progress)
    runlog.write_extractions(cfg.data, [extraction_record(run_id, d, o) for d, o in extracted])
    return extracted


@dataclass(frozen=True, slots=True)
class Loaded:
    facts: int = 0
    version: int | None = None  # the warehouse version written
    error: str | None = None  # the load failed: so does the run
    note: str | None = None  # compaction failed: said in the summary, the run goes on


def load(inputs: list[ReportInput], data: Path) -> Loaded:
    """Stage 4: the reports that yielded facts, in one load, then compaction if it is due; a
    failure is recorded, not raised."""
    if not inputs:
        return Loaded(note=_maintain(data))
    try:
        stats = load_reports(inputs, data)
    except Exception as e:
        return Loaded(error=f"warehouse load failed: {type(e).__name__}: {e}")
    return Loaded(stats.facts_written, stats.version, note=_maintain(data))


def _maintain(data: Path) -> str | None:
    """Compact and vacuum the tables that need it (usually none); it can wait a night."""
    from .warehouse import maintain

    try:
        maintain(data)
    except Exception as e:
        return f"warehouse maintenance failed: {type(e).__name__}: {e}"
    return None


def judge(crawled: CrawlSummary, counts: Tally, data: Path) -> list[PortalRun]:
    """Stage 5: each portal's night, judged against its own history."""
    history = runlog.portal_history(data)
    runs = [_portal_run(crawled, s, counts) for s in crawled.portals]
    return [r.judged(assess(history.get(r.portal_id, []), r.night())) for r in runs]


def _portal_run(crawled: CrawlSummary, s: PortalSummary, counts: Tally) -> PortalRun:
    """One portal's counts; a portal that broke or was blocked as a whole counts once."""
    broke = s.status in ("failed", "error") and s.listed == 0
    return PortalRun(
        run_id=crawled.run_id,
        portal_id=s.portal_id,
        started_at=crawled.started,
        crawl_status=s.status,
        adapter=s.adapter,
        listed=s.listed,
        new=s.new + s.changed,
        unchanged=s.unchanged,
        removed=s.removed + s.not_found,
        blocked=s.blocked + (s.status == "blocked" and s.blocked == 0),
        failed=s.failed + broke,
        extracted=counts.extracted[s.portal_id],
        flagged=counts.flagged[s.portal_id],
        error=s.error,
        agency=s.agency or None,
        level=s.level or None,
        region_code=_best_region(s.agency, s.region_code),
        kind=s.kind or None,
    )


def _best_region(agency: str, region_code: str) -> str | None:
    """The registry row's region as its reports' region_code is made (a county read from the
    agency's name inside the registry's city, …), so report_coverage keys both alike."""
    if not agency:
        return region_code or None
    return region_fields(agency, region_code or None)["region_code"]


def summarise(
    crawled: CrawlSummary, counts: Tally, loaded: Loaded, portals: list[PortalRun]
) -> RunSummary:
    """Stage 6: the run's one row."""
    crawls = crawled.portals
    unhealthy = sum(p.health == UNHEALTHY for p in portals)
    failed = counts.failed + sum(s.failed for s in crawls)
    return RunSummary(
        run_id=crawled.run_id,
        started_at=crawled.started,
        finished_at=datetime.now(UTC),
        status=_status(crawled, loaded, degraded=bool(unhealthy or failed)),
        portals=len(crawls),
        listed=sum(s.listed for s in crawls),
        new=sum(s.new + s.changed for s in crawls),
        unchanged=sum(s.unchanged for s in crawls),
        blocked=sum(1 for p in portals if p.blocked),
        extracted=counts.extracted.total(),
        flagged=counts.flagged.total(),
        failed=failed,
        unsupported=counts.unsupported.total(),
        unhealthy=unhealthy,
        facts_loaded=loaded.facts,
        detail=counts.describe(
            [("", m) for m in (loaded.error, loaded.note, crawled.log_note) if m]
        ),
        warehouse_version=loaded.version,
    )


def _status(crawled: CrawlSummary, loaded: Loaded, degraded: bool) -> str:
    """failed: nothing could be crawled, or the load failed; degraded: a portal unhealthy or
    a document failed; else ok."""
    crawled_any = any(s.listed > 0 or s.unchanged > 0 for s in crawled.portals)
    if loaded.error or (crawled.portals and not crawled_any):
        return "failed"
    return "degraded" if degraded else "ok"


def record(data: Path, run: RunSummary, portals: list[PortalRun]) -> None:
    """The night's rows into `portal_runs` and `runs`, then the views over them."""
    from .warehouse_views import apply_views

    runlog.write_portal_runs(data, portals)
    runlog.write_run(data, run)
    apply_views(data)


def result(run: RunSummary, portals: list[PortalRun]) -> dict[str, Any]:
    """What the flow returns (and `nianbao run --json` prints): plain JSON values."""
    return {"run": _jsonable(asdict(run)), "portals": [_jsonable(asdict(p)) for p in portals]}


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


# --------------------------------------------------------------------------- the flow


@flow(name="nightly", log_prints=True)
def nightly(
    registry: str | None = None,
    data: str | None = None,
    delay: float | None = None,
    portal_ids: list[str] | None = None,
    workers: int | None = None,
    config: str | None = None,
    progress: Progress | None = None,
) -> dict:
    """Crawl every registered portal, extract new snapshots, load them, judge portal health.

    Parameters left None come from the settings (config file, NIANBAO_* environment, defaults)
    of the machine the flow runs on; ``progress`` receives display events (the CLI's bars).
    """
    overrides = {"registry": registry, "data": data, "delay": delay, "workers": workers}
    cfg = settings.load(overrides, config=config, via="parameter")
    cfg.data.mkdir(parents=True, exist_ok=True)
    portals = load_registry(cfg.registry)
    crawler = Crawler(portals, cfg.data, cfg.crawl_config(), progress=progress)
    crawled = crawl(crawler, portal_ids, cfg.workers)
    extracted = extract(crawled.run_id, select(cfg.data, cfg.backfill_per_night), cfg, progress)
    counts = tally(extracted, {p.portal_id: p for p in with_derived(portals, cfg.data)})
    loaded = load(counts.inputs, cfg.data)
    judged = judge(crawled, counts, cfg.data)
    run = summarise(crawled, counts, loaded, judged)
    record(cfg.data, run, judged)
    return result(run, judged)
