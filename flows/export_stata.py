"""Stata export: one DuckDB relation → one labelled ``.dta`` file (format 118, UTF-8).

What a Stata user gets (``nianbao export --format stata``):

- **Variable names** of at most 32 characters ``[A-Za-z_][A-Za-z0-9_]*``: a column name that
  fits is kept as it is; a longer one is shortened word by word with the fixed table
  ``ABBREVIATIONS`` (``requests__deny_three_security__total`` → ``req__deny_3_sec__tot``), cut to
  32 characters if still too long, and given ``_2``, ``_3`` … on a collision.  In
  ``report_values`` every catalogue column is abbreviated the same way, so ``req__*`` selects
  the requests table.  pandas never renames anything (its InvalidColumnName warning would mean a
  bug here); ``columns.dta`` maps every column to its Stata name.
- **Variable labels** (English, ≤ 80 characters): catalogue-derived columns from the catalogue
  (``cells``: item_en and column_en), others from ``LABELS``, else the column name.
- **Notes** (Stata ``notes``: characteristics ``var[note0]`` = count, ``var[note1]`` …): the
  Chinese label of a catalogue column (item_zh／column_zh, code, unit) and what a conversion
  did (time zone dropped, list joined).  The dataset's notes (``_dta``) say where the data
  came from: warehouse version, data directory, export time.
- **Value labels**: booleans become 0/1 with no/yes; low-cardinality code columns (``level``,
  ``format``, ``status`` …, see ``categorical``) become labelled integers.
- Lists (``VARCHAR[]``) are joined with ``;``; timestamps with a zone become UTC without a
  zone (Stata has none); text longer than 2045 bytes is written as strL (never cut);
  NULL numbers are missing (``.``), NULL text is ``""`` (Stata's missing string).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
from pandas.io.stata import StataParser, StataWriterUTF8

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "ABBREVIATIONS",
    "export",
    "LABELS",
    "Catalogue",
    "Variable",
    "stata_names",
    "write_dta",
]

MAX_NAME = 32  # Stata variable names
MAX_LABEL = 80  # variable and dataset labels, in characters
MAX_STR = 2045  # bytes of a str# variable; longer text is a strL
MAX_CATEGORIES = 50  # a text column with at most this many distinct values may be coded
CH_NAME = 129  # bytes of the variable and characteristic name in a dta-118 <ch> record

RESERVED = frozenset(StataParser().RESERVED_WORDS)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# One abbreviation per word, used only where a name must be shortened.  Fixed: the same column
# gets the same Stata name in every export.
ABBREVIATIONS: dict[str, str] = {
    "requests": "req",
    "appeals": "apl",
    "active": "act",
    "deny": "deny",
    "unable": "unab",
    "reject": "rej",
    "other": "oth",
    "state": "st",
    "secret": "secr",
    "prohibited": "proh",
    "three": "3",
    "security": "sec",
    "third": "3rd",
    "party": "pty",
    "internal": "int",
    "affairs": "aff",
    "process": "proc",
    "information": "info",
    "enforcement": "enf",
    "query": "qry",
    "matter": "mat",
    "needs": "need",
    "creation": "creat",
    "unclear": "uncl",
    "petition": "pet",
    "duplicate": "dup",
    "publication": "pubn",
    "published": "publ",
    "repeat": "rpt",
    "confirm": "cnf",
    "handling": "hdl",
    "correction": "corr",
    "corrected": "corr",
    "result": "res",
    "carried": "car",
    "forward": "fwd",
    "over": "ovr",
    "granted": "grant",
    "partial": "part",
    "natural": "nat",
    "commercial": "com",
    "research": "rsch",
    "legal": "leg",
    "service": "svc",
    "services": "svcs",
    "regulation": "reg",
    "normative": "norm",
    "license": "lic",
    "penalty": "pen",
    "procurement": "procur",
    "issued": "iss",
    "repealed": "repl",
    "force": "frc",
    "decisions": "dec",
    "amount": "amt",
    "total": "tot",
    "items": "itm",
    "prev": "prv",
    "delta": "d",
    "upheld": "uph",
    "pending": "pend",
    "review": "rev",
    "after": "aft",
    "direct": "dir",
    "disclosure": "discl",
    "region": "rgn",
    "province": "prov",
    "county": "cnty",
    "confidence": "conf",
    "checks": "chk",
    "failed": "fail",
    "skipped": "skip",
    "number": "n",
}

# English labels of the report and research columns (catalogue columns are labelled from the
# catalogue).  (English, Chinese or "").
LABELS: dict[str, tuple[str, str]] = {
    "report_id": ("Report id (from the canonical source URL)", "报告编号"),
    "title": ("Report title", "报告标题"),
    "agency": ("Reporting agency", "报告机关"),
    "level": ("Administrative level of the agency", "行政层级"),
    "region_code": ("Region code (GB/T 2260), best known", "行政区划代码"),
    "province_code": ("Province code (6 digits)", "省级区划代码"),
    "province": ("Province", "省"),
    "city_code": ("City code (6 digits)", "地级区划代码"),
    "city": ("City", "市"),
    "county_code": ("County code (6 digits)", "县级区划代码"),
    "county": ("County", "县"),
    "region_source": ("Where region_code comes from (registry, inferred)", "区划来源"),
    "region_confidence": ("Confidence of an inferred region (0-1)", "区划推断置信度"),
    "year": ("Report year", "报告年度"),
    "format": ("Table format of the report (2019 or 2021 template)", "报告表格格式"),
    "published": ("Publication date", "发布日期"),
    "index_no": ("Index number (索引号)", "索引号"),
    "source_url": ("Where the report was published", "来源网址"),
    "source": ("Source of the extraction (file or URL)", "来源"),
    "portal_id": ("Portal id in the registry", "门户编号"),
    "sha256": ("SHA-256 of the report file", "文件哈希"),
    "fetched_at": ("When the report was fetched (UTC)", "抓取时间"),
    "extracted_at": ("When the report was extracted (UTC)", "提取时间"),
    "parser_version": ("Extractor version", "提取程序版本"),
    "n_facts": ("Number of cells read", "单元格数"),
    "n_values": ("Number of cells with a number", "有数值的单元格数"),
    "n_checks": ("Number of identity checks", "校验数"),
    "n_checks_failed": ("Number of failed checks", "未通过校验数"),
    "n_checks_skipped": ("Number of skipped checks (a blank operand)", "跳过校验数"),
    "passes_checks": ("Report passes every identity check", "通过全部校验"),
    "errors": ("Extraction errors (joined with ;)", "提取错误"),
    # agencies across years (issue 14)
    "agency_key": ("Agency identity across years: region code/normalised name", "机关标识"),
    "agency_kind": ("government (deadline 31 March) or department (31 January)", "机关类别"),
    "names": ("Every name the agency reported under (joined with ;)", "曾用名称"),
    "first_year": ("First report year seen", "首个报告年度"),
    "last_year": ("Last report year seen", "最近报告年度"),
    "years": ("Report years present (joined with ;)", "已有报告年度"),
    "is_copy": ("A re-posted copy of another report", "重复发布的副本"),
    "duplicate_of": ("The report this one is a copy of", "原报告编号"),
    "passes_panel_checks": ("No failed check against the previous or next year", "通过跨年校验"),
    "cells_digest": ("Hash of the printed cells (equal for copies)", "单元格摘要"),
    "statements": ("Totals the report text states (joined with ;)", "正文所述数字"),
    "check": ("Panel check: carried_over.<column> or in_force.<item>", "跨年校验项"),
    "expected": ("Value expected from the previous year", "按上年推算值"),
    "found": ("Value the report states", "本年报告值"),
    "previous_report_id": ("Report of the previous year", "上年报告编号"),
    "present": ("A report for the year was found", "已发布"),
    "deadline": ("Publication deadline (Regulations art. 49)", "公布期限"),
    "days_late": ("Days published after the deadline (0 on time)", "逾期天数"),
    "late": ("Published after the deadline", "逾期发布"),
    "quantity": ("What the text states (requests_new, review, ...)", "正文所述指标"),
    "stated": ("Number stated in the report text", "正文所述数值"),
    "table_cell": ("Table cell(s) compared with", "对应表格单元格"),
    "table_value": ("Value of the table cell(s)", "表格数值"),
    "text": ("Sentence the number was read from", "原句"),
    "flags": ("Extraction flags (joined with ;)", "提取标记"),
    # facts / codebook
    "table": ("Table (active, requests, appeals)", "表"),
    "item": ("Item code (row of the table)", "项目代码"),
    "column": ("Column code", "栏目代码"),
    "code": ("Cell code table.item.column", "单元格代码"),
    "item_zh": ("Item label, Chinese", "项目（中文）"),
    "column_zh": ("Column label, Chinese", "栏目（中文）"),
    "item_en": ("Item label, English", "项目（英文）"),
    "column_en": ("Column label, English", "栏目（英文）"),
    "table_en": ("Table label, English", "表（英文）"),
    "parent": ("Parent item code", "上级项目代码"),
    "parent_zh": ("Parent item, Chinese", "上级项目"),
    "unit": ("Unit", "单位"),
    "formats": ("Formats that have the cell (joined with ;)", "适用格式"),
    "value": ("Value of the cell (missing: no number)", "数值"),
    "raw": ("Cell text as printed", "原文"),
    "item_position": ("Printed position of the item", "项目顺序"),
    # checks
    "name": ("Check name family.scope", "校验名称"),
    "family": ("Check family", "校验类别"),
    "scope": ("Check scope", "校验范围"),
    "ok": ("Check passed (missing: skipped)", "校验结果"),
    "status": ("Check status (passed, failed, skipped)", "校验状态"),
    "detail": ("Check detail", "校验详情"),
    # requests_wide
    "org": ("Organisations (the five organisation columns summed)", "法人或其他组织（合计）"),
    # report_summary and research views
    "new": ("New requests this year", "本年新收申请数"),
    "carried_over": ("Requests carried over from last year", "上年结转申请数"),
    "granted": ("Granted (disclosed)", "予以公开"),
    "partial": ("Partially disclosed", "部分公开"),
    "deny_sum": ("Denied, all reasons", "不予公开合计"),
    "unable_sum": ("Unable to provide, all reasons", "无法提供合计"),
    "reject_sum": ("Not handled, all reasons", "不予处理合计"),
    "other_sum": ("Other handling, all reasons", "其他处理合计"),
    "result_total": ("Results total", "办理结果总计"),
    "carried_forward": ("Carried forward to next year", "结转下年度继续办理"),
    "unable_not_held": ("Unable: information not held", "本机关不掌握相关政府信息"),
    "abusive": ("Petition, duplicate and mass repeated requests", "信访、重复及大量反复申请"),
    "other_no_fee": ("Other: fee not paid in time", "逾期未按收费通知要求缴纳费用"),
    "new_natural": ("New requests from natural persons", "自然人新收申请"),
    "new_org": ("New requests from organisations", "法人或其他组织新收申请"),
    "new_commercial": ("New requests from commercial enterprises", "商业企业新收申请"),
    "new_legal_service": ("New requests from legal service providers", "法律服务机构新收申请"),
    "review_corrected": ("Reconsideration: corrected", "行政复议纠正"),
    "review_pending": ("Reconsideration: pending", "行政复议尚未审结"),
    "review_total": ("Reconsideration: total", "行政复议总计"),
    "review_decided": ("Reconsideration: decided (total - pending)", "行政复议已审结"),
    "suit_corrected": ("Litigation: corrected", "行政诉讼纠正"),
    "suit_pending": ("Litigation: pending", "行政诉讼尚未审结"),
    "suit_total": ("Litigation: total", "行政诉讼总计"),
    "suit_decided": ("Litigation: decided (total - pending)", "行政诉讼已审结"),
    "disclosure_rate": ("Disclosure rate (granted + partial) / results", "公开率"),
    "disclosure_rate_foi": ("Disclosure rate without non-FOI handling", "公开率（不含非申请处理）"),
    "abusive_share": ("Share of petition/duplicate/mass requests in results", "滥用申请占比"),
    "backlog_ratio": ("Carried forward / (new + carried over)", "积压比"),
    "review_correction_rate": ("Reconsideration correction rate", "行政复议纠错率"),
    "suit_correction_rate": ("Litigation correction rate", "行政诉讼纠错率"),
    "appeal_propensity": ("Appeals / (results - granted)", "救济倾向"),
    "n_reports": ("Number of reports", "报告数"),
    "n_with_rate": ("Reports with a disclosure rate", "有公开率的报告数"),
    "disclosed": ("Disclosed (granted + partial), summed", "公开数合计"),
    "handled": ("Results, summed", "办理结果合计"),
    "mean_disclosure_rate": ("Mean of the reports' disclosure rates", "公开率平均值"),
    "disclosure_rate_passing": (
        "Pooled disclosure rate, reports passing checks",
        "通过校验报告的公开率",
    ),
    "n": ("Count", "数量"),
    # columns.dta
    "file": ("Exported file (without .dta)", "文件"),
    "stata_name": ("Variable name in the .dta file", "Stata 变量名"),
    "type": ("Type in the warehouse (DuckDB)", "类型"),
    "label": ("Variable label (English)", "变量标签（英文）"),
    "label_zh": ("Chinese label (also the variable's note)", "中文标签"),
    "share": ("Share", "占比"),
}

# Text columns always coded with value labels (when they hold at most MAX_CATEGORIES values),
# with the order of their codes where it matters; other values follow, sorted.
CATEGORICAL: dict[str, tuple[str, ...]] = {
    "level": ("national", "province", "city", "county", "township"),
    "format": ("2019", "2021"),
    "region_source": ("registry", "inferred"),
    "status": ("passed", "failed", "skipped"),
    "family": (),
    "table": ("active", "requests", "appeals"),
    "unit": (),
}
# Text columns never coded: identifiers, codes, names and free text.
FREE_TEXT = frozenset(
    {
        "title",
        "agency",
        "detail",
        "raw",
        "errors",
        "flags",
        "index_no",
        "name",
        "source",
        "parser_version",
        "sha256",
        "item",
        "column",
        "code",
        "parent",
        "scope",
        "formats",
        "province",
        "city",
        "county",
        "stata_name",
        "label",
        "label_zh",
    }
)
_FREE_TEXT_SUFFIXES = ("_id", "_code", "_url", "_zh", "_en", "_key", "digest", "_hash")
_NO_YES = {0: "no", 1: "yes"}


@dataclass(frozen=True, slots=True)
class Catalogue:
    """English and Chinese labels of the catalogue codes (the ``cells`` view)."""

    cells: Mapping[str, Mapping[str, str]]  # code → cells row

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> Catalogue:
        rel = con.sql(
            'SELECT code, "table", item, "column", item_zh, column_zh, item_en, '
            "column_en, table_en, unit FROM cells"
        )
        return cls({r[0]: dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()})

    def code_of(self, view: str, column: str) -> str | None:
        """The catalogue code a column of ``view`` holds, if any."""
        if view == "report_values" and column.count("__") == 2:
            code = column.replace("__", ".")
            return code if code in self.cells else None
        if view in ("appeals_wide", "active_wide"):
            table = view.removesuffix("_wide")
            for code, c in self.cells.items():
                if c["table"] == table and f"{c['item']}_{c['column']}" == column:
                    return code
        return None

    def labels(self, code: str) -> tuple[str, str]:
        c = self.cells[code]
        en = f"{c['item_en']} - {c['column_en']}"
        zh = f"{c['item_zh']}／{c['column_zh']}（{code}，单位：{c['unit']}）"
        return en, zh

    def request_column(self, column: str) -> tuple[str, str] | None:
        """Labels of an applicant column of requests_wide (natural … total)."""
        for c in self.cells.values():
            if c["table"] == "requests" and c["column"] == column:
                return f"Requests, applicant: {c['column_en']}", str(c["column_zh"])
        return None


@dataclass(slots=True)
class Variable:
    """One exported column: its Stata name, type and labels."""

    column: str
    name: str
    type: str
    label: str
    notes: list[str] = field(default_factory=list)
    value_labels: dict[int, str] | None = None


def _shorten(column: str) -> str:
    words = re.split(r"(_+)", column)  # keep the separators (single or double)
    return "".join(w if w.startswith("_") else ABBREVIATIONS.get(w, w) for w in words)


def _valid(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", name) or "_"
    if name[0].isdigit():
        name = "_" + name
    if name in RESERVED:
        name = name + "_"
    return name


def stata_names(columns: Sequence[str], abbreviate: Iterable[str] = ()) -> dict[str, str]:
    """column → Stata name: kept when valid and short enough (unless in ``abbreviate``), else
    shortened with ABBREVIATIONS and cut to 32; a collision gets ``_2``, ``_3`` ….  Unique
    case-insensitively too (Stata is case-sensitive, users' file systems and eyes are not)."""
    always = set(abbreviate)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:
        name = col
        if col in always or not (_NAME.match(col) and len(col) <= MAX_NAME) or col in RESERVED:
            name = _valid(_shorten(col))[:MAX_NAME]
        base, k = name, 1
        while name.lower() in taken:
            k += 1
            suffix = f"_{k}"
            name = base[: MAX_NAME - len(suffix)] + suffix
        taken.add(name.lower())
        out[col] = name
    return out


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 3] + "..."


