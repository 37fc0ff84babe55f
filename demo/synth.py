"""Synthetic 政府信息公开工作年度报告: a report model, a random generator, deviation injection,
and renderers to the text-dump styles and real-portal HTML markups the extractor must read.

The model (:class:`SynthReport`) holds what a report *says*: metadata, the ordered body
(paragraphs and the places of the three tables), the printed text of every label, and for every
catalogue cell the raw text printed in it together with the value and unit an exact extractor
must return.  Renderers only decide *how* it is printed, so every rendering of one report must
extract to the same facts.

Typical use::

    rng = random.Random(7)
    report = random_report(rng, fmt="2021")              # all identities hold
    report = inject(report, rng, ["placeholder", "label_spaces"])
    page = render_html(report, "gbk_print")                # bytes, GBK, site chrome, print copy
    dump = render_text(report, "rows")                     # str
    report.expected_facts(), report.expected_checks()      # the truth to compare against

``report_from_text(path)`` turns a real one-cell-per-line dump (the seeds) into a model so it
can be re-rendered in every markup.  Renderings are listed in :data:`TEXT_STYLES` and
:data:`HTML_MARKUPS`; :func:`render` dispatches on either name and always returns bytes.

The demo portal (``nianbao.demo.portal``) publishes its reports through this module as well, so
there is one generator and one renderer: :func:`body_html` gives a page's article in a markup,
with the table quirks of real CMS pages (:data:`TABLE_QUIRKS`); :func:`render_lines` the content
of its attachment files; :func:`pre2019_report` the prose-only reports of years before 2019.
"""

from __future__ import annotations

import copy as _copy
import html
import random
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.transform import catalogue

Code = tuple[str, str, str]  # (table, item, column)
Value = int | float | None

# --------------------------------------------------------------------------------------------
# Rendering names and capabilities
# --------------------------------------------------------------------------------------------

TEXT_STYLES: tuple[str, ...] = (
    "cells",  # one cell per line "X |", filler lines of pipes after rows (seed 002)
    "cells_inline",  # one cell per line, filler appended to the row's last line "0 | ||" (seed 003)
    "cells_bare",  # one cell per line, no filler at all (seed 000)
    "rows",  # one row per line "| a | b |", rowspan copies as leading empty cells, " ||" filler
    "rows_plain",  # one row per line "| a | b |", no span copies
    "blank_lines",  # no pipes, every cell on its own line, cells separated by blank lines
    "spaces",  # no pipes, one row per line, cells separated by spaces
    "spaces_vertical",  # as "spaces", appeals header words broken into single characters
)
HTML_MARKUPS: tuple[str, ...] = (
    "clean",  # plain <table> with rowspan/colspan, UTF-8
    "word",  # Word paste: MsoNormalTable, <p class=MsoNormal><span>, &nbsp;, <o:p>, [if mso]
    "gbk_print",  # GB2312 declared only in <meta> (GBK bytes), site chrome, info box,
    # TRS_Editor starting with an inline <style>, the whole report twice (print copy)
    "zoom",  # Hanweb div#zoom with <$[信息内容]> markers, legacy upper-case MsoTableGrid
    "ucap",  # gov.cn-style #UCAP-CONTENT > .trs_editor_view, h1#ti, metadata table
    "vsb",  # VSB/博达 #vsb_content > div.v_news_content, metas ColumnName/ArticleTitle/PubDate
    "split_header",  # clean markup, header words split over two rows: 商业 | 科研 then 企业 | 机构,
    # 结果 | 其他 | 尚未 then 维持 | 结果 | 审结, 2019 本年新 | 本年新 then 制作数量 | 公开数量
)
RENDERINGS: tuple[str, ...] = TEXT_STYLES + HTML_MARKUPS

# Renderings in which an empty value cell can be told from span filler.  In the others a blank
# cell vanishes (pipe-less text) or reads like filler (one cell per line: ' |' next to '||'), so
# a row holding one is ambiguous there and no extractor can be held to read it exactly.
BLANK_SAFE: tuple[str, ...] = ("rows", "rows_plain", *HTML_MARKUPS)
# Renderings in which a word placeholder (无, 空) stays a cell of its own.
WORD_PLACEHOLDER_SAFE: tuple[str, ...] = (
    "cells",
    "cells_inline",
    "cells_bare",
    "rows",
    "rows_plain",
    *HTML_MARKUPS,
)

# Check names of formats.md §7.1 (I1–I4) that :meth:`SynthReport.expected_checks` computes.
IDENTITY_PREFIXES = (
    "requests_balance.",
    "requests_result_sum.",
    "requests_row_total.",
    "appeals_total.",
)


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class SynthCell:
    """What one table cell prints (``raw``) and what an exact extractor must read from it."""

    raw: str
    value: Value
    unit: str | None


@dataclass(slots=True)
class SynthMeta:
    title: str | None = None
    agency: str | None = None
    year: int | None = None
    published: str | None = None  # ISO date
    index_no: str | None = None


@dataclass(frozen=True, slots=True)
class TableRef:
    """The place of a table (``active``, ``requests``, ``appeals``) in the body."""

    table: str


@dataclass(slots=True)
class SynthReport:
    """One report: metadata, body, label texts and the truth for every catalogue cell.

    ``body`` is the ordered content of the article: paragraph strings and :class:`TableRef`
    markers (a table may be placed twice, e.g. a page dumped with its print copy).
    ``labels`` overrides printed label texts by key (see :func:`default_labels` for the keys);
    a label may contain ``\\n`` (rendered as ``<br />`` in HTML, a space in text).
    ``lenient`` lists cells an extractor may legitimately leave out (a deviation that makes
    them unreadable); it must never report them with a wrong value.
    """

    fmt: str
    meta: SynthMeta
    cells: dict[Code, SynthCell]
    body: list[str | TableRef]
    labels: dict[str, str] = field(default_factory=dict)
    deviations: list[str] = field(default_factory=list)
    lenient: set[Code] = field(default_factory=set)
    title_line: bool = True  # print meta.title as the first line/heading of the article
    info_box: bool = True  # print 索引号/发布机构/发布日期 (text: lines; HTML: info box)

    # -- labels -------------------------------------------------------------------------------

    def label(self, key: str) -> str:
        """The printed text of label ``key`` (an override or the official form)."""
        got = self.labels.get(key)
        return got if got is not None else default_labels(self.fmt)[key]

    # -- truth --------------------------------------------------------------------------------

    def values(self) -> dict[Code, Value]:
        return {k: c.value for k, c in self.cells.items()}

    def expected_facts(self) -> list[tuple[str, str, str, Value, str | None, str]]:
        """(table, item, column, value, unit, raw) for every cell, in catalogue order."""
        out = []
        for cat in catalogue.cells(self.fmt):
            c = self.cells[(cat.table, cat.item, cat.column)]
            out.append((cat.table, cat.item, cat.column, c.value, c.unit, c.raw))
        return out

    def expected_checks(self) -> dict[str, bool | None]:
        """I1–I4 computed from the true values (None: skipped, an operand is null)."""
        v = self.values()
        out: dict[str, bool | None] = {}
        for name, (left, right) in check_operands(self.fmt).items():
            xs = [v[k] for k in left]
            ys = [v[k] for k in right]
            if any(x is None for x in xs + ys):
                out[name] = None
            else:
                out[name] = abs(sum(xs) - sum(ys)) < 1e-9  # type: ignore[arg-type]
        return out

    def expected_failed(self) -> list[str]:
        return sorted(n for n, ok in self.expected_checks().items() if ok is False)

    def copy(self) -> SynthReport:
        return _copy.deepcopy(self)


def check_operands(fmt: str) -> dict[str, tuple[list[Code], list[Code]]]:
    """Identity name → (left codes, right codes), for I1–I4 of formats.md §7.1."""
    req = catalogue.items(fmt, "requests")
    idx = catalogue.cell_index(fmt)
    results = [
        it
        for it in req
        if idx[("requests", it, "total")].parent.startswith("result") and it != "result_total"
    ]
    out: dict[str, tuple[list[Code], list[Code]]] = {}
    for c in catalogue.REQUEST_COLUMNS:
        out[f"requests_balance.{c}"] = (
            [("requests", "new", c), ("requests", "carried_over", c)],
            [("requests", "result_total", c), ("requests", "carried_forward", c)],
        )
    for c in catalogue.REQUEST_COLUMNS:
        out[f"requests_result_sum.{c}"] = (
            [("requests", "result_total", c)],
            [("requests", it, c) for it in results],
        )
    for it in req:
        out[f"requests_row_total.{it}"] = (
            [("requests", it, "total")],
            [("requests", it, c) for c in catalogue.REQUEST_COLUMNS[:-1]],
        )
    for it in catalogue.APPEAL_ITEMS:
        out[f"appeals_total.{it}"] = (
            [("appeals", it, "total")],
            [("appeals", it, c) for c in catalogue.APPEAL_COLUMNS[:-1]],
        )
    return out


# --------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------

_FULLWIDTH = str.maketrans({"(": "（", ")": "）", ",": "，", ":": "："})
_PARENT_TEXT = {
    "art20_1": "第二十条第（一）项",
    "art20_5": "第二十条第（五）项",
    "art20_6": "第二十条第（六）项",
    "art20_8": "第二十条第（八）项",
    "art20_9": "第二十条第（九）项",
    "result": "三、本年度办理结果",
    "result.deny": "（三）不予公开",
    "result.unable": "（四）无法提供",
    "result.reject": "（五）不予处理",
    "result.other": "（六）其他处理",
}
HEADINGS = {
    "intro": "一、总体情况",
    "active": "二、主动公开政府信息情况",
    "requests": "三、收到和处理政府信息公开申请情况",
    "appeals": "四、政府信息公开行政复议、行政诉讼情况",
    "problems": "五、存在的主要问题及改进情况",
    "other": "六、其他需要报告的事项",
}

