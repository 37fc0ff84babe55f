"""`nianbao ingest`, `sql`, `export`, `optimize`: the warehouse from the command line."""

from __future__ import annotations

import argparse
import csv
import re
import sys
from typing import TYPE_CHECKING, TextIO

from . import settings
from .errors import UserError, user_error

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb


def register(sub: argparse._SubParsersAction) -> None:
    for add in (_add_ingest, _add_sql, _add_export, _add_optimize):
        add(sub)


def _add_ingest(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ingest",
        help="extract local report files and load them into the warehouse",
        description="Extract report files (directories are walked) and load them into "
        "<data>/warehouse; reloading a file replaces its rows, an unchanged file is skipped.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--level", help="administrative level of the reporting agency (e.g. county)")
    p.add_argument("--region-code", help="administrative division code (GB/T 2260) of the agency")
    p.add_argument("--source-url", help="where the (single) file was published: its report id")
    p.add_argument("--force", action="store_true", help="reload reports even when unchanged")
    settings.add_arguments(p, ("data", *settings.EXTRACT))
    p.set_defaults(func=run_ingest)


def _add_sql(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sql",
        help="run a SQL query against the warehouse views",
        description="Run a query on <data>/nianbao.duckdb (read-only); views: reports, facts, "
        "cells, checks, check_failures, requests_wide, appeals_wide, active_wide, report_summary, …",
    )
    p.add_argument("query", metavar="QUERY")
    settings.add_arguments(p, ("data",))
    p.add_argument("--csv", action="store_true", help="write CSV to stdout instead of a table")
    p.add_argument("--max-rows", type=int, default=200, help="rows shown as a table (default 200)")
    p.add_argument(
        "--allow-external",
        action="store_true",
        help="let the query read and write files outside the data directory (COPY … TO, "
        "read_csv of your own files), ATTACH databases and INSTALL/LOAD extensions",
    )
    p.add_argument(
        "--as-of",
        metavar="VERSION|TIME",
        help="answer as of a warehouse version (see the warehouse_versions view), or the last "
        "version committed by an ISO time such as 2026-05-01T12:00 (UTC unless a zone is given)",
    )
    p.set_defaults(func=run_sql)


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export the main views and a codebook as CSV, Parquet or Stata",
        description="Write the main warehouse views, codebook.* (the cell catalogue) and "
        "columns.* (every exported column) into DIR.  --format stata writes labelled Stata "
        "118 .dta files, plus report_values.dta (one variable per catalogue cell); "
        "columns.dta maps each column to its Stata name.",
    )
    p.add_argument("--to", required=True, metavar="DIR")
    settings.add_arguments(p, ("data",))
    p.add_argument("--format", choices=("csv", "parquet", "stata"), default="csv")
    p.set_defaults(func=run_export)


def _add_optimize(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "optimize",
        help="compact the warehouse's small files and vacuum old ones",
        description="Merge small Parquet files of every warehouse table and log (Delta "
        "optimize), then delete files no version younger than the retention needs (vacuum). "
        "Time travel (--as-of) reaches back at least that far.  Rows never change.",
    )
    settings.add_arguments(p, ("data",))
    p.add_argument(
        "--retention-days",
        type=float,
        default=30.0,
        help="keep files older versions need for this many days (default 30)",
    )
    p.set_defaults(func=run_optimize)


def run_ingest(args: argparse.Namespace) -> int:
    from .warehouse import ingest

    cfg = settings.from_args(args)
    try:
        res = ingest(
            args.paths,
            cfg.data,
            level=args.level,
            region_code=args.region_code,
            source_url=args.source_url,
            force=args.force,
            limits=cfg.limits(),
        )
    except ValueError as e:
        raise UserError(str(e)) from None
    for path, why in res.failed:
        print(f"skipped {path}: {why}", file=sys.stderr)
    s = res.stats
    assert s is not None
    print(
        f"{len(res.loaded)} file(s) read: {s.reports_new} new, {s.reports_replaced} replaced, "
        f"{s.reports_unchanged} unchanged; {s.facts_written} facts and {s.checks_written} checks "
        f"written in {s.seconds:.2f}s; warehouse version {s.version} at {s.data}"
    )
    if s.views_error:
        print(
            f"note: committed version {s.version}; views not refreshed: {s.views_error} "
            "(the next `nianbao sql` or ingest refreshes them)",
            file=sys.stderr,
        )
    elif not s.views_applied:
        print(
            f"note: {s.data}/nianbao.duckdb is open in another process, its views were not "
            "refreshed (connect() and `nianbao sql` still see the new data)",
            file=sys.stderr,
        )
    return 1 if res.failed else 0


def _connect(
    data: Path, external_access: bool = True, as_of: str | None = None
) -> duckdb.DuckDBPyConnection:
    import duckdb

    from .warehouse import connect

    try:
        return connect(data, external_access=external_access, as_of=as_of)
    except (FileNotFoundError, ValueError) as e:  # ValueError: no such version
        raise UserError(str(e)) from None
    except duckdb.Error as e:
        raise user_error(e) or UserError(f"cannot open the warehouse: {_one_line(e)}") from None


