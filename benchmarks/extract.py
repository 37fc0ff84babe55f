"""Extraction throughput on generated reports: nianbao on text dumps and on HTML pages, against
``pandas.read_html`` (which only parses the tables) and a bare ``lxml.html.fromstring`` (the
floor) on the very same HTML files.

    python benchmarks/extract.py                 # 1,000 reports, prints figures and ratios
    python benchmarks/extract.py --n 3000 --repeat 3 --out data/tmp/bench

Reports come from ``nianbao.demo.synth.random_report`` (3 in 4 in the 2021 format), each
rendered once as a text dump and once as an HTML page, cycling through every text style and
every real-portal markup.  Files are written to disk (a temporary folder unless ``--out``) and
read back; timing covers parsing and extraction of the bytes in memory, not disk I/O.  Target:
full HTML extraction faster than ``pandas.read_html``.
"""

from __future__ import annotations

import argparse
import gc
import io
import random
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pandas as pd
from nianbao.core.document import DocumentError
from nianbao.demo.synth import HTML_MARKUPS, TEXT_STYLES, SynthReport, random_report, render
from nianbao.extract.readers import read_bytes
from nianbao.transform.report import extract_document
from nianbao.transform.result import ExtractResult


def generate(n: int, seed: int, out: Path) -> tuple[list[SynthReport], list[Path], list[Path]]:
    """``n`` random reports, each written as a text dump and as an HTML page under ``out``."""
    rng = random.Random(seed)
    reports: list[SynthReport] = []
    texts: list[Path] = []
    pages: list[Path] = []
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        report = random_report(rng, "2021" if rng.random() < 0.75 else "2019")
        style = TEXT_STYLES[i % len(TEXT_STYLES)]
        markup = HTML_MARKUPS[i % len(HTML_MARKUPS)]
        t = out / f"{i:05d}.{style}.txt"
        h = out / f"{i:05d}.{markup}.html"
        t.write_bytes(render(report, style))
        h.write_bytes(render(report, markup))
        reports.append(report)
        texts.append(t)
        pages.append(h)
    return reports, texts, pages


def full_extraction(data: bytes) -> ExtractResult | None:
    try:
        return extract_document(read_bytes(data))
    except DocumentError:
        return None


def pandas_tables(data: bytes) -> list[pd.DataFrame]:
    try:
        return pd.read_html(io.BytesIO(data), flavor="lxml")
    except ValueError:  # "No tables found"
        return []


def bare_lxml(data: bytes) -> object:
    return lxml.html.fromstring(data)


def timed(fn: Callable[[bytes], object], docs: list[bytes], repeat: int) -> tuple[float, list]:
    """Best wall time over ``repeat`` passes, and the results of the last pass."""
    best = float("inf")
    results: list = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        results = [fn(d) for d in docs]
        best = min(best, time.perf_counter() - t0)
    return best, results


def exact(report: SynthReport, result: ExtractResult | None) -> bool:
    if result is None or result.format != report.fmt:
        return False
    got = sorted((f.table, f.item, f.column, f.value, f.unit, f.raw) for f in result.facts)
    return got == sorted(report.expected_facts())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="number of reports (default 1000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1, help="passes per measurement; best is kept")
    ap.add_argument("--out", type=Path, help="keep the generated files here")
    ap.add_argument(
        "--gc",
        choices=("batch", "default"),
        default="batch",
        help="garbage-collector thresholds for ALL measurements: 'batch' = what the nianbao "
        "CLI and flow run with (flows/runtime.py), 'default' = CPython's",
    )
    args = ap.parse_args(argv)
    if args.gc == "batch":
        from nianbao.flows.runtime import tune_gc

        tune_gc()
    print(
        f"gc thresholds {__import__('gc').get_threshold()} ({args.gc}), same for every measurement"
    )
    warnings.simplefilter("ignore")  # pandas FutureWarnings on literal HTML are not the point

    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp:
        out = args.out or Path(tmp)
        t0 = time.perf_counter()
        reports, text_files, html_files = generate(args.n, args.seed, out)
        gen_s = time.perf_counter() - t0
        texts = [p.read_bytes() for p in text_files]
        pages = [p.read_bytes() for p in html_files]

    n = len(reports)
    fmts = Counter(r.fmt for r in reports)
    print(
        f"{n} reports ({', '.join(f'{k}: {v}' for k, v in sorted(fmts.items()))}) generated in "
        f"{gen_s:.1f} s; text {sum(map(len, texts)) / n / 1024:.1f} KiB/report avg, "
        f"HTML {sum(map(len, pages)) / n / 1024:.1f} KiB/report avg"
    )
    print(f"text styles: {', '.join(TEXT_STYLES)}")
    print(f"HTML markups: {', '.join(HTML_MARKUPS)}")

    t_text, r_text = timed(full_extraction, texts, args.repeat)
    t_html, r_html = timed(full_extraction, pages, args.repeat)
    t_pd, r_pd = timed(pandas_tables, pages, args.repeat)
    t_lx, _ = timed(bare_lxml, pages, args.repeat)

    ok_text = sum(exact(r, x) for r, x in zip(reports, r_text, strict=True))
    ok_html = sum(exact(r, x) for r, x in zip(reports, r_html, strict=True))
    n_tables = sum(len(x) for x in r_pd)

    def rate(t: float) -> float:
        return n / t

    print()
    print(f"{'measurement':44s} {'reports/s':>10s} {'ms/report':>10s}")
    rows = [
        (f"text: full extraction (exact {ok_text}/{n})", t_text),
        (f"HTML: full extraction (exact {ok_html}/{n})", t_html),
        (f"HTML: pandas.read_html ({n_tables} tables)", t_pd),
        ("HTML: lxml.html.fromstring (floor)", t_lx),
    ]
    for label, t in rows:
        print(f"{label:44s} {rate(t):10.1f} {1000 * t / n:10.2f}")
    print()
    speedup = t_pd / t_html
    print(
        f"full HTML extraction vs pandas.read_html : {speedup:.2f}x faster "
        + ("(target met)" if speedup > 1 else "(TARGET MISSED)")
    )
    print(f"full HTML extraction vs bare lxml parse  : {t_html / t_lx:.2f}x the floor's time")
    print(f"pandas.read_html vs bare lxml parse      : {t_pd / t_lx:.2f}x the floor's time")
    print(f"text vs HTML full extraction             : {t_html / t_text:.2f}x faster on text")
    return 0 if speedup > 1 else 1


if __name__ == "__main__":
    sys.exit(main())
