"""Backfill throughput: the same stored snapshots re-extracted by three task runners.

    python benchmarks/backfill.py                       # 2,000 mixed documents
    python benchmarks/backfill.py --n 400 --runners dask1,dask2

The documents are stored as a crawl stores them (raw store + documents log) in a temporary
data directory, each one unique bytes: HTML pages in every real-portal markup (55 %), text dumps
(15 %) and DOCX files (14 %) of generated reports, text PDFs (15 %: the committed PDF
fixtures, each with a unique trailer), and scans (1 %: two A4 pages of a seed report printed
at 200 dpi, degraded, saved as an image PDF — OCR).

Runners, each timed on every document (extraction only: from the first task submitted to the
last outcome back; the cluster's start-up and the warehouse load are printed apart):

- ``thread``: Prefect's ``ThreadPoolTaskRunner`` with 2 threads, each task reading its batch in
  the flow's own process, as the nightly flow's tasks did before extraction moved to worker
  processes: the GIL serialises the CPU-bound reading;
- ``dask1`` / ``dask2``: the backfill's own path — ``DaskTaskRunner`` on a ``LocalCluster`` of 1
  or 2 worker processes, each batch through ``extract_all`` (a child process per document with
  the limits).

Target on this 2-core machine: dask2 ≥ 1.8 × dask1 on the extraction part.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

SHARES = (("html", 0.55), ("text", 0.15), ("pdf", 0.15), ("docx", 0.14), ("scan", 0.01))
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def _make_scans():  # noqa: ANN202 - tests/fixtures/make_scans.py, not part of the package
    import importlib.util

    if "make_scans" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_scans", FIXTURES / "make_scans.py")
        sys.modules["make_scans"] = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(sys.modules["make_scans"])  # type: ignore[union-attr]
    return sys.modules["make_scans"]


def _scan_pdf(seed: int) -> bytes:
    """Two pages of a seed report, printed, degraded and saved as an image-only PDF."""
    from PIL import Image

    ms = _make_scans()
    pages = ms.printed_pages(f"seed_{seed % 5:03d}")[:2]
    images = [Image.open(io.BytesIO(ms.degrade(p, "clean", seed + k))) for k, p in enumerate(pages)]
    out = io.BytesIO()
    images[0].convert("L").save(out, "PDF", save_all=True, resolution=200,
                                append_images=[i.convert("L") for i in images[1:]])  # fmt: skip
    return out.getvalue()


def _unique_pdf(i: int) -> bytes:
    """One of the committed text-PDF fixtures (seed reports typeset by make_formats.py, a
    rotated page, CID fonts, an unruled 2019 table) with a comment after ``%%EOF`` naming
    ``i``: unique bytes, same document."""
    pdfs = sorted((FIXTURES / "formats").glob("*.pdf"))
    pdfs = [p for p in pdfs if "scanned" not in p.name]
    return pdfs[i % len(pdfs)].read_bytes() + f"\n% copy {i}\n".encode()


def _unique_docx(data: bytes, i: int) -> bytes:
    """The same DOCX with a zip comment naming ``i``: unique bytes, same content."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.comment = f"{i}".encode()
    return out.getvalue()


def documents(n: int, seed: int) -> list[tuple[str, str, bytes]]:
    """``n`` (kind, suffix, bytes) in the shares above, deterministic in ``seed``."""
    from nianbao.demo.portal.files import make_docx
    from nianbao.demo.synth import HTML_MARKUPS, TEXT_STYLES, random_report, render, render_lines

    rng = random.Random(seed)
    kinds = [k for k, share in SHARES for _ in range(round(n * share))][:n]
    kinds += ["html"] * (n - len(kinds))
    out = []
    for i, kind in enumerate(kinds):
        if kind == "scan":
            out.append((kind, "pdf", _scan_pdf(i)))
            continue
        report = random_report(rng, "2021" if rng.random() < 0.75 else "2019")
        if kind == "html":
            out.append((kind, "html", render(report, HTML_MARKUPS[i % len(HTML_MARKUPS)])))
        elif kind == "text":
            out.append((kind, "txt", render(report, TEXT_STYLES[i % len(TEXT_STYLES)])))
        elif kind == "pdf":
            out.append((kind, "pdf", _unique_pdf(i)))
        else:
            out.append((kind, "docx", _unique_docx(make_docx(render_lines(report)), i)))
    return out


