"""Warehouse benchmark: stream synthetic reports into the warehouse, then time researcher queries.

    python benchmarks/warehouse.py [--reports 100000] [--batch 20000] [--data DIR] [--keep]
                                   [--no-reload-all]

Reports are synthesised lazily (a generator) and loaded with ``load_batches`` — one
``load()`` and one warehouse version per ``--batch`` reports — as a backfill streams them to
the single warehouse writer.  Prints the load time (synthesis excluded), facts/s, the peak
RSS of the whole process, Parquet size per table, and the time of five researcher queries
(best of three, plus the first run), before and after ``optimize``.  Targets on a 2-core
machine: 10^5 reports: every query < 1 s; 10^6 reports (2 × 10^8 facts): peak RSS ≤ 4 GB,
every query ≤ 2 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import numpy as np
from deltalake import DeltaTable
from nianbao.flows.warehouse import (
    BATCH_REPORTS,
    LoadStats,
    ReportInput,
    connect,
    load,
    load_batches,
)
from nianbao.flows.warehouse_maintain import optimize
from nianbao.flows.warehouse_store import file_list
from nianbao.transform import catalogue
from nianbao.transform.result import Check, ExtractResult, Fact, Meta

QUERIES = {
    "national totals by year": "SELECT * FROM totals_by_year ORDER BY year",
    "disclosure rate by region × year": "SELECT * FROM disclosure_rate_by_year_region",
    "denial-reason shares": "SELECT * FROM denial_reason_shares ORDER BY year, share DESC",
    "top-20 agencies by requests": (
        "SELECT agency, sum(new) AS requests FROM report_summary "
        "GROUP BY agency ORDER BY requests DESC LIMIT 20"
    ),
    "check-failure rate by year": "SELECT * FROM check_failure_rate_by_year ORDER BY year",
    # issue 14: across reports
    "panel failures by year": (
        'SELECT year, "check", count(*) AS n FROM panel_failures GROUP BY ALL ORDER BY ALL'
    ),
    "coverage by province × year": (
        "SELECT province_code, year, count(*) FILTER (WHERE NOT present) AS missing, "
        "count(*) FILTER (WHERE late) AS late FROM report_coverage GROUP BY ALL ORDER BY ALL"
    ),
    "rate passing both checks": (
        "SELECT year, sum(granted + partial) / sum(result_total) AS rate FROM report_summary "
        "WHERE passes_checks AND passes_panel_checks GROUP BY year ORDER BY year"
    ),
}


def _rate(cell: catalogue.Cell) -> float:
    """Poisson mean of a synthetic cell: many zeros, a few busy rows, like real reports."""
    if cell.table == "requests":
        if cell.item in ("new", "result_total"):
            return 12.0
        if cell.item in ("granted", "unable_not_held"):
            return 4.0
        return 0.3
    if cell.table == "appeals":
        return 0.2
    return 6.0


SYNTH_BLOCK = 10_000  # reports drawn per numpy block: the generator's own working set


def synth(n: int, seed: int = 7) -> Iterator[ReportInput]:
    """``n`` reports over 2019–2024 (2019/2020 in the 2019 format), row totals consistent;
    agency k reports every year (reports 6k … 6k+5), so the panel views have work to do.

    A generator, drawn in blocks of SYNTH_BLOCK reports (each block from its own seeded
    stream, so the same ``n`` gives the same reports): 10^6 reports held at once would be
    ~30 GB of Python objects, so the benchmark streams them to the loader like a backfill.
    """
    for start in range(0, n, SYNTH_BLOCK):
        yield from _block(start, min(SYNTH_BLOCK, n - start), seed)


RAWS = [str(i) for i in range(10_000)]  # printed text of a value, shared
CHECK_NAMES = [f"requests_row_total.{i}" for i in catalogue.items("2021", "requests")] + [
    f"requests_balance.{c}" for c in catalogue.REQUEST_COLUMNS
]
REGIONS = [
    f"{p:02d}{c:02d}{k:02d}" for p in range(11, 66) for c in range(1, 8) for k in range(1, 9)
]


def _block(first: int, n: int, seed: int) -> list[ReportInput]:
    rng = np.random.default_rng([seed, first])
    out: list[ReportInput] = []
    # each agency reports every year 2019–2024 (six consecutive reports: panels to check)
    years = 2019 + np.arange(first, first + n) % 6
    for fmt in catalogue.FORMATS:
        cells = catalogue.cells(fmt)
        idx = np.flatnonzero((years <= 2020) if fmt == "2019" else (years >= 2021))
        lam = np.array([_rate(c) for c in cells])
        vals = rng.poisson(lam, size=(len(idx), len(cells))).astype(np.int64)
        total_cols = [k for k, c in enumerate(cells) if c.column == "total"]
        for k in total_cols:  # requests: total = sum of the six applicant columns before it
            vals[:, k] = vals[:, k - 6 : k].sum(axis=1)
        blank = rng.random(vals.shape) < 0.01
        fail = rng.random(len(idx)) < 0.05
        for row, i in enumerate(idx):
            r, year = first + int(i), int(years[i])
            v, b = vals[row].tolist(), blank[row].tolist()
            out.append(_report(r, year, fmt, cells, v, b, bool(fail[row])))
    return out


def _report(
    r: int, year: int, fmt: str, cells: list, v: list[int], b: list[bool], failed: bool
) -> ReportInput:
    """Synthetic report number ``r``: ``v`` its cell values, ``b`` its blank cells, one failed
    check when ``failed``; agency ``r // 6`` (six consecutive years each)."""
    facts = [
        Fact(c.table, c.item, c.column, None if b[k] else v[k], c.unit, "" if b[k] else RAWS[v[k]])
        for k, c in enumerate(cells)
    ]
    checks = [
        Check(name, True, f"{name}: {v[k % len(v)]} == {v[k % len(v)]}")
        for k, name in enumerate(CHECK_NAMES)
    ]
    if failed:
        checks[0] = Check(CHECK_NAMES[0], False, "new.total=5 != 6 (difference -1)")
    result = ExtractResult(
        source=f"synthetic-{r}",
        format=fmt,
        meta=Meta(title=f"{year}年政府信息公开工作年度报告", agency=f"机关{r // 6:06d}", year=year),
        facts=facts,
        checks=checks,
    )
    return ReportInput(
        result,
        sha256=f"{r:064x}",
        source_url=f"http://www.gov{r % 3000}.gov.cn/zfxxgk/nb/{year}/t{r}.html",
        level="county",
        region_code=REGIONS[(r // 6) % len(REGIONS)],
    )


class _Timed:
    """An iterator that adds up the time spent producing its items (the synthesis, which
    runs interleaved with the load and is not the loader's time)."""

    def __init__(self, items: Iterator[ReportInput]) -> None:
        self.items, self.seconds = items, 0.0

    def __iter__(self) -> _Timed:
        return self

    def __next__(self) -> ReportInput:
        t = time.perf_counter()
        try:
            return next(self.items)
        finally:
            self.seconds += time.perf_counter() - t


def _status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    """Peak RSS of the whole process so far (never reset: the target is the whole run's)."""
    hwm = _status_mb("VmHWM")
    return max(hwm, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*.parquet") if "_delta_log" not in f.parts)


def _queries(data: Path, target: float, label: str = "") -> None:
    """The five research queries, best of three each (and the first run: a cold one)."""
    t = time.perf_counter()
    con = connect(data)
    print(f"{label}connect: {time.perf_counter() - t:.3f}s")
    try:
        for name, sql in QUERIES.items():
            times = []
            for _ in range(3):
                t = time.perf_counter()
                rows = con.sql(sql).fetchall()
                times.append(time.perf_counter() - t)
            flag = "ok" if min(times) <= target else "SLOW"
            print(
                f"{label}query {name}: best {min(times):.3f}s first {times[0]:.3f}s  "
                f"{len(rows)} rows  {flag}"
            )
    finally:
        con.close()


def _sizes(data: Path, n_facts: int) -> None:
    wh = data / "warehouse"
    tables = [d for d in sorted(wh.iterdir()) if d.is_dir() and not d.name.startswith("_")]
    sizes = {d.name: _size(d) for d in tables}
    files = {d.name: len(file_list(DeltaTable(str(d)))) for d in tables}
    total = sum(sizes.values())
    print(
        f"parquet (live and superseded files on disk): {total / 1e6:.1f} MB "
        f"({total / n_facts:.2f} B/fact)  "
        + "  ".join(f"{k} {v / 1e6:.1f} MB ({files[k]} live files)" for k, v in sizes.items())
    )


def _first_load(n: int, batch: int, data: Path) -> int:
    """Load everything into an empty warehouse, ``batch`` reports per version: speed, peak
    memory, size on disk.  Returns the number of facts."""
    inputs = _Timed(synth(n))
    started = time.perf_counter()
    cpu = time.process_time()
    every = max(1, n // batch // 10)
    done = [0]

    def progress(stats: LoadStats) -> None:
        done[0] += 1
        if done[0] % every == 0:
            print(
                f"  batch {done[0]}: version {stats.version}  {stats.seconds:.1f}s  "
                f"RSS {_status_mb('VmRSS'):,.0f} MB  peak {_peak_mb():,.0f} MB  "
                f"({time.perf_counter() - started:.0f}s elapsed)",
                flush=True,
            )

    stats = load_batches(inputs, data, batch_size=batch, on_batch=progress)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    n_facts = stats.facts_written
    print(
        f"synthetic: {n:,} reports, {n_facts:,} facts, synthesised in {inputs.seconds:.1f}s "
        "(interleaved with the load, not counted below)"
    )
    print(
        f"load: {stats.seconds:.1f}s in {done[0]} batches of {batch:,}  "
        f"{n_facts / stats.seconds / 1e6:.2f} M facts/s  {stats.reports_new:,} reports  "
        f"{stats.files_written} files  (wall {wall:.1f}s with synthesis, CPU {cpu:.1f}s)"
    )
    print(f"peak RSS of the whole process after the load: {_peak_mb():,.0f} MB", flush=True)
    _sizes(data, n_facts)
    return n_facts


def _replace(n: int, data: Path, value: int, label: str) -> None:
    """1,000 re-extracted reports (one changed value each) replaced: every year partition's
    file holding one of them is rewritten (after optimize: the whole compacted partition)."""
    changed = list(islice(synth(n), min(n, 1000)))
    for inp in changed:
        f = inp.result.facts[0]
        inp.result.facts[0] = Fact(f.table, f.item, f.column, value, f.unit, str(value))
    t = time.perf_counter()
    rs = load(changed, data)
    print(
        f"{label}replace {len(changed):,} reports: {time.perf_counter() - t:.2f}s  "
        f"({rs.reports_replaced} replaced, {rs.files_rewritten} files rewritten)  "
        f"peak RSS so far {_peak_mb():,.0f} MB",
        flush=True,
    )


def _reloads(n: int, batch: int, data: Path, reload_all: bool) -> None:
    """1,000 reports replaced, then everything reloaded unchanged."""
    _replace(n, data, 999, "")
    if not reload_all:
        return
    inputs = _Timed(synth(n))
    t = time.perf_counter()
    rs = load_batches(inputs, data, batch_size=batch)
    print(
        f"reload all unchanged: {time.perf_counter() - inputs.seconds - t:.1f}s "
        f"(+{inputs.seconds:.1f}s synthesis)  ({rs.reports_unchanged:,} unchanged, "
        f"{rs.reports_replaced:,} replaced)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=100_000)
    ap.add_argument(
        "--batch", type=int, default=BATCH_REPORTS, help="reports per load_batches version"
    )
    ap.add_argument("--data", help="warehouse directory (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary warehouse")
    ap.add_argument(
        "--no-reload-all",
        dest="reload_all",
        action="store_false",
        help="skip reloading every report unchanged (synthesises them all again)",
    )
    args = ap.parse_args()
    target = 1.0 if args.reports <= 100_000 else 2.0

    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="nianbao-bench-"))
    if data.exists() and args.data:
        shutil.rmtree(data)
    print(f"cpus {os.cpu_count()}  data {data}  reports {args.reports:,}  batch {args.batch:,}")

    n_facts = _first_load(args.reports, args.batch, data)
    _queries(data, target)
    _reloads(args.reports, args.batch, data, args.reload_all)
    t = time.perf_counter()
    optimize(data)
    print(
        f"nianbao optimize (what the nightly maintain() does about weekly): "
        f"{time.perf_counter() - t:.2f}s"
    )
    _sizes(data, n_facts)
    _queries(data, target, "after optimize: ")
    _replace(args.reports, data, 777, "after optimize: ")
    print(f"peak RSS of the whole process: {_peak_mb():,.0f} MB (target ≤ 4,096 MB)")
    if not args.data and not args.keep:
        shutil.rmtree(data)


if __name__ == "__main__":
    main()
