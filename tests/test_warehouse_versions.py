"""Time travel: every load is a warehouse version that can be read back, through the Python
API (``connect(as_of=…)``) and the CLI (``nianbao sql --as-of``); ``warehouse_versions``
lists them; ``nianbao optimize`` compacts without changing what any version shows."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from nianbao.flows.cli import main
from nianbao.flows.warehouse import connect, load
from test_warehouse import live_files, make_result, report_input

URL = "http://www.x.gov.cn/nb/2022/t1.html"
OTHER = "http://www.x.gov.cn/nb/2022/t2.html"


def _new(data, **kw) -> float:
    con = connect(data, **kw)
    try:
        return con.sql("SELECT sum(new) FROM report_summary").fetchall()[0][0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """Version 0: two reports (new = 1 + 5); version 1: the first one changed (new = 7)."""
    data = tmp_path_factory.mktemp("versions")
    first = load(
        [
            report_input(make_result(values={"requests.new.total": 1}), URL, "110105"),
            report_input(make_result(agency="其他", values={"requests.new.total": 5}), OTHER),
        ],
        data,
    )
    time.sleep(0.05)
    between = datetime.now(UTC)
    time.sleep(0.05)
    changed = report_input(make_result(values={"requests.new.total": 7}), URL, "110105")
    second = load([changed], data)
    again = load([changed], data)  # unchanged: no new version
    assert (first.version, second.version, again.version) == (0, 1, 1)
    assert second.reports_replaced == 1 and again.reports_unchanged == 1
    return data, between


def test_connect_as_of_each_version(versions):
    data, between = versions
    assert _new(data) == 12.0
    assert _new(data, as_of=1) == 12.0
    assert _new(data, as_of=0) == 6.0
    assert _new(data, as_of=between) == 6.0  # the last version committed by then
    assert _new(data, as_of=between.isoformat()) == 6.0
    con = connect(data, as_of=0)
    try:
        assert con.sql("SELECT version FROM warehouse_info").fetchall() == [(0,)]
        assert con.sql("SELECT count(*) FROM facts").fetchall() == [(400,)]  # no duplicates
        with pytest.raises(Exception, match="read-only"):
            con.execute("CREATE TABLE t AS SELECT 1")
    finally:
        con.close()
    with pytest.raises(ValueError, match="no warehouse version 7"):
        connect(data, as_of=7)


def test_warehouse_versions_view(versions):
    data, _ = versions
    con = connect(data)
    try:
        rows = con.sql(
            "SELECT version, operation, reports_written, facts_version, committed_at "
            "FROM warehouse_versions ORDER BY version"
        ).fetchall()
    finally:
        con.close()
    assert [r[:4] for r in rows] == [(0, "load", 2, 0), (1, "load", 1, 1)]
    assert rows[0][4] <= rows[1][4] <= datetime.now(UTC)


def test_sql_as_of_on_the_command_line(versions, capsys):
    data, between = versions
    query = "SELECT sum(new) AS n FROM report_summary"
    for as_of, want in (("0", "6.0"), ("1", "12.0"), (between.isoformat(), "6.0")):
        assert main(["sql", query, "--data", str(data), "--csv", "--as-of", as_of]) == 0
        assert capsys.readouterr().out.split() == ["n", want]
    for bad in ("9", "yesterday", "1999-01-01T00:00"):
        assert main(["sql", query, "--data", str(data), "--as-of", bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("nianbao: error: "), err


def test_optimize_keeps_every_version_readable(versions, tmp_path, capsys):
    data, _ = versions
    third = report_input(make_result(agency="新", values={"requests.new.total": 2}), URL + "?3")
    assert load([third], data).version == 2  # only new: appended as files of their own
    before = {v: _new(data, as_of=v) for v in (0, 1, 2)}
    assert all(len(files) == 2 for files in live_files(data).values())
    assert main(["optimize", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "facts: 2 files compacted into 1" in out
    assert all(len(files) == 1 for files in live_files(data).values())
    assert {v: _new(data, as_of=v) for v in (0, 1, 2)} == before  # retention keeps old files
    assert _new(data) == before[2] == 14.0
    con = connect(data)
    try:
        ops = con.sql("SELECT operation FROM warehouse_versions ORDER BY version").fetchall()
    finally:
        con.close()
    assert [o for (o,) in ops][:3] == ["load"] * 3 and "optimize" in {o for (o,) in ops}
    assert main(["optimize", "--data", str(data), "--retention-days", "-1"]) == 2


def test_maintain_optimizes_only_when_due(tmp_path):
    """The nightly call: nothing on a fresh warehouse, a compaction once a week has passed."""
    from datetime import timedelta

    from nianbao.flows.warehouse_maintain import due, maintain

    for k in range(2):
        url = f"http://www.x.gov.cn/nb/t{k}.html"
        load([report_input(make_result(values={"requests.new.total": k}), url)], tmp_path)
    assert maintain(tmp_path) == [] and due(tmp_path) == []
    later = datetime.now(UTC) + timedelta(days=8)
    tables = {"facts", "checks", "report_values", "reports"}
    assert set(due(tmp_path, now=later)) == tables
    done = maintain(tmp_path, now=later)
    assert {m.table for m in done if m.files_removed} == tables
    assert due(tmp_path, now=later) == []  # compacted: nothing due any more
    assert all(len(files) == 1 for files in live_files(tmp_path).values())
    assert _new(tmp_path) == 1.0 and _new(tmp_path, as_of=1) == 1.0


def test_a_warehouse_from_before_the_region_columns_loads_and_queries(tmp_path, monkeypatch):
    """reports written without the region columns (as before them): the views read them as
    NULL (province_code from region_code), and the next load merges the columns in."""
    import pyarrow as pa
    from nianbao.flows import warehouse_build
    from nianbao.flows.warehouse_maintain import optimize

    region_columns = {
        "province_code",
        "province",
        "city_code",
        "city",
        "county_code",
        "county",
        "region_source",
        "region_confidence",
    }
    full = warehouse_build.REPORTS_SCHEMA
    old = pa.schema([f for f in full if f.name not in region_columns])
    monkeypatch.setattr(warehouse_build, "REPORTS_SCHEMA", old)
    load([report_input(make_result(values={"requests.new.total": 1}), URL, "110105")], tmp_path)
    load(
        [report_input(make_result(agency="乙", values={"requests.new.total": 2}), OTHER)], tmp_path
    )
    monkeypatch.setattr(warehouse_build, "REPORTS_SCHEMA", full)

    query = (
        "SELECT region_code, province_code, province, county, region_source "
        "FROM reports ORDER BY region_code NULLS LAST"
    )
    con = connect(tmp_path)
    try:
        assert con.sql(query).fetchall() == [
            ("110105", "110000", None, None, None),
            (None, None, None, None, None),
        ]
    finally:
        con.close()
    third = report_input(make_result(agency="丙", values={"requests.new.total": 4}), URL + "?3")
    changed = report_input(make_result(values={"requests.new.total": 8}), URL, "320813")
    stats = load([third, changed], tmp_path)  # a new report and one replaced in an old file
    assert (stats.reports_new, stats.reports_replaced, stats.reports_unchanged) == (1, 1, 0)
    optimize(tmp_path)
    for as_of in (None, 1, 2):
        con = connect(tmp_path, as_of=as_of)
        try:
            got = con.sql(query).fetchall()
            new = con.sql("SELECT sum(new) FROM report_summary").fetchall()[0][0]
        finally:
            con.close()
        if as_of == 1:
            assert got[0] == ("110105", "110000", None, None, None) and new == 3.0
        else:
            assert got == [
                ("320813", "320000", "江苏省", "洪泽区", "registry"),
                (None, None, None, None, None),
                (None, None, None, None, None),
            ]
            assert new == 14.0
