"""`nianbao run`, `nianbao serve`, `nianbao demo`: the nightly flow, once, scheduled, or on the
bundled demo portal."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import settings
from .errors import UserError

if TYPE_CHECKING:
    import duckdb

DEFAULT_CRON = "0 2 * * *"
DEFAULT_TZ = "Asia/Shanghai"
DEFAULT_API = "http://127.0.0.1:4200/api"
# Seconds Prefect waits for its temporary server (`run`/`demo` without PREFECT_API_URL) to
# answer.  Prefect's default, 20 s, is a race on a busy 2-core machine: the server takes ~17 s
# there when idle, so `nianbao demo` failed with "Timed out while attempting to connect to
# ephemeral Prefect API server".  A slow start is waited for; a broken server still fails.
EPHEMERAL_STARTUP_TIMEOUT = 180
# The demo portal runs on this machine: no need for the 1 s politeness delay of real portals.
DEMO_DELAY = 0.1

EXAMPLE_QUERIES = [
    (
        "National totals and disclosure rate by report year",
        """SELECT year, n_reports, new AS new_requests, result_total AS handled,
       granted + partial AS disclosed,
       round(100.0 * (granted + partial) / nullif(result_total, 0), 1) AS disclosure_rate_pct,
       review_total, review_corrected
FROM totals_by_year ORDER BY year""",
    ),
    (
        "Agencies with the most new requests (reports passing every check)",
        """SELECT agency, year, new AS new_requests, round(100 * disclosure_rate, 1) AS disclosure_pct
FROM report_summary WHERE passes_checks AND new IS NOT NULL
ORDER BY new DESC, agency LIMIT 5""",
    ),
]


def _common(p: argparse.ArgumentParser) -> None:
    settings.add_arguments(p, settings.CRAWL)
    p.add_argument("--portal", action="append", default=None, metavar="ID", help="only this portal")
    _verbosity(p)


def _verbosity(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quiet", "-q", action="store_true", help="only the final summary")
    g.add_argument("--verbose", "-v", action="store_true", help="Prefect's logs too")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the nightly flow once (crawl → extract → load)")
    _common(p)
    p.add_argument("--json", action="store_true", help="print the run summary as JSON")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "serve",
        help="register the nightly flow as a Prefect deployment with a cron schedule and serve it",
        description="Needs a Prefect server (`prefect server start`); PREFECT_API_URL points at "
        f"it (default {DEFAULT_API}).",
    )
    _common(p)
    p.add_argument("--cron", default=DEFAULT_CRON, help=f"schedule (default '{DEFAULT_CRON}')")
    p.add_argument("--timezone", default=DEFAULT_TZ, help=f"schedule time zone ({DEFAULT_TZ})")
    p.add_argument("--name", default="nightly", help="deployment name (default nightly)")
    p.add_argument(
        "--pool",
        default=None,
        metavar="WORK_POOL",
        help="register the deployment on this (process) work pool and exit; runs are then "
        "picked up by `prefect worker start --pool WORK_POOL` processes. A worker runs a whole "
        "night: more workers give failover, not a faster night (extraction scales with "
        "`nianbao backfill` on Dask)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "demo",
        help="start the bundled demo portal on 127.0.0.1, run the nightly flow against it, "
        "print the summary and two researcher queries",
    )
    settings.add_arguments(p, ("data", "delay", "workers"))
    p.add_argument("--no-faults", action="store_true", help="a demo portal without injected faults")
    p.add_argument("--seed", type=int, default=0, help="demo portal content seed")
    _verbosity(p)
    p.set_defaults(func=cmd_demo)


# --------------------------------------------------------------------------- helpers


def _writable(path: Path) -> Path:
    """``path`` created if need be, and proven writable before any crawling starts."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise UserError(f"data directory {path} is not writable: {e.strerror or e}") from None
    return path


def _checked(args: argparse.Namespace) -> settings.Settings:
    """The command's settings, with a registry that loads and a writable data directory."""
    from .cmd_crawl import load_portals

    cfg = settings.from_args(args)
    load_portals(cfg.registry, getattr(args, "portal", None))
    _writable(cfg.data)
    return cfg


def _flow_parameters(cfg: settings.Settings, args: argparse.Namespace) -> dict:
    """The nightly flow's parameters: the settings a flag or parameter can set, and the
    config file so that the flow reads the same file for the others."""
    params = {n: settings.plain(getattr(cfg, n)) for n in settings.CRAWL}
    if getattr(args, "config", None):
        params["config"] = str(Path(args.config).resolve())
    if getattr(args, "portal", None):
        params["portal_ids"] = args.portal
    return params


