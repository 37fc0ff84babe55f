"""Map the entries of sections 二, 三, 四 to catalogue cells.

Rows are matched by label stem (labels.stem) against the catalogue of the detected format, with
the known variants; columns by header.  Position is used only where labels are lost, and then
only with the exact count of value cells (formats.md §9.3).  Anything else becomes an error
message, never a guessed number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cache, lru_cache

from . import catalogue
from .entries import Entry, assign_slots
from .labels import norm, stem
from .values import parse_cell


@dataclass(slots=True)
class RawCell:
    table: str
    item: str
    column: str
    raw: str
    unit_hint: str | None = None


@dataclass(slots=True)
class TableResult:
    cells: list[RawCell] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.cells)


# --------------------------------------------------------------------------- label matching

# Short forms and variants seen in real reports (formats.md D3), by stem.
_REQUEST_ALIASES = {
    "国家秘密": "deny_state_secret",
    "内部事务信息": "deny_internal_affairs",
    "三类内部事务信息": "deny_internal_affairs",
    "过程性信息": "deny_process_info",
    "四类过程性信息": "deny_process_info",
    "行政执法案卷": "deny_enforcement_file",
    "行政查询事项": "deny_query_matter",
    "合计": "result_total",
    "本年度办理结果总计": "result_total",
}
_GROUPS = {
    "本年度办理结果": "result",
    "不予公开": "result.deny",
    "无法提供": "result.unable",
    "不予处理": "result.reject",
    "其他处理": "result.other",
}
_ACTIVE_ALIASES = {"规范性文件": "normative_doc", "行政规范性文件": "normative_doc"}
_COLUMN_ALIASES = {
    "合计": "total",
    "企业": "commercial",
    "法人或其他组织小计": "org_subtotal",
    "小计": "org_subtotal",
}


@cache
def _item_stems(fmt: str, table: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in catalogue.cells(fmt):
        if c.table == table:
            out.setdefault(stem(c.item_zh), c.item)
    return out


def _fuzzy(key: str, stems: dict[str, str]) -> str | None:
    """Unique catalogue stem that the label starts with / is a long prefix of / contains."""
    if len(key) < 2:
        return None
    hits = {
        item
        for s, item in stems.items()
        if (len(s) >= 4 and (key.startswith(s) or s in key))
        or (len(key) >= 4 and s.startswith(key))
    }
    return hits.pop() if len(hits) == 1 else None


@lru_cache(maxsize=16384)
def match_request_label(label: str, fmt: str) -> tuple[str, str] | None:
    """('item', code) or ('group', parent) for a requests row label, else None."""
    key = stem(label)
    if not key:
        return None
    if key in _GROUPS:
        group = _GROUPS[key]
        if group == "result.other" and fmt == "2019":
            return ("item", "other_handling")
        return ("group", group)
    stems = _item_stems(fmt, "requests")
    if key in stems:
        return ("item", stems[key])
    if key in _REQUEST_ALIASES:
        return ("item", _REQUEST_ALIASES[key])
    hit = _fuzzy(key, stems) or _misprint(label, fmt)
    return ("item", hit) if hit else None


_ITEM_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.、．]")


def _misprint(label: str, fmt: str) -> str | None:
    """The one numbered row whose label differs from the printed one by a misprint: the same
    sub-number and at least 80 % of the characters in order (a real report prints
    '2.其他法律行政止公开', 法规禁 dropped).  The number keeps a near miss from landing in
    another group's row of similar words."""
    m = _ITEM_NUMBER.match(norm(label))
    if m is None:
        return None
    key = stem(label)
    hits = {
        c.item
        for c in catalogue.cells(fmt)
        if c.table == "requests"
        and (n := _ITEM_NUMBER.match(norm(c.item_zh))) is not None
        and n.group(1) == m.group(1)
        and SequenceMatcher(None, key, stem(c.item_zh)).ratio() >= 0.8
    }
    return hits.pop() if len(hits) == 1 else None


# --------------------------------------------------------------------------- requests


@cache
def _request_column_stems() -> dict[str, str]:
    return {stem(c.column_zh): c.column for c in catalogue.cells("2021") if c.table == "requests"}


def _request_columns(header: list[Entry]) -> tuple[list[str], list[str]]:
    """Leaf column order from the header labels; returns (columns, flags)."""
    subs: list[str] = []
    has_natural = has_total = has_group = False
    names = _request_column_stems()
    for e in header:
        k = e.key
        col = names.get(k) or _COLUMN_ALIASES.get(k)
        if k == "自然人":
            has_natural = True
        elif k in ("总计", "合计"):
            has_total = True
        elif k == "法人或其他组织":
            has_group = True
        elif col in ("commercial", "research", "ngo", "legal_service", "other_org", "org_subtotal"):
            if col not in subs:
                subs.append(col)
        elif k in ("商业", "科研"):  # header words split across rows (D1): 商业 | 企业
            col = "commercial" if k == "商业" else "research"
            if col not in subs:
                subs.append(col)
    flags: list[str] = []
    if not subs:
        if has_group and has_natural and has_total:
            flags.append("requests_collapsed_columns")
            return ["natural", "org_collapsed", "total"], flags
        return list(catalogue.REQUEST_COLUMNS), flags
    standard = [c for c in catalogue.REQUEST_COLUMNS if c not in ("natural", "total")]
    if "org_subtotal" in subs:
        flags.append("requests_extra_column:org_subtotal")
    known = [c for c in subs if c != "org_subtotal"]
    if sorted(known) != sorted(standard):
        # Some sub-headers unreadable: trust the standard order rather than a partial one.
        subs = standard + (["org_subtotal"] if "org_subtotal" in subs else [])
    return ["natural", *subs, "total"], flags


