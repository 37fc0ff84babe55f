"""Tables 二, 三 and 四 are read independently of each other (nianbao issue 11).

* A report cut off at any point (the five real seeds, generated reports of both formats in
  text-dump and HTML renderings) keeps every table that ends before the cut complete and
  exact; the cut table yields a prefix of its rows, each exact, and an error that names the
  table and the rows it lacks; no fact anywhere differs from the truth.  The same when only
  the table is cut and the report resumes at the next section's heading: the tables after it
  are complete and exact too.
* A report whose 三 is broken in the middle (a garbage row, a row missing a cell) keeps 二 and
  四 complete and exact; so does one whose 三 cannot be read at all (the mapper raises).
* A section whose heading is missing, garbled or out of order is still found by its anchors;
  each table's format comes from its own labels (a 2021 report keeping the 2019 requests
  table is mapped and checked table by table).
* Active-table headers broken inside a label across cells or lines (`本年新 | 制作数量`) read
  correctly, 2019 and 2021.

Cuts fall on token boundaries in text (a cut inside '123' leaves the well-formed '12', which
no reader can tell from the truth) and before a tag in HTML, as tests/test_properties.py cuts.
Derandomized as there: the same examples every run; NIANBAO_PROPERTY_SCALE=N explores N times
as many fresh ones.
"""

from __future__ import annotations

import csv
import os
import random
import re
from pathlib import Path

import pytest
from conftest import SEED_EXPECTED, SEED_FILES, extract
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from nianbao.demo.synth import SynthReport, random_report, render
from nianbao.transform import catalogue, report
from nianbao.transform.result import ExtractResult

Code = tuple[str, str, str]
Truth = dict[Code, tuple[int | float | None, str]]

SCALE = max(1, int(os.environ.get("NIANBAO_PROPERTY_SCALE", "1")))
CUTS = settings(
    max_examples=10 * SCALE,
    deadline=None,
    derandomize=SCALE == 1,
    phases=[Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if SCALE > 1 else []),
    suppress_health_check=[HealthCheck.too_slow],
)
FORMATS = ("2021", "2019")
TEXT_RENDERINGS = ("cells", "rows", "spaces", "blank_lines")
HTML_RENDERINGS = ("clean", "word", "gbk_print")
TABLES = catalogue.TABLES
# Where each table starts in a rendering, and where the report's tables end (section 五).
HEADS = ("二、主动公开", "三、收到和处理", "四、政府信息公开行政复议", "五、存在")


# ------------------------------------------------------------------------------ helpers


def facts_of(result: ExtractResult) -> Truth:
    out: Truth = {}
    for f in result.facts:
        key = (f.table, f.item, f.column)
        assert key not in out, f"duplicate fact {key}"
        out[key] = (f.value, f.raw)
    return out