def _prefect_startup() -> None:
    """A generous start-up limit for Prefect's temporary server (EPHEMERAL_STARTUP_TIMEOUT).

    Set in the environment before prefect is first imported: Prefect reads its settings from
    the environment at import.  An explicit PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS
    wins.
    """
    os.environ.setdefault(
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(EPHEMERAL_STARTUP_TIMEOUT)
    )


def _quiet_prefect(verbose: bool) -> None:
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")
        for name in ("prefect", "httpx", "uvicorn", "distributed"):
            logging.getLogger(name).setLevel(logging.WARNING)
        # The temporary server's background services log cancellation noise at shutdown.
        for name in ("prefect.server", "sqlalchemy.pool", "prefect.server.services"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _run_flow(params: dict, quiet: bool, verbose: bool) -> dict:
    _prefect_startup()
    _quiet_prefect(verbose)
    from rich.console import Console

    from .cmd_crawl import _Display
    from .nightly import nightly

    console = Console(stderr=True)
    display = _Display(console, 0, enabled=not quiet)
    extract_task = None

    def progress(event: str, **info: object) -> None:
        nonlocal extract_task
        if event == "start":
            display.progress.update(display.task, total=info.get("portals"))
        elif event == "extract_start":
            extract_task = display.progress.add_task("extract", total=info["total"], info="")
        elif event == "extract_advance" and extract_task is not None:
            display.progress.advance(extract_task)
        else:
            display.event(event, **info)

    with display:
        return nightly(**params, progress=progress)


def print_summary(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    run = result["run"]
    console = Console()
    t = Table(title=f"nightly run {run['run_id']}: [bold]{run['status']}[/]", show_header=False)
    t.add_column("what")
    t.add_column("count", justify="right")
    labels = {
        "portals": "portals crawled",
        "listed": "reports listed",
        "new": "new or changed documents",
        "unchanged": "unchanged documents",
        "blocked": "portals blocked",
        "extracted": "reports extracted",
        "flagged": "reports flagged (failed checks/errors)",
        "failed": "failures",
        "unsupported": "documents in formats not read yet",
        "unhealthy": "unhealthy portals",
        "facts_loaded": "facts loaded",
    }
    for key, label in labels.items():
        t.add_row(label, str(run.get(key, "")))
    console.print(t)
    bad = [p for p in result["portals"] if p["health"] != "ok"]
    if bad:
        h = Table(title="portal health")
        for col in ("portal_id", "health", "reason"):
            h.add_column(col)
        for p in bad:
            colour = "red" if p["health"] == "unhealthy" else "yellow"
            h.add_row(p["portal_id"], f"[{colour}]{p['health']}[/]", p["reason"])
        console.print(h)
    if run.get("detail"):
        console.print(f"[dim]{run['detail'][:2000]}[/]")


# --------------------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace) -> int:
    _prefect_startup()
    cfg = _checked(args)
    result = _run_flow(_flow_parameters(cfg, args), args.quiet, args.verbose)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, default=str))
    else:
        print_summary(result)
    return 1 if result["run"]["status"] == "failed" else 0


def _check_api(url: str) -> None:
    """Ask the server through Prefect's own client (set up for ``url`` via PREFECT_API_URL)."""
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            error = client.api_healthcheck()
    except Exception as e:  # unreachable host, bad URL
        error = e
    if error is not None:
        raise UserError(
            f"no Prefect server at {url} ({error}). Start one with `prefect server start` "
            "(or set PREFECT_API_URL to a running server)"
        )