_LABEL_CACHE: dict[str, dict[str, str]] = {}


def default_labels(fmt: str) -> dict[str, str]:
    """Official printed label texts (full-width punctuation, as HTML pages print them).

    Keys: ``item:{table}.{item}`` row labels; ``parent:{parent}`` captions and rowspan groups;
    ``col:active.{parent}.{column}`` active headers per block; ``col:requests.{column}``;
    ``col:appeals.{item}.{column}`` (the five headers above each group of the 15 numbers);
    ``text:info`` 信息内容, ``text:note`` the 勾稽关系 note, ``text:applicants`` 申请人情况,
    ``text:org`` 法人或其他组织, ``text:review``, ``text:suit``, ``text:suit_direct``,
    ``text:suit_after_review`` the appeals group headers.
    """
    if fmt in _LABEL_CACHE:
        return _LABEL_CACHE[fmt]
    out: dict[str, str] = {}
    for c in catalogue.cells(fmt):
        if c.table != "appeals":
            out.setdefault(f"item:{c.table}.{c.item}", c.item_zh.translate(_FULLWIDTH))
        if c.table == "active":
            col = c.column_zh
            if fmt == "2021" and c.item == "fees" and c.column == "amount":
                col = "本年收费金额（单位：万元）"
            out.setdefault(f"col:active.{c.parent}.{c.column}", col)
        elif c.table == "requests":
            out.setdefault(f"col:requests.{c.column}", c.column_zh)
        else:
            out.setdefault(f"col:appeals.{c.item}.{c.column}", c.column_zh)
    for p, text in _PARENT_TEXT.items():
        out[f"parent:{p}"] = text
    out.update(
        {
            "text:info": "信息内容",
            "text:note": "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
            "text:applicants": "申请人情况",
            "text:org": "法人或其他组织",
            "text:review": "行政复议",
            "text:suit": "行政诉讼",
            "text:suit_direct": "未经复议直接起诉",
            "text:suit_after_review": "复议后起诉",
        }
    )
    _LABEL_CACHE[fmt] = out
    return out


# --------------------------------------------------------------------------------------------
# Table layout (what the official tables look like, formats.md §3–§4, portals.md §5.4)
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class TCell:
    """One source cell of a table: label text or a value, with its spans."""

    text: str
    rowspan: int = 1
    colspan: int = 1
    key: str | None = None  # label key (labels) or None
    code: Code | None = None  # catalogue code (values) or None

    @property
    def is_value(self) -> bool:
        return self.code is not None


def _active_parents(fmt: str) -> list[str]:
    seen: dict[str, None] = {}
    for c in catalogue.cells(fmt):
        if c.table == "active":
            seen.setdefault(c.parent, None)
    return list(seen)


_KNOWN_SPLITS = {"本年新制作数量": ("本年新", "制作数量"), "本年新公开数量": ("本年新", "公开数量")}


def _split_word(text: str) -> tuple[str, str] | None:
    """A header word broken over two rows: '商业企业' → ('商业', '企业'); None if not splittable.

    Four-character words split in the middle (商业|企业, 结果|维持); the 2019 本年新…数量 headers
    after 本年新 (Shanghai 2019); anything else stays whole.
    """
    t = text.replace("\n", "")
    if t in _KNOWN_SPLITS:
        return _KNOWN_SPLITS[t]
    if len(t) != 4 or " " in t:
        return None
    return t[:2], t[2:]


def layout(report: SynthReport, table: str, split_headers: bool = False) -> list[list[TCell]]:
    """Source rows of ``table`` as printed (rowspan/colspan as in the official format)."""
    if table == "active":
        return _layout_active(report, split_headers)
    if table == "requests":
        return _layout_requests(report, split_headers)
    if table == "appeals":
        return _layout_appeals(report, split_headers)
    raise ValueError(f"unknown table {table!r}")


# Ways real portals cut a table into cells without changing what it says (portals.md §5.4):
# header words split over two rows (xuwen); an empty filler cell closing every row; 四 printed
# as one bare row of its 15 numbers; value rows ending early where their last cells are blank.
TABLE_QUIRKS: tuple[str, ...] = (
    "split_headers",
    "trailing_filler",
    "flat_appeals",
    "missing_trailing",
)


def quirky_layout(report: SynthReport, table: str, quirks: Collection[str]) -> list[list[TCell]]:
    """:func:`layout` with the given :data:`TABLE_QUIRKS` applied.

    A row cut short leaves cells unprinted: an extractor must leave them out, not guess them.
    """
    unknown = set(quirks) - set(TABLE_QUIRKS)
    if unknown:
        raise ValueError(f"unknown table quirks {sorted(unknown)}")
    rows = layout(report, table, split_headers="split_headers" in quirks)
    if "flat_appeals" in quirks and table == "appeals":
        rows = rows[-1:]
    if "missing_trailing" in quirks:
        rows = [_without_blank_tail(row) for row in rows]
    if "trailing_filler" in quirks:
        rows = [[*row, TCell("")] for row in rows]
    return rows


def _without_blank_tail(row: list[TCell]) -> list[TCell]:
    end = len(row)
    while end and row[end - 1].is_value and not row[end - 1].text:
        end -= 1
    return row[:end]


def _lab(report: SynthReport, key: str, **kw: int) -> TCell:
    return TCell(report.label(key), key=key, **kw)


def _val(report: SynthReport, code: Code, **kw: int) -> TCell:
    return TCell(report.cells[code].raw, code=code, **kw)


def _layout_active(r: SynthReport, split: bool) -> list[list[TCell]]:
    fmt = r.fmt
    width = 4 if fmt == "2021" else 5
    rows: list[list[TCell]] = []
    for parent in _active_parents(fmt):
        its = [
            it for it in catalogue.items(fmt, "active") if _parent_of(fmt, "active", it) == parent
        ]
        cols = catalogue.columns(fmt, "active", its[0])
        rows.append([_lab(r, f"parent:{parent}", colspan=width)])
        # Label colspan and per-column colspans so that each row fills the grid.
        if fmt == "2021":
            label_cs, col_cs = 1, ([1] * len(cols) if len(cols) == 3 else [3])
        else:
            label_cs = 2
            col_cs = [1] * len(cols) if len(cols) == 3 else [1, 2]
        header = [_lab(r, "text:info", colspan=label_cs)]
        heads = [
            _lab(r, f"col:active.{parent}.{c}", colspan=cs)
            for c, cs in zip(cols, col_cs, strict=True)
        ]
        halves = [
            _split_word(h.text) if split and fmt == "2019" and parent == "art20_1" else None
            for h in heads
        ]
        if any(halves):
            header[0].rowspan = 2
            second: list[TCell] = []
            for h, hv in zip(heads, halves, strict=True):
                if hv:
                    h.text = hv[0]
                    second.append(TCell(hv[1], colspan=h.colspan, key=h.key))
                else:
                    h.rowspan = 2
            rows.append(header + heads)
            rows.append(second)
        else:
            rows.append(header + heads)
        for it in its:
            row = [_lab(r, f"item:active.{it}", colspan=label_cs)]
            row += [
                _val(r, ("active", it, c), colspan=cs) for c, cs in zip(cols, col_cs, strict=True)
            ]
            rows.append(row)
    return rows


def _parent_of(fmt: str, table: str, item: str) -> str:
    col = catalogue.columns(fmt, table, item)[0]
    return catalogue.cell_index(fmt)[(table, item, col)].parent


def _layout_requests(r: SynthReport, split: bool) -> list[list[TCell]]:
    fmt = r.fmt
    cols = catalogue.REQUEST_COLUMNS
    org = [_lab(r, f"col:requests.{c}") for c in catalogue.ORG_COLUMNS]
    halves = [_split_word(c.text) if split else None for c in org]
    n_head = 4 if any(halves) else 3
    rows: list[list[TCell]] = [
        [_lab(r, "text:note", rowspan=n_head, colspan=3), _lab(r, "text:applicants", colspan=7)],
        [
            _lab(r, "col:requests.natural", rowspan=n_head - 1),
            _lab(r, "text:org", colspan=5),
            _lab(r, "col:requests.total", rowspan=n_head - 1),
        ],
    ]
    if n_head == 4:
        first, second = [], []
        for c, hv in zip(org, halves, strict=True):
            if hv:
                c.text = hv[0]
                first.append(c)
                second.append(TCell(hv[1], key=c.key))
            else:
                c.rowspan = 2
                first.append(c)
        rows += [first, second]
    else:
        rows.append(org)
    items = catalogue.items(fmt, "requests")
    result_items = [it for it in items if _parent_of(fmt, "requests", it).startswith("result")]
    group_sizes: dict[str, int] = {}
    for it in result_items:
        p = _parent_of(fmt, "requests", it)
        if p != "result":
            group_sizes[p] = group_sizes.get(p, 0) + 1
    seen_groups: set[str] = set()
    for it in items:
        p = _parent_of(fmt, "requests", it)
        row: list[TCell] = []
        if p == "":
            row.append(_lab(r, f"item:requests.{it}", colspan=3))
        else:
            if it == result_items[0]:
                row.append(_lab(r, "parent:result", rowspan=len(result_items)))
            if p == "result":
                row.append(_lab(r, f"item:requests.{it}", colspan=2))
            else:
                if p not in seen_groups:
                    seen_groups.add(p)
                    row.append(_lab(r, f"parent:{p}", rowspan=group_sizes[p]))
                row.append(_lab(r, f"item:requests.{it}"))
        row += [_val(r, ("requests", it, c)) for c in cols]
        rows.append(row)
    return rows