# Statements `nianbao sql` runs without --allow-external (DESCRIBE, SHOW, SUMMARIZE, FROM …,
# VALUES and WITH are SELECTs; CALL runs a table function, like SELECT * FROM f()).  Everything
# else modifies something or touches files: DuckDB lets a query write inside the data
# directory it may read, so COPY, EXPORT, ATTACH, PRAGMA (import_database) and the like are
# refused here, before anything runs.  EXPLAIN ANALYZE runs its statement: that one is checked.
QUERY_STATEMENTS = frozenset({"SELECT", "EXPLAIN", "CALL"})
EXTERNAL_STATEMENTS = {
    "COPY": "COPY",
    "EXPORT": "EXPORT DATABASE",
    "ATTACH": "ATTACH",
    "DETACH": "DETACH",
    "LOAD": "INSTALL/LOAD",
    "PRAGMA": "PRAGMA",
}
_HINTS = {"PRAGMA": " (DESCRIBE <view> and SELECT * FROM pragma_…() work without it)"}
NEEDS_EXTERNAL = "refused without --allow-external"
_EXPLAIN = re.compile(
    r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*EXPLAIN(?:\s+ANALY[SZ]E)?\b", re.I | re.S
)


def _check_statements(query: str) -> None:
    """Refuse, in one line, anything but queries (see QUERY_STATEMENTS)."""
    import duckdb

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as e:
        raise UserError(_one_line(e)) from None
    for statement in statements:
        kind = statement.type.name
        if kind == "EXPLAIN":
            m = _EXPLAIN.match(statement.query)
            if m is None:
                raise UserError("cannot tell what this EXPLAIN statement explains: refused")
            _check_statements(statement.query[m.end() :])
        elif kind in EXTERNAL_STATEMENTS:
            name, hint = EXTERNAL_STATEMENTS[kind], _HINTS.get(kind, "")
            raise UserError(f"{name} statements are {NEEDS_EXTERNAL}{hint}")
        elif kind not in QUERY_STATEMENTS:
            raise UserError(
                f"the warehouse is read-only and `nianbao sql` runs queries: {kind} refused"
            )


def _one_line(e: Exception) -> str:
    """A DuckDB message without its query excerpt ("LINE 1: …" and the caret line)."""
    lines = []
    for line in str(e).strip().splitlines():
        if line.startswith("LINE "):
            break
        if line.strip():
            lines.append(line.strip())
    return " ".join(lines)


def run_sql(args: argparse.Namespace) -> int:
    import duckdb

    from .csv_safety import escape_formulas

    if not args.allow_external:
        _check_statements(args.query)
    data = settings.from_args(args).data
    con = _connect(data, external_access=args.allow_external, as_of=args.as_of)
    try:
        try:
            rel = con.sql(args.query)
        except duckdb.PermissionException as e:  # a file outside the data directory
            raise UserError(f"{_one_line(e)}: {NEEDS_EXTERNAL}") from None
        except duckdb.Error as e:
            raise user_error(e) or UserError(_one_line(e)) from None
        if rel is None:  # a statement without a result
            return 0
        columns = rel.columns
        if args.csv:
            writer = csv.writer(_LineFeedRows(sys.stdout), lineterminator="\r\n")
            writer.writerow(columns)
            reader = rel.arrow()
            for batch in reader:
                cols = [c.to_pylist() for c in escape_formulas(batch).columns]
                writer.writerows(zip(*cols, strict=True))
            return 0
        rows = rel.limit(args.max_rows + 1).fetchall()
    finally:
        con.close()
    _print_table(columns, rows, args.max_rows)
    return 0


class _LineFeedRows:
    """Rows ending in "\n", with fields holding a carriage return quoted all the same.

    Python's csv module quotes a field containing "\r" only when "\r" is part of its
    lineterminator; so rows are written with "\r\n" (one write call per row) and passed on
    with "\n".
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, row: str) -> int:
        return self.out.write(row.removesuffix("\r\n") + "\n")


def _print_table(columns: list[str], rows: list[tuple], max_rows: int) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, show_lines=False)
    for row in rows[:max_rows]:
        table.add_row(*("" if v is None else _fmt(v) for v in row))
    console = Console()
    if not console.is_terminal:  # piped: do not squeeze columns into 80 characters
        console = Console(width=max(120, 16 * len(columns)))
    console.print(table)
    shown = min(len(rows), max_rows)
    more = " (more not shown: use --max-rows or --csv)" if len(rows) > max_rows else ""
    console.print(f"{shown} row(s){more}")


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.6g}" if not v.is_integer() else f"{v:.0f}"
    return str(v)


def run_export(args: argparse.Namespace) -> int:
    import duckdb

    from .warehouse import export

    try:
        files = export(args.to, settings.from_args(args).data, fmt=args.format)
    except FileNotFoundError as e:
        raise UserError(str(e)) from None
    except duckdb.Error as e:
        raise user_error(e) or UserError(f"export failed: {_one_line(e)}") from None
    for f in files:
        print(f)
    return 0


def run_optimize(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from .warehouse import optimize

    if args.retention_days < 0:
        raise UserError("--retention-days cannot be negative")
    done = optimize(settings.from_args(args).data, retention=timedelta(days=args.retention_days))
    for m in done:
        print(
            f"{m.table}: {m.files_removed} files compacted into {m.files_added}, "
            f"{m.files_vacuumed} old files deleted"
        )
    return 0