def seed_truth(path: Path) -> Truth:
    with open(SEED_EXPECTED / (path.stem + ".csv"), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return {
        (r["table"], r["item"], r["column"]): (
            float(r["raw"]) if "." in r["raw"] else int(r["raw"]),
            r["raw"],
        )
        for r in rows
    }


def synth_truth(r: SynthReport) -> Truth:
    return {k: (c.value, c.raw) for k, c in r.cells.items()}


def encoding_of(data: bytes) -> str:
    return "gbk" if b"charset=gb2312" in data[:2000] else "utf-8"


def heads(data: bytes) -> list[int]:
    """Byte offsets of the headings of 二, 三, 四 and 五 (the first copy's)."""
    enc, out, start = encoding_of(data), [], 0
    for h in HEADS:
        start = data.index(h.encode(enc), start)
        out.append(start)
    return out


def cut_points(data: bytes, html: bool) -> list[int]:
    """Token boundaries (text) or tag starts (HTML) from 二's heading to 五's."""
    a, *_, b = heads(data)
    pattern = rb"<" if html else rb"[ \n]"
    return [m.start() for m in re.finditer(pattern, data) if a < m.start() < b]


def rows_of(got: Truth, fmt: str, table: str) -> list[str]:
    return [it for it in catalogue.items(fmt, table) if any(k[:2] == (table, it) for k in got)]


def missing_named(result: ExtractResult, table: str) -> list[str] | None:
    """The rows the table's truncation error names, or None when there is no such error."""
    for e in result.errors:
        if e.startswith(f"{table}: truncated"):
            return e.split("missing rows: ", 1)[1].split(", ")
    return None


def cut(data: bytes, at: int, mode: str, html: bool) -> tuple[bytes, int | None]:
    """``data`` cut at ``at``: the document stops there ('document'), or only the table does
    and the report resumes at the next section's heading ('table').  Returns the bytes and
    the offset at which the report resumes (None when it does not)."""
    if mode == "document":
        return data[:at], None
    hs = heads(data)
    nxt = next(h for h in hs if h > at)
    if html:
        nxt = data.lower().rfind(b"<p", 0, nxt)
    return data[:at] + b"\n" + data[nxt:], nxt


def assert_cut_correctly(
    result: ExtractResult, truth: Truth, fmt: str, at: int, resume: int | None, hs: list[int]
) -> None:
    """The contract for a report whose tables stop at byte ``at`` and resume (from the next
    section heading on) at ``resume``: see the module docstring."""
    got = facts_of(result)
    wrong = {k: (v, truth.get(k)) for k, v in got.items() if truth.get(k) != v}
    assert not wrong, f"wrong facts {wrong}; errors {result.errors[:3]}"
    cells_found = {c.name: c for c in result.checks}["cells_found"]
    for i, table in enumerate(TABLES):
        items = list(catalogue.items(fmt, table))
        have = rows_of(got, fmt, table)
        if at >= hs[i + 1] or (resume is not None and hs[i] >= resume):  # before/after the cut
            want = {k for k in truth if k[0] == table}
            assert want <= set(got), (table, sorted(want - set(got))[:5], result.errors[:3])
        elif at > hs[i]:  # the cut table: a prefix of its rows, each row whole
            assert have == items[: len(have)], (table, have)
            for it in have:
                cols = catalogue.columns(fmt, table, it)
                assert all((table, it, c) in got for c in cols), (table, it)
            if len(have) < len(items):
                assert cells_found.ok is False
                named = missing_named(result, table)
                if resume is None or named is not None or have:
                    assert named == items[len(have) :], result.errors
                else:  # nothing read and the report goes on: the mapper's error says why
                    assert any(e.startswith(table) for e in result.errors), result.errors
        else:
            assert have == [], (table, have)


# ------------------------------------------------------------------------------ cuts

MODES = ("document", "table")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name[:3])
@CUTS
@given(pick=st.integers(min_value=0, max_value=10**6))
def test_seed_cut_anywhere(path: Path, mode: str, pick: int) -> None:
    data = path.read_bytes()
    cuts = cut_points(data, html=False)
    at = cuts[pick % len(cuts)]
    damaged, resume = cut(data, at, mode, html=False)
    result = extract(damaged, f"{path.name}[:{at}]")
    assert result.format == "2021"
    assert_cut_correctly(result, seed_truth(path), "2021", at, resume, heads(data))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("rendering", TEXT_RENDERINGS + HTML_RENDERINGS)
@CUTS
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), pick=st.integers(0, 10**6))
def test_generated_report_cut_anywhere(
    fmt: str, rendering: str, mode: str, seed: int, pick: int
) -> None:
    r = random_report(random.Random(seed), fmt)
    data = render(r, rendering)
    html = rendering in HTML_RENDERINGS
    at = (cuts := cut_points(data, html))[pick % len(cuts)]
    damaged, resume = cut(data, at, mode, html)
    result = extract(damaged, f"synth-{seed}.{rendering}[:{at}]")
    assert result.format == fmt
    assert_cut_correctly(result, synth_truth(r), fmt, at, resume, heads(data))


