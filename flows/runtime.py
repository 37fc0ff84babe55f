"""Process settings for batch runs (the CLI and the nightly flow).

Extraction allocates thousands of small objects per report (cells, facts, checks) and keeps
results until they are loaded, so CPython's default generation-0 threshold (700) triggers a
collection every few cells and repeatedly re-scans the growing heap: ~10 % of extraction time,
measured with benchmarks/extract.py.  A larger threshold keeps the collector but runs it less.
"""

from __future__ import annotations

import gc

BATCH_GC_THRESHOLD = (50_000, 20, 20)


def tune_gc() -> None:
    gc.set_threshold(*BATCH_GC_THRESHOLD)
