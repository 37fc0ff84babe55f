"""Crash safety: a loader killed (SIGKILL) at any point leaves the previous complete state.

A subprocess loads state B over state A.  ``NIANBAO_WAREHOUSE_FAULT`` makes it kill itself at
a named point between two writes; the random test kills it from outside at arbitrary moments.
Afterwards the views must show exactly A (killed before the reports commit) or exactly B
(after it), through ``connect()`` and through the stored views of a plain DuckDB session,
with no partial report and no duplicate row; the next load must then roll back the dead
loader's table versions and complete B, and a vacuum must leave only live files on disk.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from nianbao.flows.warehouse import connect, load
from nianbao.flows.warehouse_maintain import optimize
from nianbao.flows.warehouse_store import FAULT_ENV

TESTS = Path(__file__).parent

# Builds state A (n reports) or B (A with every third report changed, plus new reports).
DRIVER = """
import sys
sys.path.insert(0, {tests!r})
from test_warehouse_crash import state_inputs
from nianbao.flows.warehouse import load
stats = load(state_inputs({which!r}, {n}), {data!r}, chunk_reports={chunk})
print("done", stats.version, flush=True)
"""


def state_inputs(which: str, n: int):
    """A: n reports.  B and C: half as many again, every third one changed (by +100 / +200)."""
    from test_warehouse import make_result, report_input

    out = []
    total = n if which == "A" else n + n // 2
    for k in range(total):
        bump = {"A": 0, "B": 100, "C": 200}[which] if k % 3 == 0 else 0
        result = make_result(
            "2021" if k % 4 else "2019",
            2019 + k % 5,
            f"机关{k}",
            {"requests.new.total": k + bump, "requests.granted.total": 1},
        )
        out.append(report_input(result, f"http://www.t{k}.gov.cn/nb.html", f"{11 + k % 3}0100"))
    return out


def run_driver(data: Path, which: str, n: int, chunk: int, fault: str | None = None):
    env = dict(os.environ)
    env.pop(FAULT_ENV, None)
    if fault:
        env[FAULT_ENV] = fault
    code = DRIVER.format(tests=str(TESTS), which=which, n=n, data=str(data), chunk=chunk)
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def state(con: duckdb.DuckDBPyConnection) -> tuple:
    """What a reader sees, after asserting there is no partial report and no duplicate."""
    dup = con.sql(
        "SELECT report_id, code, count(*) FROM facts GROUP BY ALL HAVING count(*) > 1"
    ).fetchall()
    assert dup == []
    partial = con.sql(
        "SELECT r.report_id FROM reports r LEFT JOIN (SELECT report_id, count(*) AS n "
        "FROM stored_facts GROUP BY 1) f USING (report_id) WHERE coalesce(f.n, 0) <> r.n_facts"
    ).fetchall()
    assert partial == []
    assert con.sql("SELECT count(*) = count(DISTINCT report_id) FROM reports").fetchall() == [
        (True,)
    ]
    assert (
        con.sql("SELECT count(*) FROM stored_report_values").fetchall()
        == con.sql("SELECT count(*) FROM reports").fetchall()
    )
    return (
        con.sql("SELECT report_id, year, n_facts FROM reports ORDER BY 1").fetchall(),
        con.sql("SELECT report_id, new, granted FROM report_summary ORDER BY 1").fetchall(),
        con.sql("SELECT sum(value), count(*) FROM facts").fetchall(),
        con.sql("SELECT count(*) FROM checks").fetchall(),
    )


def seen_by_connect(data: Path) -> tuple:
    con = connect(data)
    try:
        return state(con)
    finally:
        con.close()


def seen_by_plain_duckdb(data: Path) -> tuple:
    con = duckdb.connect(str(data / "nianbao.duckdb"), read_only=True)
    try:
        return state(con)
    finally:
        con.close()


N, CHUNK = 12, 5


@pytest.fixture(scope="module")
def expected(tmp_path_factory) -> dict[str, tuple]:
    a = tmp_path_factory.mktemp("a")
    load(state_inputs("A", N), a, chunk_reports=CHUNK)
    b = tmp_path_factory.mktemp("b")
    load(state_inputs("A", N), b, chunk_reports=CHUNK)
    load(state_inputs("B", N), b, chunk_reports=CHUNK)
    out = {"A": seen_by_connect(a), "B": seen_by_connect(b)}
    assert out["A"] != out["B"]
    return out


def assert_debris_cleared(data: Path) -> None:
    """A vacuum without retention removes every file no current version refers to (the
    killed loader's uncommitted and rolled-back files): what stays is exactly the live set."""
    from test_warehouse import live_files

    optimize(data, retention=timedelta(0))
    live = {p for files in live_files(data).values() for p in files}
    on_disk = {
        p.as_posix()
        for t in ("reports", "facts", "checks", "report_values")
        for p in (data / "warehouse" / t).rglob("*.parquet")
    }
    assert on_disk == live
    assert seen_by_connect(data) == seen_by_plain_duckdb(data)


# before the reports commit the old state must show; from it on, the new one
FAULTS = [
    ("facts_committed", "A"),
    ("checks_committed", "A"),
    ("report_values_committed", "A"),
    ("committed", "B"),
    ("views_applied", "B"),
]


@pytest.mark.parametrize(("point", "after"), FAULTS)
def test_kill_at_each_write_point(tmp_path, expected, point, after):
    load(state_inputs("A", N), tmp_path, chunk_reports=CHUNK)
    # a forced reload: B then replaces rows of reports written in two versions
    load(state_inputs("A", N), tmp_path, chunk_reports=CHUNK, force=True)
    proc = run_driver(tmp_path, "B", N, CHUNK, fault=point)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err
    assert seen_by_connect(tmp_path) == expected[after]
    # the stored views (a plain `duckdb` session) name only files that still exist
    assert seen_by_plain_duckdb(tmp_path) in (expected["A"], expected["B"])
    # the next load rolls back the dead loader's versions and completes the job
    load(state_inputs("B", N), tmp_path, chunk_reports=CHUNK)
    assert seen_by_connect(tmp_path) == expected["B"]
    assert seen_by_plain_duckdb(tmp_path) == expected["B"]
    assert_debris_cleared(tmp_path)


def test_kill_at_random_moments(tmp_path):
    """SIGKILL from outside at arbitrary instants, alternating loads B → C → B … over A."""
    n, chunk = 100, 25
    states = {}
    for which in ("A", "B", "C"):  # the complete states, each loaded without interruption
        ref = tmp_path / f"ref-{which}"
        load(state_inputs("A", n), ref, chunk_reports=chunk)
        if which != "A":
            load(state_inputs(which, n), ref, chunk_reports=chunk)
        states[which] = seen_by_connect(ref)
    # how long one uninterrupted load takes in a subprocess, to spread the kills over it
    timing = tmp_path / "timing"
    load(state_inputs("A", n), timing, chunk_reports=chunk)
    started = time.perf_counter()
    assert run_driver(timing, "B", n, chunk).wait(timeout=300) == 0
    duration = time.perf_counter() - started

    data = tmp_path / "data"
    load(state_inputs("A", n), data, chunk_reports=chunk)
    current, rng, killed = "A", random.Random(20260523), {"before": 0, "after": 0}
    for _ in range(5):
        target = "C" if current == "B" else "B"
        proc = run_driver(data, target, n, chunk)
        time.sleep(rng.uniform(0.1, duration * 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=300)
        seen = seen_by_connect(data)
        assert seen in (states[current], states[target])
        assert seen_by_plain_duckdb(data) in states.values()
        if seen == states[target] and proc.returncode == -signal.SIGKILL:
            killed["after"] += 1
        elif seen == states[current]:
            killed["before"] += 1
        current = target if seen == states[target] else current
    target = "C" if current == "B" else "B"
    load(state_inputs(target, n), data, chunk_reports=chunk)
    assert seen_by_connect(data) == states[target] == seen_by_plain_duckdb(data)
    assert_debris_cleared(data)
    print("kills landing before/after the commit:", killed)
    assert killed["before"] > 0  # the kills did land mid-load
