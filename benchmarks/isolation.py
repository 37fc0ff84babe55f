"""What per-document isolation costs, and what two worker processes gain on this 2-core machine.

    python benchmarks/isolation.py               # 240 documents: text, HTML-free PDF, DOCX, XLSX
    python benchmarks/isolation.py --copies 20

Reads the committed fixtures (every seed as text dump, PDF, DOCX and XLSX) ``--copies`` times:
in-process one after another (no isolation, the old way), then through ``extract_all`` with 1
and with 2 worker processes (fork server, memory watchdog, wall-time limit).  Prints documents/s
and the speed-up of 2 workers over 1 (CPU-bound work: the target is ≥ 1.8× less the cost of
the parent's own work).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from nianbao.demo.seeds import seed_files
from nianbao.flows.extraction import Limits, extract_all, extract_job, job_for_path
from nianbao.flows.runtime import tune_gc

TESTS = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def documents(copies: int) -> list[Path]:
    seeds = seed_files()
    formats = sorted((TESTS / "formats").glob("seed_*"))
    one = seeds + [p for p in formats if p.suffix in (".pdf", ".docx", ".xlsx")]
    return one * copies


def in_process(paths: list[Path]) -> tuple[float, int]:
    t0 = time.perf_counter()
    ok = sum(extract_job(job_for_path(p)).ok for p in paths)
    return time.perf_counter() - t0, ok


def pooled(paths: list[Path], workers: int) -> tuple[float, int]:
    list(extract_all([job_for_path(paths[0])], Limits(workers=workers)))  # fork server warm
    t0 = time.perf_counter()
    ok = sum(o.ok for o in extract_all(map(job_for_path, paths), Limits(workers=workers)))
    return time.perf_counter() - t0, ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=12)
    args = ap.parse_args()
    tune_gc()
    paths = documents(args.copies)
    print(f"{len(paths)} documents (text, PDF, DOCX, XLSX of the 5 seeds × {args.copies})")
    rows = [("in-process, serial", *in_process(paths))]
    for w in (1, 2):
        rows.append((f"extract_all, {w} worker(s)", *pooled(paths, w)))
    for name, seconds, ok in rows:
        print(f"{name:28s} {seconds:7.2f} s  {len(paths) / seconds:7.1f} docs/s  ok {ok}")
    print(f"2 workers / 1 worker: {rows[1][1] / rows[2][1]:.2f}×")


if __name__ == "__main__":
    main()