def cmd_serve(args: argparse.Namespace) -> int:
    params = _flow_parameters(_checked(args), args)
    api = os.environ.setdefault("PREFECT_API_URL", DEFAULT_API)
    _check_api(api)
    _quiet_prefect(args.verbose)
    from prefect.schedules import Cron

    from .nightly import nightly

    try:
        schedule = Cron(args.cron, timezone=args.timezone)
    except Exception as e:
        raise UserError(f"bad --cron/--timezone: {e}") from None
    print(
        f"{'registering' if args.pool else 'serving'} deployment nightly/{args.name} on {api} "
        f"(cron '{args.cron}' {args.timezone}); UI: {api.removesuffix('/api')}",
        flush=True,
    )
    from prefect.deployments.runner import EntrypointType

    if args.pool:
        from prefect.deployments.runner import deploy

        deployment = nightly.to_deployment(
            name=args.name,
            schedule=schedule,
            parameters=params,
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        deploy(deployment, work_pool_name=args.pool, build=False, push=False,
               print_next_steps_message=False)  # fmt: skip
        print(f"start workers with: prefect worker start --pool {args.pool}", flush=True)
        return 0
    # Load the flow by module path: the package's files use relative imports.
    nightly.serve(
        name=args.name,
        schedule=schedule,
        parameters=params,
        print_starting_message=False,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    return 0


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, port)) != 0


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def cmd_demo(args: argparse.Namespace) -> int:
    _prefect_startup()
    cfg = settings.from_args(args, defaults={"delay": DEMO_DELAY})
    data = _writable(cfg.data)
    from nianbao.demo.portal import start_portal

    from .warehouse import connect

    try:
        portal = start_portal(seed=args.seed, faults=not args.no_faults, stall_seconds=1.0)
    except OSError as e:
        raise UserError(f"cannot start the demo portal on 127.0.0.1: {e}") from None
    with portal:
        registry = data / "demo-portals.csv"
        portal.write_registry(registry)
        if not args.quiet:
            print(
                f"demo portal: {len(portal.sites)} sites on 127.0.0.1; registry {registry}",
                file=sys.stderr,
            )
        params = {**_flow_parameters(cfg, args), "registry": str(registry)}
        result = _run_flow(params, args.quiet, args.verbose)
    print_summary(result)
    from rich.console import Console
    from rich.table import Table

    console = Console()
    con = connect(data)
    try:
        for title, sql in EXAMPLE_QUERIES:
            cur = con.execute(sql)
            t = Table(title=title)
            for d in cur.description:
                t.add_column(d[0])
            for row in cur.fetchall():
                t.add_row(*(_cell(v) for v in row))
            console.print(t)
        for line in across_reports(con):
            console.print(line)
    finally:
        con.close()
    for line in registry_growth(data):
        console.print(line)
    console.print(
        f'warehouse: duckdb {data / "nianbao.duckdb"}   (or: nianbao sql "..." --data {data})'
    )
    from .site import build_site

    try:
        site = build_site(data / "site", data)
    except Exception as e:  # the warehouse is built: say why the site is not, in one line
        print(f"site not built: {type(e).__name__}: {e}".splitlines()[0], file=sys.stderr)
        return 1
    console.print(f"site: {site.index} ({site.pages} pages)", soft_wrap=True)
    return 1 if result["run"]["status"] == "failed" else 0


# What the views spanning reports found (sql/25_panels.sql), one line each.
ACROSS_REPORTS = (
    (
        "agencies: {0} followed across years ({1} with 2+ years); {2} re-posted copies "
        "counted once",
        "SELECT (SELECT count(*) FROM agencies), "
        "(SELECT count(*) FROM agencies WHERE len(years) > 1), "
        "(SELECT count(*) FROM report_duplicates)",
    ),
    (
        "panel checks (上年结转, 现行有效 across years): {0} passed, {1} failed, {2} skipped",
        "SELECT count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok), "
        "count(*) FILTER (WHERE ok IS NULL) FROM panel_checks",
    ),
    (
        "coverage: {0} agency-years expected, {1} not found, {2} published late",
        "SELECT count(*), count(*) FILTER (WHERE NOT present), count(*) FILTER (WHERE late) "
        "FROM report_coverage",
    ),
    (
        "report text vs tables: {0} numbers compared, {1} disagree (narrative_failures)",
        "SELECT count(ok), count(*) FILTER (WHERE NOT ok) FROM narrative_checks",
    ),
)


def across_reports(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The demo's lines on agencies, panel checks, coverage and narrative checks."""
    return [text.format(*con.execute(sql).fetchall()[0]) for text, sql in ACROSS_REPORTS]


def registry_growth(data: Path) -> list[str]:
    """What the registry grew by tonight: platforms' agency columns and proposed columns."""
    import csv

    from nianbao.extract.registry_growth import PROPOSED_FILE, derived_path, load_derived

    out = []
    by_parent: dict[str, int] = {}
    for row in load_derived(data):
        by_parent[row.parent] = by_parent.get(row.parent, 0) + 1
    if by_parent:
        parts = ", ".join(f"{p} → {n} agency columns" for p, n in sorted(by_parent.items()))
        out.append(f"platforms expanded: {parts}  ({derived_path(data)})")
    proposed = data / PROPOSED_FILE
    if proposed.is_file():
        with proposed.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        if rows:
            out.append(
                f"{len(rows)} column(s) on unregistered hosts proposed for the registry  ({proposed})"
            )
    return out
