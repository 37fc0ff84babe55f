"""Safety of the warehouse commands: CSV cells that must not run as spreadsheet formulas,
`nianbao sql` that can never write or reach outside the data directory, and file-system
errors (full disk, read-only mount, unwritable --to) as one actionable line."""

from __future__ import annotations

import csv
import errno
import io
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SEED_FILES
from nianbao.flows import warehouse
from nianbao.flows.cli import main
from nianbao.flows.csv_safety import escape_formulas
from nianbao.flows.warehouse import connect
from nianbao.flows.warehouse_store import Store
from nianbao.flows.warehouse_views import render

SEEDS = SEED_FILES
TEMPLATE = SEEDS[1]  # its first line is the title: "<agency>2024年政府信息公开工作年度报告"
TITLE_TAIL = "2024年政府信息公开工作年度报告"
FORMULA_AGENCIES = ['=HYPERLINK("http://x.example/","点击")', "+cmd", "-2+3 ", "@SUM(1)"]
NIANBAO = Path(sys.executable).parent / "nianbao"


def _report(agency: str, signed: bool = False) -> str:
    """The template report under another title; ``signed``: two cells printed as -4 and +12."""
    lines = TEMPLATE.read_text("utf-8").split("\n")
    lines[0] = agency + TITLE_TAIL
    if signed:  # the first two cells of 一、本年新收政府信息公开申请数量
        assert lines[65].startswith("一、本年新收") and lines[66] == lines[67] == "0 |"
        lines[66], lines[67] = "-4 |", "+12 |"
    return "\n".join(lines)


@pytest.fixture(scope="module")
def formulas(tmp_path_factory) -> Path:
    """A warehouse whose reports have formula-like titles and agencies, loaded by `ingest`."""
    src = tmp_path_factory.mktemp("formula_src")
    files = []
    for i, agency in enumerate(FORMULA_AGENCIES):
        f = src / f"r{i}.txt"
        f.write_text(_report(agency, signed=i == 0), "utf-8")
        files.append(str(f))
    data = tmp_path_factory.mktemp("formulas")
    assert main(["ingest", *files, "--data", str(data)]) == 0
    return data


def _read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nianbao: error: "), err
    assert "Traceback" not in err
    return lines[0]


# --- A: CSV cells that look like formulas -------------------------------------------------------


def test_escape_formulas_rule():
    cells = ["=1+1", "+cmd", "-2+3", "@SUM(1)", "\tx", "\rx", "-4", "+12", "3.5", "-4.5"]
    cells += ["-", "1e5", "ok", None, "标题"]
    t = pa.table({"s": cells, "n": pa.array([-4] * len(cells))})
    got = escape_formulas(t)
    assert got.column("s").to_pylist() == [
        *("'=1+1", "'+cmd", "'-2+3", "'@SUM(1)", "'\tx", "'\rx"),
        *("-4", "+12", "3.5", "-4.5"),  # plain numbers stay readable as numbers
        *("'-", "1e5", "ok", None, "标题"),
    ]
    assert got.column("n") == t.column("n") and got.schema == t.schema
    batch = t.to_batches()[0]
    assert escape_formulas(batch).column(0).to_pylist() == got.column("s").to_pylist()


def test_export_csv_escapes_formulas_parquet_keeps_the_raw_text(formulas, tmp_path, capsys):
    out = tmp_path / "csv"
    assert main(["export", "--to", str(out), "--data", str(formulas)]) == 0
    with open(out / "reports.csv", encoding="utf-8-sig", newline="") as f:
        reports = list(csv.DictReader(f))
    agencies = sorted(r["agency"] for r in reports)
    assert agencies == sorted("'" + a.strip() for a in FORMULA_AGENCIES)
    titles = {r["title"] for r in reports}
    assert '\'=HYPERLINK("http://x.example/","点击")' + TITLE_TAIL in titles
    assert all(t.startswith("'") for t in titles)
    with open(out / "facts.csv", encoding="utf-8-sig", newline="") as f:
        signed = {(r["raw"], r["value"], r["agency"]) for r in csv.DictReader(f) if r["raw"] != "0"}
    assert {(raw, value) for raw, value, _ in signed} == {("-4", "-4"), ("+12", "12")}
    assert {a for *_, a in signed} == {'\'=HYPERLINK("http://x.example/","点击")'}

    pq_dir = tmp_path / "pq"
    assert (
        main(["export", "--to", str(pq_dir), "--data", str(formulas), "--format", "parquet"]) == 0
    )
    raw_titles = set(pq.read_table(pq_dir / "reports.parquet").column("title").to_pylist())
    assert raw_titles == {a + TITLE_TAIL for a in FORMULA_AGENCIES}
    con = connect(formulas)  # the warehouse itself keeps the raw text too
    try:
        stored = {a for (a,) in con.sql("SELECT agency FROM reports").fetchall()}
    finally:
        con.close()
    assert stored == {a.strip() for a in FORMULA_AGENCIES}


