"""The hard identities of formats.md §7.1 and completeness checks, as rows.

A failed identity is a property of the source: it is reported with both sides and the
difference, never corrected.  A check with a null or missing operand is skipped (ok=None).
"""

from __future__ import annotations

from collections.abc import Iterable

from . import catalogue
from .result import Check, Fact

Values = dict[tuple[str, str, str], int | float | None]


def _fmt(x: float | int) -> str:
    if type(x) is int:
        return str(x)
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _identity(name: str, left: list[tuple[str, object]], right: list[tuple[str, object]]) -> Check:
    missing = [k for k, v in left + right if v is None]
    if missing:
        return Check(name, None, "skipped: no number in " + ", ".join(missing))
    lsum = sum(v for _, v in left)  # type: ignore[misc]
    rsum = sum(v for _, v in right)  # type: ignore[misc]
    ok = abs(lsum - rsum) < 1e-9
    detail = (
        " + ".join(f"{k}={_fmt(v)}" for k, v in left)  # type: ignore[arg-type]
        + f" = {_fmt(lsum)} {'==' if ok else '!='} {_fmt(rsum)} = "
        + " + ".join(f"{k}={_fmt(v)}" for k, v in right)  # type: ignore[arg-type]
    )
    if not ok:
        detail += f" (difference {_fmt(lsum - rsum)})"
    return Check(name, ok, detail)


def identity_checks(values: Values, fmt: str) -> list[Check]:
    """I1–I4 for the requests and appeals tables (only where the table was found); ``fmt`` is
    the requests table's own format (its rows differ between the catalogues)."""
    out: list[Check] = []

    def get(table: str, item: str, col: str) -> tuple[str, object]:
        return (f"{item}.{col}", values.get((table, item, col)))

    has_requests = any(k[0] == "requests" for k in values)
    has_appeals = any(k[0] == "appeals" for k in values)
    req_items = catalogue.items(fmt, "requests")
    result_items = [
        it
        for it in req_items
        if catalogue.cell_index(fmt)[("requests", it, "total")].parent.startswith("result")
        and it != "result_total"
    ]
    if has_requests:
        for c in catalogue.REQUEST_COLUMNS:
            out.append(
                _identity(
                    f"requests_balance.{c}",
                    [get("requests", "new", c), get("requests", "carried_over", c)],
                    [get("requests", "result_total", c), get("requests", "carried_forward", c)],
                )
            )
        for c in catalogue.REQUEST_COLUMNS:
            out.append(
                _identity(
                    f"requests_result_sum.{c}",
                    [get("requests", "result_total", c)],
                    [get("requests", it, c) for it in result_items],
                )
            )
        for it in req_items:
            out.append(
                _identity(
                    f"requests_row_total.{it}",
                    [get("requests", it, "total")],
                    [get("requests", it, c) for c in catalogue.REQUEST_COLUMNS[:-1]],
                )
            )
    if has_appeals:
        for it in catalogue.APPEAL_ITEMS:
            out.append(
                _identity(
                    f"appeals_total.{it}",
                    [get("appeals", it, "total")],
                    [get("appeals", it, c) for c in catalogue.APPEAL_COLUMNS[:-1]],
                )
            )
    return out


def type_checks(facts: Iterable[Fact]) -> list[Check]:
    """I5–I7: counts are non-negative integers (delta_items may be negative; amounts decimal)."""
    bad: list[str] = []
    for f in facts:
        if f.value is None:
            continue
        if f.column == "delta_items":
            ok = float(f.value).is_integer()
        elif f.column == "amount":
            ok = f.value >= 0
        else:
            ok = f.value >= 0 and float(f.value).is_integer()
        if not ok:
            bad.append(f"{f.table}.{f.item}.{f.column}={f.raw!r}")
    detail = "all values of the right type" if not bad else "wrong type: " + ", ".join(bad[:20])
    return [Check("value_types", not bad, detail)]


def completeness_checks(
    found_tables: list[str],
    found: set[tuple[str, str, str]],
    fmt: str | None,
    per_table: dict[str, str] | None = None,
) -> list[Check]:
    """tables_found, and cells_found against the catalogue: each table's own format where
    ``per_table`` names one (a 2021 report may keep the 2019 requests table), else ``fmt``."""
    tables = list(catalogue.TABLES)
    missing = [t for t in tables if t not in found_tables]
    out = [
        Check(
            "tables_found",
            not missing,
            f"found {', '.join(found_tables) or 'none'}"
            + (f"; missing {', '.join(missing)}" if missing else ""),
        )
    ]
    if fmt is not None:
        fmts = {t: (per_table or {}).get(t, fmt) for t in tables}
        cells = [c for t in tables for c in catalogue.cells(fmts[t]) if c.table == t]
        expected = len(cells)
        n_found = sum(1 for c in cells if (c.table, c.item, c.column) in found)
        missing_rows: dict[str, int] = {}
        for c in cells:
            if (c.table, c.item, c.column) not in found:
                key = f"{c.table}.{c.item}"
                missing_rows[key] = missing_rows.get(key, 0) + 1
        detail = f"{n_found} of {expected} cells"
        if missing_rows:
            shown = [f"{k} ({v})" for k, v in list(missing_rows.items())[:12]]
            more = len(missing_rows) - len(shown)
            detail += "; missing " + ", ".join(shown) + (f" and {more} more rows" if more else "")
        out.append(Check("cells_found", n_found == expected, detail))
    return out


def missing_rows_error(table: str, fmt: str, found_items: set[str], cut: bool) -> str | None:
    """The error of a table whose tail rows are absent (a truncated table), else None.

    Rows are the catalogue's, in printed order: when the last of them is missing, the table
    stops early and the error names every row it lacks.  ``cut`` says the document itself ends
    inside this table; without it a table that yielded nothing is left to the mapper's own
    error (its rows were there but unreadable, not cut off).
    """
    items = catalogue.items(fmt, table)
    if not items or items[-1] in found_items or (not found_items and not cut):
        return None
    got = [i for i, it in enumerate(items) if it in found_items]
    after = f" after {items[got[-1]]}" if got else ""
    where = " (the document ends inside it)" if cut else ""
    missing = ", ".join(it for it in items if it not in found_items)
    return f"{table}: truncated{after}{where}; missing rows: {missing}"
