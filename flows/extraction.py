"""The one extraction entry: a file → an ``Outcome``, each document in a worker process.

`nianbao extract`, `nianbao ingest` and the nightly flow all go through ``extract_all``.  A
government portal serves whatever it serves: a spreadsheet whose one merged range would
materialise a billion cells, a PDF page the size of a football pitch, a content stream that
inflates to gigabytes.  The readers refuse what they can see coming (``extract.sniff`` limits);
what they cannot see coming is contained here, per document, by a process that can be killed:

- wall time (``Limits.seconds``): the pool kills the worker and starts a new one;
- memory (``Limits.memory_mb``): a watchdog thread in the worker exits it when its resident size
  passes the limit, and an address-space rlimit backs that up against one huge allocation;
- output (``Limits.output_mb``): a result that pickles larger than that is refused.

A refused document gets an ``Outcome`` with a short ``reason`` (``limit:time``,
``limit:memory``, ``limit:output``, ``limit:<reader limit>``, ``unsupported:<kind>``,
``unreadable``, ``not_a_report``, ``crashed``, ``failed``) and a message; the rest of the batch
goes on.  Workers come from a fork server that preloads the readers, so they start in
milliseconds and never inherit the threads of the parent (Prefect's event loop, the crawler).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import resource
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from nianbao.core.document import DocumentError, LimitExceeded, UnsupportedFormat
from nianbao.extract.readers import read_bytes, read_file
from nianbao.transform.report import extract_document
from nianbao.transform.result import ExtractResult

if TYPE_CHECKING:
    from pebble import ProcessPool

# Exit status of a worker stopped by its own memory watchdog (EX_TEMPFAIL: never used by Python).
MEMORY_EXIT = 75
WATCH_INTERVAL_S = 0.02
# Address space allowed above a worker's start size beyond the memory limit: what the OCR
# engine maps but never touches (thread stacks, arenas, shared libraries loaded lazily).
AS_HEADROOM = 1536 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-document limits and the pool's shape.  Defaults are for a nightly run on 2 cores."""

    seconds: float = 60.0  # wall time one document may take (a real report: < 5 s, OCR ~1 s/page)
    memory_mb: int = 1024  # resident size of the worker reading it (OCR needs ~500 MB)
    output_mb: int = 16  # pickled result (a real report's: ~0.1 MB)
    workers: int = 0  # worker processes; 0 = one per core
    tasks_per_child: int = 50  # a worker is replaced after this many documents

    @property
    def pool_size(self) -> int:
        return self.workers or os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class Job:
    """One document to read: a regular file (a local input, or a raw-store snapshot)."""

    path: str
    source: str  # what the document says it is: its URL, else the path
    charset: str | None = None  # the charset a server declared


@dataclass(slots=True)
class Outcome:
    """What became of one Job.  ``reason`` is None exactly when a report was extracted."""

    job: Job
    result: ExtractResult | None = None
    sha256: str | None = None
    reason: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None and self.result is not None

    def as_result(self) -> ExtractResult:
        """The result to show: the extracted one, else an empty one carrying the error."""
        if self.result is not None:
            return self.result
        return ExtractResult(source=self.job.source, format=None, errors=[self.describe()])

    def describe(self) -> str:
        """``reason: message`` for logs and summaries ("" for an extracted report)."""
        return f"{self.reason}: {self.error}" if self.reason else ""


# --------------------------------------------------------------------------- in the worker


def extract_job(job: Job, output_bytes: int | None = None, packed: bool = False) -> Outcome | bytes:
    """Read and extract one document; every failure becomes an Outcome, nothing raises.

    ``packed``: the Outcome pickled (it is pickled anyway to check its size), for a caller that
    only forwards it — a backfill's Dask worker then ships bytes instead of unpickling the
    result and pickling it again."""
    outcome = _extract(job)
    if output_bytes is None and not packed:
        return outcome
    blob = pickle.dumps(outcome, protocol=5)
    if output_bytes is not None and len(blob) > output_bytes:
        outcome = Outcome(
            job,
            sha256=outcome.sha256,
            reason="limit:output",
            error=f"result over {output_bytes} bytes",
        )
        blob = pickle.dumps(outcome, protocol=5)
    return blob if packed else outcome


def _extract(job: Job) -> Outcome:
    try:
        data = read_file(job.path)
        sha256 = hashlib.sha256(data).hexdigest()
        document = read_bytes(data, source=job.source, declared_charset=job.charset)
    except LimitExceeded as e:
        return Outcome(job, reason=f"limit:{e.limit}", error=str(e))
    except UnsupportedFormat as e:
        return Outcome(job, reason=f"unsupported:{e.kind}", error=str(e))
    except DocumentError as e:
        return Outcome(job, reason="unreadable", error=str(e))
    except MemoryError:
        return Outcome(job, reason="limit:memory", error="reading ran out of memory")
    except Exception as e:  # a reader bug must not stop the batch
        return Outcome(job, reason="failed", error=f"reading failed: {type(e).__name__}: {e}")
    return _transform(job, document, sha256)


