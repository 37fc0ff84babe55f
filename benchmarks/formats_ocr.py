"""OCR throughput: pages per second of extract/ocr.py on the committed table screenshots.

    python benchmarks/formats_ocr.py            # clean screenshots, 2 passes
    python benchmarks/formats_ocr.py --all      # degraded variants too

A "page" is one image: a table screenshot as made by tests/fixtures/make_ocr.py (the requests
table is ~1,500 x 1,800 px, about an A4 page at 150-200 dpi).  The model is loaded before
timing (once per process, ~0.3 s).  Target: >= 1 page/s on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from nianbao.extract import ocr

IMAGES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "ocr"


def bench_ocr(all_variants: bool = False, passes: int = 2) -> float:
    """OCR every fixture page ``passes`` times; print and return pages/s."""
    ok, why = ocr.ocr_available()
    if not ok:
        print(f"OCR unavailable: {why}")
        return 0.0
    pattern = "*.*" if all_variants else "*_clean.png"
    pages = [p.read_bytes() for p in sorted(IMAGES.glob(pattern)) if p.suffix in (".png", ".jpg")]
    ocr._engine()  # model load is not part of the per-page cost
    by_table: dict[str, list[float]] = {}
    names = [p.name for p in sorted(IMAGES.glob(pattern)) if p.suffix in (".png", ".jpg")]
    start = time.perf_counter()
    for _ in range(passes):
        for name, data in zip(names, pages, strict=True):
            t0 = time.perf_counter()
            ocr.ocr_page_image(data, source=name)
            by_table.setdefault(name.split("_")[1], []).append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    n = len(pages) * passes
    rate = n / elapsed
    print(f"OCR: {n} pages in {elapsed:.1f} s = {rate:.2f} pages/s (target >= 1)")
    for table, times in sorted(by_table.items()):
        print(f"  {table:9s} {len(times):3d} pages, {sum(times) / len(times):.2f} s/page")
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--all", action="store_true", help="include the degraded variants")
    ap.add_argument("--passes", type=int, default=2)
    args = ap.parse_args()
    bench_ocr(args.all, args.passes)


if __name__ == "__main__":
    main()