def test_truncated_requests_error_names_the_missing_rows() -> None:
    """The cut after 三's 结转 row's label: every earlier row read, the last one named."""
    path = next(p for p in SEED_FILES if p.name.startswith("001"))
    text = path.read_text(encoding="utf-8")
    at = text.index("四、结转下年度继续办理")
    result = extract(text[:at].encode(), "001-cut")
    got = facts_of(result)
    assert rows_of(got, "2021", "requests")[-1] == "result_total"
    assert (
        "requests: truncated after result_total (the document ends inside it); "
        "missing rows: carried_forward"
    ) in result.errors
    assert {k for k in got if k[0] == "active"} == {k for k in seed_truth(path) if k[0] == "active"}
    assert not any(e.startswith(("active", "appeals")) for e in result.errors)


# ------------------------------------------------------------------------------ broken 三


def _table_facts(result: ExtractResult, truth: Truth, table: str) -> None:
    got = facts_of(result)
    want = {k: v for k, v in truth.items() if k[0] == table}
    assert {k: got.get(k) for k in want} == want, result.errors[:3]


def _break_requests_text(text: str, fmt: str) -> tuple[str, str]:
    """Rows style: a garbage row after 三's 3rd value row, and the 6th value row loses a cell.
    Returns the broken text and the damaged row's label."""
    lines = text.split("\n")
    a = next(i for i, ln in enumerate(lines) if ln.startswith(HEADS[1]))
    rows = [
        i for i in range(a, len(lines)) if lines[i].count("|") >= 8 and re.search(r"\d", lines[i])
    ]
    damaged = lines[rows[5]].split(" | ")
    del damaged[-2]  # a value cell, not the row's end
    lines[rows[5]] = " | ".join(damaged)
    lines.insert(rows[2] + 1, "| 乱码@@##行 | 3 | 1 | 4 | 1 | 5 | 9 | 2 |")
    lines.insert(rows[3] + 1, "@@##$$%%^^&&")
    return "\n".join(lines), damaged[0].strip("| ")


def _break_requests_html(data: bytes) -> bytes:
    """Clean markup: a garbage row in 三's table and one <td> of a value row removed."""
    start = data.index(HEADS[1].encode())
    stop = data.index(HEADS[2].encode())
    trs = [m.start() for m in re.finditer(rb"<tr>", data[start:stop])]
    row = start + trs[8]
    end = data.index(b"</td>", data.index(b"<td>", data.index(b"</td>", row) + 5)) + 5
    first_value = data.index(b"<td>", data.index(b"</td>", row) + 5)
    broken = data[:first_value] + data[end:]  # the row's first value cell is gone
    garbage = "<tr><td colspan=3>乱码@@行</td>" + "<td>7</td>" * 7 + "</tr>"
    at = start + trs[4]
    return broken[:at] + garbage.encode() + broken[at:]


@pytest.mark.parametrize("fmt", FORMATS)
@settings(CUTS, max_examples=4 * SCALE)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_broken_requests_keeps_active_and_appeals(fmt: str, seed: int) -> None:
    r = random_report(random.Random(seed), fmt)
    truth = synth_truth(r)
    text, label = _break_requests_text(render(r, "rows").decode(), fmt)
    html = _break_requests_html(render(r, "clean"))
    for data in (text.encode(), html):
        result = extract(data, f"broken-{seed}")
        assert result.format == fmt
        _table_facts(result, truth, "active")
        _table_facts(result, truth, "appeals")
        got = facts_of(result)
        assert all(truth[k] == v for k, v in got.items())
        assert any(e.startswith("requests") for e in result.errors), result.errors
        assert not any(e.startswith(("active", "appeals")) for e in result.errors)
    assert any(label in e or e.startswith("requests.") for e in result.errors)


@pytest.mark.parametrize("table", TABLES)
def test_a_table_whose_mapper_raises_costs_only_itself(monkeypatch, table: str) -> None:
    def boom(entries, fmt):
        raise RuntimeError("simulated failure")

    monkeypatch.setitem(report._MAPPERS, table, boom)
    r = random_report(random.Random(5), "2021")
    result = extract(render(r, "rows"), "boom")
    assert f"{table}: not read (RuntimeError: simulated failure)" in result.errors
    truth = synth_truth(r)
    for other in TABLES:
        if other != table:
            _table_facts(result, truth, other)
    assert not any(k[0] == table for k in facts_of(result))
    tables_found = {c.name: c for c in result.checks}["tables_found"]
    assert tables_found.ok is False and f"missing {table}" in tables_found.detail