def _layout_appeals(r: SynthReport, split: bool) -> list[list[TCell]]:
    items = catalogue.APPEAL_ITEMS
    cols = catalogue.APPEAL_COLUMNS
    heads = {it: [_lab(r, f"col:appeals.{it}.{c}") for c in cols] for it in items}
    rows: list[list[TCell]] = [
        [_lab(r, "text:review", colspan=5), _lab(r, "text:suit", colspan=10)]
    ]
    groups = [_lab(r, "text:suit_direct", colspan=5), _lab(r, "text:suit_after_review", colspan=5)]
    halves = {it: [_split_word(h.text) if split else None for h in heads[it]] for it in items}
    if not split or not any(any(v) for v in halves.values()):
        for h in heads["review"]:
            h.rowspan = 2
        rows.append(heads["review"] + groups)
        rows.append(heads["suit_direct"] + heads["suit_after_review"])
    else:
        # 结果 | 结果 | 其他 | 尚未 | 总计   then   维持 | 纠正 | 结果 | 审结 (4 header rows)
        row2, row3, row4 = [], [], []
        for h, hv in zip(heads["review"], halves["review"], strict=True):
            if hv:
                h.text = hv[0]
                row2.append(h)
                row3.append(TCell(hv[1], rowspan=2, key=h.key))
            else:
                h.rowspan = 3
                row2.append(h)
        for it in ("suit_direct", "suit_after_review"):
            for h, hv in zip(heads[it], halves[it], strict=True):
                if hv:
                    h.text = hv[0]
                    row3.append(h)
                    row4.append(TCell(hv[1], key=h.key))
                else:
                    h.rowspan = 2
                    row3.append(h)
        rows += [row2 + groups, row3, row4]
    rows.append([_val(r, ("appeals", it, c)) for it in items for c in cols])
    return rows


@dataclass(slots=True)
class GridCell:
    cell: TCell
    copy: bool  # a rowspan/colspan copy of a cell that starts elsewhere
    rowcopy: bool  # copy of a cell starting in an earlier row


def expand(rows: list[list[TCell]]) -> list[list[GridCell | None]]:
    """The rectangular grid of a layout (spans expanded), as an HTML renderer would lay it out."""
    grid: list[list[GridCell | None]] = []
    pending: dict[int, tuple[int, TCell]] = {}
    for src in rows:
        row: dict[int, GridCell] = {}
        col = 0
        cells = list(src)
        while cells or any(c >= col for c in pending):
            if col in pending:
                left, tc = pending[col]
                row[col] = GridCell(tc, True, True)
                if left <= 1:
                    del pending[col]
                else:
                    pending[col] = (left - 1, tc)
                col += 1
                continue
            if not cells:
                col += 1
                continue
            tc = cells.pop(0)
            for k in range(tc.colspan):
                row[col + k] = GridCell(tc, k > 0, False)
                if tc.rowspan > 1:
                    pending[col + k] = (tc.rowspan - 1, tc)
            col += tc.colspan
        width = max(row) + 1 if row else 0
        grid.append([row.get(c) for c in range(width)])
    return grid


# --------------------------------------------------------------------------------------------
# Random reports
# --------------------------------------------------------------------------------------------

_CITIES = (
    "杭州市", "成都市", "武汉市", "南京市", "西安市", "长沙市", "郑州市", "济南市", "福州市",
    "昆明市", "合肥市", "南宁市", "太原市", "兰州市", "呼和浩特市", "贵阳市", "石家庄市", "赣州市",
)  # fmt: skip
_DISTRICTS = (
    "", "", "西湖区", "锦江区", "江岸区", "鼓楼区", "雁塔区", "岳麓区", "金水区", "历下区",
    "仓山区", "五华区", "蜀山区", "青秀区", "小店区", "城关区", "经济技术开发区", "高新区",
)  # fmt: skip
_BUREAUS = (
    "人民政府办公室", "自然资源和规划局", "住房和城乡建设局", "公安局", "生态环境局",
    "市场监督管理局", "交通运输局", "教育局", "卫生健康委员会", "人民政府", "司法局", "财政局",
    "人力资源和社会保障局", "农业农村局", "应急管理局", "城市管理局", "退役军人事务局",
)  # fmt: skip
_PROSE = (
    "{y}年，{a}坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，"
    "不断提升政务公开质量和实效。",
    "全年通过门户网站主动公开政府信息{n}条，其中政策文件{m}条、政策解读{k}条。",
    "严格落实“先审后发”制度，加强政府信息公开保密审查，确保发布信息准确、规范。",
    "依法规范办理政府信息公开申请，在法定期限内答复，未发生超期答复情况。",
    "持续优化政府信息公开专栏，及时更新机构职能、财政预决算等法定主动公开内容。",
    "加强组织领导，明确分管领导和专职工作人员，将政务公开工作纳入年度绩效考核。",
    "一是政策解读形式较为单一；二是信息发布的及时性有待提高。下一步将加强业务培训，丰富解读形式。",
    "本年度未收取政府信息公开信息处理费。",
    "本年度办理人大代表建议{k}件、政协委员提案{m}件，办理结果均已按要求公开。",
)


def _agency(rng: random.Random) -> str:
    return rng.choice(_CITIES) + rng.choice(_DISTRICTS) + rng.choice(_BUREAUS)


def _index_no(rng: random.Random, pub_year: int) -> str:
    n = rng.randint(1, 99999)
    return rng.choice(
        [
            f"{rng.randint(10**8, 10**9 - 1)}/{pub_year}-{n:05d}",
            f"{rng.randint(10**6, 10**7 - 1)}-{rng.randint(0, 9)}/{pub_year}-{n:05d}",
            f"{rng.choice(['hedongqu', 'xhq', 'gzjkq'])}{rng.randint(1, 9999):04d}/{pub_year}-{n:07d}",
            f"{pub_year}-{rng.randint(1, 12):02d}-{n:05d}",
            f"11{rng.randint(10**13, 10**14 - 1)}X/{pub_year}-{n:05d}",
        ]
    )


def _count(rng: random.Random, scale: float, p_zero: float) -> int:
    if scale <= 0 or rng.random() < p_zero:
        return 0
    return int(rng.expovariate(1.0 / scale)) + (1 if rng.random() < 0.7 else 0)


def number_cell(value: int | float) -> SynthCell:
    """A cell printing ``value`` as it is (the catalogue's unit filled in later)."""
    return SynthCell(str(value), value, None)


def _amount(rng: random.Random, scale: float) -> SynthCell:
    """A decimal amount as printed: '0', '12', '3.5', '52.15'."""
    if scale <= 0 or rng.random() < 0.3:
        return SynthCell("0", 0, None)
    x = rng.expovariate(1.0 / scale)
    raw = rng.choice([f"{x:.2f}", f"{x:.1f}", f"{int(x)}", f"{x:.4f}"])
    if "." in raw:
        raw = raw.rstrip("0").rstrip(".") if rng.random() < 0.5 else raw
    value: int | float = float(raw) if "." in raw else int(raw)
    return SynthCell(raw, value, None)


def random_report(
    rng: random.Random,
    fmt: str = "2021",
    year: int | None = None,
    agency: str | None = None,
    *,
    scale: float | None = None,
    deviations: Iterable[str] = (),
    info_box: bool | None = None,
) -> SynthReport:
    """A random, internally consistent report of format ``fmt`` (I1–I4 hold in every column).

    ``scale`` sets the typical size of request counts (0 gives the common all-zero report; by
    default it is drawn from realistic sizes).  ``deviations`` are applied with :func:`inject`.
    """
    if fmt not in catalogue.FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    if year is None:
        year = rng.choice([2019, 2020]) if fmt == "2019" else rng.randint(2021, 2025)
    agency = agency or _agency(rng)
    if scale is None:
        scale = rng.choice([0, 0, 0.5, 2, 5, 20, 80, 400])
    pub_month = rng.randint(1, 3)
    published = f"{year + 1}-{pub_month:02d}-{rng.randint(1, 28):02d}"
    meta = SynthMeta(
        title=f"{agency}{year}年政府信息公开工作年度报告",
        agency=agency,
        year=year,
        published=published,
        index_no=_index_no(rng, year + 1),
    )
    cells: dict[Code, SynthCell] = {}
    _fill_active(rng, fmt, cells)
    _fill_requests(rng, fmt, scale, cells)
    _fill_appeals(rng, scale, cells)
    for cat in catalogue.cells(fmt):  # catalogue unit unless the cell prints its own
        c = cells[(cat.table, cat.item, cat.column)]
        if c.unit is None and cat.unit != "unstated":
            c.unit = cat.unit
    report = SynthReport(
        fmt=fmt,
        meta=meta,
        cells=cells,
        body=_random_body(rng, meta),
        info_box=rng.random() < 0.7 if info_box is None else info_box,
    )
    state_totals(report)
    kinds = list(deviations)
    return inject(report, rng, kinds) if kinds else report


def _fill_active(rng: random.Random, fmt: str, cells: dict[Code, SynthCell]) -> None:
    size = rng.choice([0, 1, 5, 30, 300])
    for it in catalogue.items(fmt, "active"):
        for col in catalogue.columns(fmt, "active", it):
            code = ("active", it, col)
            if col == "amount":
                cells[code] = _amount(rng, size * 3 if fmt == "2021" else size * 20)
            elif col == "delta_items":
                d = _count(rng, max(size / 10, 0.5), 0.5) * rng.choice([1, -1])
                cells[code] = number_cell(d)
            elif col in ("in_force", "total_published", "decisions", "prev_items"):
                cells[code] = number_cell(
                    _count(rng, size * (20 if col == "decisions" else 4), 0.3)
                )
            else:
                cells[code] = number_cell(_count(rng, size / 2, 0.5))