def _transform(job: Job, document: object, sha256: str) -> Outcome:
    try:
        result = extract_document(document)  # type: ignore[arg-type]
    except MemoryError:
        return Outcome(
            job, sha256=sha256, reason="limit:memory", error="extraction ran out of memory"
        )
    except Exception as e:  # a transform bug must not stop the batch
        return Outcome(
            job, sha256=sha256, reason="failed", error=f"extraction failed: {type(e).__name__}: {e}"
        )
    if not result.facts:  # a notice, a 详见附件 page, random bytes: not a report
        why = "; ".join(result.errors) or "no report tables found"
        return Outcome(job, result, sha256, reason="not_a_report", error=why)
    return Outcome(job, result, sha256)


def _vm_size() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _watch_memory(limit: int) -> None:
    """Exit the worker when its resident size passes ``limit`` (checked every 20 ms)."""
    page = os.sysconf("SC_PAGE_SIZE")
    fd = os.open("/proc/self/statm", os.O_RDONLY)
    while True:
        if int(os.pread(fd, 128, 0).split()[1]) * page > limit:
            os._exit(MEMORY_EXIT)
        time.sleep(WATCH_INTERVAL_S)


def _init_worker(memory_bytes: int) -> None:
    """Per worker: the memory watchdog, and an address-space ceiling as its backstop.

    The ceiling leaves room above the limit for what the OCR engine maps but never touches
    (thread stacks, arenas, the model file); the watchdog holds the resident size itself.
    """
    ceiling = _vm_size() + memory_bytes + AS_HEADROOM
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or ceiling < hard:
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    threading.Thread(target=_watch_memory, args=(memory_bytes,), daemon=True).start()


# --------------------------------------------------------------------------- in the parent


# Imported once by the fork server, so a new worker starts with them in memory (copy-on-write)
# instead of importing them again after every recycle.  Not the OCR engine: building it starts
# thread pools, and a process with threads must not fork.
PRELOAD = [
    __name__,
    "nianbao.extract.html",
    "nianbao.extract.textdump",
    "nianbao.extract.pdf",
    "nianbao.extract.office",
    "pdfplumber",
    "pypdfium2",
    "docx",
    "openpyxl",
]


def _context() -> multiprocessing.context.BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def _expired(job: Job, exc: BaseException, limits: Limits) -> Outcome:
    """The Outcome of a job whose worker was killed or died."""
    if isinstance(exc, FutureTimeout):
        return Outcome(job, reason="limit:time", error=f"over {limits.seconds:g} s")
    code = getattr(exc, "exitcode", None)
    if code == MEMORY_EXIT:
        return Outcome(job, reason="limit:memory", error=f"over {limits.memory_mb} MB resident")
    return Outcome(job, reason="crashed", error=f"worker died ({type(exc).__name__}: {exc})")


def reader_pool(limits: Limits) -> ProcessPool:
    """The worker processes documents are read in: ``limits.pool_size`` of them, each
    replaced after ``tasks_per_child`` documents or when a limit killed it."""
    from pebble import ProcessPool

    return ProcessPool(
        max_workers=limits.pool_size,
        max_tasks=limits.tasks_per_child,
        initializer=_init_worker,
        initargs=(limits.memory_mb * 1024 * 1024,),
        context=_context(),
    )


def extract_all(
    jobs: Iterable[Job],
    limits: Limits | None = None,
    pool: ProcessPool | None = None,
    packed: bool = False,
) -> Iterator[Outcome | bytes]:
    """Outcomes of ``jobs`` in completion order, at most 2 × workers documents in flight.

    Jobs are consumed lazily and outcomes are yielded as they come, so a caller can load
    results while later documents are still being read, in bounded memory.  ``pool``: a
    :func:`reader_pool` made with the same ``limits`` that outlives this call (a backfill
    worker keeps one across its batches); otherwise one is started and stopped here.
    ``packed``: each outcome as its pickle (see :func:`extract_job`).
    """
    todo = iter(jobs)
    first = next(todo, None)
    if first is None:  # nothing to read: no pool to start
        return
    todo = chain([first], todo)
    limits = limits or Limits()
    output = limits.output_mb * 1024 * 1024
    owned = pool is None
    pool = reader_pool(limits) if pool is None else pool
    pending: dict[Future, Job] = {}
    try:
        while True:
            for job in todo:
                fut = pool.schedule(extract_job, (job, output, packed), timeout=limits.seconds)
                pending[fut] = job
                if len(pending) >= 2 * limits.pool_size:
                    break
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                outcome = _collect(fut, pending.pop(fut), limits)
                yield (
                    pickle.dumps(outcome, protocol=5)
                    if isinstance(outcome, Outcome) and packed
                    else outcome
                )
    finally:
        if owned:
            pool.stop()
            pool.join()
        else:  # a shared pool goes on: drop what this call no longer waits for
            for fut in pending:
                fut.cancel()


def _collect(fut: Future, job: Job, limits: Limits) -> Outcome | bytes:
    try:
        return fut.result()
    except Exception as e:  # timeout, a killed worker, an unpicklable result
        return _expired(job, e, limits)


def job_for_path(path: str | Path) -> Job:
    """A job for a local file: the file is its own source."""
    return Job(path=str(path), source=str(path))
