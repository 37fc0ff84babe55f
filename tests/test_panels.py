"""Agencies followed across years (issue 14): identity, panel checks, coverage and deadlines,
narrative against tables, copies counted once.

Generated agencies (demo/series.py) whose consecutive reports are linked as real ones are; each
planted fault must be the only thing its view reports.  Reports go through the real reader and
transform (HTML rendering → read_bytes → extract_document) and the real loader.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from nianbao.demo import series, synth
from nianbao.extract.readers import read_bytes
from nianbao.flows.warehouse import ReportInput, connect, load
from nianbao.transform.report import extract_document
from test_warehouse import rows

YEARS = [2019, 2020, 2021, 2022, 2023]

# agency → (region code, government?, years); the registry row the reports were listed under
AGENCIES = {
    "淮安市财政局": ("320800", False, YEARS),  # carried-forward break planted in 2022
    "淮安市洪泽区人民政府": ("320813", True, YEARS),  # 现行有效 break planted in 2023
    "淮安市教育局": ("320800", False, [2019, 2020, 2022, 2023]),  # 2021 missing
    "淮安市淮阴区人民政府": ("320804", True, YEARS),  # 2022 published late
    "淮安市民政局": ("320800", False, YEARS),  # text disagrees with the table in 2021
    "淮安市自然资源和规划局": ("320800", False, [2021, 2022, 2023]),  # renamed in 2021
}
OLD_NAME = "淮安市国土资源局"  # 淮安市自然资源和规划局 before 2021 (an alias row)


def _plant_carried_over(r: synth.SynthReport, col: str, k: int) -> None:
    """carried_over(col) += k and new(col) −= k: the report's own identities still hold."""
    over, new = ("requests", "carried_over", col), ("requests", "new", col)
    assert r.cells[new].value >= k
    r.cells[over] = synth.number_cell(r.cells[over].value + k)
    r.cells[new] = synth.number_cell(r.cells[new].value - k)
    series.retotal(r)
    synth.state_totals(r)


def _series(rng: random.Random) -> dict[str, list[synth.SynthReport]]:
    out = {}
    for agency, (_, gov, years) in AGENCIES.items():
        out[agency] = series.agency_series(rng, agency, years, government=gov)
    renamed = series.agency_series(rng, OLD_NAME, [2019, 2020])
    series.link(renamed[-1], out["淮安市自然资源和规划局"][0])
    out[OLD_NAME] = renamed
    return out


def _plant(reports: dict[str, list[synth.SynthReport]]) -> dict[str, object]:
    """The planted faults, returning what each should show."""
    by_year = {a: {r.meta.year: r for r in rs} for a, rs in reports.items()}
    fin = by_year["淮安市财政局"][2022]
    col = max(series.APPLICANTS, key=lambda c: fin.cells[("requests", "new", c)].value)
    _plant_carried_over(fin, col, 2)
    hz = by_year["淮安市洪泽区人民政府"][2023]
    key = ("active", "regulation", "in_force")
    hz.cells[key] = synth.number_cell(hz.cells[key].value + 3)
    by_year["淮安市淮阴区人民政府"][2022].meta.published = "2023-05-20"  # deadline 03-31: 50 days
    mz = by_year["淮安市民政局"][2021]
    true_new = synth.stated_totals(mz)["new"]
    synth.state_totals(mz, new=true_new + 5)
    return {"col": col, "true_new": true_new}


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    data = tmp_path_factory.mktemp("panel")
    rng = random.Random(14)
    reports = _series(rng)
    planted = _plant(reports)
    region = {**{a: c for a, (c, _, _) in AGENCIES.items()}, OLD_NAME: "320800"}
    inputs = []
    for agency, rs in reports.items():
        for r in rs:
            r.info_box = True  # 发布日期 printed: lateness needs it
            body = synth.render_html(r)
            doc = read_bytes(body, f"{agency}-{r.meta.year}.html")
            result = extract_document(doc)
            assert not result.failed_checks, (agency, r.meta.year, result.failed_checks)
            url = f"http://www.huaian.gov.cn/{r.meta.year}/{abs(hash(agency)) % 10**6}.html"
            inp = dict(
                sha256=f"{len(inputs):064x}", fetched_at=f"{r.meta.year + 1}-06-01T00:00:00Z"
            )
            inputs.append(
                ReportInput(
                    result,
                    source_url=url,
                    region_code=region[agency],
                    portal_id="huaian-zfxxgknb",
                    level="city",
                    **inp,
                )
            )
            if agency == "淮安市财政局" and r.meta.year == 2023:  # re-posted on a second column
                inputs.append(ReportInput(result, source_url=url.replace("www", "czj"),
                                          region_code="320800", portal_id="huaian-czj",
                                          level="city", sha256=inp["sha256"],
                                          fetched_at="2024-07-01T00:00:00Z"))  # fmt: skip
    (data / "agency_aliases.csv").write_text(
        f"alias,agency,region_code,note\n{OLD_NAME},淮安市自然资源和规划局,,2019年机构改革\n",
        encoding="utf-8",
    )
    load(inputs, data)
    _crawled_registry(data)
    return data, planted