def _select(rel: duckdb.DuckDBPyRelation) -> tuple[str, dict[str, list[str]]]:
    """SELECT list turning the relation's columns into what Stata can hold, and the note
    each conversion leaves on its column."""
    parts, notes = [], {}
    for col, dtype in zip(rel.columns, rel.types, strict=True):
        q, t = '"' + col.replace('"', '""') + '"', str(dtype)
        if t.endswith("[]"):
            parts.append(f"array_to_string({q}, ';') AS {q}")
            notes[col] = ["A list in the warehouse: its elements joined with ';'."]
        elif t == "BOOLEAN":
            parts.append(f"CAST({q} AS TINYINT) AS {q}")
        elif t == "TIMESTAMP WITH TIME ZONE":
            parts.append(f"timezone('UTC', {q}) AS {q}")
            notes[col] = ["Time in UTC: Stata has no time zones (the warehouse keeps the zone)."]
        elif t in ("HUGEINT", "UHUGEINT", "UBIGINT") or t.startswith("DECIMAL"):
            parts.append(f"CAST({q} AS DOUBLE) AS {q}")
        elif t in ("UUID", "INTERVAL", "BLOB", "TIME", "TIME WITH TIME ZONE") or t.startswith(
            ("STRUCT", "MAP", "UNION", "ENUM")
        ):
            parts.append(f"CAST({q} AS VARCHAR) AS {q}")
        else:
            parts.append(q)
    return ", ".join(parts), notes


