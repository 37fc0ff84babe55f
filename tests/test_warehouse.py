"""The warehouse: loading, reloading, and every documented view asserting real values.

Two data sets: the five real seed reports (ingested through the real extraction), and four
hand-built reports whose numbers exercise every researcher formula (the seeds are mostly
zeros).  Crash safety is in test_warehouse_crash.py.
"""

from __future__ import annotations

import csv
import math
import shutil
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import SEED_EXPECTED, SEED_FILES
from nianbao.flows.cli import main
from nianbao.flows.paths import data_dir
from nianbao.flows.warehouse import (
    ReportInput,
    connect,
    export,
    ingest,
    load,
    load_batches,
    report_id_for,
)
from nianbao.flows.warehouse_maintain import optimize
from nianbao.flows.warehouse_store import TABLES, Store, file_list
from nianbao.transform import catalogue
from nianbao.transform.result import Check, ExtractResult, Fact, Meta

# --- helpers (also used by the other test_warehouse_* modules) --------------------------------


def make_result(
    fmt: str = "2021",
    year: int | None = 2022,
    agency: str = "测试局",
    values: dict[str, float] | None = None,
    blank: tuple[str, ...] = (),
    checks: list[Check] | None = None,
) -> ExtractResult:
    """A report with every catalogue cell of ``fmt``: 0 unless given, None for ``blank``."""
    values = values or {}
    facts = []
    for c in catalogue.cells(fmt):
        if c.code in blank:
            facts.append(Fact(c.table, c.item, c.column, None, c.unit, ""))
        else:
            v = values.get(c.code, 0)
            facts.append(Fact(c.table, c.item, c.column, v, c.unit, str(v)))
    if checks is None:
        checks = [Check("requests_balance.total", True, "ok")]
    meta = Meta(title=f"{agency}{year}年政府信息公开工作年度报告", agency=agency, year=year)
    return ExtractResult(source=f"test:{agency}", format=fmt, meta=meta, facts=facts, checks=checks)


def report_input(result: ExtractResult, url: str, region: str | None = None) -> ReportInput:
    return ReportInput(result, sha256="ab" * 32, source_url=url, level="county", region_code=region)


def live_files(data: Path) -> dict[str, list[str]]:
    """The Parquet files of the current warehouse version, per table (absolute paths)."""
    store = Store(data / "warehouse")
    snap = store.snapshot()
    return {t: file_list(store.table(t, snap)) for t in TABLES}


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    rel = con.sql(sql)
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def research_inputs() -> list[ReportInput]:
    """Four reports whose numbers are easy to follow by hand (see the expectations below)."""
    r1 = make_result(
        "2021",
        2022,
        "北京甲局",
        {
            "requests.new.natural": 6,
            "requests.new.commercial": 2,
            "requests.new.legal_service": 2,
            "requests.new.total": 10,
            "requests.carried_over.total": 2,
            "requests.granted.total": 4,
            "requests.partial.total": 2,
            "requests.deny_state_secret.total": 1,
            "requests.deny_third_party.total": 1,
            "requests.unable_not_held.total": 2,
            "requests.reject_duplicate.total": 1,
            "requests.other_no_fee.total": 1,
            "requests.result_total.total": 12,
            "appeals.review.upheld": 2,
            "appeals.review.corrected": 1,
            "appeals.review.pending": 1,
            "appeals.review.total": 4,
            "appeals.suit_direct.upheld": 1,
            "appeals.suit_direct.corrected": 1,
            "appeals.suit_direct.total": 2,
            "appeals.suit_after_review.pending": 1,
            "appeals.suit_after_review.total": 1,
            "active.normative_doc.issued": 21,
            "active.fees.amount": 15.6,
        },
    )
    r2 = make_result(
        "2019",
        2020,
        "北京乙局",
        {
            "requests.new.total": 5,
            "requests.granted.total": 1,
            "requests.partial.total": 1,
            "requests.deny_process_info.total": 2,
            "requests.other_handling.total": 1,
            "requests.result_total.total": 5,
            "appeals.review.corrected": 1,
            "appeals.review.total": 1,
            "active.procurement.items": 3,
            "active.procurement.amount": 52.15,
            "active.license.delta_items": -2,
        },
        checks=[
            Check("requests_balance.total", True, "5 + 0 == 5 + 0"),
            Check("requests_row_total.new", None, "skipped: no number in new.ngo"),
        ],
    )
    r3 = make_result(
        "2021",
        2022,
        "江苏丙局",
        {"requests.new.total": 4, "requests.granted.total": 4, "requests.result_total.total": 4},
        blank=("requests.deny_state_secret.total",),
        checks=[Check("requests_balance.total", False, "4 + 0 != 5 + 0 (difference -1)")],
    )
    r4 = make_result(
        "2021",
        2022,
        "北京丁局",
        {
            "requests.new.total": 2,
            "requests.unable_not_held.total": 2,
            "requests.result_total.total": 2,
        },
    )
    return [
        report_input(r1, "http://www.bj.gov.cn/nb/2022/t1.html", "110105"),
        report_input(r2, "http://www.bj.gov.cn/nb/2020/t2.html", "110108"),
        report_input(r3, "http://www.js.gov.cn/nb/2022/t3.html", "320102"),
        report_input(r4, "http://www.bj.gov.cn/nb/2022/t4.html", "110105"),
    ]


