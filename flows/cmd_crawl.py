"""``nianbao crawl``: fetch the registry's 年报 columns into the raw store and documents log."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import settings
from .errors import UserError

if TYPE_CHECKING:
    from nianbao.extract.crawler import CrawlSummary, PortalSummary
    from nianbao.extract.registry import Portal


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "crawl",
        help="crawl the portals' 信息公开年报 columns (polite, incremental, resumable)",
        description=(
            "Fetch every registry column, its annual reports and their attachments into "
            "<data>/raw and the documents log <data>/warehouse/documents.  Unchanged documents "
            "are revalidated (ETag/Last-Modified), not downloaded again; a killed crawl can "
            "simply be run again."
        ),
    )
    settings.add_arguments(p, settings.CRAWL + settings.HTTP)
    p.add_argument(
        "--portal",
        action="append",
        default=None,
        metavar="ID",
        help="crawl only this portal_id (repeatable)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nianbao.extract.crawler import Crawler, CrawlLocked

    cfg = settings.from_args(args)
    portals = load_portals(cfg.registry, args.portal)
    wanted = [p for p in portals if not args.portal or p.portal_id in args.portal]
    console = Console(stderr=True, log_path=False)
    display = _Display(console, len(wanted), enabled=not args.quiet)
    crawler = Crawler(portals, cfg.data, cfg.crawl_config(), progress=display.event)
    try:
        with display:
            summary = crawler.run(args.portal)
    except CrawlLocked as e:
        raise UserError(str(e)) from None
    Console().print(summary_table(summary))
    return 0


def load_portals(registry: Path, wanted: list[str] | None = None) -> list[Portal]:
    """The registry's portals; a bad registry file, or a ``--portal`` it does not hold, is the
    user's to fix (one line, exit 2)."""
    from nianbao.extract.registry import RegistryError, load_registry

    try:
        portals = load_registry(registry)
    except RegistryError as e:
        raise UserError(str(e)) from None
    unknown = sorted(set(wanted or []) - {p.portal_id for p in portals})
    if unknown:
        raise UserError(f"unknown --portal {', '.join(unknown)} (not in {registry})")
    return portals


class _Display:
    """Rich progress: one bar over portals, a line for the portals being crawled."""

    def __init__(self, console: Console, total: int, enabled: bool = True) -> None:
        self.enabled = enabled and console.is_terminal
        self.console = console
        self.lock = threading.Lock()
        self.active: dict[str, int] = {}
        self.fetches = 0
        self.progress = Progress(
            TextColumn("[bold]crawl"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not self.enabled,
        )
        self.task = self.progress.add_task("portals", total=total, info="")

    def __enter__(self) -> _Display:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def event(self, event: str, **info: object) -> None:
        with self.lock:
            if event == "portal_start":
                self.active[str(info["portal_id"])] = 0
            elif event == "fetch":
                self.fetches += 1
                pid = str(info["portal_id"])
                self.active[pid] = self.active.get(pid, 0) + 1
            elif event == "portal_done":
                self.active.pop(str(info["portal_id"]), None)
                self.progress.advance(self.task)
                s: PortalSummary = info["summary"]  # type: ignore[assignment]
                if self.enabled:
                    self.console.log(
                        f"{s.portal_id}: {s.status}, listed {s.listed}, new {s.new + s.changed}, "
                        f"unchanged {s.unchanged}, blocked {s.blocked}, failed {s.failed}"
                    )
            else:
                return
            busy = ", ".join(sorted(self.active)[:3]) + (" …" if len(self.active) > 3 else "")
            self.progress.update(self.task, info=f"{self.fetches} fetches  {busy}")


def summary_table(summary: CrawlSummary) -> Table:
    """The end-of-crawl table: one row per portal, totals last."""
    table = Table(
        title=f"crawl {summary.run_id} → {summary.data_dir}",
        caption="listed: report entries found; other counts: report pages and attachments "
        "(blocked/failed also count listing requests)",
    )
    cols = ("listed", "new", "changed", "unchanged", "removed", "blocked", "failed")
    table.add_column("portal")
    table.add_column("status")
    for c in cols:
        table.add_column(c, justify="right")
    table.add_column("note", overflow="fold", max_width=50)
    for p in summary.portals:
        style = {"ok": "", "empty": "yellow", "blocked": "red", "error": "red"}.get(p.status, "red")
        note = p.error or (p.notes[0] if p.notes else "")
        if p.disallowed or p.refused:
            note = f"{note} (robots {p.disallowed}, off-registry {p.refused})".strip()
        table.add_row(
            p.portal_id,
            f"[{style}]{p.status}[/]" if style else p.status,
            *(str(getattr(p, c)) for c in cols),
            note,
        )
    totals = summary.totals()
    table.add_section()
    table.add_row("total", "", *(str(totals[c]) for c in cols), "")
    return table
