"""The backfill flow: stored snapshots re-extracted by the current extractor, scaled out on Dask.

Why a flow of its own: an improved extractor must reach everything already loaded, and at
national scale (~10^6 reports, a tenth of them scans at ~1 page/s/core) that is the heaviest job
this system has — the one that outgrows a machine.  So:

- nothing is fetched: snapshots are read from the raw store (``backlog`` says which);
- extraction tasks run on ``prefect-dask``'s ``DaskTaskRunner``: a ``LocalCluster`` of worker
  processes by default, or any Dask cluster by address (``dask-jobqueue`` on SLURM/PBS,
  ``dask-kubernetes``, ``dask worker`` on several machines sharing the data directory);
- each task is a batch of snapshot *paths* (small, serialisable), read on the Dask worker
  through the one extraction entry, ``extract_all`` — each document in a child process with
  the time, memory and output limits, exactly as the nightly flow reads it;
- outcomes stream back to this process, the single warehouse writer, which loads them in
  batches (one warehouse version per batch: a crash loses at most the batch in flight, and a
  rerun picks up what is still stale).

Each backfill is one row of `runs` (``flow = 'backfill'``).
"""

# No `from __future__ import annotations`: Prefect validates the flow's parameters from their
# annotations (see nightly.py).
import multiprocessing
import pickle
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from nianbao.core.version import extractor_version
from nianbao.extract.documents_log import ReportDocument
from nianbao.extract.registry import Portal, load_registry
from nianbao.extract.registry_growth import with_derived
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed

from . import runlog, settings
from .backlog import backlog
from .extraction import Job, Limits, Outcome, extract_all, reader_pool
from .runlog import RunSummary
from .tally import Tally, extraction_record, tally

Progress = Callable[..., None]
BATCH_DOCUMENTS = 32  # snapshots per Dask task: amortises scheduling, keeps stragglers short
LOAD_REPORTS = 5_000  # reports per warehouse load (one version each; ~1 M facts in memory)
IN_FLIGHT_PER_WORKER = 2  # Dask tasks queued per worker: enough to never leave one idle
# Workers that may start the readers' child processes; and no statistical profiler sampling
# every thread each 10 ms, nor a psutil system monitor twice a second, in every worker and
# the scheduler: on a small machine they take the cores the readers need.
LOCAL_DASK_CONFIG = {
    "distributed.worker.daemon": False,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "5s",
}


# --------------------------------------------------------------------------- on a Dask worker


@task(name="extract-batch", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=1)
def extract_batch(jobs: list[Job], limits: Limits) -> list[bytes]:
    """A batch of snapshots through the one extraction entry, on whatever worker runs it.

    Per-document limits need a child process the worker can kill; a Dask worker is a daemonic
    process by default, and a daemonic process may not have children, hence the clear error
    (the README's recipes start workers with ``distributed.worker.daemon: false``).
    """
    if multiprocessing.current_process().daemon:
        raise RuntimeError(
            "this Dask worker is a daemonic process and cannot start the extraction child "
            "processes: start workers with DASK_DISTRIBUTED__WORKER__DAEMON=False"
        )
    return list(extract_all(jobs, limits, _worker_pool(limits), packed=True))  # type: ignore[arg-type]


_POOLS: dict[Limits, object] = {}


def _worker_pool(limits: Limits):  # noqa: ANN202 - pebble's ProcessPool, imported lazily
    """This worker process's reader pool for ``limits``, kept across batches: a pool per batch
    would fork and tear down its reader for every batch."""
    import atexit

    pool = _POOLS.get(limits)
    if pool is None or not pool.active:
        pool = _POOLS[limits] = reader_pool(limits)
        atexit.register(pool.stop)
    return pool


# --------------------------------------------------------------------------- in the flow


@contextmanager
def dask_runner(address: str | None, workers: int):
    """A ``DaskTaskRunner`` on the cluster at ``address``, else on a ``LocalCluster`` of
    ``workers`` single-threaded worker processes that may start children and report to this
    flow's Prefect API (without it, each worker would start a temporary Prefect server of
    its own: seconds each, and SQLite lock contention)."""
    import dask
    from prefect_dask import DaskTaskRunner

    if address:
        runner = DaskTaskRunner(address=address)
    else:
        kwargs = {
            "n_workers": workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
            "env": _prefect_env(),
        }
        runner = DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=kwargs)
    with dask.config.set(LOCAL_DASK_CONFIG), runner:
        _same_extractor(runner.client.run(worker_version))
        yield runner