def rid(url: str) -> str:
    return report_id_for(url)


R1, R2, R3, R4 = (
    rid(f"http://www.{p}.gov.cn/nb/{y}/t{k}.html")
    for k, (p, y) in enumerate((("bj", 2022), ("bj", 2020), ("js", 2022), ("bj", 2022)), start=1)
)


@pytest.fixture(scope="module")
def research(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("research")
    stats = load(research_inputs(), data)
    assert stats.reports_new == 4 and stats.views_applied
    return data


@pytest.fixture()
def con(research):
    c = connect(research)
    yield c
    c.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("seeds")
    res = ingest(SEED_FILES, data)
    assert res.failed == [] and len(res.loaded) == 5
    return data


# --- seeds: the "must show" -----------------------------------------------------------


def _snapshot(data: Path, stamps: bool = True) -> dict:
    """Every row of the main views; without load-time stamps if ``stamps`` is False."""
    drop = "" if stamps else " EXCLUDE (extracted_at)"
    con = connect(data)
    try:
        return {
            "reports": con.sql(f"SELECT *{drop} FROM reports ORDER BY report_id").fetchall(),
            "facts": con.sql(f"SELECT *{drop} FROM facts ORDER BY report_id, code").fetchall(),
            "checks": con.sql("SELECT * FROM checks ORDER BY report_id, name").fetchall(),
        }
    finally:
        con.close()


def test_seeds_load_five_reports_and_a_thousand_facts(seeded):
    con = connect(seeded)
    try:
        assert con.sql("SELECT count(*) FROM reports").fetchall() == [(5,)]
        assert con.sql("SELECT count(*) FROM facts").fetchall() == [(1000,)]
        assert con.sql("SELECT count(DISTINCT report_id) FROM facts").fetchall() == [(5,)]
        fails = rows(con, "SELECT * FROM check_failures ORDER BY name")
        assert {f["name"] for f in fails} == {
            "requests_balance.commercial",
            "requests_row_total.new",
        }
        assert {Path(f["source"]).name for f in fails} == {"002_ceedcd9cde628f40.txt"}
        assert fails[0]["family"] == "requests_balance" and fails[0]["scope"] == "commercial"
        assert "difference 1" in fails[0]["detail"]
        per_report = dict(con.sql("SELECT source, n_checks_failed FROM reports").fetchall())
        assert {Path(k).name[:3]: v for k, v in per_report.items()} == {
            "000": 0,
            "001": 0,
            "002": 2,
            "003": 0,
            "004": 0,
        }
        hedong = rows(con, "SELECT * FROM reports WHERE agency = '河东区中小企业发展服务中心'")[0]
        assert hedong["published"] == date(2025, 1, 24) and hedong["year"] == 2024
        assert hedong["index_no"] == "hedongquhd0217/2025-0000003"
        assert hedong["source_url"] is None and hedong["report_id"] == hedong["sha256"][:16]
        assert hedong["n_facts"] == 200 and hedong["format"] == "2021"
    finally:
        con.close()


def test_seed_values_are_the_printed_numbers(seeded):
    """Every stored cell equals the independent expected CSV of its seed."""
    con = connect(seeded)
    try:
        for seed in SEED_FILES:
            with open(SEED_EXPECTED / f"{seed.stem}.csv", encoding="utf-8", newline="") as f:
                want = {(r["table"], r["item"], r["column"]): r["raw"] for r in csv.DictReader(f)}
            got = con.sql(
                'SELECT "table", item, "column", raw, value FROM facts WHERE source = ?',
                params=[str(seed.resolve())],
            ).fetchall()
            assert {(t, i, c): raw for t, i, c, raw, _ in got} == want
            for *_, raw, value in got:
                assert value == float(raw)
    finally:
        con.close()


def test_ingesting_again_changes_nothing(tmp_path):
    ingest(SEED_FILES, tmp_path)
    before = _snapshot(tmp_path)
    files = sorted(p.name for p in (tmp_path / "warehouse").rglob("*.parquet"))
    res = ingest(SEED_FILES, tmp_path)
    assert res.stats.reports_unchanged == 5 and res.stats.reports_loaded == 0
    assert res.stats.version == 0
    assert _snapshot(tmp_path) == before
    assert sorted(p.name for p in (tmp_path / "warehouse").rglob("*.parquet")) == files


def test_forced_reload_replaces_rows_without_duplicates(tmp_path):
    ingest(SEED_FILES, tmp_path)
    before = _snapshot(tmp_path, stamps=False)
    res = ingest(SEED_FILES[:2], tmp_path, force=True)
    assert res.stats.reports_replaced == 2 and res.stats.version == 1
    after = _snapshot(tmp_path, stamps=False)
    assert len(after["reports"]) == 5 and len(after["facts"]) == 1000
    assert after == before  # the same rows, once each; only extracted_at moved


def test_ingest_cli_sql_csv_and_export(tmp_path, capsys):
    data = tmp_path / "d"
    assert (
        main(["ingest", *map(str, SEED_FILES), "--data", str(data), "--region-code", "652722"]) == 0
    )
    out = capsys.readouterr().out
    assert "5 new" in out and "1000 facts" in out
    assert (
        main(
            [
                "sql",
                "SELECT count(*) AS n, min(province_code) AS p FROM reports",
                "--data",
                str(data),
                "--csv",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == "n,p\n5,650000\n"
    assert (
        main(["sql", "SELECT agency, year FROM reports ORDER BY agency", "--data", str(data)]) == 0
    )
    table = capsys.readouterr().out
    assert "精河工业园区" in table and "5 row(s)" in table
    assert main(["sql", "SELECT nonsense FROM nowhere", "--data", str(data)]) == 2
    assert "nowhere" in capsys.readouterr().err

    out_dir = tmp_path / "export"
    assert main(["export", "--to", str(out_dir), "--data", str(data)]) == 0
    raw = (out_dir / "codebook.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    with open(out_dir / "codebook.csv", encoding="utf-8-sig", newline="") as f:
        book = list(csv.DictReader(f))
    assert len(book) == len(catalogue.codebook()) == 226
    new_total = next(r for r in book if r["code"] == "requests.new.total")
    assert (
        new_total["item_zh"] == "一、本年新收政府信息公开申请数量"
        and new_total["formats"] == "2021;2019"
    )
    with open(out_dir / "facts.csv", encoding="utf-8-sig", newline="") as f:
        facts = list(csv.DictReader(f))
    assert len(facts) == 1000 and {r["region_code"] for r in facts} == {"652722"}
    with open(out_dir / "columns.csv", encoding="utf-8-sig", newline="") as f:
        cols = {(r["file"], r["column"]): r["type"] for r in csv.DictReader(f)}
    assert cols[("facts", "value")] == "DOUBLE" and cols[("reports", "errors")] == "VARCHAR[]"

    pq_dir = tmp_path / "export_pq"
    assert main(["export", "--to", str(pq_dir), "--data", str(data), "--format", "parquet"]) == 0
    assert pq.read_table(pq_dir / "facts.parquet").num_rows == 1000
    assert pq.read_table(pq_dir / "appeals_wide.parquet").num_rows == 5
    assert pq.read_table(pq_dir / "codebook.parquet").num_rows == 226


def test_sql_on_missing_data_dir_is_a_user_error(tmp_path, capsys):
    assert main(["sql", "SELECT 1", "--data", str(tmp_path / "nope")]) == 2
    assert "no data directory" in capsys.readouterr().err


def test_plain_duckdb_sees_the_views(seeded):
    """No nianbao code involved: the .duckdb file alone, as `duckdb <data>/nianbao.duckdb`."""
    script = textwrap.dedent(
        f"""
        import duckdb
        con = duckdb.connect({str(seeded / "nianbao.duckdb")!r}, read_only=True)
        print(con.sql("SELECT count(*) FROM facts").fetchall()[0][0])
        print(con.sql("SELECT count(*) FROM check_failures").fetchall()[0][0])
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1000", "2"]


# --- every view, real values (hand-built reports) ----------------------------------------------


def test_reports_view(con):
    r = {x["report_id"]: x for x in rows(con, "SELECT * FROM reports")}
    assert set(r) == {R1, R2, R3, R4}
    assert r[R1]["agency"] == "北京甲局" and r[R1]["year"] == 2022 and r[R1]["format"] == "2021"
    assert r[R1]["level"] == "county" and r[R1]["region_code"] == "110105"
    assert r[R1]["province_code"] == "110000" and r[R1]["province"] == "北京市"
    assert (r[R1]["county"], r[R1]["region_source"], r[R1]["region_confidence"]) == (
        "朝阳区",
        "registry",
        1.0,
    )
    assert r[R1]["source_url"] == "http://www.bj.gov.cn/nb/2022/t1.html"
    assert r[R1]["sha256"] == "ab" * 32 and r[R1]["parser_version"]
    assert r[R1]["extracted_at"] is not None and r[R1]["fetched_at"] is None
    assert (r[R1]["n_facts"], r[R2]["n_facts"]) == (200, 198)
    assert (r[R3]["n_facts"], r[R3]["n_values"]) == (200, 199)
    assert r[R3]["n_checks_failed"] == 1 and r[R3]["passes_checks"] is False
    assert r[R2]["n_checks_skipped"] == 1 and r[R2]["passes_checks"] is True
    assert r[R1]["title"] == "北京甲局2022年政府信息公开工作年度报告"


def test_facts_view_labels_and_provenance(con):
    got = rows(
        con, f"SELECT * FROM facts WHERE report_id = '{R1}' AND code = 'requests.new.legal_service'"
    )
    assert len(got) == 1
    f = got[0]
    assert (f["table"], f["item"], f["column"], f["value"], f["raw"], f["unit"]) == (
        "requests",
        "new",
        "legal_service",
        2.0,
        "2",
        "件",
    )
    assert f["item_zh"] == "一、本年新收政府信息公开申请数量" and f["column_zh"] == "法律服务机构"
    assert f["item_en"] == "New requests this year" and f["column_en"] == "Legal service providers"
    assert f["year"] == 2022 and f["agency"] == "北京甲局" and f["region_code"] == "110105"
    assert f["source_url"].endswith("t1.html") and f["sha256"] == "ab" * 32
    # each format's own label: 规范性文件 (2019) vs 行政规范性文件 (2021)
    labels = dict(
        con.sql(
            "SELECT format, any_value(item_zh) FROM facts WHERE item = 'normative_doc' GROUP BY 1"
        ).fetchall()
    )
    assert labels == {"2019": "规范性文件", "2021": "行政规范性文件"}
    assert con.sql("SELECT count(*) FROM facts").fetchall() == [(200 * 3 + 198,)]
    fee = con.sql(
        f"SELECT value, unit FROM facts WHERE report_id = '{R1}' AND code = 'active.fees.amount'"
    )
    assert fee.fetchall() == [(15.6, "万元")]
    blank = con.sql(
        f"SELECT value, raw FROM facts WHERE report_id = '{R3}' AND code = 'requests.deny_state_secret.total'"
    )
    assert blank.fetchall() == [(None, "")]


def test_cells_view_is_the_catalogue(con):
    assert con.sql("SELECT count(*) FROM cells").fetchall() == [(len(catalogue.codebook()),)]
    row = rows(con, "SELECT * FROM cells WHERE code = 'requests.other_no_fee.total'")[0]
    assert row["formats"] == ["2021"] and row["parent"] == "result.other"
    assert row["parent_zh"] == "(六)其他处理" and row["unit"] == "件"
    assert row["item_en"] == "Other: applicant did not pay the fee in time"
    assert row["column_zh"] == "总计" and row["table_en"].startswith("Requests")
    both = rows(con, "SELECT formats, parent FROM cells WHERE code = 'appeals.review.corrected'")[0]
    assert both == {"formats": ["2021", "2019"], "parent": None}
    per_format = con.sql(
        "SELECT format, count(*) FROM cell_labels GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert per_format == [("2019", 198), ("2021", 200)]


def test_checks_and_check_failures(con):
    statuses = dict(con.sql("SELECT status, count(*) FROM checks GROUP BY 1").fetchall())
    assert statuses == {"passed": 3, "failed": 1, "skipped": 1}
    skipped = rows(con, "SELECT * FROM checks WHERE status = 'skipped'")[0]
    assert (
        skipped["report_id"] == R2
        and skipped["ok"] is None
        and skipped["family"] == "requests_row_total"
    )
    fails = rows(con, "SELECT * FROM check_failures")
    assert len(fails) == 1
    assert fails[0]["report_id"] == R3 and fails[0]["agency"] == "江苏丙局"
    assert fails[0]["name"] == "requests_balance.total" and "difference -1" in fails[0]["detail"]


def test_requests_wide(con):
    new = rows(con, f"SELECT * FROM requests_wide WHERE report_id = '{R1}' AND item = 'new'")[0]
    assert (new["natural"], new["commercial"], new["legal_service"], new["total"]) == (6, 2, 2, 10)
    assert new["org"] == 4 and new["item_position"] == 1
    assert new["item_zh"] == "一、本年新收政府信息公开申请数量" and new["passes_checks"] is True
    counts = dict(con.sql("SELECT format, count(*) FROM requests_wide GROUP BY 1").fetchall())
    assert counts == {"2021": 3 * 25, "2019": 23}
    last = rows(
        con,
        f"SELECT item FROM requests_wide WHERE report_id = '{R2}' ORDER BY item_position DESC LIMIT 2",
    )
    assert [r["item"] for r in last] == ["carried_forward", "result_total"]
    other = rows(
        con,
        f"SELECT total, parent FROM requests_wide WHERE report_id = '{R2}' AND item = 'other_handling'",
    )
    assert other == [{"total": 1.0, "parent": "result"}]


def test_appeals_wide(con):
    a = rows(con, f"SELECT * FROM appeals_wide WHERE report_id = '{R1}'")[0]
    assert (a["review_upheld"], a["review_corrected"], a["review_pending"], a["review_total"]) == (
        2,
        1,
        1,
        4,
    )
    assert (a["suit_direct_corrected"], a["suit_direct_total"]) == (1, 2)
    assert (a["suit_after_review_pending"], a["suit_after_review_total"]) == (1, 1)
    assert len([k for k in a if k.startswith(("review_", "suit_"))]) == 15
    assert con.sql("SELECT count(*) FROM appeals_wide").fetchall() == [(4,)]


def test_active_wide(con):
    a = {r["report_id"]: r for r in rows(con, "SELECT * FROM active_wide")}
    assert a[R1]["normative_doc_issued"] == 21 and a[R1]["fees_amount"] == 15.6
    assert a[R1]["procurement_amount"] is None  # a 2019-only cell
    assert a[R2]["procurement_items"] == 3 and a[R2]["procurement_amount"] == 52.15
    assert a[R2]["license_delta_items"] == -2 and a[R2]["regulation_issued"] is None


def test_report_summary(con):
    s = {r["report_id"]: r for r in rows(con, "SELECT * FROM report_summary")}
    r1 = s[R1]
    assert (r1["new"], r1["granted"], r1["partial"], r1["result_total"]) == (10, 4, 2, 12)
    assert (r1["deny_sum"], r1["unable_sum"], r1["reject_sum"], r1["other_sum"]) == (2, 2, 1, 1)
    assert (r1["new_natural"], r1["new_org"], r1["abusive"]) == (6, 4, 1)
    assert r1["backlog_ratio"] == 0 and r1["appeal_propensity"] == pytest.approx(7 / 8)
    assert s[R2]["other_sum"] == 1  # 2019: the single other_handling row
    assert s[R3]["deny_sum"] is None  # a blank operand makes the sum unknown, not 0


def test_disclosure_rate_per_report(con):
    d = {r["report_id"]: r for r in rows(con, "SELECT * FROM disclosure_rate")}
    assert d[R1]["disclosure_rate"] == pytest.approx(0.5)
    assert d[R1]["disclosure_rate_foi"] == pytest.approx(6 / 10)
    assert d[R2]["disclosure_rate"] == pytest.approx(0.4) and d[R2][
        "disclosure_rate_foi"
    ] == pytest.approx(0.5)
    assert d[R3]["disclosure_rate"] == 1.0 and d[R3]["passes_checks"] is False
    assert d[R4]["disclosure_rate"] == 0.0


def test_disclosure_rate_by_year_region(con):
    g = {
        (r["year"], r["region_code"]): r
        for r in rows(con, "SELECT * FROM disclosure_rate_by_year_region")
    }
    bj = g[(2022, "110105")]
    assert bj["n_reports"] == 2 and bj["province_code"] == "110000"
    assert (bj["province"], bj["city"], bj["county"]) == ("北京市", "北京市", "朝阳区")
    assert bj["disclosure_rate"] == pytest.approx(6 / 14)  # pooled
    assert bj["mean_disclosure_rate"] == pytest.approx(0.25)  # mean of 0.5 and 0
    assert bj["disclosure_rate_passing"] == pytest.approx(6 / 14)
    js = g[(2022, "320102")]
    assert js["disclosure_rate"] == 1.0 and js["disclosure_rate_passing"] is None
    assert g[(2020, "110108")]["disclosure_rate"] == pytest.approx(0.4)


def test_denial_reasons_and_shares(con):
    per = rows(
        con,
        f"SELECT item, n, share, item_zh FROM denial_reasons WHERE report_id = '{R1}' AND n > 0 ORDER BY item",
    )
    assert per == [
        {"item": "deny_state_secret", "n": 1.0, "share": 0.5, "item_zh": "1.属于国家秘密"},
        {"item": "deny_third_party", "n": 1.0, "share": 0.5, "item_zh": "4.保护第三方合法权益"},
    ]
    shares = {(r["year"], r["item"]): r for r in rows(con, "SELECT * FROM denial_reason_shares")}
    assert shares[(2022, "deny_state_secret")]["share"] == pytest.approx(0.5)
    assert shares[(2022, "deny_state_secret")]["n_reports"] == 2  # R3 (blank cell) left out
    assert shares[(2022, "deny_process_info")]["share"] == 0
    assert shares[(2020, "deny_process_info")]["share"] == 1.0
    assert shares[(2020, "deny_process_info")]["item_en"] == "Denied: process information"
    assert sum(r["share"] for k, r in shares.items() if k[0] == 2022) == pytest.approx(1.0)


def test_correction_rates(con):
    c = {r["report_id"]: r for r in rows(con, "SELECT * FROM correction_rates")}
    assert c[R1]["review_decided"] == 3 and c[R1]["review_correction_rate"] == pytest.approx(1 / 3)
    assert c[R1]["suit_decided"] == 2 and c[R1]["suit_correction_rate"] == pytest.approx(0.5)
    assert c[R4]["review_correction_rate"] is None  # 0 decided: no rate, not 0
    y = {r["year"]: r for r in rows(con, "SELECT * FROM correction_rates_by_year")}
    assert y[2022]["review_corrected"] == 1 and y[2022]["review_decided"] == 3
    assert y[2022]["suit_correction_rate"] == pytest.approx(0.5)
    assert y[2020]["review_correction_rate"] == 1.0 and y[2020]["suit_correction_rate"] is None


def test_totals_by_year_and_province(con):
    t = {r["year"]: r for r in rows(con, "SELECT * FROM totals_by_year")}
    assert t[2022]["n_reports"] == 3
    assert (t[2022]["new"], t[2022]["granted"], t[2022]["result_total"]) == (16, 8, 18)
    assert t[2022]["deny_sum"] == 2 and t[2022]["unable_sum"] == 4  # R3's unknown deny_sum left out
    assert (t[2022]["review_total"], t[2022]["suit_total"], t[2022]["suit_corrected"]) == (4, 3, 1)
    assert (t[2020]["new"], t[2020]["other_sum"]) == (5, 1)
    p = {
        (r["province_code"], r["year"]): r
        for r in rows(con, "SELECT * FROM totals_by_province_year")
    }
    assert set(p) == {("110000", 2022), ("320000", 2022), ("110000", 2020)}
    assert p[("110000", 2022)]["new"] == 12 and p[("110000", 2022)]["n_reports"] == 2
    assert p[("320000", 2022)]["granted"] == 4 and p[("320000", 2022)]["province"] == "江苏省"


def test_check_failure_rate_by_year(con):
    y = {r["year"]: r for r in rows(con, "SELECT * FROM check_failure_rate_by_year")}
    assert y[2022]["n_reports"] == 3 and y[2022]["n_failing"] == 1
    assert y[2022]["failure_rate"] == pytest.approx(1 / 3)
    assert (y[2020]["n_checks"], y[2020]["n_checks_skipped"], y[2020]["failure_rate"]) == (
        2,
        1,
        0.0,
    )


def test_warehouse_info_and_stored_views(con, research):
    info = rows(con, "SELECT * FROM warehouse_info")[0]
    assert info["version"] == 0 and info["data_dir"] == research.as_posix()
    cols = con.sql("SELECT * FROM stored_report_values").columns
    assert "requests__granted__total" in cols and len(cols) == 2 + 226
    assert con.sql("SELECT count(*) FROM stored_facts").fetchall() == [(798,)]


def test_documents_and_runs_views_without_and_with_files(tmp_path):
    load(research_inputs()[:1], tmp_path)
    con = connect(tmp_path)
    assert con.sql("SELECT count(*) FROM documents").fetchall() == [(0,)]
    assert con.sql("SELECT count(*) FROM runs").fetchall() == [(0,)]
    assert {"url", "sha256", "fetched_at", "outcome"} <= set(
        con.sql("SELECT * FROM documents").columns
    )
    con.close()
    # the crawler's log and the run log: Delta tables the views read the latest version of
    from nianbao.extract.documents_log import DocumentFetch, DocumentsLog
    from nianbao.flows import runlog

    with DocumentsLog(tmp_path) as log:
        log.append(DocumentFetch(url="http://a.gov.cn/nb.html", status=200, outcome="new"))
    (tmp_path / "warehouse" / "documents" / ".tmp-half-written.parquet").write_bytes(b"PAR1")
    runlog.write_run(tmp_path, runlog.RunSummary(run_id="r1", status="ok"))
    con = connect(tmp_path)  # sees the new files: its views are re-rendered
    try:
        got = rows(con, "SELECT url, status, outcome FROM documents")
        assert got == [{"url": "http://a.gov.cn/nb.html", "status": 200, "outcome": "new"}]
        assert rows(con, "SELECT run_id, status FROM runs") == [{"run_id": "r1", "status": "ok"}]
        assert con.sql("SELECT count(*) FROM portal_runs").fetchall() == [(0,)]
    finally:
        con.close()


def test_every_view_runs_on_an_empty_warehouse(tmp_path):
    con = connect(tmp_path)
    try:
        views = [
            v
            for (v,) in con.sql(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        ]
        assert {
            "reports",
            "facts",
            "cells",
            "report_summary",
            "documents",
            "runs",
            "portal_runs",
        } <= set(views)
        for view in views:
            n = con.sql(f"SELECT count(*) FROM {view}").fetchall()[0][0]
            assert n == (
                226
                if view == "cells"
                else 398
                if view == "cell_labels"
                else 1
                if view == "warehouse_info"
                else 0
            ), view
    finally:
        con.close()


# --- loader behaviour -------------------------------------------------------------------------


def test_report_ids_are_stable():
    a = report_id_for("http://WWW.Example.gov.cn:80/nb/2024/t1.html#top")
    assert a == report_id_for("https://www.example.gov.cn/nb/2024/t1.html")
    assert len(a) == 16 and a != report_id_for("https://www.example.gov.cn/nb/2024/t2.html")
    assert report_id_for(sha256="ABCDEF" + "0" * 58) == "abcdef0000000000"
    with pytest.raises(ValueError):
        report_id_for()


def test_replacing_a_report_that_changed_year(tmp_path):
    url = "http://www.x.gov.cn/nb/t9.html"
    load([report_input(make_result(year=2022, values={"requests.new.total": 1}), url)], tmp_path)
    stats = load(
        [report_input(make_result(year=2023, values={"requests.new.total": 7}), url)], tmp_path
    )
    assert stats.reports_replaced == 1 and stats.files_rewritten >= 3
    con = connect(tmp_path)
    try:
        assert con.sql("SELECT year FROM reports").fetchall() == [(2023,)]
        assert con.sql("SELECT year, count(*) FROM facts GROUP BY 1").fetchall() == [(2023, 200)]
        assert con.sql("SELECT new FROM report_summary").fetchall() == [(7.0,)]
    finally:
        con.close()
    live = live_files(tmp_path)  # the old year's partitions hold no live file any more
    assert all("/year=2023/" in p for files in live.values() for p in files)


def test_same_report_twice_in_one_load_keeps_the_last(tmp_path):
    url = "http://www.x.gov.cn/nb/t1.html"
    first = report_input(make_result(values={"requests.new.total": 1}), url)
    other = report_input(make_result(agency="其他"), "http://www.x.gov.cn/nb/t2.html")
    last = report_input(make_result(values={"requests.new.total": 3}), url)
    stats = load([first, other, last], tmp_path, chunk_reports=1)  # three chunks
    assert stats.reports_new == 2
    con = connect(tmp_path)
    try:
        assert con.sql("SELECT count(*) FROM reports").fetchall() == [(2,)]
        assert con.sql("SELECT count(*) FROM facts").fetchall() == [(400,)]
        assert con.sql(
            f"SELECT new FROM report_summary WHERE report_id = '{rid(url)}'"
        ).fetchall() == [(3.0,)]
    finally:
        con.close()


def test_load_batches_commits_a_version_per_batch(tmp_path):
    urls = [f"http://www.x.gov.cn/nb/t{k}.html" for k in range(5)]
    first = [
        report_input(make_result(values={"requests.new.total": k}), u) for k, u in enumerate(urls)
    ]
    again = report_input(make_result(values={"requests.new.total": 40}), urls[0])  # changed
    same = report_input(make_result(values={"requests.new.total": 1}), urls[1])  # unchanged
    seen = []
    stats = load_batches(iter([*first, again, same]), tmp_path, batch_size=2, on_batch=seen.append)
    assert [s.version for s in seen] == [0, 1, 2, 2]
    assert [(s.reports_new, s.reports_replaced, s.reports_unchanged) for s in seen] == [
        (2, 0, 0),
        (2, 0, 0),
        (1, 1, 0),  # the fifth report, and the first again (changed): replaced
        (0, 0, 1),  # the second again, unchanged: nothing written, no new version
    ]
    assert (stats.version, stats.reports_new, stats.reports_replaced) == (2, 5, 1)
    assert (stats.reports_unchanged, stats.facts_written) == (1, 1200)
    assert stats.views_applied and stats.seconds == pytest.approx(sum(s.seconds for s in seen))
    con = connect(tmp_path)
    try:
        assert con.sql("SELECT count(*) FROM facts").fetchall() == [(1000,)]
        assert sorted(con.sql("SELECT new FROM report_summary").fetchall()) == [
            (1.0,),
            (2.0,),
            (3.0,),
            (4.0,),
            (40.0,),
        ]
    finally:
        con.close()
    assert load_batches([], tmp_path).version == 2  # nothing to load: the current version


def test_replacing_after_optimize_rewrites_the_compacted_file(tmp_path):
    urls = [f"http://www.x.gov.cn/nb/t{k}.html" for k in range(3)]
    for k, url in enumerate(urls):  # three loads: three files per partition
        load([report_input(make_result(values={"requests.new.total": k + 1}), url)], tmp_path)
    optimize(tmp_path, retention=timedelta(0))  # one delta-rs file per table
    fresh = report_input(make_result(values={"requests.new.total": 9}), urls[1])
    extra = report_input(make_result(agency="新局"), "http://www.x.gov.cn/nb/t9.html")
    stats = load([fresh, extra], tmp_path)
    assert (stats.reports_replaced, stats.reports_new) == (1, 1)
    # the compacted file, rewritten without the old rows, takes in the new files (no trail)
    assert all(len(files) == 1 for t, files in live_files(tmp_path).items() if t != "reports")
    con = connect(tmp_path)
    try:
        assert con.sql("SELECT count(*), count(DISTINCT report_id) FROM facts").fetchall() == [
            (800, 4)
        ]
        assert sorted(con.sql("SELECT agency, new FROM report_summary").fetchall()) == [
            ("新局", 0.0),
            ("测试局", 1.0),
            ("测试局", 3.0),
            ("测试局", 9.0),
        ]
        assert con.sql(
            f"SELECT count(*) FROM checks WHERE report_id = '{rid(urls[1])}'"
        ).fetchall() == [(1,)]
    finally:
        con.close()


def test_small_loads_are_compacted_by_optimize(tmp_path):
    for k in range(12):
        url = f"http://www.x.gov.cn/nb/t{k}.html"
        load([report_input(make_result(values={"requests.new.total": k}), url)], tmp_path)
    assert Store(tmp_path / "warehouse").snapshot().version == 11
    assert all(len(files) == 12 for files in live_files(tmp_path).values())  # one per load
    done = optimize(tmp_path, retention=timedelta(0))
    assert {m.table: m.files_removed for m in done if m.table in TABLES} == dict.fromkeys(
        TABLES, 12
    )
    live = live_files(tmp_path)
    assert all(len(files) == 1 for files in live.values())
    con = connect(tmp_path)
    try:
        assert con.sql("SELECT count(*), sum(new) FROM report_summary").fetchall() == [(12, 66.0)]
        assert con.sql("SELECT count(*) FROM facts").fetchall() == [(2400,)]
    finally:
        con.close()
    # with no retention, the vacuum leaves only the live files on disk
    on_disk = {p.as_posix() for p in (tmp_path / "warehouse").rglob("*.parquet")}
    assert on_disk == {p for files in live.values() for p in files}


def test_a_moved_data_directory_still_works(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    load(research_inputs(), old)
    shutil.move(old, new)
    con = connect(new)
    try:
        assert con.sql("SELECT count(*) FROM facts").fetchall() == [(798,)]
        assert con.sql("SELECT data_dir FROM warehouse_info").fetchall() == [(new.as_posix(),)]
    finally:
        con.close()
    plain = duckdb.connect(str(new / "nianbao.duckdb"), read_only=True)
    try:  # connect() refreshed the stored views too
        assert plain.sql("SELECT count(*) FROM reports").fetchall() == [(4,)]
    finally:
        plain.close()


def test_views_locked_by_another_process(tmp_path):
    """A plain `duckdb` session holding the file: the load still commits, readers still see it."""
    load(research_inputs()[:1], tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(tmp_path / 'nianbao.duckdb')!r}); "
            "print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        stats = load(research_inputs()[1:], tmp_path)
        assert stats.version == 1 and not stats.views_applied
        con = connect(tmp_path)  # in-memory fallback with the same views
        try:
            assert con.sql("SELECT count(*) FROM reports").fetchall() == [(4,)]
        finally:
            con.close()
    finally:
        holder.kill()
        holder.wait()
    stats = load(research_inputs()[:1], tmp_path, force=True)
    assert stats.views_applied
    con = connect(tmp_path)
    try:
        assert con.sql("SELECT count(*), count(DISTINCT report_id) FROM reports").fetchall() == [
            (4, 4)
        ]
    finally:
        con.close()


def test_data_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("NIANBAO_DATA", str(tmp_path / "env"))
    assert data_dir(None) == tmp_path / "env"
    assert data_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("NIANBAO_DATA")
    monkeypatch.chdir(tmp_path)
    assert data_dir() == tmp_path / "data"


def test_readme_pandas_example(research):
    """The README snippet, as written there."""
    from nianbao.flows.warehouse import connect

    con = connect(research)
    df = con.sql(
        "SELECT year, province_code, disclosure_rate FROM disclosure_rate_by_year_region"
    ).df()
    assert len(df) == 3 and math.isclose(df["disclosure_rate"].max(), 1.0)
    con.close()


def test_export_python_api(research, tmp_path):
    files = export(tmp_path / "out", research, fmt="csv", views=("reports", "totals_by_year"))
    assert [f.name for f in files] == [
        "codebook.csv",
        "reports.csv",
        "totals_by_year.csv",
        "columns.csv",
    ]
    with open(tmp_path / "out" / "totals_by_year.csv", encoding="utf-8-sig", newline="") as f:
        got = {r["year"]: r for r in csv.DictReader(f)}
    assert got["2022"]["new"] == "16" and got["2020"]["n_reports"] == "1"