_NULLABLE = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.Int16Dtype(),
    pa.uint16(): pd.Int32Dtype(),
    pa.uint32(): pd.Int64Dtype(),
}


def categorical(column: str, values: pd.Series) -> list[str] | None:
    """The categories (in code order) if ``column`` is coded with value labels, else None.

    Coded: a text column named in CATEGORICAL, or any other text column that is not an
    identifier, key, hash, name or free text (FREE_TEXT; names ending in _id, _code, _url,
    _zh, _en, _key, digest, _hash) and whose values are codes: at most MAX_CATEGORIES
    distinct values of at most 32 characters, each used twice on average (a column of
    mostly distinct values is text however few rows there are).  Never an empty column.
    """
    if column in FREE_TEXT or column.endswith(_FREE_TEXT_SUFFIXES):
        return None
    present = values.dropna()
    distinct = set(present.unique().tolist()) - {""}
    if not distinct or len(distinct) > MAX_CATEGORIES:
        return None
    if column not in CATEGORICAL and (
        max(len(v) for v in distinct) > 32 or len(present) < 2 * len(distinct)
    ):
        return None
    order = [v for v in CATEGORICAL.get(column, ()) if v in distinct]
    return order + sorted(distinct - set(order))


class _Writer(StataWriterUTF8):
    """pandas' dta-118 writer, plus the characteristics pandas leaves empty."""

    def __init__(self, *args, characteristics: Sequence[tuple[str, str, str]] = (), **kw):
        self._characteristics = list(characteristics)
        super().__init__(*args, **kw)

    def _write_characteristics(self) -> None:
        """``<characteristics>`` of ``<ch>`` records: a 4-byte length, then the variable
        name (or ``_dta``) and the characteristic name, each null-padded to 129 bytes, then
        the contents null-terminated (dta 118 §5.9)."""
        self._update_map("characteristics")
        bio = BytesIO()
        for var, name, text in self._characteristics:
            body = (
                var.encode("utf-8").ljust(CH_NAME, b"\0")
                + name.encode("utf-8").ljust(CH_NAME, b"\0")
                + text.encode("utf-8")
                + b"\0"
            )
            bio.write(b"<ch>" + struct.pack(self._byteorder + "I", len(body)) + body + b"</ch>")
        self._write_bytes(self._tag(bio.getvalue(), "characteristics"))