def map_requests(entries: list[Entry], fmt: str) -> TableResult:
    res = TableResult()
    # The header (自然人 … 总计 … 其他) precedes the first row label that carries values; header
    # words such as 总计 or 其他 also stem-match rows, so value-less matches do not count.
    first_item = None
    for i, e in enumerate(entries):
        m = match_request_label(e.label, fmt) if e.label else None
        if m is not None and (e.n_values() > 0 or m == ("group", "result")):
            first_item = i
            break
    if first_item is None:
        res.errors.append("requests: no row label recognised")
        return res
    columns, flags = _request_columns(entries[:first_item])
    res.flags.extend(flags)
    n = len(columns)
    order = catalogue.items(fmt, "requests")
    got: dict[str, list[str]] = {}

    def place(item: str, values: list[str]) -> None:
        if item in got:
            res.flags.append(f"requests_duplicate_row:{item}")
            return
        got[item] = values

    for e in entries[first_item:]:
        if not e.label:
            continue
        m = match_request_label(e.label, fmt)
        if m is None:
            if e.n_values():
                res.errors.append(
                    f"requests: unrecognised row {e.label!r} with {e.n_values()} values"
                )
            continue
        kind, code = m
        if kind == "group":
            if e.n_values():
                members = [
                    it
                    for it in order
                    if catalogue.cell_index(fmt)[("requests", it, "total")].parent == code
                ]
                vals = assign_slots(e.segments, n * len(members)) if members else None
                if vals is None:
                    res.errors.append(
                        f"requests: group {e.label!r} carries {e.n_values()} values, "
                        f"expected {n * len(members)} for {len(members)} rows: not mapped"
                    )
                else:
                    res.flags.append(f"requests_positional:{code}")
                    for k, it in enumerate(members):
                        place(it, vals[k * n : (k + 1) * n])
            continue
        vals = assign_slots(e.segments, n)
        if vals is None:
            res.errors.append(
                f"requests.{code}: {e.n_values()} value cells, expected {n}: row not mapped"
            )
            continue
        place(code, vals)
    for item in order:
        if item not in got:
            continue
        for col, raw in zip(columns, got[item], strict=True):
            if col in catalogue.REQUEST_COLUMNS:
                res.cells.append(RawCell("requests", item, col, raw))
    return res


# --------------------------------------------------------------------------- active

_CAPTION = re.compile(r"第二十条第\(([一二三四五六七八九十]+)\)项")
_PARENT_OF_CAPTION = {
    "一": "art20_1",
    "五": "art20_5",
    "六": "art20_6",
    "八": "art20_8",
    "九": "art20_9",
}
_UNIT_IN_HEADER = re.compile(r"单位[:：]?\s*(万元|元|件|项|个)")


_ALL_ACTIVE_COLUMN_STEMS = frozenset(
    c.column_zh for f in catalogue.FORMATS for c in catalogue.cells(f) if c.table == "active"
)


def map_active(entries: list[Entry], fmt: str) -> TableResult:
    res = TableResult()
    cats = catalogue.cells(fmt)
    item_stems = _item_stems(fmt, "active")
    col_stems: dict[str, dict[str, str]] = {}
    for c in cats:
        if c.table == "active":
            col_stems.setdefault(c.item, {})[stem(c.column_zh)] = c.column
    header: list[str] = []
    header_units: list[str | None] = []
    in_header = False
    seen: set[str] = set()
    for e in entries:
        if not e.label:
            continue
        text = norm(e.label)
        if _CAPTION.search(text):
            header, header_units, in_header = [], [], False
            continue
        key = e.key
        if key == "信息内容":
            header, header_units, in_header = [], [], True
            continue
        item = item_stems.get(key) or _ACTIVE_ALIASES.get(key) or _fuzzy(key, item_stems)
        if item is None:
            if in_header:
                header.append(e.label)
            elif e.n_values():
                res.errors.append(
                    f"active: unrecognised row {e.label!r} with {e.n_values()} values"
                )
            continue
        if in_header:
            header = _merge_split_labels(header)
            header_units = [_header_unit(h) for h in header]
        in_header = False
        cat_cols = catalogue.columns(fmt, "active", item)
        cols = _active_columns(header, cat_cols, col_stems.get(item, {}))
        if cols is None:
            res.errors.append(
                f"active.{item}: header {header!r} does not match columns {list(cat_cols)}"
            )
            continue
        n = len(cols)
        vals = assign_slots(e.segments, n)
        if vals is None:
            res.errors.append(f"active.{item}: {e.n_values()} value cells, expected {n}")
            continue
        if item in seen:
            res.flags.append(f"active_duplicate_row:{item}")
            continue
        seen.add(item)
        for k, (col, raw) in enumerate(zip(cols, vals, strict=True)):
            if col is None:
                continue
            unit = header_units[k] if k < len(header_units) else None
            res.cells.append(RawCell("active", item, col, raw, unit))
    return res