def test_sql_csv_escapes_formulas(formulas, capsys):
    query = (
        "SELECT agency, -4 AS n, chr(9) || 'x' AS tab, chr(13) || 'y' AS cr, '+12' AS plus "
        "FROM reports ORDER BY agency"
    )
    assert main(["sql", query, "--data", str(formulas), "--csv"]) == 0
    rows = _read_csv(capsys.readouterr().out)
    assert [r["agency"] for r in rows] == sorted("'" + a.strip() for a in FORMULA_AGENCIES)
    assert {(r["n"], r["tab"], r["cr"], r["plus"]) for r in rows} == {("-4", "'\tx", "'\ry", "+12")}
    query = "SELECT raw FROM facts WHERE raw <> '0' ORDER BY raw"
    assert main(["sql", query, "--data", str(formulas), "--csv"]) == 0
    assert capsys.readouterr().out.split() == ["raw", "+12", "-4"]


# --- B: `nianbao sql` is read-only and stays inside the data directory --------------------------


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("seeded")
    assert main(["ingest", *map(str, SEEDS), "--data", str(data)]) == 0
    return data


REFUSED = [
    "DROP VIEW facts",
    "CREATE TABLE t AS SELECT 1",
    "COPY (SELECT 1 AS a) TO '{outside}/out.csv'",
    "COPY (SELECT 1 AS a) TO '{data}/warehouse/reports/_delta_log/00000000000000000099.json'",
    "EXPLAIN ANALYZE COPY (SELECT 1 AS a) TO '{data}/x.csv'",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_text('{outside}/secret.txt')",
    "INSTALL httpfs",
    "LOAD httpfs",
    "ATTACH '{outside}/other.duckdb' AS other",
    "ATTACH '{data}/other.duckdb' AS other",
    "SET enable_external_access = true",
    "PRAGMA import_database('{data}')",
]