def _fill_requests(
    rng: random.Random, fmt: str, scale: float, cells: dict[Code, SynthCell]
) -> None:
    items = catalogue.items(fmt, "requests")
    idx = catalogue.cell_index(fmt)
    results = [
        it
        for it in items
        if idx[("requests", it, "total")].parent.startswith("result") and it != "result_total"
    ]
    apps = catalogue.REQUEST_COLUMNS[:-1]
    col_scale = {
        "natural": 1.0,
        "commercial": 0.3,
        "research": 0.02,
        "ngo": 0.02,
        "legal_service": 0.08,
        "other_org": 0.1,
    }
    row_weight = {it: (3.0 if it in ("granted", "unable_not_held") else 1.0) for it in results}
    v: dict[Code, int] = {}
    for it in results:
        for c in apps:
            s = scale * col_scale[c] * row_weight[it] / 3
            v[("requests", it, c)] = _count(rng, s, 0.6 if s < 1 else 0.2)
    for c in apps:
        rt = sum(v[("requests", it, c)] for it in results)
        fwd = _count(rng, scale * col_scale[c] / 4, 0.5)
        over = (
            rng.randint(0, rt + fwd)
            if rng.random() < 0.4
            else min(rt + fwd, _count(rng, scale * col_scale[c] / 4, 0.5))
        )
        v[("requests", "result_total", c)] = rt
        v[("requests", "carried_forward", c)] = fwd
        v[("requests", "carried_over", c)] = over
        v[("requests", "new", c)] = rt + fwd - over
    for it in items:
        v[("requests", it, "total")] = sum(v[("requests", it, c)] for c in apps)
    for code, x in v.items():
        cells[code] = number_cell(x)


def _fill_appeals(rng: random.Random, scale: float, cells: dict[Code, SynthCell]) -> None:
    for it in catalogue.APPEAL_ITEMS:
        parts = [_count(rng, scale / 40, 0.7) for _ in catalogue.APPEAL_COLUMNS[:-1]]
        for c, x in zip(catalogue.APPEAL_COLUMNS[:-1], parts, strict=True):
            cells[("appeals", it, c)] = number_cell(x)
        cells[("appeals", it, "total")] = number_cell(sum(parts))


# The sentence of 总体情况 that states the year's totals, as real reports do ("共收到政府信息公开申
# 请N件"); what transform/narrative.py reads and the warehouse compares with the tables.
STATED_TOTALS = (
    "{y}年，共收到政府信息公开申请{new}件，办结{done}件，结转下年度继续办理{fwd}件；"
    "发生政府信息公开行政复议{review}件、行政诉讼{suit}件。"
)
_STATED_START = "共收到政府信息公开申请"


def stated_totals(report: SynthReport) -> dict[str, int] | None:
    """The totals the report's text states, from its own cells; None if one is blank."""
    v = report.values()
    codes = {
        "new": ("requests", "new", "total"),
        "done": ("requests", "result_total", "total"),
        "fwd": ("requests", "carried_forward", "total"),
        "review": ("appeals", "review", "total"),
    }
    got = {k: v.get(c) for k, c in codes.items()}
    suits = [v.get(("appeals", it, "total")) for it in ("suit_direct", "suit_after_review")]
    if any(x is None for x in (*got.values(), *suits)):
        return None
    return {**{k: int(x) for k, x in got.items()}, "suit": int(sum(suits))}


def state_totals(report: SynthReport, **override: int) -> None:
    """(Re)write the 总体情况 sentence stating the totals (after the first paragraph under
    一、总体情况); ``override`` plants a number that disagrees with the tables.  Reports whose
    totals are blank state none."""
    body = [b for b in report.body if not (isinstance(b, str) and _STATED_START in b)]
    totals = stated_totals(report)
    if totals is not None and HEADINGS["intro"] in body:
        at = body.index(HEADINGS["intro"]) + 2
        body.insert(at, STATED_TOTALS.format(y=report.meta.year, **{**totals, **override}))
    report.body = body


def _prose(rng: random.Random, meta: SynthMeta, k: int) -> list[str]:
    picks = rng.sample(_PROSE[1:], k)
    return [
        p.format(
            y=meta.year,
            a=meta.agency,
            n=rng.randint(10, 3000),
            m=rng.randint(0, 200),
            k=rng.randint(0, 50),
        )
        for p in picks
    ]


def _random_body(rng: random.Random, meta: SynthMeta) -> list[str | TableRef]:
    y = meta.year
    body: list[str | TableRef] = [
        f"根据《中华人民共和国政府信息公开条例》（以下简称《条例》）规定，现公布{meta.agency}{y}年政府信息公开工作年度报告。"
        f"本报告所列数据的统计期限自{y}年1月1日起至{y}年12月31日止。如对本报告有疑问，请与{meta.agency}办公室联系。",
        HEADINGS["intro"],
        _PROSE[0].format(y=y, a=meta.agency),
        *_prose(rng, meta, rng.randint(1, 3)),
        HEADINGS["active"],
        TableRef("active"),
        HEADINGS["requests"],
        TableRef("requests"),
        HEADINGS["appeals"],
        TableRef("appeals"),
        HEADINGS["problems"],
        *_prose(rng, meta, 1),
        HEADINGS["other"],
        *_prose(rng, meta, 1),
    ]
    return body


def pre2019_report(rng: random.Random, agency: str, year: int) -> SynthReport:
    """A report under the 2008 regulations (report years up to 2018): seven sections of prose
    and no standard tables, so nothing an extractor could read as facts."""
    published = f"{year + 1}-03-{rng.randint(1, 28):02d}"
    n, asked = rng.randint(100, 600), rng.randint(0, 20)
    granted = rng.randint(0, asked)
    body: list[str | TableRef] = [
        f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）要求，由{agency}编制。"
        "全文包括概述，主动公开政府信息情况，依申请公开政府信息情况，政府信息公开的收费及减免情况，"
        "因政府信息公开申请行政复议、提起行政诉讼的情况，存在的主要问题及改进措施，其他需要报告的事项。"
        f"本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。",
        "一、概述",
        f"{year}年，{agency}认真贯彻落实《条例》，进一步加强组织领导，完善工作制度，政府信息公开工作有序推进。",
        "二、主动公开政府信息情况",
        f"全年主动公开政府信息{n}条，其中通过政府网站公开{n - 10}条，通过政府公报公开10条。",
        "三、依申请公开政府信息情况",
        f"全年共受理政府信息公开申请{asked}件，其中同意公开{granted}件，申请信息不存在{asked - granted}件。",
        "四、政府信息公开的收费及减免情况",
        "本年度未收取任何费用。",
        "五、因政府信息公开申请行政复议、提起行政诉讼的情况",
        "本年度未发生因政府信息公开申请行政复议、提起行政诉讼的情况。",
        "六、存在的主要问题及改进措施",
        "主要问题是公开内容还不够丰富，下一步将进一步拓宽公开渠道。",
        "七、其他需要报告的事项",
        "无。",
    ]
    meta = SynthMeta(f"{agency}{year}年政府信息公开工作年度报告", agency, year, published)
    return SynthReport(fmt="pre2019", meta=meta, cells={}, body=body, info_box=False)


# --------------------------------------------------------------------------------------------
# Deviations (formats.md §8)
# --------------------------------------------------------------------------------------------

# kind → True when an exact extractor must still read every cell (formats.md §9 demands it);
# False when cells may be left out (never misread): the touched cells go to ``lenient``.
DEVIATIONS: dict[str, bool] = {
    "blank": True,  # blank value cells (&nbsp; / empty): value None, never 0 (D6)
    "only_total": True,  # a row with only 总计 filled, applicant cells blank (D6, xuwen)
    "placeholder": True,  # '/', '—', '-', '——', '无', '空' (D6): value None
    "signed_words": True,  # 2019 本年增/减 as '减4', '增3', '+12' (D6)
    "unit_in_cell": True,  # '251000元' / '12.5万元' in an amount cell (D6, D7): unit from the cell
    "thousands": True,  # '1,234' (D6)
    "broken_identity": True,  # one requests/appeals number off: the named checks must fail
    "label_spaces": True,  # '商业 企业', '科研 机构', '结果 纠正', '本年新 制作数量' (D1)
    "label_breaks": True,  # line breaks inside header words: 商业<br />企业 (D1)
    "normative_doc_variant": True,  # 规范性文件 in 2021 / 行政规范性文件 in 2019 (D3)
    "quotes": True,  # 危及"三安全一稳定" / 危及三安全一稳定 / 「」 (D2)
    "halfwidth": True,  # labels NFKC-folded ((一), ',', ':') as text dumps print them
    "caption_space": True,  # '第二十条  第（一）项' (D1)
    "header_truncation": True,  # appeals headers cut to their first line: 结果 | 其他 | 尚未 (D1)
    "no_enumerators": True,  # labels without their number prefix: 予以公开, 属于国家秘密
    "parentheticals": True,  # dropped/changed parentheticals: （二）部分公开, (万元)
    "filling_notes": True,  # Hubei notes inside labels (2019), e.g. 上一年项目数量(指2019年事项数)
    "short_forms": False,  # alias forms: 国家秘密, 内部事务信息, 企业, 合计, 本年制发, 现行有效 (D3)
    "active_truncated_header": False,  # 2019 '本年新 | 本年新 | 对外公开总数量' (D1, weishan)
}


def inject(report: SynthReport, rng: random.Random, kinds: Iterable[str]) -> SynthReport:
    """A copy of ``report`` with the given deviations applied and the truth updated.

    Kinds that do not apply to the report's format are skipped silently (but still listed in
    ``deviations`` only when applied).
    """
    r = report.copy()
    for kind in kinds:
        if kind not in DEVIATIONS:
            raise ValueError(f"unknown deviation {kind!r}")
        applied = _INJECTORS[kind](r, rng)
        if applied:
            r.deviations.append(kind)
    return r


def _value_codes(r: SynthReport, table: str | None = None) -> list[Code]:
    return [k for k in r.cells if table is None or k[0] == table]