def _crawled_registry(data: Path) -> None:
    """portal_runs rows as a crawl writes them: a column of an agency with reports, one of an
    agency (审计局) never found publishing, a platform row (not an agency)."""
    from datetime import UTC, datetime

    from nianbao.flows import runlog

    at = datetime(2026, 12, 1, tzinfo=UTC)
    rows = [
        ("huaian-czj", "淮安市财政局", "column"),
        ("huaian-sjj", "淮安市审计局", "column"),
        ("huaian-bmxxgk", "淮安市部门信息公开平台", "platform"),
        ("huaian-bm", "淮安市部门", "column"),  # a collection, not an agency
        ("huaian-xs", "淮安市下属局（名称待核实）", "column"),  # a placeholder
    ]
    runlog.write_portal_runs(
        data,
        [
            runlog.PortalRun("run-1", pid, at, agency=a, level="city", region_code="320800",
                             kind=kind)
            for pid, a, kind in rows
        ],
    )  # fmt: skip


def test_agency_keys_follow_an_agency_and_its_renaming(panel) -> None:
    data, _ = panel
    with connect(data) as con:
        agencies = {r["agency"]: r for r in rows(con, "SELECT * FROM agencies")}
        assert set(agencies) == set(AGENCIES)
        nr = agencies["淮安市自然资源和规划局"]
        assert nr["agency_key"] == "320800/淮安市自然资源和规划局"
        assert nr["names"] == ["淮安市国土资源局", "淮安市自然资源和规划局"]
        assert nr["years"] == YEARS and nr["n_reports"] == 5
        assert agencies["淮安市洪泽区人民政府"]["agency_kind"] == "government"
        assert agencies["淮安市财政局"]["agency_kind"] == "department"
        assert agencies["淮安市财政局"]["n_reports"] == 5  # the copy is not a second report
        keys = rows(con, "SELECT DISTINCT agency_key FROM facts WHERE agency = '淮安市国土资源局'")
        assert keys == [{"agency_key": "320800/淮安市自然资源和规划局"}]


def test_the_planted_breaks_are_the_only_panel_failures(panel) -> None:
    data, planted = panel
    col = planted["col"]
    with connect(data) as con:
        failures = rows(
            con,
            'SELECT agency, year, "check", expected, found FROM panel_failures ORDER BY ALL',
        )
        got = {(f["agency"], f["year"], f["check"]): f["found"] - f["expected"] for f in failures}
        assert got == {
            ("淮安市洪泽区人民政府", 2023, "in_force.regulation"): 3,
            ("淮安市财政局", 2022, f"carried_over.{col}"): 2,
            ("淮安市财政局", 2022, "carried_over.total"): 2,
        }
        counts = rows(
            con,
            "SELECT count(*) FILTER (WHERE ok) AS passed, count(*) FILTER (WHERE ok IS NULL) "
            "AS skipped, count(*) AS n FROM panel_checks",
        )[0]
        # 6 agencies × 4 later years (教育局 3) × 9 checks; 2019→2020 and 2020→2021 have no 现行有效
        assert counts["n"] == (5 * 4 + 3) * 9
        assert counts["passed"] > 100
        gap = rows(
            con,
            "SELECT \"check\", ok, detail FROM panel_checks WHERE agency = '淮安市教育局' "
            "AND year = 2022",
        )
        assert {g["ok"] for g in gap} == {None} and gap[0]["detail"] == "no report for 2021"
        renamed = rows(
            con,
            "SELECT ok FROM panel_checks WHERE agency_key = '320800/淮安市自然资源和规划局' "
            "AND year = 2021 AND \"check\" = 'carried_over.total'",
        )
        assert renamed == [{"ok": True}]


