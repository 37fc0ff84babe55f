"""Panel and narrative checks on a real agency's consecutive reports: 平潭综合实验区, 2019–2025.

The documents are the real-report corpus's (tests/fixtures/real: HTML captures of the report
pages, brought by get.py, never committed; the test skips, naming them, when they are absent).
What the panel checks must find is worked out here from the hand-typed truth in the corpus's
TOML files, independently of the extractor: the arithmetic of consecutive typed tables.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "real"))
from nianbao.extract.readers import read_bytes  # noqa: E402
from nianbao.flows.warehouse import ReportInput, connect, load  # noqa: E402
from nianbao.transform.report import extract_document  # noqa: E402
from real_corpus import Report, load_all  # noqa: E402
from test_warehouse import rows  # noqa: E402

AGENCY = "平潭综合实验区管委会"
SERIES = [r for r in load_all() if r.id.startswith("fj-pingtan-") and r.id.endswith("-html")]
APPLICANTS = ("natural", "commercial", "research", "ngo", "legal_service", "other_org", "total")


def _expected_failures(series: list[Report]) -> set[tuple[int, str]]:
    """(year, check) that fail by the typed truth of consecutive reports."""
    by_year = {r.year: r.truth for r in series}
    out = set()
    for year, t in by_year.items():
        p = by_year.get(year - 1)
        if p is None:
            continue
        for col in APPLICANTS:
            if t[("requests", "carried_over", col)] != p[("requests", "carried_forward", col)]:
                out.add((year, f"carried_over.{col}"))
        for item in ("regulation", "normative_doc"):
            key = ("active", item, "in_force")
            if key in t and key in p:
                issued, repealed = (t[("active", item, c)] for c in ("issued", "repealed"))
                if p[key] + issued - repealed != t[key]:
                    out.add((year, f"in_force.{item}"))
    return out


@pytest.fixture(scope="module")
def pingtan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    absent = [r.file for r in SERIES if not r.present()]
    if absent or len(SERIES) < 7:
        pytest.skip(f"real 平潭 captures absent (tests/fixtures/real/get.py brings them): {absent}")
    data = tmp_path_factory.mktemp("pingtan")
    inputs = []
    for r in SERIES:
        result = extract_document(read_bytes(r.path.read_bytes(), r.file))
        inputs.append(
            ReportInput(
                result,
                sha256=r.sha256,
                source_url=r.source.page,
                level="city",
                region_code="350128",
                portal_id="fj-pingtan-zfxxgknb",
                agency=AGENCY,
            )
        )
    load(inputs, data)
    return data


def test_real_panel_failures_are_those_the_typed_tables_imply(pingtan: Path) -> None:
    want = _expected_failures(SERIES)
    # typed by hand: 现行有效 行政规范性文件 665 → 698 (2022: +88 −55, continuous), then 470, 440,
    # 546 where 643, 499 and 453 would follow; every 上年结转 equals the year before's 结转
    assert want == {
        (2023, "in_force.normative_doc"),
        (2024, "in_force.normative_doc"),
        (2025, "in_force.normative_doc"),
    }
    with connect(pingtan) as con:
        got = rows(con, 'SELECT year, "check", expected, found FROM panel_failures')
        assert {(g["year"], g["check"]) for g in got} == want
        passed = rows(con, "SELECT count(*) AS n FROM panel_checks WHERE ok")[0]["n"]
        # 6 later years × 7 applicant columns, + 2 items × 4 years with 现行有效 on both sides
        assert passed == 6 * 7 + 8 - len(want)
        keys = rows(con, "SELECT DISTINCT agency_key FROM reports")
        assert keys == [{"agency_key": "350128/平潭综合实验区管委会"}]


def test_real_narrative_statements_against_the_tables(pingtan: Path) -> None:
    with connect(pingtan) as con:
        checks = rows(
            con,
            "SELECT year, quantity, stated, table_value, ok FROM narrative_checks "
            "ORDER BY year, quantity",
        )
    by = {(c["year"], c["quantity"]): c for c in checks}
    truth = {r.year: r.truth for r in SERIES}
    for (year, quantity), c in by.items():
        if quantity == "requests_new":  # the table side is the typed 本年新收 total
            assert c["table_value"] == truth[year][("requests", "new", "total")]
    compared = [(c["year"], c["quantity"]) for c in checks if c["ok"] is not None]
    assert len(compared) >= 10
    # read by hand: the 2022 report's text says "收到政府信息公开申请75件" where its table's
    # 本年新收 total is 74; every other number its prose states matches its tables
    failed = [(c["year"], c["quantity"], c["stated"], c["table_value"]) for c in checks
              if c["ok"] is False]  # fmt: skip
    assert failed == [(2022, "requests_new", 75, 74)]


def test_a_caseload_stated_as_applications_agrees_with_new_plus_carried_over(
    tmp_path: Path,
) -> None:
    """沭阳县 2025: "全县全年共受理政府信息公开申请749件" — its table's 本年新收 is 713 and 上年结转
    36 (typed by hand): the text counted the year's whole caseload."""
    (report,) = [r for r in load_all() if r.id == "js-shuyang-2025"]
    if not report.present():
        pytest.skip(f"real capture absent (tests/fixtures/real/get.py brings it): {report.file}")
    result = extract_document(read_bytes(report.path.read_bytes(), report.file))
    load([ReportInput(result, sha256=report.sha256, source_url="file:" + report.file)], tmp_path)
    with connect(tmp_path) as con:
        got = rows(
            con,
            "SELECT stated, table_value, ok, agrees_with FROM narrative_checks "
            "WHERE quantity = 'requests_new'",
        )
    assert got == [
        {
            "stated": 749,
            "table_value": 713,
            "ok": False,
            "agrees_with": "requests.new.total + requests.carried_over.total",
        }
    ]