@pytest.mark.parametrize("query", REFUSED)
def test_sql_refuses_writes_and_outside_files(seeded, tmp_path, capsys, query):
    (tmp_path / "secret.txt").write_text("secret")
    before = sorted(p.relative_to(seeded) for p in seeded.rglob("*"))
    q = query.format(data=seeded, outside=tmp_path)
    assert main(["sql", q, "--data", str(seeded), "--csv"]) == 2
    captured = capsys.readouterr()
    _one_error_line(captured.err)
    assert "secret" not in captured.out
    assert sorted(p.relative_to(seeded) for p in seeded.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.txt"]
    assert main(["sql", "SELECT count(*) AS n FROM facts", "--data", str(seeded), "--csv"]) == 0
    assert capsys.readouterr().out.split() == ["n", "1000"]


def test_allow_external_reads_outside_but_the_warehouse_stays_read_only(seeded, tmp_path, capsys):
    secret = tmp_path / "mine.txt"
    secret.write_text("hello")
    q = f"SELECT content FROM read_text('{secret}')"
    assert main(["sql", q, "--data", str(seeded), "--csv", "--allow-external"]) == 0
    assert capsys.readouterr().out.split() == ["content", "hello"]
    for q in ("DROP VIEW facts", "CREATE TABLE t AS SELECT 1"):
        assert main(["sql", q, "--data", str(seeded), "--allow-external"]) == 2
        assert "read-only" in _one_error_line(capsys.readouterr().err)
    assert main(["sql", "SELECT count(*) AS n FROM facts", "--data", str(seeded), "--csv"]) == 0
    assert capsys.readouterr().out.split() == ["n", "1000"]


def test_locking_one_connection_down_leaves_the_others_alone(seeded, tmp_path):
    (tmp_path / "mine.txt").write_text("x")
    locked = connect(seeded, external_access=False)
    free = connect(seeded)
    try:
        with pytest.raises(duckdb.PermissionException):
            locked.sql(f"SELECT * FROM read_text('{tmp_path}/mine.txt')").fetchall()
        assert free.sql(f"SELECT content FROM read_text('{tmp_path}/mine.txt')").fetchall() == [
            ("x",)
        ]
        for con in (locked, free):
            with pytest.raises(duckdb.Error, match="read-only"):
                con.execute("CREATE TABLE t AS SELECT 1")
    finally:
        locked.close()
        free.close()


@pytest.fixture
def held(seeded):
    """Another process holding nianbao.duckdb open for writing (a plain `duckdb` session)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(seeded / 'nianbao.duckdb')!r}); "
            "print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield seeded
    finally:
        holder.kill()
        holder.wait()


def test_busy_file_still_answers_read_only(held, tmp_path, capsys):
    assert main(["sql", "SELECT count(*) AS n FROM facts", "--data", str(held), "--csv"]) == 0
    assert capsys.readouterr().out.split() == ["n", "1000"]
    for q in ("DROP VIEW facts", f"COPY (SELECT 1) TO '{tmp_path}/x.csv'"):
        assert main(["sql", q, "--data", str(held)]) == 2
        _one_error_line(capsys.readouterr().err)
    assert main(["sql", "DROP VIEW facts", "--data", str(held), "--allow-external"]) == 2
    assert "read-only" in _one_error_line(capsys.readouterr().err)
    con = connect(held)  # the Python API: a read-only snapshot, never a writable fallback
    try:
        for statement in ("DROP VIEW facts", "CREATE TABLE t AS SELECT 1", "CREATE VIEW v AS 1"):
            with pytest.raises(duckdb.Error):
                con.execute(statement)
        assert con.sql("SELECT count(*) FROM facts").fetchall() == [(1000,)]
    finally:
        con.close()


# --- C: errors a person can act on --------------------------------------------------------------


def test_committed_load_survives_a_failed_view_step_and_sql_repairs_it(
    tmp_path, capsys, monkeypatch
):
    data = tmp_path / "d"
    assert main(["ingest", str(SEEDS[0]), "--data", str(data)]) == 0
    capsys.readouterr()

    def full_disk(*args, **kwargs):
        raise duckdb.IOException(
            f'IO Error: Could not write file "{data}/nianbao.duckdb": No space left on device'
        )

    with monkeypatch.context() as m:
        m.setattr(warehouse, "apply_views", full_disk)
        assert main(["ingest", *map(str, SEEDS[1:]), "--data", str(data)]) == 0
    captured = capsys.readouterr()
    assert "4 new" in captured.out and "version 1" in captured.out
    note = captured.err.strip()
    assert note.startswith("note: committed version 1; views not refreshed:")
    assert "No space left on device" in note and "Traceback" not in note
    assert Store(data / "warehouse").snapshot().version == 1

    def stored_facts() -> int:
        plain = duckdb.connect(str(data / "nianbao.duckdb"), read_only=True)
        try:
            return plain.sql("SELECT count(*) FROM facts").fetchall()[0][0]
        finally:
            plain.close()

    assert stored_facts() == 200  # the file still holds version 0's views
    assert main(["sql", "SELECT count(*) AS n FROM facts", "--data", str(data), "--csv"]) == 0
    assert capsys.readouterr().out.split() == ["n", "1000"]
    assert stored_facts() == 1000  # repaired by that command
    plain = duckdb.connect(str(data / "nianbao.duckdb"), read_only=True)
    try:
        assert plain.sql("SELECT views_key FROM warehouse_info").fetchall() == [(render(data)[1],)]
    finally:
        plain.close()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "No space left on device"),
        (errno.EROFS, "Read-only file system"),
        (errno.EACCES, "Permission denied"),
        (errno.EDQUOT, "quota"),
    ],
)
def test_write_errors_are_one_line(tmp_path, capsys, monkeypatch, code, words):
    def fail(self, *args, **kwargs):
        raise OSError(code, f"Error writing bytes to file. Detail: [errno {code}]")

    monkeypatch.setattr(Store, "_write", fail)
    data = tmp_path / "d"
    assert main(["ingest", str(SEEDS[0]), "--data", str(data)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert words in line and str(data) in line  # no file name: the data directory is named


def test_unwritable_export_target_is_one_line(seeded, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for to, words in ((blocker / "sub", "Not a directory"), (blocker, "File exists")):
        assert main(["export", "--to", str(to), "--data", str(seeded)]) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert words in line and str(blocker) in line


def test_unexpected_errors_keep_their_traceback(tmp_path, monkeypatch):
    def bug(self, *args, **kwargs):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(Store, "_write", bug)
    with pytest.raises(OSError, match="Input/output"):
        main(["ingest", str(SEEDS[0]), "--data", str(tmp_path / "d")])


# --- C, for real: a tiny full tmpfs and a read-only mount (private mount namespace) -------------


def _can_mount(tmp_path: Path) -> bool:
    if shutil.which("unshare") is None or not NIANBAO.exists():
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    r = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {probe}"],
        capture_output=True,
    )
    return r.returncode == 0


DRIVER = textwrap.dedent(
    """
    import json, subprocess, sys
    nianbao, mnt, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
    out = {}
    def run(name, *args):
        r = subprocess.run([nianbao, *args], capture_output=True, text=True)
        out[name] = {"rc": r.returncode, "out": r.stdout, "err": r.stderr}
    def sh(cmd):
        subprocess.run(["sh", "-c", cmd], check=True)
    data = f"{mnt}/ro/data"
    sh(f"mkdir -p {mnt}/ro {mnt}/full && mount -t tmpfs -o size=16m tmpfs {mnt}/ro")
    run("ingest", "ingest", *seeds, "--data", data)
    sh(f"mount -o remount,ro {mnt}/ro")
    run("ingest_ro", "ingest", "--force", *seeds, "--data", data)
    run("sql_ro", "sql", "SELECT count(*) AS n FROM facts", "--data", data, "--csv")
    run("export_ro", "export", "--to", f"{mnt}/ro/exp", "--data", data)
    run("export_pq_ro", "export", "--to", f"{mnt}/ro/data", "--data", data, "--format", "parquet")
    sh(f"mount -o remount,rw {mnt}/ro && rm {data}/nianbao.duckdb && mount -o remount,ro {mnt}/ro")
    run("sql_ro_no_views", "sql", "SELECT count(*) AS n FROM facts", "--data", data, "--csv")
    sh(f"mount -t tmpfs -o size=256k tmpfs {mnt}/full")
    sh(f"dd if=/dev/zero of={mnt}/full/filler bs=4k 2>/dev/null || true")
    run("ingest_full", "ingest", *seeds, "--data", f"{mnt}/full/data")
    run("export_full", "export", "--to", f"{mnt}/full/exp", "--data", data)
    print(json.dumps(out))
    """
)


def test_real_read_only_mount_and_full_disk(tmp_path):
    if not _can_mount(tmp_path):
        pytest.skip("cannot mount a tmpfs in a private mount namespace here (needs root/unshare)")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(
        ["unshare", "-m", sys.executable, "-c", DRIVER, str(NIANBAO), str(mnt), *map(str, SEEDS)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["ingest"]["rc"] == 0, res["ingest"]
    assert res["ingest_ro"]["rc"] == 2
    assert "Read-only file system" in _one_error_line(res["ingest_ro"]["err"])
    for name in ("sql_ro", "sql_ro_no_views"):  # the second from a private snapshot
        assert res[name]["rc"] == 0 and res[name]["out"].split() == ["n", "1000"], res[name]
    for name in ("export_ro", "export_pq_ro"):
        assert res[name]["rc"] == 2, res[name]
        assert "Read-only file system" in _one_error_line(res[name]["err"])
    assert res["ingest_full"]["rc"] == 2, res["ingest_full"]
    assert "No space left on device" in _one_error_line(res["ingest_full"]["err"])
    assert res["export_full"]["rc"] == 2, res["export_full"]
    assert "No space left on device" in _one_error_line(res["export_full"]["err"])
    assert not any(mnt.iterdir()) or all(not any(p.iterdir()) for p in mnt.iterdir())