def _null(r: SynthReport, code: Code, raw: str) -> SynthCell:
    """A cell printing no number: value None, the unit the header/catalogue gives."""
    unit = catalogue.cell_index(r.fmt)[code].unit
    return SynthCell(raw, None, None if unit == "unstated" else unit)


def _dev_blank(r: SynthReport, rng: random.Random) -> bool:
    for code in rng.sample(_value_codes(r), rng.randint(1, 8)):
        r.cells[code] = _null(r, code, "")
    return True


def _dev_only_total(r: SynthReport, rng: random.Random) -> bool:
    items = catalogue.items(r.fmt, "requests")
    for it in rng.sample(items, rng.randint(1, 4)):
        for c in catalogue.REQUEST_COLUMNS[:-1]:
            r.cells[("requests", it, c)] = _null(r, ("requests", it, c), "")
    return True


def _dev_placeholder(r: SynthReport, rng: random.Random) -> bool:
    for code in rng.sample(_value_codes(r), rng.randint(1, 6)):
        r.cells[code] = _null(r, code, rng.choice(["/", "—", "-", "——", "无", "空"]))
    return True


def _dev_signed_words(r: SynthReport, rng: random.Random) -> bool:
    codes = [k for k in r.cells if k[2] == "delta_items"]
    if not codes:
        return False
    for code in rng.sample(codes, rng.randint(1, len(codes))):
        n = rng.randint(1, 40)
        raw, value = rng.choice([(f"减{n}", -n), (f"增{n}", n), (f"+{n}", n), (f"-{n}", -n)])
        r.cells[code] = SynthCell(raw, value, r.cells[code].unit)
    return True


def _dev_unit_in_cell(r: SynthReport, rng: random.Random) -> bool:
    codes = [k for k in r.cells if k[2] == "amount"]
    for code in codes:
        if r.fmt == "2019" and rng.random() < 0.6:
            n = rng.randint(1, 999) * 1000
            num, unit = str(n), "元"
        else:
            num, unit = f"{round(rng.uniform(0, 500), 2):g}", "万元"
        value: int | float = float(num) if "." in num else int(num)
        r.cells[code] = SynthCell(num + unit, value, unit)
    return bool(codes)


def _dev_thousands(r: SynthReport, rng: random.Random) -> bool:
    big = [
        k
        for k, c in r.cells.items()
        if isinstance(c.value, int) and c.value >= 1000 and c.raw.isdigit()
    ]
    if not big:
        # Active counts carry no identity: make one large.
        code = ("active", "license", "decisions")
        n = rng.randint(1000, 2_000_000)
        r.cells[code] = SynthCell(str(n), n, r.cells[code].unit)
        big = [code]
    for code in rng.sample(big, min(len(big), 3)):
        c = r.cells[code]
        r.cells[code] = SynthCell(f"{c.value:,}", c.value, c.unit)
    return True


def _dev_broken_identity(r: SynthReport, rng: random.Random) -> bool:
    codes = [
        k for k in r.cells if k[0] in ("requests", "appeals") and isinstance(r.cells[k].value, int)
    ]
    code = rng.choice(codes)
    c = r.cells[code]
    delta = rng.choice([1, 2, 3, 5, 10])
    new = c.value + delta if (c.value < delta or rng.random() < 0.5) else c.value - delta  # type: ignore[operator]
    r.cells[code] = SynthCell(str(new), new, c.unit)
    return True


def _dev_label_spaces(r: SynthReport, rng: random.Random) -> bool:
    r.labels["col:requests.commercial"] = "商业 企业"
    r.labels["col:requests.research"] = "科研 机构"
    for it in ("review", "suit_direct", "suit_after_review"):
        for c, t in (("corrected", "结果 纠正"), ("other", "其他 结果"), ("pending", "尚未 审结")):
            if rng.random() < 0.7:
                r.labels[f"col:appeals.{it}.{c}"] = t
    if r.fmt == "2019":
        r.labels["col:active.art20_1.made"] = "本年新 制作数量"
        r.labels["col:active.art20_1.published"] = "本年新 公开数量"
    r.labels["item:requests.new"] = r.label("item:requests.new").replace(
        "政府信息公开", "政府信息公开 "
    )
    return True


def _dev_label_breaks(r: SynthReport, rng: random.Random) -> bool:
    r.labels["col:requests.commercial"] = "商业\n企业"
    r.labels["col:requests.research"] = "科研\n机构"
    if r.fmt == "2019":
        r.labels["col:active.art20_1.made"] = "本年新\n制作数量"
        r.labels["col:active.art20_1.published"] = "本年新\n公开数量"
    r.labels["col:appeals.review.pending"] = "尚未\n审结"
    return True


def _dev_normative(r: SynthReport, rng: random.Random) -> bool:
    r.labels["item:active.normative_doc"] = "规范性文件" if r.fmt == "2021" else "行政规范性文件"
    return True


def _dev_quotes(r: SynthReport, rng: random.Random) -> bool:
    r.labels["item:requests.deny_three_security"] = rng.choice(
        [
            '3.危及"三安全一稳定"',
            "3.危及三安全一稳定",
            "3.危及「三安全一稳定」",
            "3.危及‘三安全一稳定’",
        ]
    )
    return True


def _dev_halfwidth(r: SynthReport, rng: random.Random) -> bool:
    for key, text in default_labels(r.fmt).items():
        cur = r.labels.get(key, text)
        r.labels[key] = unicodedata.normalize("NFKC", cur)
    return True


def _dev_caption_space(r: SynthReport, rng: random.Random) -> bool:
    r.labels["parent:art20_1"] = "第二十条  第（一）项"
    r.labels["parent:art20_6"] = "第二十条 第（六）项"
    return True


def _dev_header_truncation(r: SynthReport, rng: random.Random) -> bool:
    for it in catalogue.APPEAL_ITEMS:
        for c, t in (("corrected", "结果"), ("other", "其他"), ("pending", "尚未")):
            r.labels[f"col:appeals.{it}.{c}"] = t
        if it != "review":
            r.labels[f"col:appeals.{it}.upheld"] = "结果"
    return True


def _dev_no_enumerators(r: SynthReport, rng: random.Random) -> bool:
    enum = re.compile(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+\.)")
    for it in catalogue.items(r.fmt, "requests"):
        key = f"item:requests.{it}"
        if it in ("new", "carried_over", "carried_forward"):
            continue  # 一、二、四、 are part of how these rows are told from headings
        if rng.random() < 0.7:
            r.labels[key] = enum.sub("", r.label(key))
    return True


def _dev_parentheticals(r: SynthReport, rng: random.Random) -> bool:
    r.labels["item:requests.partial"] = rng.choice(
        ["（二）部分公开", "（二）部分公开（区分处理的只计这一情形）"]
    )
    if r.fmt == "2021":
        r.labels["col:active.art20_8.amount"] = rng.choice(["本年收费金额（万元）", "本年收费金额"])
    r.labels["text:note"] = rng.choice(
        ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", ""]
    )
    return True


def _dev_filling_notes(r: SynthReport, rng: random.Random) -> bool:
    if r.fmt != "2019":
        return False
    y = r.meta.year or 2020
    r.labels["item:active.regulation"] = "规章（设区的市、自治州人民政府应提供相关数据）"
    for p in ("art20_5", "art20_6", "art20_8"):
        r.labels[f"col:active.{p}.prev_items"] = f"上一年项目数量（指{y - 1}年事项数）"
        r.labels[f"col:active.{p}.delta_items"] = (
            f"本年增/减（指{y}年增加或减少的事项数，减用负值表示，如-8）"
        )
    for p in ("art20_5", "art20_6"):
        r.labels[f"col:active.{p}.decisions"] = f"处理决定数量（指{y}年办件量）"
    return True


def _dev_short_forms(r: SynthReport, rng: random.Random) -> bool:
    r.labels["item:requests.deny_state_secret"] = "1.国家秘密"
    r.labels["item:requests.deny_internal_affairs"] = "5.内部事务信息"
    r.labels["col:requests.commercial"] = "企业"
    r.labels["col:requests.total"] = "合计"
    r.labels["item:requests.result_total"] = "（七）合计"
    if r.fmt == "2021":
        r.labels["col:active.art20_1.issued"] = "本年制发"
        r.labels["col:active.art20_1.in_force"] = "现行有效"
        r.labels["col:active.art20_8.amount"] = "收费金额"
    r.lenient.update(k for k in r.cells if k[0] in ("active", "requests"))
    return True


def _dev_active_truncated(r: SynthReport, rng: random.Random) -> bool:
    if r.fmt != "2019":
        return False
    r.labels["col:active.art20_1.made"] = "本年新"
    r.labels["col:active.art20_1.published"] = "本年新"
    r.lenient.update(
        k for k in r.cells if k[0] == "active" and k[1] in ("regulation", "normative_doc")
    )
    return True


_INJECTORS = {
    "blank": _dev_blank,
    "only_total": _dev_only_total,
    "placeholder": _dev_placeholder,
    "signed_words": _dev_signed_words,
    "unit_in_cell": _dev_unit_in_cell,
    "thousands": _dev_thousands,
    "broken_identity": _dev_broken_identity,
    "label_spaces": _dev_label_spaces,
    "label_breaks": _dev_label_breaks,
    "normative_doc_variant": _dev_normative,
    "quotes": _dev_quotes,
    "halfwidth": _dev_halfwidth,
    "caption_space": _dev_caption_space,
    "header_truncation": _dev_header_truncation,
    "no_enumerators": _dev_no_enumerators,
    "parentheticals": _dev_parentheticals,
    "filling_notes": _dev_filling_notes,
    "short_forms": _dev_short_forms,
    "active_truncated_header": _dev_active_truncated,
}