def test_a_section_whose_rows_cannot_be_read_costs_only_itself(monkeypatch) -> None:
    """build_entries raising on 三's lines: 二 and 四 are read all the same."""
    real = report.build_entries

    def flaky(lines):
        if any("勾稽关系" in cell for line in lines for cell in line.cells):
            raise ValueError("unreadable rows")
        return real(lines)

    monkeypatch.setattr(report, "build_entries", flaky)
    r = random_report(random.Random(8), "2019")
    result = extract(render(r, "cells"), "flaky")
    assert result.format == "2019"
    assert "requests: rows not read (ValueError: unreadable rows)" in result.errors
    truth = synth_truth(r)
    _table_facts(result, truth, "active")
    _table_facts(result, truth, "appeals")
    assert not any(k[0] == "requests" for k in facts_of(result))


def _without_section(text: str, k: int) -> str:
    """The text without section ``k``'s heading and table (up to the next section)."""
    return text[: text.index(HEADS[k])] + text[text.index(HEADS[k + 1]) :]


@pytest.mark.parametrize("fmt", FORMATS)
def test_format_read_from_each_tables_own_labels(fmt: str) -> None:
    """The title's year says the other format; each table's labels still decide its own."""
    other_year = 2019 if fmt == "2021" else 2022
    r = random_report(random.Random(31), fmt, year=other_year)
    text = render(r, "rows").decode()
    truth = synth_truth(r)
    # 二 alone (三 cut before its first row): 二's markers decide.
    alone = text[: text.index("一、本年新收")]
    result = extract(alone.encode(), "active-only")
    assert result.format == fmt
    _table_facts(result, truth, "active")
    # 二 missing altogether: 三's own structure decides.
    result = extract(_without_section(text, 0).encode(), "no-active")
    assert result.format == fmt
    _table_facts(result, truth, "requests")
    _table_facts(result, truth, "appeals")


def test_2021_report_keeping_the_2019_requests_table() -> None:
    """Each table keeps its own format through mapping, completeness and identities."""
    r21 = random_report(random.Random(41), "2021", scale=20)
    r19 = random_report(random.Random(42), "2019", scale=20)
    t21, t19 = render(r21, "rows").decode(), render(r19, "rows").decode()
    spliced = (
        t21[: t21.index(HEADS[1])]
        + t19[t19.index(HEADS[1]) : t19.index(HEADS[2])]
        + t21[t21.index(HEADS[2]) :]
    )
    result = extract(spliced.encode(), "mixed")
    truth = {k: v for k, v in synth_truth(r21).items() if k[0] != "requests"}
    truth |= {k: v for k, v in synth_truth(r19).items() if k[0] == "requests"}
    assert result.format == "2021"
    assert "format_conflict:active=2021,requests=2019" in result.flags
    assert facts_of(result) == truth
    checks = {c.name: c for c in result.checks}
    assert checks["cells_found"].ok is True, checks["cells_found"].detail
    assert checks["cells_found"].detail == f"{len(truth)} of {len(truth)} cells"
    identities = [c for c in result.checks if c.name.startswith("requests_")]
    assert identities and all(c.ok is True for c in identities), [
        (c.name, c.detail) for c in identities if c.ok is not True
    ][:3]
    assert "requests_row_total.other_handling" in checks


# ------------------------------------------------------------------------------ headings


def _drop_heading(text: str, k: int) -> str:
    return re.sub(rf"{HEADS[k]}[^\n<]*", "", text)


def _garble_heading(text: str, k: int) -> str:
    garbled = ("二、王动公幵政苻倍息", "三、收剄和处哩政苻倍息公幵申情", "四、政苻倍息公幵行正复議")
    return re.sub(rf"{HEADS[k]}[^\n<]*", garbled[k], text)


def _swap_requests_and_appeals(text: str) -> str:
    a, b, c = (text.index(h) for h in HEADS[1:])
    return text[:a] + text[b:c] + text[a:b] + text[c:]


