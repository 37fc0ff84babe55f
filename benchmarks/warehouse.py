"""Warehouse benchmark: load ~100,000 synthetic reports (~20 M facts), then time researcher queries.

    python benchmarks/warehouse.py [--reports 100000] [--data DIR] [--keep]

Prints the load time, facts/s, Parquet size per table, peak memory of the load, and the time
of five researcher queries (best of three, plus the first run).  Targets on a 2-core machine:
load ≥ 1 M facts/s, every query < 1 s.  Synthetic reports are built before the clock starts;
their ExtractResult objects go through the same ``load()`` the crawler and ``ingest`` use.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from nianbao.flows.warehouse import ReportInput, connect, load
from nianbao.flows.warehouse_maintain import optimize
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


def synth(n: int, seed: int = 7) -> list[ReportInput]:
    """``n`` reports over 2019–2024 (2019/2020 in the 2019 format), row totals consistent."""
    rng = np.random.default_rng(seed)
    raws = [str(i) for i in range(10_000)]
    check_names = [f"requests_row_total.{i}" for i in catalogue.items("2021", "requests")]
    check_names += [f"requests_balance.{c}" for c in catalogue.REQUEST_COLUMNS]
    out: list[ReportInput] = []
    years = rng.integers(2019, 2025, n)
    regions = [
        f"{p:02d}{c:02d}{k:02d}" for p in range(11, 66) for c in range(1, 8) for k in range(1, 9)
    ]
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
        for row, r in enumerate(idx):
            v = vals[row].tolist()
            b = blank[row].tolist()
            facts = [
                Fact(
                    c.table,
                    c.item,
                    c.column,
                    None if b[k] else v[k],
                    c.unit,
                    "" if b[k] else raws[v[k]],
                )
                for k, c in enumerate(cells)
            ]
            checks = [
                Check(name, True, f"{name}: {v[k % len(v)]} == {v[k % len(v)]}")
                for k, name in enumerate(check_names)
            ]
            if fail[row]:
                checks[0] = Check(check_names[0], False, "new.total=5 != 6 (difference -1)")
            year = int(years[r])
            result = ExtractResult(
                source=f"synthetic-{r}",
                format=fmt,
                meta=Meta(
                    title=f"{year}年政府信息公开工作年度报告",
                    agency=f"机关{r % 20_000:05d}",
                    year=year,
                ),
                facts=facts,
                checks=checks,
            )
            out.append(
                ReportInput(
                    result,
                    sha256=f"{r:064x}",
                    source_url=f"http://www.gov{r % 3000}.gov.cn/zfxxgk/nb/{year}/t{r}.html",
                    level="county",
                    region_code=regions[r % len(regions)],
                )
            )
    return out


def _peak_reset() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux)
    except OSError:
        pass


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*.parquet"))


def _queries(data: Path, label: str = "") -> None:
    """The five research queries, best of three each."""
    con = connect(data)
    try:
        for name, sql in QUERIES.items():
            times = []
            for _ in range(3):
                t = time.perf_counter()
                rows = con.sql(sql).fetchall()
                times.append(time.perf_counter() - t)
            flag = "ok" if min(times) < 1 else "SLOW"
            print(
                f"{label}query {name}: best {min(times):.3f}s first {times[0]:.3f}s  "
                f"{len(rows)} rows  {flag}"
            )
    finally:
        con.close()


def _first_load(inputs: list[ReportInput], data: Path, n_facts: int) -> None:
    """Load everything into an empty warehouse: speed, peak memory, size on disk."""
    base_rss = _rss_mb()
    _peak_reset()
    cpu = time.process_time()
    stats = load(inputs, data)
    cpu = time.process_time() - cpu
    peak = _peak_mb()
    print(
        f"load: {stats.seconds:.2f}s (CPU {cpu:.2f}s)  {n_facts / stats.seconds / 1e6:.2f} M facts/s  "
        f"{stats.reports_new:,} reports  {stats.files_written} files  "
        f"peak RSS {peak:,.0f} MB ({peak - base_rss:+,.0f} MB over the inputs)"
    )
    wh = data / "warehouse"
    sizes = {
        d.name: _size(d) for d in sorted(wh.iterdir()) if d.is_dir() and not d.name.startswith("_")
    }
    total = sum(sizes.values())
    print(
        f"parquet: {total / 1e6:.1f} MB ({total / n_facts:.2f} B/fact)  "
        + "  ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items())
    )


def _reloads(inputs: list[ReportInput], data: Path) -> None:
    """1,000 re-extracted reports (one changed value each) replaced, then everything unchanged."""
    for inp in inputs[:1000]:
        f = inp.result.facts[0]
        inp.result.facts[0] = Fact(f.table, f.item, f.column, 999, f.unit, "999")
    t = time.perf_counter()
    rs = load(inputs[:1000], data)
    print(
        f"replace 1,000 reports: {time.perf_counter() - t:.2f}s  "
        f"({rs.reports_replaced} replaced, {rs.files_rewritten} files rewritten)"
    )
    t = time.perf_counter()
    rs = load(inputs, data)
    print(
        f"reload all unchanged: {time.perf_counter() - t:.2f}s  ({rs.reports_unchanged:,} unchanged)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=100_000)
    ap.add_argument("--data", help="warehouse directory (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary warehouse")
    args = ap.parse_args()

    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="nianbao-bench-"))
    if data.exists() and args.data:
        shutil.rmtree(data)
    print(f"cpus {os.cpu_count()}  data {data}")

    t = time.perf_counter()
    gc.disable()
    inputs = synth(args.reports)
    gc.enable()
    gc.freeze()  # the synthetic objects are permanent: keep the collector off them
    n_facts = sum(len(i.result.facts) for i in inputs)
    print(
        f"synthetic: {len(inputs):,} reports, {n_facts:,} facts in {time.perf_counter() - t:.1f}s"
    )

    _first_load(inputs, data, n_facts)
    _queries(data)

    _reloads(inputs, data)
    t = time.perf_counter()
    optimize(data)
    print(
        f"nianbao optimize (what the nightly maintain() does about weekly): {time.perf_counter() - t:.2f}s"
    )
    _queries(data, "after optimize: ")
    del inputs
    gc.unfreeze()
    gc.collect()
    if not args.data and not args.keep:
        shutil.rmtree(data)


if __name__ == "__main__":
    main()
