"""OCR from several threads and from forked worker processes gives the cells a plain sequential
read gives.

Why a fresh interpreter: the failure this guards against (``ValueError: cv2.__spec__ is None``
in the nightly flow) happens only while OpenCV is imported for the *first* time, when two
threads reach that import together.  In the pytest process cv2 is long imported, so the reads
run in a subprocess that has not touched cv2, ONNX Runtime or the OCR module before its eight
threads are released at once through a barrier.  The same subprocess then forks a process pool
after its own engine is loaded and reads some images there: the hardest case for a worker
process (ONNX Runtime is not fork-safe, and destroying an inherited session hung for good).
The nightly flow's workers come from a fork server that has not loaded OCR, an easier case.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ocr = pytest.importorskip("nianbao.extract.ocr")
_ok, _why = ocr.ocr_available()
pytestmark = pytest.mark.skipif(not _ok, reason=f"OCR unavailable: {_why}")

IMAGES = Path(__file__).parent / "fixtures" / "ocr"
# Eight different screenshots, two of them JPEG (the measured failure was a JPG attachment);
# small tables, so the whole run stays ~10-20 s on two cores.
NAMES = [
    "000_active_clean.png",
    "001_active_clean.png",
    "002_active_clean.png",
    "003_active_clean.png",
    "000_appeals_clean.png",
    "001_appeals_clean.png",
    "002_active_jpeg.jpg",
    "003_appeals_150dpi.jpg",
]
FORKED = 4  # images read again in forked workers

SCRIPT = r"""
import json, multiprocessing, sys, threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

paths = sys.argv[2:]
fresh = not any(m in sys.modules for m in ("cv2", "onnxruntime", "nianbao.extract.ocr"))
from nianbao.extract.readers import read_bytes  # the nightly flow's entry point

def cells(path):
    try:
        doc = read_bytes(open(path, "rb").read(), source=path)
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    return [b.rows for b in doc.blocks if hasattr(b, "rows")]

start = threading.Barrier(len(paths))

def together(path):
    start.wait()
    return cells(path)

with ThreadPoolExecutor(len(paths)) as pool:
    threads = list(pool.map(together, paths))
sequential = [cells(p) for p in paths]
n = int(sys.argv[1])
with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
    forked = list(pool.map(cells, paths[:n], timeout=120))
print(json.dumps({"fresh": fresh, "threads": threads, "sequential": sequential, "forked": forked}))
"""


@pytest.fixture(scope="module")
def reads() -> dict:
    paths = [str(IMAGES / n) for n in NAMES]
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(FORKED), *paths],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.splitlines()[-1])


def test_first_import_happens_in_the_threads(reads):
    assert reads["fresh"]


def test_every_sequential_read_finds_its_table(reads):
    for name, got in zip(NAMES, reads["sequential"], strict=True):
        assert isinstance(got, list) and got, (name, got)
        assert any(c.strip() for table in got for row in table for c in row), name


def test_threads_read_the_same_cells(reads):
    for name, threaded, plain in zip(NAMES, reads["threads"], reads["sequential"], strict=True):
        assert threaded == plain, (name, threaded if isinstance(threaded, str) else "cells differ")


def test_forked_workers_read_the_same_cells(reads):
    """Forked after the parent loaded its engine: no hang (bounded by the pool's timeout), and
    the same cells."""
    assert reads["forked"] == reads["sequential"][:FORKED]