HEADING_CASES = {
    "no_active_heading": lambda t: _drop_heading(t, 0),
    "no_requests_heading": lambda t: _drop_heading(t, 1),
    "no_appeals_heading": lambda t: _drop_heading(t, 2),
    "garbled_headings": lambda t: _garble_heading(_garble_heading(_garble_heading(t, 0), 1), 2),
    "requests_after_appeals": _swap_requests_and_appeals,
}


@pytest.mark.parametrize("case", sorted(HEADING_CASES))
@pytest.mark.parametrize("rendering", ("cells", "rows", "spaces", "spaces_vertical", "clean"))
@pytest.mark.parametrize("fmt", FORMATS)
def test_section_found_by_its_anchors(fmt: str, rendering: str, case: str) -> None:
    r = random_report(random.Random(17), fmt)
    data = render(r, rendering)
    text = HEADING_CASES[case](data.decode())
    assert text != data.decode()
    result = extract(text.encode(), case)
    assert result.format == fmt
    assert facts_of(result) == synth_truth(r), result.errors[:3]


# ------------------------------------------------------------------------------ 2019 headers

SPLIT = {
    "本年新制作数量": ("本年新", "制作数量"),
    "本年新公开数量": ("本年新", "公开数量"),
    "对外公开总数量": ("对外公开", "总数量"),
    "上一年项目数量": ("上一年", "项目数量"),
    "本年制发件数": ("本年制发", "件数"),
    "本年废止件数": ("本年废止", "件数"),
    "现行有效件数": ("现行有效", "件数"),
    "本年收费金额": ("本年收费", "金额"),
}


def _split_labels(text: str, joiner: str) -> str:
    for whole, (a, b) in SPLIT.items():
        text = text.replace(whole, a + joiner + b)
    return text


SPLIT_RENDERINGS = {
    "rows": lambda t: _split_labels(t, " | "),
    "cells": lambda t: _split_labels(t, " |\n"),
    "blank_lines": lambda t: _split_labels(t, "\n\n"),
    "spaces": lambda t: _split_labels(t, " "),
    "clean": lambda t: _split_labels(t, "</td>\n<td>"),
    "word": lambda t: _split_labels(t, "<br>"),
}


@pytest.mark.parametrize("rendering", sorted(SPLIT_RENDERINGS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_header_split_inside_a_label(fmt: str, rendering: str) -> None:
    r = random_report(random.Random(23), fmt)
    data = render(r, rendering).decode()
    split = SPLIT_RENDERINGS[rendering](data)
    assert split != data
    result = extract(split.encode(), f"split.{rendering}")
    assert result.format == fmt
    assert not any(e.startswith("active") for e in result.errors), result.errors
    truth = synth_truth(r)
    assert facts_of(result) == truth


def test_header_split_in_one_row_of_cells() -> None:
    """The issue's own example: `信息内容 | 本年新 | 制作数量 | 本年新 | 公开数量 | 对外公开总数量`."""
    dump = (
        "某某局2019年政府信息公开工作年度报告\n二、主动公开政府信息情况\n"
        "| 第二十条第(一)项 |\n"
        "| 信息内容 | 本年新 | 制作数量 | 本年新 | 公开数量 | 对外公开总数量 |\n"
        "| 规章 | 1 | 2 | 3 |\n| 规范性文件 | 4 | 5 | 6 |\n"
        "| 第二十条第(五)项 |\n| 信息内容 | 上一年项目数量 | 本年增/减 | 处理决定数量 |\n"
        "| 行政许可 | 7 | -1 | 9 |\n三、收到和处理政府信息公开申请情况\n"
    )
    result = extract(dump.encode())
    got = {(f.item, f.column): f.value for f in result.facts}
    assert got == {
        ("regulation", "made"): 1,
        ("regulation", "published"): 2,
        ("regulation", "total_published"): 3,
        ("normative_doc", "made"): 4,
        ("normative_doc", "published"): 5,
        ("normative_doc", "total_published"): 6,
        ("license", "prev_items"): 7,
        ("license", "delta_items"): -1,
        ("license", "decisions"): 9,
    }
    assert not any("does not match" in e for e in result.errors)