def worker_version() -> str:
    """On each worker, before any task: the readers imported (so the first batch is not slow)
    and the extractor version this worker would record."""
    import nianbao.flows.extraction  # noqa: F401 - the readers and the transform

    return extractor_version()


def _same_extractor(versions: dict[str, str]) -> None:
    """A worker with another nianbao would record another version: refuse to mix them."""
    ours = extractor_version()
    other = {addr: v for addr, v in versions.items() if v != ours}
    if other:
        addr, v = next(iter(other.items()))
        raise RuntimeError(
            f"Dask worker {addr} runs extractor {v}, this process {ours}: install the same "
            f"nianbao on every worker ({len(other)} of {len(versions)} differ)"
        )


def _prefect_env() -> dict[str, str]:
    """The Prefect API this flow talks to — a server's, or the temporary one Prefect started
    for this process — for the worker processes to report to the same one."""
    from prefect.client.orchestration import get_client

    return {"PREFECT_API_URL": str(get_client(sync_client=True).api_url).rstrip("/")}


def batches(docs: Iterable[ReportDocument], size: int) -> Iterator[list[ReportDocument]]:
    batch: list[ReportDocument] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def job_for(doc: ReportDocument) -> Job:
    return Job(path=str(doc.path), source=doc.url, charset=doc.charset)


def on_dask(
    docs: list[ReportDocument], limits: Limits, runner, in_flight: int, size: int
) -> Iterator[list[tuple[ReportDocument, Outcome]]]:
    """Each batch's (document, outcome) pairs as its task finishes, at most ``in_flight``
    tasks submitted at once (memory stays bounded whatever the backlog)."""
    todo = batches(docs, size)
    pending: dict = {}
    while True:
        for batch in todo:
            future = runner.submit(
                extract_batch, {"jobs": [job_for(d) for d in batch], "limits": limits}
            )
            pending[future] = batch
            if len(pending) >= in_flight:
                break
        if not pending:
            return
        done = next(as_completed(list(pending)))
        batch = pending.pop(done)
        outcomes = [pickle.loads(blob) for blob in done.result()]  # pickled once, in the reader
        yield paired(batch, outcomes)


def paired(batch: list[ReportDocument], outcomes: list[Outcome]) -> list[tuple]:
    """Each outcome with the document it is of.  Outcomes come in completion order, not the
    batch's: they are matched by their job (snapshot path and URL), never by position."""
    by_job = {(j.path, j.source): d for d, j in ((d, job_for(d)) for d in batch)}
    if len(by_job) != len(batch) or len(outcomes) != len(batch):
        raise ValueError("a batch's documents and outcomes do not match one to one")
    return [(by_job[(o.job.path, o.job.source)], o) for o in outcomes]


@dataclass(slots=True)
class Totals:
    """What the backfill did, for its `runs` row and its printout."""

    selected: int = 0
    stale: int = 0
    new: int = 0
    extracted: int = 0
    flagged: int = 0
    failed: int = 0
    unsupported: int = 0
    not_reports: int = 0
    facts_loaded: int = 0
    loads: int = 0
    version: int | None = None
    errors: list[str] = field(default_factory=list)  # the run failed (a load)
    notes: list[str] = field(default_factory=list)  # said, the run stands (maintenance)

    def add(self, counts: Tally, outcomes: int) -> None:
        self.extracted += counts.extracted.total()
        self.flagged += counts.flagged.total()
        self.failed += counts.failed
        self.unsupported += counts.unsupported.total()
        self.not_reports += (
            outcomes - len(counts.inputs) - counts.failed - counts.unsupported.total()
        )


class Writer:
    """The single warehouse writer: outcomes in, `extractions` rows and batched loads out."""

    def __init__(self, data: Path, run_id: str, portals: dict[str, Portal], every: int):
        self.data, self.run_id, self.portals, self.every = data, run_id, portals, every
        self.pending: list = []
        self.totals = Totals()
        self.problems: Tally = Tally()

    def add(self, pairs: list[tuple[ReportDocument, Outcome]]) -> None:
        runlog.write_extractions(
            self.data, [extraction_record(self.run_id, d, o) for d, o in pairs]
        )
        counts = tally(pairs, self.portals)
        self.totals.add(counts, len(pairs))
        self.problems.problems += counts.problems
        self.problems.unsupported += counts.unsupported
        self.pending += counts.inputs
        if len(self.pending) >= self.every:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        from .warehouse import load

        inputs, self.pending = self.pending, []
        try:
            stats = load(inputs, self.data)
        except Exception as e:  # recorded; what is not loaded stays stale for the next run
            self.totals.errors.append(f"warehouse load failed: {type(e).__name__}: {e}")
            return
        self.totals.facts_loaded += stats.facts_written
        self.totals.loads += 1
        self.totals.version = stats.version


