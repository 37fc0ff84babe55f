"""`nianbao export --format stata`: labelled Stata 118 files that pandas reads back.

The warehouse is test_warehouse's four hand-built reports plus one whose agency name makes its
title longer than a Stata str# can hold.  The notes (characteristics) are read back by a small
reader of the dta-118 layout written here, independent of the writer.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pandas as pd
import pytest
from nianbao.flows.cli import main
from nianbao.flows.export_stata import stata_names
from nianbao.flows.warehouse import EXPORT_VIEWS, load, report_id_for
from nianbao.transform import catalogue
from pandas.io.stata import StataReader
from test_warehouse import R1, R2, make_result, report_input, research_inputs

pytestmark = pytest.mark.filterwarnings("error::pandas.io.stata.InvalidColumnName")

LONG_AGENCY = "长" * 800  # 2400 bytes of UTF-8: more than a str2045
LONG_URL = "http://www.zj.gov.cn/nb/2022/t5.html"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    data = tmp_path_factory.mktemp("stata-data")
    long = report_input(make_result("2021", 2022, LONG_AGENCY), LONG_URL, "330102")
    assert load([*research_inputs(), long], data).reports_new == 5
    out = tmp_path_factory.mktemp("stata-out")
    with pytest.MonkeyPatch.context() as mp:
        lines: list[str] = []
        mp.setattr("builtins.print", lambda *a, **k: lines.append(" ".join(map(str, a))))
        assert main(["export", "--to", str(out), "--data", str(data), "--format", "stata"]) == 0
    return data, out, lines


def read(path: Path) -> tuple[pd.DataFrame, dict[str, str], dict[str, dict], str]:
    with StataReader(path) as r:
        df = r.read()
        return df, r.variable_labels(), r.value_labels(), r.data_label


def characteristics(path: Path) -> dict[tuple[str, str], str]:
    """(variable or _dta, name) → text, from the <characteristics> of a dta-118 file."""
    raw = path.read_bytes()
    assert raw.startswith(b"<stata_dta><header><release>118</release>")
    order = "<" if b"<byteorder>LSF</byteorder>" in raw[:200] else ">"
    start = raw.index(b"<map>") + len(b"<map>")
    offsets = struct.unpack(order + "14Q", raw[start : start + 14 * 8])
    pos = offsets[8]  # stata_data, map, types, names, sortlist, formats, lbl names, labels, chars
    assert raw[pos : pos + 17] == b"<characteristics>"
    pos += 17
    out: dict[tuple[str, str], str] = {}
    while raw[pos : pos + 4] == b"<ch>":
        (n,) = struct.unpack(order + "I", raw[pos + 4 : pos + 8])
        body = raw[pos + 8 : pos + 8 + n]
        var, name = (body[k : k + 129].split(b"\0")[0].decode() for k in (0, 129))
        assert body.endswith(b"\0")
        out[(var, name)] = body[258:-1].decode("utf-8")
        pos += 8 + n
        assert raw[pos : pos + 5] == b"</ch>"
        pos += 5
    assert raw[pos : pos + 18] == b"</characteristics>"
    return out


def test_every_file_is_written_and_listed(exported):
    _, out, lines = exported
    names = ["codebook", *EXPORT_VIEWS, "report_values", "columns"]
    assert lines == [str(out / f"{n}.dta") for n in names]
    for n in names:
        df = pd.read_stata(out / f"{n}.dta")
        assert len(df.columns) > 0
    assert len(pd.read_stata(out / "codebook.dta")) == len(catalogue.codebook()) == 226
    assert len(pd.read_stata(out / "reports.dta")) == 5


def test_report_values_numbers_names_and_labels(exported):
    _, out, _ = exported
    df, labels, value_labels, data_label = read(out / "report_values.dta")
    assert len(df.columns) == 8 + 226 and df["report_id"].is_unique and len(df) == 5
    r1 = df.set_index("report_id").loc[R1]
    assert r1["req__new__tot"] == 10 and r1["req__new__nat"] == 6
    assert r1["req__deny_3_sec__tot"] == 0 and r1["act__fees__amt"] == pytest.approx(15.6)
    assert r1["apl__rev__corr"] == 1 and r1["apl__suit_dir__tot"] == 2
    r2 = df.set_index("report_id").loc[R2]
    assert r2["act__procur__amt"] == pytest.approx(52.15)
    assert pd.isna(r2["req__oth_no_corr__tot"])  # a 2021 cell: missing in a 2019 report
    assert labels["req__new__tot"] == "New requests this year - Total"
    assert labels["req__grant__tot"] == "Granted (disclosed) - Total"
    assert labels["agency"] == "Reporting agency"
    assert value_labels["format"] == {0: "2019", 1: "2021"}
    assert value_labels["passes_checks"] == {0: "no", 1: "yes"}
    assert data_label.startswith("nianbao: one row per report")
    assert all(len(v) <= 80 for v in labels.values())


def test_names_are_valid_unique_and_mapped_in_columns(exported):
    _, out, _ = exported
    cols = pd.read_stata(out / "columns.dta")
    assert set(cols["file"].astype(str)) == {"codebook", *EXPORT_VIEWS, "report_values"}
    for file, group in cols.groupby("file", observed=True):
        names = group["stata_name"].tolist()
        assert len({n.lower() for n in names}) == len(names), file
        assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,31}", n) for n in names), file
        assert list(pd.read_stata(out / f"{file}.dta").columns) == names
    rv = cols[cols["file"] == "report_values"].set_index("column")
    assert rv.loc["requests__deny_three_security__total", "stata_name"] == "req__deny_3_sec__tot"
    assert rv.loc["requests__new__total", "label_zh"].startswith("一、本年新收政府信息公开申请数量")
    assert rv.loc["agency", "stata_name"] == "agency"
    wide = cols[cols["file"] == "appeals_wide"].set_index("column")
    assert wide.loc["review_corrected", "stata_name"] == "review_corrected"  # fits: kept
    assert wide.loc["review_corrected", "label"] == "Administrative reconsideration - Corrected"


def test_stata_names_rule():
    got = stata_names(
        ["requests__reject_mass_repeat__legal_service", "a" * 40, "a" * 40 + "b", "in", "x y"]
    )
    assert got["requests__reject_mass_repeat__legal_service"] == "req__rej_mass_rpt__leg_svc"
    assert got["a" * 40] == "a" * 32 and got["a" * 40 + "b"] == "a" * 30 + "_2"
    assert got["in"] == "in_" and got["x y"] == "x_y"
    assert stata_names(["requests__new__total"]) == {"requests__new__total": "requests__new__total"}


def test_notes_hold_the_chinese_label_and_the_source(exported):
    data, out, _ = exported
    ch = characteristics(out / "report_values.dta")
    zh = next(c for c in catalogue.codebook() if c["code"] == "requests.deny_three_security.total")
    assert ch[("req__deny_3_sec__tot", "note0")] == "2"
    note = ch[("req__deny_3_sec__tot", "note1")]
    assert note.startswith("中文：" + zh["item_zh"] + "／" + zh["column_zh"])
    assert "requests.deny_three_security.total" in note
    assert ch[("req__deny_3_sec__tot", "note2")] == (
        "Warehouse column: requests__deny_three_security__total"
    )
    assert ch[("_dta", "note0")] == "2"
    assert "warehouse version 0" in ch[("_dta", "note1")]
    assert str(data) in ch[("_dta", "note1")] and "exported" in ch[("_dta", "note1")]
    reports = characteristics(out / "reports.dta")
    assert reports[("agency", "note1")] == "中文：报告机关"
    assert "UTC" in reports[("fetched_at", "note2")]
    assert "';'" in reports[("errors", "note2")]


def test_categories_booleans_times_and_long_text(exported):
    _, out, _ = exported
    checks, _, vl, _ = read(out / "checks.dta")
    assert vl["status"] == {0: "passed", 1: "failed", 2: "skipped"}  # the fixed order
    assert vl["ok"] == {0: "no", 1: "yes"}
    assert checks["status"].value_counts().to_dict() == {"passed": 4, "failed": 1, "skipped": 1}
    assert checks["ok"].isna().sum() == 1  # the skipped check: missing, not no
    assert "requests_balance" in vl["family"].values()
    reports, labels, vl, _ = read(out / "reports.dta")
    assert vl["level"] == {0: "county"} and vl["region_source"] == {0: "registry"}
    assert "agency" not in vl and "title" not in vl  # free text stays text
    assert str(reports["fetched_at"].dtype).startswith("datetime64")
    assert reports["fetched_at"].dt.tz is None
    long = reports.set_index("report_id").loc[report_id_for(LONG_URL)]
    assert long["agency"] == LONG_AGENCY and LONG_AGENCY in long["title"]  # strL, not cut
    assert (
        reports["n_facts"].max() == len(catalogue.cells("2021"))
        and labels["n_facts"] == "Number of cells read"
    )


def test_unknown_format_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["export", "--to", str(tmp_path), "--format", "xls"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if "error" in line]
    assert len(errors) == 1 and "invalid choice: 'xls'" in errors[0] and "stata" in errors[0]
    assert not list(tmp_path.iterdir())