def _header_unit(label: str) -> str | None:
    """The unit a column header states (`本年收费金额(单位:万元)` → 万元)."""
    u = _UNIT_IN_HEADER.search(norm(label))
    return u.group(1) if u else None


def _active_columns(
    header: list[str], cat_cols: tuple[str, ...], stems: dict[str, str]
) -> list[str | None] | None:
    """Header labels → catalogue columns (None for an extra column), or None if irreconcilable."""
    if not header:
        return list(cat_cols)
    mapped: list[str | None] = []
    for h in header:
        k = stem(h)
        col = stems.get(k)
        if col is None:
            cands = {c for s, c in stems.items() if s and (k.startswith(s) or s.startswith(k))}
            col = cands.pop() if len(cands) == 1 else None
        mapped.append(col)
    if all(mapped) and len(set(mapped)) == len(mapped):
        return mapped
    foreign = {stem(c) for c in _ALL_ACTIVE_COLUMN_STEMS} - set(stems)
    if len(header) == len(cat_cols) and not any(stem(h) in foreign for h in header):
        # Truncated/odd header text, same shape: catalogue order.  Never when a header names
        # a column of another item or format (a 2019 header over a 2021 reading).
        return list(cat_cols)
    joined = _join_split_header(header, len(cat_cols))
    if joined is not None:
        return _active_columns(joined, cat_cols, stems)
    return None


def _merge_split_labels(header: list[str]) -> list[str]:
    """A label broken across neighbouring cells (`本年新 | 制作数量 | 本年新 | 公开数量 |
    对外公开总数量`): each run of fragments that are not column names themselves but spell one
    when joined becomes that one label.  Anything else is left as it was."""
    complete = {stem(c) for c in _ALL_ACTIVE_COLUMN_STEMS}
    out: list[str] = []
    i = 0
    while i < len(header):
        joined = _join_run(header, i, complete)
        if joined is None:
            out.append(header[i])
            i += 1
        else:
            label, i = joined
            out.append(label)
    return out


def _join_run(header: list[str], i: int, complete: set[str]) -> tuple[str, int] | None:
    """(the column name header[i:j] spells, j) when header[i] is a fragment and two to four
    fragments from it join into a column name, else None."""
    if stem(header[i]) in complete:
        return None
    for j in range(i + 2, min(i + 4, len(header)) + 1):
        if any(stem(h) in complete for h in header[i + 1 : j]):
            return None
        label = "".join(header[i:j])
        if stem(label) in complete:
            return label, j
    return None


def _join_split_header(header: list[str], n: int) -> list[str] | None:
    """A header split over two rows (D1: `本年新 | 本年新 | 对外公开总数量` then `制作数量 |
    公开数量`): the first ``n`` labels, with the incomplete ones completed in order by the extra
    labels of the second row.  None when the counts do not fit exactly."""
    if len(header) <= n:
        return None
    first, extra = header[:n], header[n:]
    complete = {stem(c) for c in _ALL_ACTIVE_COLUMN_STEMS}
    incomplete = [i for i, h in enumerate(first) if stem(h) not in complete]
    if len(incomplete) != len(extra):
        return None
    out = list(first)
    for i, tail in zip(incomplete, extra, strict=True):
        out[i] = first[i] + tail
    return out


# --------------------------------------------------------------------------- appeals


def map_appeals(entries: list[Entry]) -> TableResult:
    """The 15 numbers after the header, by position (formats.md §3.3), whatever the header says."""
    res = TableResult()
    segments = [seg for e in entries for seg in e.segments]
    n = len(catalogue.APPEAL_ITEMS) * len(catalogue.APPEAL_COLUMNS)
    vals = assign_slots(segments, n)
    if vals is None:
        # More numbers than 15 (footer text, a second table): take the first value rows
        # that add up to exactly 15.
        acc: list[list[str]] = []
        for seg in segments:
            acc.append(seg)
            count = sum(1 for c in (x for s in acc for x in s) if parse_cell(c).kind != "blank")
            if count >= n:
                vals = assign_slots(acc, n)
                break
    if vals is None:
        total = sum(e.n_values() for e in entries)
        if total:
            res.errors.append(f"appeals: {total} value cells, expected {n}: not mapped")
        return res
    k = 0
    for item in catalogue.APPEAL_ITEMS:
        for col in catalogue.APPEAL_COLUMNS:
            res.cells.append(RawCell("appeals", item, col, vals[k]))
            k += 1
    return res
