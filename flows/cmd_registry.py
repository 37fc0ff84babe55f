"""``nianbao registry check`` and ``nianbao registry discover``: keep the registry true.

``check`` reads every row as a crawl would (robots.txt, the listing, its pages) and says whether
it still leads to reports; each check is a row in the `registry_checks` log (view
`registry_status`), and ``--mark-verified`` writes the date into the registry's ``verified_at``
for the rows that passed.  ``discover`` starts from a site's home page (or its 政府信息公开 page)
and prints a ready registry row for its 年报 column.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from . import settings
from .cmd_crawl import load_portals
from .errors import UserError

if TYPE_CHECKING:
    from nianbao.extract.registry import Portal
    from nianbao.extract.registry_check import RowCheck


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "registry",
        help="check the registry's rows, or discover a site's 年报 column",
        description="Keep data/portals.csv true: check its rows, discover new ones.",
    )
    sub = p.add_subparsers(dest="registry_command", metavar="ACTION", required=True)
    c = sub.add_parser(
        "check",
        help="does each row still lead to reports? (verdict per row)",
        description=(
            "Read every registry row as a crawl would — robots.txt, the listing and its pages — "
            "without fetching reports or storing anything, and judge it: ok, empty, blocked, "
            "moved, unreachable or robots.  Each check is kept in <data>/warehouse/"
            "registry_checks (view registry_status)."
        ),
    )
    settings.add_arguments(c, settings.CRAWL + settings.HTTP)
    c.add_argument("--portal", action="append", metavar="ID", help="check only this row")
    c.add_argument("--json", action="store_true", help="one JSON object per row on stdout")
    c.add_argument(
        "--mark-verified",
        action="store_true",
        help="write today's date into verified_at of the rows whose verdict is ok",
    )
    c.set_defaults(func=run_check)
    d = sub.add_parser(
        "discover",
        help="find a site's 年报 column from its home page and print a registry row",
        description=(
            "Fetch URL (a home page or a 政府信息公开 page), follow its links to the 年报 "
            "column (link texts 政府信息公开年报, 年度报告 …, then known column slugs), read that "
            "column's first listing and print a ready registry row (CSV, or JSON with --json)."
        ),
    )
    d.add_argument("url", help="the site's home page or 政府信息公开 page")
    settings.add_arguments(d, ("delay", *settings.HTTP))
    d.add_argument("--json", action="store_true", help="the row and the candidates as JSON")
    d.set_defaults(func=run_discover)


# --------------------------------------------------------------------------- check


def run_check(args: argparse.Namespace) -> int:
    from nianbao.extract.http import AllowList, HttpClient, host_key
    from nianbao.extract.probe import ProbeFetch
    from nianbao.extract.registry_check import check_portal, registered_hosts

    cfg = settings.from_args(args)
    portals = load_portals(cfg.registry, args.portal)
    wanted = [p for p in portals if not args.portal or p.portal_id in args.portal]
    registered = registered_hosts(portals)
    groups: dict[str, list[Portal]] = {}
    for p in wanted:
        groups.setdefault(host_key(p.list_url), []).append(p)
    with HttpClient(AllowList(p.list_url for p in portals), cfg.http_config()) as client:
        fetch = ProbeFetch(client)

        def check_group(group: list[Portal]) -> list[RowCheck]:
            return [check_portal(fetch, p, registered) for p in group]

        with ThreadPoolExecutor(max(1, min(cfg.workers, len(groups) or 1))) as pool:
            done = [row for rows in pool.map(check_group, groups.values()) for row in rows]
    by_id = {r.portal_id: r for r in done}
    checks = [by_id[p.portal_id] for p in wanted]
    _keep(cfg.data, checks)
    if args.mark_verified:
        _mark_verified(cfg.registry, portals, checks)
    if args.json:
        for row in checks:
            print(json.dumps(row.as_dict(), ensure_ascii=False))
    else:
        Console().print(_table(checks))
    return 0


def _keep(data: Path, checks: list[RowCheck]) -> None:
    from .runlog import RegistryCheck, write_registry_checks

    check_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    rows = [
        RegistryCheck(
            check_id=check_id,
            portal_id=c.portal_id,
            kind=c.kind,
            agency=c.agency,
            list_url=c.list_url,
            checked_at=datetime.fromisoformat(c.checked_at),
            verdict=c.verdict,
            detail=c.detail,
            reachable=c.reachable,
            robots=c.robots,
            cms=c.cms,
            listed=c.listed,
            years=json.dumps(c.years, sort_keys=True),
            newest_year=c.newest_year,
            agencies=c.agencies,
            proposed=c.proposed,
            requests=c.requests,
        )
        for c in checks
    ]
    write_registry_checks(data, rows)


def _mark_verified(registry: Path, portals: list[Portal], checks: list[RowCheck]) -> None:
    """verified_at := the check's date for rows judged ok (others keep theirs)."""
    from dataclasses import replace

    from nianbao.extract.registry import write_registry

    ok = {c.portal_id: c.checked_at[:10] for c in checks if c.verdict == "ok"}
    write_registry(
        registry, [replace(p, verified_at=ok.get(p.portal_id, p.verified_at)) for p in portals]
    )
    print(f"verified_at written for {len(ok)} row(s) in {registry}", file=sys.stderr)


def _table(checks: list[RowCheck]) -> Table:
    t = Table(title="registry check", show_lines=False)
    for col in ("portal", "verdict", "cms", "listed", "years", "robots", "detail"):
        t.add_column(col, justify="right" if col == "listed" else "left", overflow="fold")
    styles = {"ok": "green", "empty": "yellow"}
    for c in checks:
        years = " ".join(f"{y}:{n}" for y, n in c.years.items())
        verdict = f"[{styles.get(c.verdict, 'red')}]{c.verdict}[/]"
        t.add_row(c.portal_id, verdict, c.cms, str(c.listed), years, c.robots, c.detail)
    return t


# --------------------------------------------------------------------------- discover


def run_discover(args: argparse.Namespace) -> int:
    from nianbao.extract.site_discovery import discover_site

    cfg = settings.from_args(args)
    url = args.url.strip()
    if not url.startswith(("http://", "https://")):
        raise UserError(f"not an http(s) address: {url!r}")
    found = discover_site(url, cfg.http_config())
    if args.json:
        print(json.dumps(found.as_dict(), ensure_ascii=False, indent=1))
    elif found.row is None:
        print(f"no 年报 column found from {url}: {found.detail}", file=sys.stderr)
    else:
        from nianbao.extract.registry import COLUMNS

        w = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerow(found.row.row())
        print(f"# {found.detail}", file=sys.stderr)
    return 0 if found.row is not None else 1