# --------------------------------------------------------------------------------------------
# Text renderers
# --------------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _meta_lines(report: SynthReport) -> list[str]:
    m = report.meta
    out: list[str] = []
    if report.title_line and m.title:
        out.append(m.title)
    if report.info_box:
        if m.index_no:
            out.append(f"索引号：{m.index_no}")
        if m.agency:
            out.append(f"发布机构：{m.agency}")
        if m.published:
            out.append(f"发布日期：{m.published}")
    return out


def render_text(report: SynthReport, style: str = "cells", *, fold: bool = True) -> str:
    """The report as a text dump in ``style`` (one of :data:`TEXT_STYLES`).

    ``fold`` NFKC-folds labels and paragraphs (full-width ``（一）`` → ``(一)``), as dumps of real
    pages print them; cell values are never changed.  A blank cell prints as `` |`` in the
    one-cell-per-line styles, as an empty cell between pipes in the row styles, and not at all
    in the pipe-less ones (see :data:`BLANK_SAFE`).  Metadata lines (title, 索引号, 发布机构,
    发布日期) come first when ``report.title_line`` / ``report.info_box`` ask for them.
    """
    if style not in TEXT_STYLES:
        raise ValueError(f"unknown text style {style!r}")
    lab: Callable[[str], str] = _fold if fold else str
    out: list[str] = []
    sep_blank = style == "blank_lines"
    for line in _meta_lines(report):
        out.append(lab(line))
        if sep_blank:
            out.append("")
    for block in report.body:
        if isinstance(block, TableRef):
            out.extend(_text_table(report, block.table, style, lab))
        else:
            out.append(lab(block))
            if sep_blank:
                out.append("")
    return "\n".join(out) + "\n"


def _cell_text_for(tc: TCell, lab: Callable[[str], str]) -> str:
    """One-line cell text: labels through ``lab`` (folding), values verbatim."""
    t = tc.text if tc.is_value else lab(tc.text)
    return t.replace("\n", " ")


def _text_table(
    report: SynthReport, table: str, style: str, lab: Callable[[str], str]
) -> list[str]:
    rows = layout(report, table)
    grid = expand(rows)
    out: list[str] = []
    last = len(rows) - 1
    for r, (src, grow) in enumerate(zip(rows, grid, strict=True)):
        texts = [_cell_text_for(tc, lab) for tc in src]
        n_copies = sum(1 for g in grow if g is not None and g.copy)
        if style in ("cells", "cells_inline", "cells_bare"):
            lines = [f"{t} |" for t in texts]
            if n_copies and r != last and style != "cells_bare":
                if style == "cells":
                    lines.append("|" * n_copies)
                else:
                    lines[-1] += " " + "|" * n_copies
            out.extend(lines)
        elif style in ("rows", "rows_plain"):
            cells = list(texts)
            trail = ""
            if style == "rows":
                lead = 0
                for g in grow:
                    if g is not None and g.rowcopy:
                        lead += 1
                    else:
                        break
                cells = [""] * lead + cells
                n_trail = n_copies - lead
                trail = " " + "|" * n_trail if n_trail > 0 else ""
            out.append("| " + " | ".join(cells) + " |" + trail)
        elif style == "blank_lines":
            for t in texts:
                if t.strip():
                    out.append(t)
                    out.append("")
        else:  # spaces, spaces_vertical
            if (
                style == "spaces_vertical"
                and table == "appeals"
                and 0 < r < last
                and all(not tc.is_value for tc in src)
            ):
                out.extend(_vertical(texts))
                continue
            nonempty = [t for t in texts if t.strip()]
            if nonempty:
                out.append(" ".join(nonempty))
    return out


def render_lines(report: SynthReport) -> list[str | list[str]]:
    """Paragraphs as strings and table rows as lists of their cells' texts (spans not repeated):
    what a portal makes its attachment files (PDF, DOCX) from.  Title and info lines come first
    when ``report.title_line`` / ``report.info_box`` ask for them."""
    out: list[str | list[str]] = list(_meta_lines(report))
    for block in report.body:
        if isinstance(block, TableRef):
            out += [[_cell_text_for(tc, str) for tc in row] for row in layout(report, block.table)]
        else:
            out.append(block)
    return out


def _vertical(texts: list[str]) -> list[str]:
    """Header words printed vertically, read back line by line: '结 结 其 尚 总' / '果 果 他 未 计'."""
    words = [t.replace(" ", "") for t in texts if t.strip()]
    depth = max(len(w) for w in words)
    return [" ".join(w[i] for w in words if i < len(w)) for i in range(depth)]


# --------------------------------------------------------------------------------------------
# HTML renderers
# --------------------------------------------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text, quote=False).replace("\n", "<br />")


def _attr(text: str) -> str:
    return html.escape(text, quote=True).replace("\n", " ")


TRS_STYLE = (
    "<style type=text/css>\n"
    + "\n".join(
        f".TRS_Editor {t}{{margin-top:5px;margin-bottom:5px;line-height:1.5;font-family:宋体;font-size:12pt;}}"
        for t in ("P", "DIV", "TD", "TH", "SPAN", "FONT", "UL", "LI", "A")
    )
    + "\n</style>"
)

_WORD_HEAD = """<!--[if gte mso 9]><xml>
 <w:WordDocument>
  <w:View>Normal</w:View>
  <w:Zoom>0</w:Zoom>
  <w:PunctuationKerning/>
  <w:DrawingGridVerticalSpacing>7.8 磅</w:DrawingGridVerticalSpacing>
 </w:WordDocument>
</xml><![endif]--><!--[if gte mso 10]>
<style>
 table.MsoNormalTable {mso-style-name:普通表格; mso-tstyle-rowband-size:0;}
</style>
<![endif]-->"""


def _runs(text: str) -> list[str]:
    """Split text the way Word splits runs: ASCII (EN-US) versus CJK."""
    return [m.group(0) for m in re.finditer(r"[\x00-\x7f]+|[^\x00-\x7f]+", text)]


def _word_span(text: str, size: str = "10.5pt") -> str:
    if not text:
        return "<span lang=EN-US>&nbsp;<o:p></o:p></span>"
    parts = []
    for run in _runs(text):
        if run.isascii():
            parts.append(
                f'<span lang=EN-US style=\'font-size:{size};font-family:"Times New Roman";'
                f"mso-fareast-font-family:仿宋_GB2312'>{_esc(run)}</span>"
            )
        else:
            parts.append(
                f"<span style='font-size:{size};font-family:仿宋_GB2312;mso-hansi-font-family:"
                f'"Times New Roman"\'>{_esc(run)}</span>'
            )
    return "".join(parts) + "<span lang=EN-US><o:p></o:p></span>"


def _word_para(text: str) -> str:
    if re.match(r"^[一二三四五六]、", text):
        return (
            "<p class=MsoNormal style='text-indent:32.0pt;mso-char-indent-count:2.0;line-height:28.0pt'>"
            f"<b><span style='font-size:16.0pt;font-family:黑体'>{_esc(text)}</span></b>"
            "<span lang=EN-US><o:p></o:p></span></p>"
        )
    return (
        "<p class=MsoNormal style='text-indent:32.0pt;mso-char-indent-count:2.0;line-height:28.0pt'>"
        "<!--[if !supportLists]--><!--[endif]-->"
        f"{_word_span(text, '16.0pt')}</p>"
    )


@dataclass(frozen=True, slots=True)
class _Markup:
    """How one markup prints tables and paragraphs."""

    name: str
    upper: bool = False  # legacy upper-case tags, unquoted attributes

    def table(self, rows: list[list[TCell]]) -> str:
        n = self.name
        if n in ("word", "gbk_print"):
            return self._word_table(rows)
        if n == "zoom":
            return self._legacy_table(rows)
        if n == "vsb":
            return self._vsb_table(rows)
        return self._clean_table(rows, n == "ucap")

    def para(self, text: str) -> str:
        n = self.name
        if n in ("word", "gbk_print"):
            return _word_para(text)
        if n == "zoom":
            return f'<P style="TEXT-INDENT: 2em">{_esc(text)}</P>'
        if n == "ucap":
            return f'<p style="text-indent: 2em; text-align: justify;">{_esc(text)}</p>'
        if n == "vsb":
            return f'<p class="vsbcontent_start" style="text-indent:2em;line-height:2em"><span style="font-size:16px">{_esc(text)}</span></p>'
        return f"<p>{_esc(text)}</p>"

    @staticmethod
    def _spans(tc: TCell) -> str:
        a = ""
        if tc.rowspan > 1:
            a += f' rowspan="{tc.rowspan}"'
        if tc.colspan > 1:
            a += f' colspan="{tc.colspan}"'
        return a

    def _clean_table(self, rows: list[list[TCell]], ucap: bool) -> str:
        out = [
            '<table border="1" cellspacing="0" cellpadding="0" style="border-collapse:collapse" width="100%"><tbody>'
        ]
        for row in rows:
            out.append("<tr>")
            for tc in row:
                tag = "td"
                if ucap and tc.is_value:
                    out.append(
                        f'<td{self._spans(tc)} style="text-align: center;">{_esc(tc.text) if tc.text else "&nbsp;"}</td>'
                    )
                else:
                    out.append(f"<{tag}{self._spans(tc)}>{_esc(tc.text)}</{tag}>")
            out.append("</tr>")
        out.append("</tbody></table>")
        return "\n".join(out)

    def _word_table(self, rows: list[list[TCell]]) -> str:
        width = max(sum(tc.colspan for tc in r) for r in rows[:1]) or 1
        out = [
            "<div align=center>",
            "<table class=MsoNormalTable border=0 cellspacing=0 cellpadding=0 width=600 "
            "style='width:450.0pt;border-collapse:collapse;mso-yfti-tbllook:1184;"
            "mso-padding-alt:0cm 5.4pt 0cm 5.4pt'>",
        ]
        for i, row in enumerate(rows):
            first = "mso-yfti-firstrow:yes;" if i == 0 else ""
            out.append(f"<tr style='mso-yfti-irow:{i};{first}height:20.0pt'>")
            for tc in row:
                out.append(
                    f"<td width={60 * tc.colspan}{self._spans(tc).replace(chr(34), '')} valign=center "
                    "style='border:solid windowtext 1.0pt;border-top:none;mso-border-alt:solid "
                    "windowtext .5pt;padding:0cm 5.4pt 0cm 5.4pt;height:20.0pt'>"
                    "<p class=MsoNormal align=center style='text-align:center;line-height:18.0pt'>"
                    f"{_word_span(tc.text)}</p></td>"
                )
            out.append("</tr>")
        out.append("<![if !supportMisalignedColumns]>")
        out.append(
            "<tr height=0>"
            + "".join("<td width=60 style='border:none'></td>" for _ in range(width))
            + "</tr>"
        )
        out.append("<![endif]>")
        out.append("</table></div>")
        out.append("<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>")
        return "\n".join(out)

    def _legacy_table(self, rows: list[list[TCell]]) -> str:
        out = [
            '<TABLE class=MsoTableGrid style="BORDER-COLLAPSE: collapse" cellSpacing=0 cellPadding=0 border=1>',
            "<TBODY>",
        ]
        for row in rows:
            out.append("<TR>")
            for tc in row:
                a = ""
                if tc.colspan > 1:
                    a += f" colSpan={tc.colspan}"
                if tc.rowspan > 1:
                    a += f" rowSpan={tc.rowspan}"
                body = _esc(tc.text) if tc.text else "&nbsp;"
                out.append(
                    f'<TD{a} vAlign=center width=56><P align=center><SPAN style="FONT-FAMILY: 宋体">{body}</SPAN></P></TD>'
                )
            out.append("</TR>")
        out.append("</TBODY></TABLE>")
        return "\n".join(out)

    def _vsb_table(self, rows: list[list[TCell]]) -> str:
        out = [
            '<table cellspacing="0" cellpadding="0" border="1" style="width:100%;border-collapse:collapse"><tbody>'
        ]
        for row in rows:
            out.append("<tr>")
            for tc in row:
                nowrap = " nowrap" if not tc.is_value and len(tc.text) <= 6 else ""
                out.append(
                    f'<td{self._spans(tc)}{nowrap} style="word-break: break-all;" width="{40 * tc.colspan}">'
                    f'<p style="text-align:center"><span style="font-family:宋体;font-size:14px">{_esc(tc.text)}</span></p></td>'
                )
            out.append("</tr>")
        out.append("</tbody></table>")
        return "\n".join(out)


