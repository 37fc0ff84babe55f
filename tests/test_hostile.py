"""A batch of hostile and broken files beside a good report: the batch finishes, the good report
keeps all its facts, every refusal names its reason, and the whole process tree (CLI, fork
server, extraction workers) stays under 1.5 GB resident.

The files are built by tests/hostile_files.py at test time (nothing large is committed).  Each
once hung or blew up a run: see issue 9's table.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import hostile_files
import psutil
import pytest
from conftest import SEED_FILES
from nianbao.flows.warehouse import connect

PEAK_TREE_RSS = 1536 * 1024 * 1024
# Generous bound against a hang (not a speed target): every refusal here takes seconds.
RUN_BOUND_S = 600

# What each hostile file must be refused as (the reason prefix in `ingest`'s report).
EXPECTED = {
    "merged_bomb.xlsx": "limit:",
    "dimension_bomb.xlsx": "not_a_report",  # a declared extent only: nothing to refuse
    "huge_page.pdf": "limit:",
    "content_bomb.pdf": "limit:",
    "lying_zip.docx": "limit:",
    "random.bin": "not_a_report",
    "pipe.pdf": "unreadable",
    "zero.pdf": "unreadable",
}


class TreeMemory:
    """Samples the summed resident size of a process and all its descendants every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            self.peak = max(self.peak, total)


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("hostile")
    files = [make(d) for make in hostile_files.ALL.values()]
    good = d / "good_report.txt"
    shutil.copy(SEED_FILES[0], good)
    # the good report in the middle of the batch, after the worst offenders
    return files[:4] + [good] + files[4:]


def test_hostile_batch_is_contained(hostile_batch: list[Path], tmp_path: Path) -> None:
    assert {p.name for p in hostile_batch} == set(EXPECTED) | {"good_report.txt"}
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "nianbao.flows.cli", "ingest", "--data", str(data)]
    started = time.monotonic()
    proc = subprocess.Popen(
        [*cmd, *map(str, hostile_batch)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    with TreeMemory(proc.pid) as memory:
        out, err = proc.communicate(timeout=RUN_BOUND_S)
    elapsed = time.monotonic() - started
    print(f"hostile batch: {elapsed:.1f} s, peak tree RSS {memory.peak / 2**20:.0f} MB")

    assert proc.returncode == 1, err  # some files failed, the run itself did not
    assert "Traceback" not in err
    assert "1 file(s) read: 1 new" in out
    skipped = _skipped(err)
    assert set(skipped) == set(EXPECTED), err
    for name, prefix in EXPECTED.items():
        assert skipped[name].startswith(prefix), (name, skipped[name])
    assert memory.peak <= PEAK_TREE_RSS, f"peak {memory.peak / 2**20:.0f} MB"

    con = connect(data)
    try:
        rows = con.execute("SELECT count(*), sum(n_facts) FROM reports").fetchone()
        values = con.execute("SELECT count(*) FROM facts WHERE value IS NOT NULL").fetchone()[0]
    finally:
        con.close()
    assert rows == (1, 200)
    assert values > 0


def _skipped(stderr: str) -> dict[str, str]:
    """``skipped /path/name: reason`` lines of `nianbao ingest` → {name: reason}."""
    out: dict[str, str] = {}
    for line in stderr.splitlines():
        if line.startswith("skipped "):
            path, _, why = line[len("skipped ") :].partition(": ")
            out[Path(path).name] = why
    return out