def _notes(var: str, notes: Sequence[str]) -> list[tuple[str, str, str]]:
    """Stata ``notes`` as characteristics: ``var[note0]`` = how many, ``var[noteN]`` = text."""
    if not notes:
        return []
    return [(var, "note0", str(len(notes)))] + [
        (var, f"note{k}", text) for k, text in enumerate(notes, start=1)
    ]


def _labels_of(col: str, view: str, code: str | None, catalogue: Catalogue) -> tuple[str, str]:
    """(English, Chinese) label of a column: the catalogue's for a cell, else LABELS'."""
    if code:
        return catalogue.labels(code)
    if view == "requests_wide" and (req := catalogue.request_column(col)):
        return req
    return LABELS.get(col, (col, ""))


def _stata_column(
    df: pd.DataFrame, var: Variable, convert_dates: dict[str, str], strl: list[str]
) -> None:
    """Make ``df[var.column]`` writable: value labels for booleans and code columns, dates
    and times converted, text over Stata's str limit as strL (noted on the variable)."""
    col, t, s = var.column, var.type, df[var.column]
    if t == "BOOLEAN":
        var.value_labels = dict(_NO_YES)
    elif t == "DATE":
        convert_dates[col] = "td"
    elif t.startswith("TIMESTAMP"):
        convert_dates[col] = "tc"
    elif pd.api.types.is_string_dtype(s.dtype):  # VARCHAR, lists, what _select cast
        cats = categorical(col, s) if len(s) else None
        if cats is not None:
            df[col] = pd.Categorical(s.where(s != ""), categories=cats)
            var.value_labels = dict(enumerate(cats))
        else:
            text = s.astype(object).where(s.notna(), "")
            df[col] = text
            if len(text) and text.map(lambda v: len(v.encode("utf-8"))).max() > MAX_STR:
                strl.append(col)
                var.notes.append("Long text: stored as strL.")