def _body_html(report: SynthReport, mk: _Markup, quirks: Collection[str] = ()) -> str:
    out: list[str] = []
    for block in report.body:
        if isinstance(block, TableRef):
            out.append(mk.table(quirky_layout(report, block.table, quirks)))
        else:
            out.append(mk.para(block))
    return "\n".join(out)


def _info_rows(report: SynthReport) -> list[tuple[str, str]]:
    m = report.meta
    pairs = []
    if m.index_no:
        pairs.append(("索引号", m.index_no))
    pairs.append(("主题分类", "综合政务"))
    if m.agency:
        pairs.append(("发布机构", m.agency))
    if m.published:
        pairs.append(("发布日期", m.published))
        pairs.append(("成文日期", m.published))
    return pairs


def body_html(report: SynthReport, markup: str = "clean", quirks: Collection[str] = ()) -> str:
    """The article body alone (paragraphs and tables) as ``markup`` prints it, for a caller
    that builds the page around it (the demo portal's CMS families), with table ``quirks``."""
    if markup not in HTML_MARKUPS:
        raise ValueError(f"unknown markup {markup!r}")
    split = ("split_headers",) if markup == "split_header" else ()
    return _body_html(report, _Markup(markup), (*quirks, *split))


def render_html(report: SynthReport, markup: str = "clean") -> bytes:
    """The report as an HTML page in ``markup`` (one of :data:`HTML_MARKUPS`), as bytes."""
    if markup not in HTML_MARKUPS:
        raise ValueError(f"unknown markup {markup!r}")
    # xmlcharrefreplace: a character GBK lacks is written as &#NNNN;, as GBK portals do
    return _PAGES[markup](report).encode(_PAGE_ENCODING.get(markup, "utf-8"), "xmlcharrefreplace")


_PAGE_ENCODING = {"gbk_print": "gbk"}


def _shown_title(report: SynthReport) -> str:
    """The escaped title where the page prints one, else ''."""
    m = report.meta
    return _esc(m.title) if (report.title_line and m.title) else ""


def _pub_time(m: SynthMeta) -> str:
    """发布时间 as portals print it, with a time of day ('' when the date is unknown)."""
    return f"{m.published} 10:19" if m.published else ""


def _title_tag(report: SynthReport, site: str) -> str:
    t = report.meta.title or report.meta.agency or site
    return f"<title>{_esc(t)}_{_esc(site)}</title>"


def _h1(report: SynthReport, attrs: str = "") -> str:
    if not (report.title_line and report.meta.title):
        return ""
    return f"<h1{attrs}>{_esc(report.meta.title)}</h1>"


def _page_clean(report: SynthReport, quirks: Collection[str] = ()) -> str:
    mk = _Markup("clean")
    info = ""
    if report.info_box:
        info = "\n".join(
            f"<p>{k}：{_esc(v)}</p>" for k, v in _info_rows(report)[:1] + _info_rows(report)[2:4]
        )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"{_title_tag(report, '政府门户网站')}</head>\n<body>\n{_h1(report)}\n{info}\n"
        f"{_body_html(report, mk, quirks)}\n</body></html>\n"
    )


def _page_split(report: SynthReport) -> str:
    return _page_clean(report, ("split_headers",))


def _page_word(report: SynthReport) -> str:
    mk = _Markup("word")
    info = ""
    if report.info_box:
        info = (
            '<table class="xxgk-info"><tr>'
            + "".join(f"<td>{k}：</td><td>{_esc(v)}</td>" for k, v in _info_rows(report)[:4])
            + "</tr></table>"
        )
    return (
        '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:w="urn:schemas-microsoft-com:office:word">\n<head>\n'
        '<meta http-equiv=Content-Type content="text/html; charset=utf-8">\n'
        '<meta name=ProgId content=Word.Document>\n<meta name=Generator content="Microsoft Word 15">\n'
        f"{_title_tag(report, '人民政府网')}\n{_WORD_HEAD}\n</head>\n"
        "<body lang=ZH-CN style='tab-interval:21.0pt;text-justify-trim:punctuation'>\n"
        f'{info}\n<div class="article-content">\n{_h1(report, " class=title")}\n'
        f"<div class=WordSection1 style='layout-grid:15.6pt'>\n{_body_html(report, mk)}\n</div></div>\n</body></html>\n"
    )


def _chrome_nav(site: str) -> str:
    return (
        '<div class="top"><div class="logo"><a href="/"><img src="/images/logo.png" alt="'
        + _attr(site)
        + '"></a></div>\n'
        '<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li>'
        '<li><a href="/zwfw/">政务服务</a></li><li><a href="/hdjl/">互动交流</a></li>'
        '<li><a href="/zjxx/">走进本地</a></li></ul></div></div>\n'
        '<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政府信息公开</a> &gt; '
        '<a href="/zwgk/zfxxgknb/">政府信息公开年报</a></div>\n'
    )


def _chrome_footer(site: str) -> str:
    return (
        '<div class="footer"><p><a href="/wzdt/">网站地图</a> | <a href="/lxwm/">联系我们</a></p>'
        f"<p>主办单位：{_esc(site)}　承办：信息中心　网站标识码：3301000001</p>"
        "<p>ICP备05012345号　公网安备 33010002000123号</p></div>\n"
        '<script type="text/javascript">var _hmt = _hmt || []; document.write("<table><tr><td>统计</td></tr></table>");</script>\n'
    )


def _page_gbk_print(report: SynthReport) -> str:
    """GBK bytes declared only in <meta> (as gb2312), chrome, info box, TRS body twice."""
    mk = _Markup("gbk_print")
    m = report.meta
    site = (m.agency or "人民政府") + "门户网站"
    body = _body_html(report, mk)
    info = "".join(
        f'<tr><td class="t">{k}：</td><td>{_esc(v)}</td></tr>' for k, v in _info_rows(report)
    )
    related = ""
    if m.year:
        related = (
            '<div class="related"><h3>相关阅读</h3><ul>'
            f'<li><a href="../../{m.year}/" title="{_attr((m.agency or "") + str(m.year - 1))}年政府信息公开工作年度报告">'
            f"{_esc((m.agency or '') + str(m.year - 1))}年政府信息公开工作年度报告</a></li>"
            '<li><a href="/zwgk/zfxxgkzn/">政府信息公开指南</a></li></ul></div>'
        )
    title = _shown_title(report)
    pub = _pub_time(m)
    article = (
        f'<h1 class="title">{title}</h1>\n'
        f'<div class="source-box"><span>来源：{_esc(m.agency or "")}</span><span>发布时间：{_esc(pub)}</span>'
        '<span>【字体：<a href="javascript:;">大</a> <a href="javascript:;">中</a> <a href="javascript:;">小</a>】</span></div>\n'
        f'<div class="TRS_Editor">{TRS_STYLE}\n{body}\n</div>\n'
    )
    return (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head>\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />\n'
        f"{_title_tag(report, site)}\n"
        f'<meta name="SiteName" content="{_attr(site)}">\n'
        f'<meta name="ArticleTitle" content="{_attr(m.title or "")}">\n'
        f'<meta name="PubDate" content="{_attr(pub)}">\n'
        f'<meta name="ContentSource" content="{_attr(m.agency or "")}">\n'
        '<link rel="stylesheet" type="text/css" href="/css/style.css" />\n'
        '<script type="text/javascript" src="/js/jquery.min.js"></script>\n'
        "</head>\n<body>\n"
        f"{_chrome_nav(site)}"
        f'<div class="xxgk-info"><table class="info-table" cellspacing="0">{info}</table></div>\n'
        f'<div class="article">\n{article}</div>\n'
        f'<div id="printContent" class="print-copy">\n{article}</div>\n'
        f"{related}\n{_chrome_footer(site)}</body></html>\n"
    )