def _portals(registry: Path, data: Path) -> dict[str, Portal]:
    """The registry's portals (and their platforms' derived rows) by id, for the reports'
    levels and regions; none if unreadable, so that a backfill of an archive whose registry
    moved still runs."""
    try:
        return {p.portal_id: p for p in with_derived(load_registry(registry), data)}
    except Exception:
        return {}


@flow(name="backfill", log_prints=True)
def backfill(
    data: str | None = None,
    everything: bool = False,
    portal_ids: list[str] | None = None,
    year: int | None = None,
    workers: int | None = None,
    dask_address: str | None = None,
    registry: str | None = None,
    config: str | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
) -> dict:
    """Re-extract every stored snapshot that the current extractor version has not done (or
    all of them: ``everything``) and load the results.  Nothing is fetched."""
    overrides = {"data": data, "registry": registry, "dask_address": dask_address}
    cfg = settings.load(overrides, config=config, via="parameter")
    started, clock = datetime.now(UTC), time.perf_counter()
    run_id = f"backfill-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    pending = backlog(cfg.data, everything=everything, portal_ids=portal_ids, year=year)
    todo = (pending.new + pending.stale)[: limit if limit is not None else None]
    if progress:
        progress("extract_start", total=len(todo))
    limits = replace(cfg.limits(), workers=1)  # one child per Dask worker: Dask is the pool
    n_workers = workers or cfg.limits().pool_size
    writer = Writer(cfg.data, run_id, _portals(cfg.registry, cfg.data), LOAD_REPORTS)
    if todo:
        with dask_runner(cfg.dask_address or None, n_workers) as runner:
            in_flight = IN_FLIGHT_PER_WORKER * max(n_workers, _cluster_size(runner))
            for pairs in on_dask(todo, limits, runner, in_flight, BATCH_DOCUMENTS):
                writer.add(pairs)
                if progress:
                    progress("extract_advance", advance=len(pairs))
    writer.flush()
    _maintain(cfg.data, writer.totals)
    totals = writer.totals
    totals.selected, totals.stale, totals.new = len(todo), len(pending.stale), len(pending.new)
    run = _summary(run_id, started, totals, writer.problems)
    runlog.write_run(cfg.data, run)
    from .warehouse_views import apply_views

    apply_views(cfg.data)
    seconds = time.perf_counter() - clock
    return {
        "run": {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(run).items()},
        "extractor_version": pending.version,
        "selected": totals.selected,
        "stale": totals.stale,
        "new": totals.new,
        "already_current": pending.current,
        "not_reports": totals.not_reports,
        "loads": totals.loads,
        "seconds": round(seconds, 3),
        "reports_per_second": round(totals.selected / seconds, 2) if seconds else None,
        "workers": n_workers if not cfg.dask_address else None,
        "dask_address": cfg.dask_address or None,
    }


def _maintain(data: Path, totals: Totals) -> None:
    """Compact after the batched loads (each left small files; queries slow down until they
    are compacted); a failure is said in the run's row, the loaded reports stand."""
    from .warehouse import maintain

    try:
        maintain(data)
    except Exception as e:
        totals.notes.append(f"warehouse maintenance failed: {type(e).__name__}: {e}")


def _cluster_size(runner) -> int:
    """Workers of the runner's cluster (an external one may be larger than ``--workers``)."""
    try:
        return len(runner._client.scheduler_info()["workers"])
    except Exception:
        return 0


def _summary(run_id: str, started: datetime, totals: Totals, problems: Tally) -> RunSummary:
    """The backfill's `runs` row."""
    errors = totals.errors
    status = "failed" if errors else ("degraded" if totals.failed else "ok")
    return RunSummary(
        run_id=run_id,
        flow="backfill",
        started_at=started,
        finished_at=datetime.now(UTC),
        status=status,
        new=totals.selected,
        extracted=totals.extracted,
        flagged=totals.flagged,
        failed=totals.failed,
        unsupported=totals.unsupported,
        facts_loaded=totals.facts_loaded,
        detail=problems.describe([("", e) for e in [*errors, *totals.notes]]),
        warehouse_version=totals.version,
    )