def write_dta(
    rel: duckdb.DuckDBPyRelation,
    path: Path,
    *,
    view: str,
    catalogue: Catalogue,
    data_label: str,
    dataset_notes: Sequence[str] = (),
) -> list[Variable]:
    """Write ``rel`` as a labelled Stata 118 file at ``path``; returns its variables."""
    select, conversion_notes = _select(rel)
    types = {c: str(t) for c, t in zip(rel.columns, rel.types, strict=True)}
    table = rel.query("export_input", f"SELECT {select} FROM export_input").arrow().read_all()
    df = table.to_pandas(types_mapper=_NULLABLE.get, date_as_object=False)
    codes = {c: catalogue.code_of(view, c) for c in df.columns}
    # report_values: every cell variable abbreviated alike (req__*, apl__*, act__* select a table)
    uniform = [c for c, code in codes.items() if code] if view == "report_values" else []
    names = stata_names(list(df.columns), uniform)

    variables: list[Variable] = []
    convert_dates: dict[str, str] = {}
    strl: list[str] = []
    for col in list(df.columns):
        en, zh = _labels_of(col, view, codes[col], catalogue)
        notes = list(conversion_notes.get(col, []))
        if zh:
            notes.insert(0, f"中文：{zh}")
        if names[col] != col:
            notes.append(f"Warehouse column: {col}")
        var = Variable(col, names[col], types[col], _label(en), notes)
        _stata_column(df, var, convert_dates, strl)
        variables.append(var)

    df.columns = [v.name for v in variables]
    labels = {v.name: v.label for v in variables}
    value_labels = {
        v.name: v.value_labels for v in variables if v.value_labels and v.type == "BOOLEAN"
    }
    chars = _notes("_dta", dataset_notes)
    for v in variables:
        chars += _notes(v.name, v.notes)
    writer = _Writer(
        path,
        df,
        convert_dates={names[c]: f for c, f in convert_dates.items()},
        write_index=False,
        data_label=_label(data_label),
        variable_labels=labels,
        convert_strl=[names[c] for c in strl],
        version=118,
        value_labels=value_labels or None,
        characteristics=chars,
    )
    writer.write_file()
    return variables


