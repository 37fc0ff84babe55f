"""Document → ExtractResult: the whole transform of one report (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Callable

from nianbao.core.document import Document

from . import catalogue
from .checks import completeness_checks, identity_checks, missing_rows_error, type_checks
from .classify import classify
from .entries import Entry, build_entries
from .labels import stem
from .locate import Copy, find_copies
from .mapping import RawCell, TableResult, map_active, map_appeals, map_requests
from .meta import extract_meta
from .narrative import read_statements
from .result import Check, ExtractResult, Fact
from .values import parse_cell

MARKERS = {
    "2019": (
        "本年新制作数量",
        "本年新公开数量",
        "对外公开总数量",
        "上一年项目数量",
        "本年增/减",
        "其他对外管理服务事项",
        "第二十条第(九)项",
        "政府集中采购",
        "采购项目数量",
        "采购总金额",
    ),
    "2021": (
        "本年制发件数",
        "本年废止件数",
        "现行有效件数",
        "本年收费金额",
        "本年处理决定数量",
        "申请人无正当理由逾期不补正",
        "申请人逾期未按收费通知要求缴纳费用",
    ),
}


def _markers(entries: list[Entry]) -> set[str]:
    """The formats whose marker words a table's labels print; a label broken across two
    neighbouring cells (`本年新 | 制作数量`) counts too."""
    found: set[str] = set()
    texts = [e.norm for e in entries if e.label]
    pairs = [a + b for a, b in zip(texts, texts[1:], strict=False)]
    for text in texts + pairs:
        for fmt, words in MARKERS.items():
            if any(w in text for w in words):
                found.add(fmt)
    return found


def _requests_structure(entries: list[Entry]) -> str | None:
    """2019 if （六）其他处理 carries 7 values and (七)总计 follows; 2021 if sub-rows follow."""
    labelled = [e for e in entries if e.label]
    for i, e in enumerate(labelled):
        if stem(e.label) != "其他处理":
            continue
        nxt = stem(labelled[i + 1].label) if i + 1 < len(labelled) else ""
        if nxt.startswith("申请人") or nxt == "其他" or e.n_values() >= 21:
            return "2021"
        if e.n_values() and nxt in ("总计", "合计"):
            return "2019"
    return None


def _entries(copy: Copy, errors: dict[str, str] | None = None) -> dict[str, list[Entry]]:
    """Each section's entries, read on its own: a section whose rows cannot be read gets no
    entries and an error in ``errors`` (its table's name as the key), the others are kept."""
    out: dict[str, list[Entry]] = {}
    for table, lines in copy.sections.items():
        try:
            out[table] = build_entries(lines)
        except Exception as exc:  # noqa: BLE001 - one table's failure must not cost the others
            out[table] = []
            if errors is not None:
                errors[table] = f"{table}: rows not read ({type(exc).__name__}: {exc})"
    return out


def detect_format(
    copy: Copy, year: int | None, entries: dict[str, list[Entry]] | None = None
) -> tuple[str, dict[str, str], list[str]]:
    """(report format, per-table format, flags).  Labels decide; the year only as a fallback."""
    flags: list[str] = []
    per_table: dict[str, str] = {}
    if entries is None:
        entries = _entries(copy)
    active_m = _markers(entries.get("active", []))
    req_m = _markers(entries.get("requests", []))
    structure = _requests_structure(entries.get("requests", []))
    if len(active_m) == 1:
        per_table["active"] = next(iter(active_m))
    if structure:
        per_table["requests"] = structure
    elif len(req_m) == 1:
        per_table["requests"] = next(iter(req_m))
    formats = set(per_table.values())
    if len(active_m) > 1 or len(formats) > 1:
        flags.append(
            "format_conflict:" + ",".join(f"{t}={f}" for t, f in sorted(per_table.items()))
        )
    if per_table:
        fmt = per_table.get("active") or per_table["requests"]
    elif year is not None:
        fmt = "2019" if year in (2019, 2020) else "2021"
        flags.append("format_inferred_from_year")
    else:
        fmt = "2021"
        flags.append("format_assumed_2021")
    return fmt, per_table, flags


_MAPPERS: dict[str, Callable[[list[Entry], str], TableResult]] = {
    "active": map_active,
    "requests": map_requests,
    "appeals": lambda entries, _fmt: map_appeals(entries),
}


def _map_table(table: str, entries: list[Entry], fmt: str, cut: bool) -> TableResult:
    """One table on its own: an exception becomes an error naming the table (no facts from it),
    and a table whose tail rows are absent says so (``missing_rows_error``)."""
    try:
        tr = _MAPPERS[table](entries, fmt)
    except Exception as exc:  # noqa: BLE001 - one table's failure must not cost the others
        return TableResult(errors=[f"{table}: not read ({type(exc).__name__}: {exc})"])
    missing = missing_rows_error(table, fmt, {c.item for c in tr.cells}, cut)
    if missing:
        tr.errors.append(missing)
    elif not tr.cells and not tr.errors:
        tr.errors.append(f"{table}: section located but no row read")
    return tr


def _map_copy(
    copy: Copy, entries_of: dict[str, list[Entry]], fmt: str, per_table: dict[str, str]
) -> dict[str, TableResult]:
    return {
        table: _map_table(table, entries, per_table.get(table, fmt), copy.cut == table)
        for table, entries in entries_of.items()
    }


def _to_fact(cell: RawCell, fmt: str) -> Fact:
    parsed = parse_cell(cell.raw)
    cat = catalogue.cell_index(fmt).get((cell.table, cell.item, cell.column))
    default_unit = cat.unit if cat else None
    if default_unit == "unstated":
        default_unit = None
    value = parsed.value if parsed.kind == "number" else None
    unit = parsed.unit or cell.unit_hint or default_unit
    return Fact(cell.table, cell.item, cell.column, value, unit, cell.raw)


def _choose_copy(
    mapped: list[dict[str, TableResult]], result: ExtractResult
) -> dict[str, TableResult]:
    """The copy of the tables to report (the first; the fullest when copies differ), with a
    ``copies_agree`` check when the page carries more than one."""
    if len(mapped) == 1:
        return mapped[0]
    keys = [
        sorted((c.table, c.item, c.column, c.raw) for t in m.values() for c in t.cells)
        for m in mapped
    ]
    same = all(k == keys[0] for k in keys[1:])
    result.checks.append(
        Check(
            "copies_agree",
            same,
            f"{len(mapped)} copies of the tables on the page; "
            + ("identical" if same else "they differ: the fullest copy is used"),
        )
    )
    if same:
        return mapped[0]
    return max(mapped, key=lambda m: sum(len(t.cells) for t in m.values()))


def _add_table(result: ExtractResult, table: str, tr: TableResult, fmt: str) -> None:
    """One table's facts, errors and flags into ``result``; a cell that cannot be turned into
    a fact costs that table's facts only, with an error naming it."""
    result.errors.extend(tr.errors)
    result.flags.extend(tr.flags)
    try:
        facts = [_to_fact(c, fmt) for c in tr.cells]
    except Exception as exc:  # noqa: BLE001 - one table's failure must not cost the others
        result.errors.append(f"{table}: values not read ({type(exc).__name__}: {exc})")
        tr.cells.clear()
        return
    result.facts.extend(facts)


def extract_document(doc: Document) -> ExtractResult:
    """Locate the standard tables of ``doc``, map them to codes, run the checks."""
    meta = extract_meta(doc)
    result = ExtractResult(source=doc.source, format=None, meta=meta)
    result.statements = read_statements(doc)
    result.flags.extend(f"parser:{w}" for w in doc.warnings)
    copies = find_copies(doc)
    if not copies:
        result.errors.append("no standard tables found (sections 二/三/四 not located)")
        result.checks.extend(completeness_checks([], set(), None))
        result.flags.extend(classify(doc, meta, 0))
        return result
    read_errors: list[dict[str, str]] = [{} for _ in copies]
    entries = [_entries(c, errs) for c, errs in zip(copies, read_errors, strict=True)]
    fmt, per_table, flags = detect_format(copies[0], meta.year, entries[0])
    result.format = fmt
    result.flags.extend(flags)
    mapped = [_map_copy(c, e, fmt, per_table) for c, e in zip(copies, entries, strict=True)]
    for m, errs in zip(mapped, read_errors, strict=True):
        for table, error in errs.items():
            m[table].errors.insert(0, error)
    chosen = _choose_copy(mapped, result)
    for table in catalogue.TABLES:
        if table in chosen:
            _add_table(result, table, chosen[table], per_table.get(table, fmt))
    found = [t for t in catalogue.TABLES if t in chosen and chosen[t].found]
    values = {(f.table, f.item, f.column): f.value for f in result.facts}
    result.checks.extend(completeness_checks(found, set(values), fmt, per_table))
    result.checks.extend(identity_checks(values, per_table.get("requests", fmt)))
    result.checks.extend(type_checks(result.facts))
    if not found:
        result.errors.append("no standard tables found")
    result.flags.extend(classify(doc, meta, len(result.facts)))
    return result


__all__ = ["extract_document", "detect_format", "parse_cell"]