def store(docs: list[tuple[str, str, bytes]], data: Path) -> None:
    """The documents as a crawl leaves them: bodies in the raw store, one log row each."""
    from nianbao.extract.documents_log import DocumentsLog
    from nianbao.extract.rawstore import RawStore

    raw = RawStore(data)
    now = datetime.now(UTC)
    with DocumentsLog(data, flush_rows=10_000) as log:
        for i, (kind, suffix, body) in enumerate(docs):
            log.append({"url": f"https://www.example.gov.cn/ndbg/{i:05d}.{suffix}",
                        "portal_id": f"p{i % 50}", "kind": "report", "outcome": "new",
                        "sha256": raw.put(body), "status": 200, "fetched_at": now,
                        "title": kind})  # fmt: skip


def run(runner_name: str, data: Path) -> dict:
    """One runner over every stored document; seconds for start-up, extraction and load."""
    from dataclasses import replace

    from nianbao.flows import backfill as bf
    from nianbao.flows.backlog import backlog
    from nianbao.flows.extraction import Limits, extract_job
    from nianbao.flows.tally import tally
    from nianbao.flows.warehouse import load
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE
    from prefect.task_runners import ThreadPoolTaskRunner

    @task(cache_policy=NO_CACHE)
    def in_thread(jobs, limits):  # noqa: ANN001, ANN202 - the GIL-bound baseline
        return [extract_job(j) for j in jobs]

    @flow(name=f"bench-{runner_name}")
    def bench() -> dict:
        docs = backlog(data, everything=True).stale
        limits = replace(Limits(), workers=1)
        started = time.perf_counter()
        if runner_name == "thread":
            context = ThreadPoolTaskRunner(max_workers=2)
            workers, submit = 2, in_thread
        else:
            workers = int(runner_name.removeprefix("dask"))
            context, submit = bf.dask_runner(None, workers), bf.extract_batch
        kinds: Counter[str] = Counter()
        outcomes = []
        with context as runner:
            up = time.perf_counter()
            if submit is bf.extract_batch:  # the backfill's own loop
                for pairs in bf.on_dask(docs, limits, runner, 2 * workers, bf.BATCH_DOCUMENTS):
                    outcomes += pairs
            else:
                outcomes = _threaded(runner, submit, docs, limits, 2 * workers)
            extracted = time.perf_counter()
        for _doc, o in outcomes:
            kinds[o.reason or "report"] += 1
        counts = tally(outcomes, {})
        loaded = time.perf_counter()
        stats = load(counts.inputs, data / f"load-{runner_name}")  # a fresh warehouse each
        return {
            "runner": runner_name,
            "documents": len(docs),
            "startup_s": up - started,
            "extract_s": extracted - up,
            "load_s": time.perf_counter() - loaded,
            "docs_per_s": len(docs) / (extracted - up),
            "outcomes": dict(kinds),
            "facts": stats.facts_written,
        }

    return bench()


def _threaded(runner, submit, docs, limits, in_flight: int) -> list:  # noqa: ANN001
    """The baseline's batches on the thread runner, ``in_flight`` at a time."""
    from nianbao.flows import backfill as bf

    outcomes, pending = [], {}
    todo = bf.batches(docs, bf.BATCH_DOCUMENTS)
    while True:
        for b in todo:
            pending[
                runner.submit(submit, {"jobs": [bf.job_for(d) for d in b], "limits": limits})
            ] = b
            if len(pending) >= in_flight:
                break
        if not pending:
            return outcomes
        done = next(bf.as_completed(list(pending)))
        outcomes += list(zip(pending.pop(done), done.result(), strict=True))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="documents (default 2000)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--runners", default="thread,dask1,dask2")
    ap.add_argument("--data", type=Path, default=None, help="data directory (default: temporary)")
    args = ap.parse_args(argv)
    data = args.data or Path(tempfile.mkdtemp(prefix="nianbao-backfill-"))
    t = time.perf_counter()
    docs = documents(args.n, args.seed)
    store(docs, data)
    mix = Counter(k for k, _, _ in docs)
    size = sum(len(b) for _, _, b in docs) / 1e6
    print(f"{len(docs)} documents ({dict(mix)}), {size:.1f} MB, made in "
          f"{time.perf_counter() - t:.0f} s in {data}", flush=True)  # fmt: skip
    rows = []
    for name in args.runners.split(","):
        r = run(name, data)
        rows.append(r)
        print(f"{r['runner']:7} start {r['startup_s']:5.1f} s  extract {r['extract_s']:7.1f} s "
              f"= {r['docs_per_s']:6.2f} docs/s  load {r['load_s']:5.1f} s  "
              f"outcomes {r['outcomes']}", flush=True)  # fmt: skip
    by = {r["runner"]: r for r in rows}
    if "dask1" in by and "dask2" in by:
        ratio = by["dask2"]["docs_per_s"] / by["dask1"]["docs_per_s"]
        print(f"dask2 / dask1 = {ratio:.2f}× (target ≥ 1.8)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