# What each file holds (its dataset label, after "nianbao: ").
VIEW_LABELS = {
    "codebook": "cell catalogue: codes with Chinese and English labels",
    "reports": "one row per report, with provenance",
    "facts": "one row per report and cell (long)",
    "checks": "every identity check of every report",
    "check_failures": "failed identity checks",
    "requests_wide": "requests: one row per report and item, applicant columns",
    "appeals_wide": "appeals: one row per report",
    "active_wide": "proactive disclosure: one row per report",
    "report_summary": "one row per report: counts and rates",
    "report_values": "one row per report, one variable per catalogue cell",
    "columns": "every exported variable: column, Stata name, labels",
    "disclosure_rate_by_year_region": "disclosure rate by year and region",
    "denial_reason_shares": "refusal reasons' shares by year",
    "correction_rates_by_year": "reconsideration and litigation correction rates by year",
    "totals_by_year": "national totals by year",
    "totals_by_province_year": "totals by province and year",
}

# report_values with the report columns a user slices by; one row per report.
REPORT_VALUES = """
SELECT r.report_id, r.year, r.agency, r.level, r.region_code, r.province_code, r.format,
       r.passes_checks, v.* EXCLUDE (report_id, year)
FROM reports AS r
JOIN stored_report_values AS v USING (report_id)
ORDER BY r.year, r.report_id
"""


