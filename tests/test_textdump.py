"""Text dumps: the same cells wherever the ``|`` separators and line breaks fall.

Unit tests print one small piece of a real 二 table in each placement (separator inline, at the
line's end, at the next line's start, on a line of its own, span filler on the cell's line or
alone) and compare the Document cells and the facts.  The property tests re-print whole reports
(synth reports and the five seeds) with a random placement per cell and random line breaks
(tests/scatter.py) and require exactly the facts of the report.

CI runs a fixed set of examples (derandomized); NIANBAO_PROPERTY_SCALE=N runs N times as many
fresh ones, as in tests/test_properties.py.
"""

from __future__ import annotations

import csv
import os
import random
from pathlib import Path

import pytest
from conftest import SEED_EXPECTED, SEED_FILES
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from nianbao.core.document import Document, Paragraph, Table
from nianbao.demo.synth import DEVIATIONS, inject, random_report, render_text
from nianbao.extract.textdump import _split_pipeless, parse_text
from nianbao.transform import catalogue
from nianbao.transform.entries import build_entries
from nianbao.transform.locate import Line
from nianbao.transform.report import extract_document
from scatter import render_cells, scatter

# ------------------------------------------------------------------------ helpers


def shape(doc: Document) -> list[tuple[str, ...]]:
    """Paragraphs as ('P', text); table rows as their non-empty cells (filler rows vanish)."""
    out: list[tuple[str, ...]] = []
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            out.append(("P", b.text))
        else:
            out += [tuple(c for c in row if c) for row in b.rows if any(row)]
    return out


def flat(doc: Document) -> list[str]:
    """Every non-empty cell in order, paragraphs as 'P:' + text."""
    out: list[str] = []
    for item in shape(doc):
        out += [f"P:{item[1]}"] if item[0] == "P" else list(item)
    return out


def facts(text: str) -> dict[tuple[str, str, str], str]:
    return {(f.table, f.item, f.column): f.raw for f in extract_document(parse_text(text)).facts}