def test_passes_panel_checks_flags_both_sides_of_a_break(panel) -> None:
    data, _ = panel
    with connect(data) as con:
        failing = rows(
            con,
            "SELECT agency, year FROM report_summary WHERE NOT passes_panel_checks ORDER BY ALL",
        )
        assert [(r["agency"], r["year"]) for r in failing] == [
            ("淮安市洪泽区人民政府", 2022),
            ("淮安市洪泽区人民政府", 2023),
            ("淮安市财政局", 2021),
            ("淮安市财政局", 2022),
        ]
        for view in ("disclosure_rate", "correction_rates", "denial_reasons"):
            cols = con.sql(f"SELECT * FROM {view} LIMIT 0").columns
            assert {"passes_checks", "passes_panel_checks"} <= set(cols), view


def test_report_coverage_shows_the_missing_year_and_the_late_report(panel) -> None:
    data, _ = panel
    with connect(data) as con:
        cov = rows(con, "SELECT * FROM report_coverage ORDER BY agency, year")
        missing = [(c["agency"], c["year"]) for c in cov if not c["present"]]
        assert missing == [("淮安市审计局", y) for y in YEARS] + [("淮安市教育局", 2021)]
        late = [(c["agency"], c["year"], c["days_late"]) for c in cov if c["late"]]
        assert late == [("淮安市淮阴区人民政府", 2022, 50)]
        hy = next(c for c in cov if c["agency"] == "淮安市淮阴区人民政府" and c["year"] == 2022)
        assert str(hy["deadline"]) == "2023-03-31" and str(hy["published"]) == "2023-05-20"
        fin = next(c for c in cov if c["agency"] == "淮安市财政局" and c["year"] == 2022)
        assert str(fin["deadline"]) == "2023-01-31" and fin["days_late"] == 0
        # every agency 2019–2023 (the renamed one under one key); the registry's 审计局 too
        assert len(cov) == 5 * 7
        audit = [c for c in cov if c["agency"] == "淮安市审计局"]
        assert [c["year"] for c in audit] == YEARS and not any(c["present"] for c in audit)
        assert {c["expected_from"] for c in audit} == {"registry"}
        assert {c["agency_key"] for c in audit} == {"320800/淮安市审计局"}
        assert {c["province"] for c in audit} == {"江苏省"}
        assert {c["expected_from"] for c in cov if c["agency"] != "淮安市审计局"} == {
            "first_report"
        }


def test_the_planted_narrative_disagreement_is_the_only_one(panel) -> None:
    data, planted = panel
    with connect(data) as con:
        bad = rows(
            con,
            "SELECT agency, year, quantity, stated, table_value, agrees_with "
            "FROM narrative_failures",
        )
        assert bad == [
            {
                "agency": "淮安市民政局",
                "year": 2021,
                "quantity": "requests_new",
                "stated": planted["true_new"] + 5,
                "table_value": planted["true_new"],
                "agrees_with": None,
            }
        ]
        n = rows(
            con,
            "SELECT quantity = 'active_published' AS active, count(*) FILTER (WHERE ok) AS ok, "
            "count(*) FILTER (WHERE ok IS NULL) AS skipped, count(*) AS n "
            "FROM narrative_checks GROUP BY ALL ORDER BY ALL",
        )
        # each of the 30 reports (the copy too) states new, handled, review and suit: all
        # compared, one disagrees; the prose's 主动公开政府信息N条 has no table cell: skipped
        assert n[0] == {"active": False, "ok": 4 * 30 - 1, "skipped": 0, "n": 4 * 30}
        assert n[1]["active"] and n[1]["skipped"] == n[1]["n"] > 0


def test_copies_count_once(panel) -> None:
    data, _ = panel
    with connect(data) as con:
        dup = rows(con, "SELECT agency, year, n_copies FROM report_duplicates")
        assert dup == [{"agency": "淮安市财政局", "year": 2023, "n_copies": 2}]
        assert con.execute("SELECT count(*) FROM reports").fetchall() == [(30,)]
        assert con.execute("SELECT count(*) FROM report_summary").fetchall() == [(29,)]
        copy = rows(con, "SELECT is_copy, passes_panel_checks FROM reports WHERE is_copy")
        assert copy == [{"is_copy": True, "passes_panel_checks": None}]
        t = con.execute("SELECT n_reports FROM totals_by_year WHERE year = 2023").fetchall()
        assert t == [(6,)]
        once = con.execute(
            "SELECT count(DISTINCT report_id) FROM facts WHERE year = 2023 AND NOT is_copy"
        ).fetchall()
        assert once == [(6,)]