def export(con: duckdb.DuckDBPyConnection, out_dir: Path, views: Sequence[str]) -> list[Path]:
    """codebook.dta, one .dta per view, report_values.dta and columns.dta (every variable:
    file, column, stata_name, type, label, label_zh) in ``out_dir``; returns the files."""
    version, data_dir = con.sql("SELECT version, data_dir FROM warehouse_info").fetchall()[0]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    source = (
        f"Source: nianbao warehouse version {version}, data directory {data_dir}; "
        f"exported {now} UTC."
    )
    catalogue = Catalogue.read(con)
    written: list[Path] = []
    rows: list[tuple[str, str, str, str, str, str]] = []

    def one(view: str, rel: duckdb.DuckDBPyRelation) -> list[Variable]:
        path = out_dir / f"{view}.dta"
        what = VIEW_LABELS.get(view, f"the {view} view")
        variables = write_dta(
            rel,
            path,
            view=view,
            catalogue=catalogue,
            data_label=f"nianbao: {what}",
            dataset_notes=[source, f"File {view}.dta: {what}."],
        )
        written.append(path)
        return variables

    for view in ("codebook", *views, "report_values"):
        if view == "codebook":
            rel = con.sql("SELECT * FROM cells")
        elif view == "report_values":
            rel = con.sql(REPORT_VALUES)
        else:
            rel = con.sql(f'SELECT * FROM "{view}"')
        for v in one(view, rel):
            zh = next((n.removeprefix("中文：") for n in v.notes if n.startswith("中文：")), "")
            rows.append((view, v.column, v.name, v.type, v.label, zh))
    keys = ("file", "column", "stata_name", "type", "label", "label_zh")
    cols = pa.table({k: [r[i] for r in rows] for i, k in enumerate(keys)})
    one("columns", con.from_arrow(cols))
    return written