HEAD = "二、主动公开政府信息情况\n"
CELLS = ["第二十条第(一)项", "信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]
CELLS += ["规章", "3", "0", "15", "行政规范性文件", "61", "59", "422"]
CELLS += ["第二十条第(五)项", "信息内容", "本年处理决定数量", "行政许可", "7"]
ROW_ENDS = {0, 4, 8, 12, 13, 15, 17}  # index of each table row's last cell
ACTIVE_FACTS = {
    ("active", "regulation", "issued"): "3",
    ("active", "regulation", "repealed"): "0",
    ("active", "regulation", "in_force"): "15",
    ("active", "normative_doc", "issued"): "61",
    ("active", "normative_doc", "repealed"): "59",
    ("active", "normative_doc", "in_force"): "422",
    ("active", "license", "decisions"): "7",
}


def one_cell_per_line(closer: str) -> str:
    """Every cell on its own line, closed as ``closer`` says."""
    if closer == "end":
        return HEAD + "".join(f"{c} |\n" for c in CELLS)
    if closer == "own":
        return HEAD + "".join(f"{c}\n|\n" for c in CELLS)
    assert closer == "start"
    return HEAD + CELLS[0] + "\n" + "".join(f"| {c}\n" for c in CELLS[1:]) + "|\n"


def rows_per_line(lead: bool) -> str:
    rows, row = [], []
    for i, c in enumerate(CELLS):
        row.append(c)
        if i in ROW_ENDS:
            rows.append(("| " if lead else "") + " | ".join(row) + " |")
            row = []
    return HEAD + "\n".join(rows) + "\n"


# ------------------------------------------------------------------------ placements


def test_closer_at_end_at_start_or_alone_gives_the_same_document() -> None:
    end = parse_text(one_cell_per_line("end"))
    assert shape(end) == [("P", "二、主动公开政府信息情况")] + [(c,) for c in CELLS]
    for closer in ("own", "start"):
        assert parse_text(one_cell_per_line(closer)).blocks == end.blocks, closer
    assert facts(one_cell_per_line("own")) == ACTIVE_FACTS


def test_rows_per_line_give_the_same_cells_and_facts() -> None:
    want = flat(parse_text(one_cell_per_line("end")))
    for lead in (False, True):
        text = rows_per_line(lead)
        doc = parse_text(text)
        assert flat(doc) == want
        assert shape(doc)[2] == ("信息内容", "本年制发件数", "本年废止件数", "现行有效件数")
        assert facts(text) == ACTIVE_FACTS


def test_issue_example_separator_and_filler_on_lines_of_their_own() -> None:
    text = HEAD + "第二十条第(一)项\n||||\n信息内容\n|\n本年制发件数\n|\n本年废止件数\n|\n"
    text += "现行有效件数\n|\n规章\n|\n3\n|\n0\n|\n15\n||||\n"
    text += "行政规范性文件\n|\n61\n|\n59\n|\n422\n|\n|||\n"
    text += "第二十条第(五)项\n|\n信息内容\n|\n本年处理决定数量\n||\n行政许可\n|\n7\n|\n"
    doc = parse_text(text)
    assert flat(doc) == flat(parse_text(one_cell_per_line("end")))
    table = doc.blocks[1]
    assert isinstance(table, Table)
    # The first pipe of a run closes the cell above; the rest is span filler (empty cells).
    assert table.rows[:3] == [["第二十条第(一)项"], ["", ""], ["信息内容"]]
    assert facts(text) == ACTIVE_FACTS


@pytest.mark.parametrize(
    "filler",
    ["{c} | |||", "{c} |\n|||", "{c}\n| |||", "{c}\n|\n||||", "{c}\n||||"],
    ids=["inline", "own-line", "start+inline", "alone+own-line", "run-closes"],
)
def test_span_filler_on_the_cells_line_or_alone(filler: str) -> None:
    lines = [filler.format(c=c) if i in ROW_ENDS else f"{c} |" for i, c in enumerate(CELLS)]
    text = HEAD + "\n".join(lines) + "\n"
    assert flat(parse_text(text)) == flat(parse_text(one_cell_per_line("end")))
    assert facts(text) == ACTIVE_FACTS


def test_placements_mixed_within_one_dump() -> None:
    text = HEAD + (
        "第二十条第(一)项 | ||||\n"
        "信息内容 | 本年制发件数\n"  # last cell closed by the next line's leading pipe
        "| 本年废止件数 |\n"
        "现行有效件数\n"
        "|\n"
        "规章\n"
        "| 3 | 0\n"
        "| 15 | 行政规范性文件 |\n"  # a row break in the middle of a table row
        "61\n"
        "| 59 |\n"
        "422\n"
        "|||\n"
        "第二十条第(五)项 |\n"
        "信息内容\n"
        "| 本年处理决定数量 | ||\n"
        "行政许可 | 7\n"  # the dump's last cell, never closed
    )
    assert flat(parse_text(text)) == flat(parse_text(one_cell_per_line("end")))
    assert facts(text) == ACTIVE_FACTS


def test_caption_row_with_filler_in_a_row_per_line_dump() -> None:
    text = rows_per_line(lead=True).replace("| 第二十条第(一)项 |", "| 第二十条第(一)项 | |||")
    assert "| 第二十条第(一)项 | |||\n| 信息内容 |" in text
    assert facts(text) == ACTIVE_FACTS
    without_leading = rows_per_line(lead=False).replace(
        "第二十条第(一)项 |", "第二十条第(一)项 | |||"
    )
    assert facts(without_leading) == ACTIVE_FACTS


@pytest.mark.parametrize("style", ["spaces", "blank_lines"])
@pytest.mark.parametrize("fmt", catalogue.FORMATS)
def test_pipeless_dump_whose_captions_carry_filler(fmt: str, style: str) -> None:
    """Space-separated rows, captions printed '第二十条第(一)项 | |||' (five of them in 2019:
    enough pipes for pipe mode, which then took every row for a paragraph)."""
    for seed in range(3):
        report = random_report(random.Random(seed), fmt)
        lines = render_text(report, style).splitlines()
        text = "\n".join(f"{ln} | |||" if ln.startswith("第二十条") else ln for ln in lines)
        assert text.count(" | |||") == (5 if fmt == "2019" else 4)
        assert facts(text) == {k: c.raw for k, c in report.cells.items()}


def test_values_before_a_label_close_the_previous_row() -> None:
    """A dump that breaks lines anywhere prints '15 | 行政规范性文件 |': 15 is 规章's."""
    rows = [["规章", "3", "0"], ["15", "行政规范性文件", "61"], ["59", "422"]]
    entries = build_entries([Line(r, False, 0, i) for i, r in enumerate(rows)])
    assert [(e.label, e.segments) for e in entries] == [
        ("", []),
        ("规章", [["3", "0"], ["15"]]),
        ("行政规范性文件", [["61"], ["59", "422"]]),
    ]
    # Leading empty cells are rowspan copies ('|  | (一)予以公开 | 0 |'): still ignored.
    entries = build_entries(
        [Line(["三、本年度办理结果"], False, 0, 0), Line(["", "(一)x", "0"], False, 0, 1)]
    )
    assert [(e.label, e.segments) for e in entries] == [
        ("", []),
        ("三、本年度办理结果", []),
        ("(一)x", [["0"]]),
    ]


# ------------------------------------------------------------------------ wrapped labels

WRAPS = [
    # (as printed in the 'cells' dump, as wrapped)
    ("三、本年度办理结果 |\n(一)予以公开 |", "三、本年度办理结果(一)予以\n公开 |"),
    (
        "(二)部分公开(区分处理的,只计这一情形,不计其他情形) |",
        "(二)部分公开(区分处理的,只计这一\n情形,不计其他情形) |",
    ),
    ("1.属于国家秘密 |", "1.属于国家\n秘密 |"),
    ("4.保护第三方合法权益 |", "4.保护第三方\n| 合法权益 |"),  # second half opens with a pipe
    ("行政事业性收费 |", "行政事业性 | ||\n收费 |"),  # span filler after the first half
]


@pytest.mark.parametrize(
    ("printed", "wrapped"), WRAPS, ids=["parent", "paren", "short", "start", "filler"]
)
def test_row_label_wrapped_onto_a_second_line(printed: str, wrapped: str) -> None:
    report = random_report(random.Random(1), "2021")
    dump = render_text(report, "cells")
    assert printed in dump
    assert facts(dump.replace(printed, wrapped)) == {k: c.raw for k, c in report.cells.items()}


def test_row_label_wrapped_in_a_row_per_line_dump() -> None:
    report = random_report(random.Random(1), "2021")
    dump = render_text(report, "rows_plain")
    printed = "| 2.其他法律行政法规禁止公开 |"
    assert printed in dump
    wrapped = dump.replace(printed, "| 2.其他法律行政法规 |\n| 禁止公开 |")
    assert facts(wrapped) == {k: c.raw for k, c in report.cells.items()}


def test_separate_labels_and_split_header_words_are_not_joined() -> None:
    rows = [["(三)不予公开"], ["1.属于国家秘密", "0"], ["本年新"], ["制作数量"], ["规章", "1"]]
    entries = build_entries([Line(r, False, 0, i) for i, r in enumerate(rows)])
    assert [e.label for e in entries] == ["", *(r[0] for r in rows)]


# ------------------------------------------------------------------------ paragraphs stay


def test_prose_and_info_lines_stay_paragraphs_though_a_pipe_follows() -> None:
    prose = "2024年,本机关认真贯彻落实《条例》,主动公开政府信息136条,依法办理申请。"
    info = "发布机构：某某局　发布日期：2025-01-20"
    cell = "第二十条第(一)项"
    text = f"{prose}\n| x |\n{info}\n|\n{cell}\n| 信息内容 | 本年制发件数 |\n规章 |\n3 |\n0 |\n"
    assert shape(parse_text(text)) == [
        ("P", prose),
        ("x",),
        ("P", info),
        (cell,),
        ("信息内容", "本年制发件数"),
        ("规章",),
        ("3",),
        ("0",),
    ]
    # A pipe-less line that no pipe closes is a paragraph, as before.
    text = "一、总体情况\n本年度无\n" + one_cell_per_line("end")
    assert parse_text(text).paragraphs()[:3] == ["一、总体情况", "本年度无", HEAD.strip()]


def test_framed_rows_keep_the_line_above_a_paragraph() -> None:
    """In a dump of '| a | b |' rows only, a leading pipe opens a row: the heading above the
    table stays a paragraph (as it did before separators could stand at a line's start)."""
    doc = parse_text(rows_per_line(lead=True))
    assert doc.paragraphs() == [HEAD.strip()]
    assert shape(doc)[1:3] == [
        ("第二十条第(一)项",),
        ("信息内容", "本年制发件数", "本年废止件数", "现行有效件数"),
    ]


def test_markdown_capture_reads_like_rows() -> None:
    """Markdown captures: '## ' before headings, a '|---|---|' delimiter under each table's
    first row.  Neither is report text: the delimiter cells would read as dash placeholders."""
    md = """## 二、主动公开政府信息情况

### 第二十条第(一)项
| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |
|---|:---:|---|---|
| 规章 | 3 | 0 | 15 |
| 行政规范性文件 | 61 | 59 | 422 |

### 第二十条第(五)项
| 信息内容 | 本年处理决定数量 |
| --- | --- |
| 行政许可 | 7 |
"""
    plain = md.replace("#", "").replace("|---|:---:|---|---|\n", "").replace("| --- | --- |\n", "")
    assert parse_text(md).blocks == parse_text(plain).blocks
    assert parse_text(md).paragraphs() == [HEAD.strip(), CELLS[0], CELLS[13]]
    assert facts(md) == ACTIVE_FACTS
    # A dash placeholder cell on its own is a value, not a delimiter.
    assert shape(parse_text(one_cell_per_line("end").replace("\n15 |", "\n--- |")))[9] == ("---",)


def test_pipeless_dump_takes_stray_filler_for_a_separator() -> None:
    assert _split_pipeless("第二十条第(一)项 | |||") == ["第二十条第(一)项"]
    assert _split_pipeless("商业 企业 | 科研 机构") == ["商业 企业", "科研 机构"]
    assert _split_pipeless("规章 3 0 15 ||") == ["规章", "3", "0", "15"]


def test_scatter_keeps_every_cell_in_order() -> None:
    """The property tests' renderer itself: all cells, in order, whatever it draws.  (When
    the table's first line opens with a pipe, the heading above it reads as a one-cell row:
    locate finds a heading in either.)"""
    want = [c.removeprefix("P:") for c in flat(parse_text(one_cell_per_line("end")))]
    for seed in range(50):
        text = "\n".join(render_cells(CELLS, random.Random(seed)))
        got = [c.removeprefix("P:") for c in flat(parse_text(HEAD + text))]
        assert got == want, text


# ------------------------------------------------------------------------ properties

SCALE = max(1, int(os.environ.get("NIANBAO_PROPERTY_SCALE", "1")))
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def _settings(n: int) -> settings:
    return settings(
        max_examples=n * SCALE,
        deadline=None,
        derandomize=SCALE == 1,
        phases=[Phase.explicit, Phase.reuse, Phase.generate]
        + ([Phase.shrink] if SCALE > 1 else []),
        suppress_health_check=[HealthCheck.too_slow],
    )


@_settings(200)
@given(seed=SEEDS, layout=SEEDS, fmt=st.sampled_from(catalogue.FORMATS))
def test_synth_report_in_random_placements_gives_its_facts(
    seed: int, layout: int, fmt: str
) -> None:
    report = random_report(random.Random(seed), fmt)
    text = scatter(render_text(report, "rows_plain"), random.Random(layout))
    result = extract_document(parse_text(text))
    got = {(f.table, f.item, f.column): (f.value, f.unit, f.raw) for f in result.facts}
    assert got == {k: (c.value, c.unit, c.raw) for k, c in report.cells.items()}
    assert len(result.facts) == catalogue.expected_count(fmt)
    assert result.errors == [] and result.failed_checks == []
    m, want = result.meta, report.meta
    assert (m.title, m.agency, m.year) == (want.title, want.agency, want.year)
    if report.info_box:
        assert (m.published, m.index_no) == (want.published, want.index_no)


# A blank value cell cannot be printed in these placements (it would read as span filler).
PRINTABLE = sorted(k for k in DEVIATIONS if k not in ("blank", "only_total"))


@_settings(120)
@given(
    seed=SEEDS,
    layout=SEEDS,
    fmt=st.sampled_from(catalogue.FORMATS),
    kinds=st.lists(st.sampled_from(PRINTABLE), min_size=1, max_size=4),
)
def test_deviations_in_random_placements_read_as_in_rows(
    seed: int, layout: int, fmt: str, kinds: list[str]
) -> None:
    """Scattering changes nothing: the facts are those of the one-row-per-line dump, and no
    fact is wrong or missing beyond what the deviation makes unreadable."""
    rng = random.Random(seed)
    report = inject(random_report(rng, fmt), rng, kinds)
    rows = render_text(report, "rows_plain")
    got = facts(scatter(rows, random.Random(layout)))
    assert got == facts(rows)
    want = {k: c.raw for k, c in report.cells.items()}
    assert {k: v for k, v in got.items() if want.get(k) != v} == {}
    assert set(want) - set(got) <= set(report.lenient)


def _wrap_labels(dump: str, rng: random.Random) -> str:
    """Every third or so label line of a 'cells' or 'rows_plain' dump broken at a random place
    (in rows, the row's first cell: its first half on a line of its own)."""
    out: list[str] = []
    for line in dump.splitlines():
        framed = line.startswith("| ")
        cells = line.strip("| ").split(" | ") if "|" in line else []
        first = cells[0] if cells else ""
        if len(first) >= 4 and not any(ch.isdigit() for ch in first[-2:]) and rng.random() < 0.3:
            k = rng.randint(1, len(first) - 1)
            if framed:
                out += [f"| {first[:k]} |", "| " + " | ".join([first[k:], *cells[1:]]) + " |"]
            else:
                out += [first[:k], line[k:]]
            continue
        out.append(line)
    return "\n".join(out) + "\n"


@_settings(40)
@given(
    seed=SEEDS,
    wraps=SEEDS,
    fmt=st.sampled_from(catalogue.FORMATS),
    style=st.sampled_from(["cells", "rows_plain"]),
    scattered=st.booleans(),
)
def test_wrapped_labels_never_give_a_wrong_number(
    seed: int, wraps: int, fmt: str, style: str, scattered: bool
) -> None:
    """Labels broken anywhere (also inside words that are labels of their own, '2.其他' /
    '法律…'), then maybe printed in random placements: joined where the join spells a
    catalogue label, else that row is missing; never a wrong number, never a null for one."""
    report = random_report(random.Random(seed), fmt)
    text = _wrap_labels(render_text(report, style), random.Random(wraps))
    if scattered:
        text = scatter(text, random.Random(wraps + 1))
    got = facts(text)
    want = {k: c.raw for k, c in report.cells.items()}
    assert {k: v for k, v in got.items() if want.get(k) != v} == {}


def _seed_truth(path: Path) -> dict[tuple[str, str, str], str]:
    with open(SEED_EXPECTED / (path.stem + ".csv"), encoding="utf-8", newline="") as f:
        return {(r["table"], r["item"], r["column"]): r["raw"] for r in csv.DictReader(f)}


@_settings(100)
@given(path=st.sampled_from(SEED_FILES), layout=SEEDS)
def test_seed_in_random_placements_gives_its_200_facts(path: Path, layout: int) -> None:
    text = scatter(path.read_text(encoding="utf-8"), random.Random(layout))
    result = extract_document(parse_text(text))
    assert {(f.table, f.item, f.column): f.raw for f in result.facts} == _seed_truth(path)
    assert result.errors == []