def _page_zoom(report: SynthReport) -> str:
    mk = _Markup("zoom")
    m = report.meta
    info = ""
    if report.info_box:
        pairs = _info_rows(report)
        info = (
            '<table class="xxgk_table" width="100%" cellspacing="0" cellpadding="0">'
            + "".join(
                f'<tr><td class="td_lable">{k}：</td><td>{_esc(v)}</td></tr>' for k, v in pairs
            )
            + "<tr><td>文号：</td><td></td></tr></table>"
        )
    title = _shown_title(report)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"{_title_tag(report, '人民政府')}"
        f'<meta name="ArticleTitle" content="{_attr(m.title or "")}"></head>\n<body>\n'
        f"{_chrome_nav('人民政府')}{info}\n"
        f'<div class="main"><div class="title"><h2>{title}</h2></div>\n'
        f'<div id="zoom"><!--<$[信息内容]>begin-->{_body_html(report, mk)}<!--<$[信息内容]>end--></div></div>\n'
        f"{_chrome_footer('人民政府')}</body></html>\n"
    )


def _page_ucap(report: SynthReport) -> str:
    mk = _Markup("ucap")
    m = report.meta
    title = _shown_title(report)
    meta_table = ""
    if report.info_box:
        meta_table = (
            '<table class="bd1" width="100%"><tbody>'
            f"<tr><td><b>索 引 号：</b></td><td>{_esc(m.index_no or '')}</td><td><b>主题分类：</b></td><td>综合政务</td></tr>"
            f"<tr><td><b>发文机关：</b></td><td>{_esc(m.agency or '')}</td><td><b>成文日期：</b></td><td>{_esc(m.published or '')}</td></tr>"
            f'<tr><td><b>标　　题：</b></td><td colspan="3">{title}</td></tr>'
            f"<tr><td><b>发文字号：</b></td><td></td><td><b>发布日期：</b></td><td>{_esc(m.published or '')}</td></tr>"
            "</tbody></table>"
        )
    pub = _pub_time(m)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"{_title_tag(report, '中国政府网')}"
        f'<meta name="PubDate" content="{_attr(pub)}"></head>\n<body>\n'
        f"{_chrome_nav('中国政府网')}"
        f'<div class="article oneColumn pub_border">{meta_table}\n'
        f'<h1 id="ti">{title}</h1>\n<div class="pages-date">{_esc(pub)}<span class="font">来源：{_esc(m.agency or "")}</span></div>\n'
        '<div class="pages_content" id="UCAP-CONTENT"><div class="trs_editor_view TRS_UEDITOR trs_paper_default trs_web">\n'
        f"{_body_html(report, mk)}\n</div></div></div>\n"
        f"{_chrome_footer('中国政府网')}</body></html>\n"
    )


def _page_vsb(report: SynthReport) -> str:
    mk = _Markup("vsb")
    m = report.meta
    title = _shown_title(report)
    pub = _pub_time(m)
    index_line = ""
    if report.info_box and m.index_no:
        index_line = f'<p class="xxgk-suoyin">索引号：{_esc(m.index_no)}</p>'
    return (
        '<!DOCTYPE html>\n<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
        f"{_title_tag(report, '人民政府')}\n"
        '<meta name="ColumnName" content="政府信息公开年报">\n'
        f'<meta name="ArticleTitle" content="{_attr(m.title or "")}">\n'
        f'<meta name="PubDate" content="{_attr(pub)}">\n</head>\n<body>\n'
        f"{_chrome_nav('人民政府')}"
        '<form name="_newscontent_fromname"><div class="content-title">'
        f"<h3>{title}</h3>{index_line}"
        f'<p>发布时间：{_esc(pub)}　来源：{_esc(m.agency or "")}　点击数：<script>_showDynClicks("wbnews", 1, 123)</script></p></div>\n'
        '<div id="vsb_content"><div class="v_news_content">\n'
        f"{_body_html(report, mk)}\n</div></div></form>\n"
        f"{_chrome_footer('人民政府')}</body></html>\n"
    )


_PAGES = {
    "clean": _page_clean,
    "word": _page_word,
    "gbk_print": _page_gbk_print,
    "zoom": _page_zoom,
    "ucap": _page_ucap,
    "vsb": _page_vsb,
    "split_header": _page_split,
}


def render(report: SynthReport, rendering: str) -> bytes:
    """Any of :data:`RENDERINGS` as bytes (text dumps UTF-8)."""
    if rendering in TEXT_STYLES:
        return render_text(report, rendering).encode("utf-8")
    return render_html(report, rendering)


# --------------------------------------------------------------------------------------------
# Real dumps → model
# --------------------------------------------------------------------------------------------

_SECTION_HEAD = {
    "active": re.compile(r"^二[、.．]\s*主动公开"),
    "requests": re.compile(r"^三[、.．]\s*收到和处理"),
    "appeals": re.compile(r"^四[、.．]\s*政府信息公开行政复议"),
}
_FILLER = re.compile(r"^\|+$")


def _cell_line(line: str) -> str | None:
    """The cell text of a one-cell-per-line dump line ('X |', 'X | ||'), else None."""
    s = line.strip()
    if not s.endswith("|") or _FILLER.match(s):
        return None
    m = re.match(r"^(.*?) \|(?: \|*)?$", s)
    if m is None or "|" in m.group(1):
        return None
    return m.group(1).strip()


def report_from_text(source: str | Path | bytes, *, fmt: str | None = None) -> SynthReport:
    """A model of a real one-cell-per-line dump (the seed reports), for re-rendering.

    Paragraphs are kept verbatim and in order; each table region (the cell lines after a
    section heading 二/三/四) must hold exactly the official sequence of cells, which gives the
    printed labels and raw values; values, units and metadata come from the project's own
    extractor (``nianbao.transform.report.extract_document``).  A region that appears twice
    (page dumped with its print copy) is placed twice.  Raises ValueError for a dump whose
    tables do not follow the official layout.
    """
    from nianbao.extract.readers import read_bytes
    from nianbao.transform.report import extract_document

    if isinstance(source, bytes):
        data, name = source, ""
    else:
        data, name = Path(source).read_bytes(), str(source)
    result = extract_document(read_bytes(data, source=name))
    fmt = fmt or result.format
    if fmt is None:
        raise ValueError(f"{name}: extractor found no standard tables")
    text = data.decode("utf-8")
    lines = text.replace("\r\n", "\n").split("\n")

    body: list[str | TableRef] = []
    regions: dict[str, list[str]] = {}
    current: str | None = None
    tokens: list[str] = []

    def close() -> None:
        nonlocal current, tokens
        if current is not None:
            if current in regions and regions[current] != tokens:
                raise ValueError(f"{name}: two different copies of table {current}")
            regions[current] = tokens
            body.append(TableRef(current))
        current, tokens = None, []

    for line in lines:
        if current is not None:
            cell = _cell_line(line)
            if cell is not None:
                tokens.append(cell)
                continue
            if _FILLER.match(line.strip()):
                continue
            close()
        s = line.strip()
        if not s:
            continue
        body.append(s)
        for table, pat in _SECTION_HEAD.items():
            if pat.match(s):
                current, tokens = table, []
    close()

    facts = {(f.table, f.item, f.column): f for f in result.facts}
    cells: dict[Code, SynthCell] = {}
    labels: dict[str, str] = {}
    shell = SynthReport(
        fmt=fmt,
        meta=SynthMeta(),
        cells={
            (c.table, c.item, c.column): SynthCell("", None, None) for c in catalogue.cells(fmt)
        },
        body=[],
    )
    defaults = default_labels(fmt)
    for table, toks in regions.items():
        template = [tc for row in layout(shell, table) for tc in row]
        if len(template) != len(toks):
            raise ValueError(
                f"{name}: table {table} has {len(toks)} cells, the official layout {len(template)}"
            )
        for tc, tok in zip(template, toks, strict=True):
            if tc.code is not None:
                f = facts.get(tc.code)
                if f is None or f.raw != tok:
                    raise ValueError(f"{name}: extractor disagrees on {tc.code}: {tok!r} vs {f!r}")
                cells[tc.code] = SynthCell(tok, f.value, f.unit)
            elif tc.key is not None and tok != defaults[tc.key]:
                labels[tc.key] = tok
    missing = [c for c in shell.cells if c not in cells]
    if missing:
        raise ValueError(f"{name}: tables missing from the dump: {sorted({m[0] for m in missing})}")
    m = result.meta
    meta = SynthMeta(m.title, m.agency, m.year, m.published, m.index_no)
    return SynthReport(
        fmt=fmt,
        meta=meta,
        cells=cells,
        body=body,
        labels=labels,
        title_line=False,
        info_box=False,
    )


__all__ = [
    "BLANK_SAFE",
    "DEVIATIONS",
    "HEADINGS",
    "HTML_MARKUPS",
    "IDENTITY_PREFIXES",
    "RENDERINGS",
    "TABLE_QUIRKS",
    "TEXT_STYLES",
    "TRS_STYLE",
    "WORD_PLACEHOLDER_SAFE",
    "SynthCell",
    "SynthMeta",
    "SynthReport",
    "TCell",
    "TableRef",
    "check_operands",
    "default_labels",
    "expand",
    "inject",
    "layout",
    "body_html",
    "pre2019_report",
    "quirky_layout",
    "random_report",
    "render_lines",
    "render",
    "render_html",
    "render_text",
    "report_from_text",
]
