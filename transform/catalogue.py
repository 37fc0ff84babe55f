"""The canonical cell catalogue (cells-2021.csv, cells-2019.csv) and its English labels.

This module is the single source of the codes every output uses.  The CSVs are package data
copied from the project spec; English labels live here beside them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

FORMATS = ("2021", "2019")
TABLES = ("active", "requests", "appeals")

REQUEST_COLUMNS = (
    "natural",
    "commercial",
    "research",
    "ngo",
    "legal_service",
    "other_org",
    "total",
)
ORG_COLUMNS = ("commercial", "research", "ngo", "legal_service", "other_org")
APPEAL_ITEMS = ("review", "suit_direct", "suit_after_review")
APPEAL_COLUMNS = ("upheld", "corrected", "other", "pending", "total")


@dataclass(frozen=True, slots=True)
class Cell:
    format: str
    table: str
    item: str
    item_zh: str
    parent: str
    column: str
    column_zh: str
    unit: str

    @property
    def code(self) -> str:
        return f"{self.table}.{self.item}.{self.column}"


@cache
def cells(fmt: str) -> tuple[Cell, ...]:
    """All cells of a format, in catalogue order."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    text = resources.files("nianbao.transform").joinpath(f"data/cells-{fmt}.csv").read_text("utf-8")
    return tuple(Cell(format=fmt, **row) for row in csv.DictReader(text.splitlines()))


@cache
def items(fmt: str, table: str) -> tuple[str, ...]:
    """Item codes of a table, in printed order."""
    seen: dict[str, None] = {}
    for c in cells(fmt):
        if c.table == table:
            seen.setdefault(c.item, None)
    return tuple(seen)


@cache
def columns(fmt: str, table: str, item: str) -> tuple[str, ...]:
    return tuple(c.column for c in cells(fmt) if c.table == table and c.item == item)


@cache
def cell_index(fmt: str) -> dict[tuple[str, str, str], Cell]:
    return {(c.table, c.item, c.column): c for c in cells(fmt)}


def expected_count(fmt: str) -> int:
    return len(cells(fmt))


ITEM_EN: dict[str, str] = {
    # active
    "regulation": "Regulations (规章)",
    "normative_doc": "Normative documents",
    "license": "Administrative licences",
    "other_services": "Other external management services",
    "penalty": "Administrative penalties",
    "enforcement": "Administrative enforcement",
    "fees": "Administrative fees",
    "procurement": "Centralised government procurement",
    # requests
    "new": "New requests this year",
    "carried_over": "Carried over from last year",
    "granted": "Granted (disclosed)",
    "partial": "Partially disclosed",
    "deny_state_secret": "Denied: state secret",
    "deny_law_prohibited": "Denied: prohibited by other laws",
    "deny_three_security": "Denied: endangers the 'three securities and one stability'",
    "deny_third_party": "Denied: third-party rights",
    "deny_internal_affairs": "Denied: internal affairs information",
    "deny_process_info": "Denied: process information",
    "deny_enforcement_file": "Denied: law-enforcement case file",
    "deny_query_matter": "Denied: administrative query matter",
    "unable_not_held": "Unable: information not held",
    "unable_needs_creation": "Unable: would need to be created",
    "unable_unclear": "Unable: request still unclear after correction",
    "reject_petition": "Not handled: petition/complaint",
    "reject_duplicate": "Not handled: duplicate request",
    "reject_publication": "Not handled: asks for publications",
    "reject_mass_repeat": "Not handled: mass repeated requests",
    "reject_confirm": "Not handled: asks to confirm/reissue held information",
    "other_handling": "Other handling",
    "other_no_correction": "Other: applicant did not supplement in time",
    "other_no_fee": "Other: applicant did not pay the fee in time",
    "other_other": "Other: other",
    "result_total": "Results total",
    "carried_forward": "Carried forward to next year",
    # appeals
    "review": "Administrative reconsideration",
    "suit_direct": "Litigation without prior reconsideration",
    "suit_after_review": "Litigation after reconsideration",
}

COLUMN_EN: dict[str, str] = {
    "issued": "Issued this year",
    "repealed": "Repealed this year",
    "in_force": "In force",
    "decisions": "Decisions this year",
    "amount": "Amount",
    "made": "Newly made this year",
    "published": "Newly published this year",
    "total_published": "Total published",
    "prev_items": "Items last year",
    "delta_items": "Change this year",
    "items": "Items",
    "natural": "Natural persons",
    "commercial": "Commercial enterprises",
    "research": "Research institutions",
    "ngo": "Public-interest organisations",
    "legal_service": "Legal service providers",
    "other_org": "Other organisations",
    "total": "Total",
    "upheld": "Upheld",
    "corrected": "Corrected",
    "other": "Other outcome",
    "pending": "Pending",
}

TABLE_EN = {
    "active": "Proactive disclosure (section 二)",
    "requests": "Requests received and handled (section 三)",
    "appeals": "Reconsideration and litigation (section 四)",
}

PARENT_ZH = {
    "art20_1": "第二十条第(一)项",
    "art20_5": "第二十条第(五)项",
    "art20_6": "第二十条第(六)项",
    "art20_8": "第二十条第(八)项",
    "art20_9": "第二十条第(九)项",
    "result": "三、本年度办理结果",
    "result.deny": "(三)不予公开",
    "result.unable": "(四)无法提供",
    "result.reject": "(五)不予处理",
    "result.other": "(六)其他处理",
}


def codebook() -> list[dict[str, str]]:
    """One row per distinct code across both formats, with labels and the formats that have it."""
    rows: dict[tuple[str, str, str], dict[str, str]] = {}
    for fmt in FORMATS:
        for c in cells(fmt):
            key = (c.table, c.item, c.column)
            row = rows.get(key)
            if row is None:
                rows[key] = {
                    "table": c.table,
                    "item": c.item,
                    "column": c.column,
                    "code": c.code,
                    "item_zh": c.item_zh,
                    "column_zh": c.column_zh,
                    "item_en": ITEM_EN.get(c.item, c.item),
                    "column_en": COLUMN_EN.get(c.column, c.column),
                    "table_en": TABLE_EN[c.table],
                    "parent": c.parent,
                    "parent_zh": PARENT_ZH.get(c.parent, ""),
                    "unit": c.unit,
                    "formats": fmt,
                }
            else:
                row["formats"] += f",{fmt}"
    return list(rows.values())