def test_names_compare_without_spacing_punctuation_or_the_state_prefix(panel) -> None:
    data, _ = panel
    with connect(data) as con:
        got = con.execute(
            "SELECT agency_norm('中华人民共和国 水利部'), agency_norm('淮安市（本级） 财政局'), "
            "agency_kind('淮安市清江浦区人民政府'), agency_kind('淮安经济技术开发区管理委员会'), "
            "agency_kind('淮安市人民政府办公室'), agency_kind('临洮县新添镇'), "
            "agency_kind('淮安市清江浦区长西街道办事处'), agency_kind('淮安市发展和改革委员会')"
        ).fetchall()
        assert got == [
            ("水利部", "淮安市本级财政局", "government", "government", "department")
            + ("government", "government", "department")
        ]


def test_the_tracked_alias_table_loads_and_bad_ones_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nianbao.flows import agency_aliases
    from nianbao.flows.cli import main

    tracked = agency_aliases.load(Path(__file__).parents[1] / "data")
    assert {"alias": "农业部", "agency": "农业农村部"}.items() <= tracked[0].items()
    (tmp_path / "agency_aliases.csv").write_text(
        "alias,agency,region_code,note\nA局,B局,,\nB局,C局,320800,\nD局,A局,,\n", encoding="utf-8"
    )
    chained = {r["alias"]: (r["agency"], r["region_code"]) for r in agency_aliases.load(tmp_path)}
    assert chained == {"A局": ("C局", "320800"), "B局": ("C局", "320800"), "D局": ("C局", "320800")}
    (tmp_path / "agency_aliases.csv").write_text(
        "alias,agency,region_code,note\nA局,B局,,\nB局,A局,,\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="circle"):
        agency_aliases.load(tmp_path)
    (tmp_path / "agency_aliases.csv").write_text(
        "alias,agency,region_code,note\nA局,B局,,\nA局,C局,,\n", encoding="utf-8"
    )
    assert main(["sql", "SELECT 1", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "alias 'A局' is given twice" in err


def test_the_new_views_export_to_csv_and_stata(panel, tmp_path: Path) -> None:
    import pandas as pd
    from nianbao.flows.warehouse import export

    data, _ = panel
    export(tmp_path / "csv", data, fmt="csv")
    cov = pd.read_csv(tmp_path / "csv" / "report_coverage.csv", encoding="utf-8-sig")
    assert len(cov) == 35 and cov["present"].sum() == 29
    export(tmp_path / "dta", data, fmt="stata")
    with pd.io.stata.StataReader(tmp_path / "dta" / "report_coverage.dta") as reader:
        df = reader.read()
        labels = reader.variable_labels()
    late = df[df["days_late"] > 0]
    assert late[["agency", "year", "days_late"]].values.tolist() == [
        ["淮安市淮阴区人民政府", 2022, 50]
    ]
    assert labels["deadline"] == "Publication deadline (Regulations art. 49)"
    reports = pd.read_stata(tmp_path / "dta" / "reports.dta")
    stated = reports.loc[reports["year"] == 2021, "statements"].str.contains("requests_new")
    assert stated.all()


def test_a_registry_rows_region_is_made_as_its_reports_are(tmp_path: Path) -> None:
    """A county government registered under its city's code: portal_runs records the county
    code its reports get (read from the name), so its coverage key is theirs."""
    from datetime import UTC, datetime

    from nianbao.extract.crawler import CrawlSummary, PortalSummary
    from nianbao.extract.registry import Portal
    from nianbao.flows.nightly import _portal_run
    from nianbao.flows.tally import Tally

    row = Portal("huaian-hz", "淮安市洪泽区人民政府", "county", "320800",
                 "http://www.hongze.gov.cn/zfxxgknb/", "trs")  # fmt: skip
    crawled = CrawlSummary("r1", tmp_path, [PortalSummary.of(row)], datetime.now(UTC))
    run = _portal_run(crawled, crawled.portals[0], Tally())
    assert (run.agency, run.region_code, run.kind) == ("淮安市洪泽区人民政府", "320813", "column")


def test_denial_shares_over_reports_passing_both_kinds_of_check(panel) -> None:
    data, _ = panel
    with connect(data) as con:
        every = rows(con, "SELECT year, sum(n_reports) AS n FROM denial_reason_shares GROUP BY ALL")
        passing = rows(
            con, "SELECT year, sum(n_reports) AS n FROM denial_reason_shares_passing GROUP BY ALL"
        )
        want = rows(
            con,
            "SELECT year, 8 * count(*) AS n FROM report_summary WHERE deny_sum IS NOT NULL "
            "AND passes_checks AND passes_panel_checks GROUP BY ALL",
        )
    key = lambda r: r["year"]  # noqa: E731
    assert sorted(passing, key=key) == sorted(want, key=key)
    # the four reports on either side of the two breaks are left out
    assert sum(r["n"] for r in every) - sum(r["n"] for r in passing) == 8 * 4
