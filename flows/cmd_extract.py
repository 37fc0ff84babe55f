"""`nianbao extract PATH... [--json]`: read local report files and print what was extracted."""

from __future__ import annotations

import argparse
import json
import sys

from nianbao.transform.result import ExtractResult

from . import settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "extract",
        help="extract the standard tables of local report files",
        description="Extract sections 二/三/四 of report files (HTML pages or text dumps).",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true", help="one JSON object per input, one per line")
    settings.add_arguments(p, settings.EXTRACT)
    p.set_defaults(func=run)


def _print_summary(result: ExtractResult) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    m = result.meta
    console.rule(f"[bold]{result.source}")
    console.print(
        f"format [bold]{result.format or '—'}[/]  year {m.year or '—'}  agency {m.agency or '—'}\n"
        f"title {m.title or '—'}\npublished {m.published or '—'}  索引号 {m.index_no or '—'}"
    )
    by_table: dict[str, list] = {}
    for f in result.facts:
        by_table.setdefault(f.table, []).append(f)
    t = Table("table", "cells", "with a number", "sum of numbers")
    for name, facts in by_table.items():
        nums = [f.value for f in facts if f.value is not None]
        t.add_row(name, str(len(facts)), str(len(nums)), f"{sum(nums):g}")
    console.print(t)
    failed = result.failed_checks
    skipped = [c for c in result.checks if c.ok is None]
    console.print(
        f"checks: {sum(1 for c in result.checks if c.ok)} ok, "
        f"[{'red' if failed else 'green'}]{len(failed)} failed[/], {len(skipped)} skipped"
    )
    for c in failed:
        console.print(f"  [red]✗ {c.name}[/]: {c.detail}")
    for e in result.errors:
        console.print(f"  [yellow]error[/]: {e}")
    for fl in result.flags:
        console.print(f"  [cyan]flag[/]: {fl}")


def run(args: argparse.Namespace) -> int:
    """Extract every path in worker processes; print results in the order given."""
    from .extraction import extract_all, job_for_path

    limits = settings.from_args(args).limits()
    outcomes = {o.job.path: o for o in extract_all(map(job_for_path, args.paths), limits)}
    failures = 0
    for path in args.paths:
        outcome = outcomes[str(path)]
        result = outcome.as_result()
        if not result.facts and result.errors:
            failures += 1
        if args.json:
            sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            _print_summary(result)
    return 1 if failures == len(args.paths) else 0
