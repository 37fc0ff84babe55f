"""`nianbao backfill`: re-extract stored snapshots with the current extractor (no fetching)."""

from __future__ import annotations

import argparse
import json

from . import settings
from .errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backfill",
        help="re-extract stored snapshots that an older extractor version read, and load them",
        description="Every stored report snapshot whose recorded extractor version differs from "
        "this one (or every one, with --all) is read again from the raw store — nothing is "
        "fetched — on Dask worker processes (a local cluster, or --dask-address), and loaded. "
        "Each backfill is a row in `runs` (flow = 'backfill').",
    )
    settings.add_arguments(p, settings.BACKFILL)
    p.add_argument("--all", action="store_true", help="re-extract every snapshot, current or not")
    p.add_argument("--portal", action="append", default=None, metavar="ID", help="only this portal")
    p.add_argument("--year", type=int, default=None, metavar="Y", help="only reports of year Y")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes of the local Dask cluster (default: one per core; "
        "ignored with --dask-address)",
    )
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N snapshots")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--verbose", "-v", action="store_true", help="Prefect's logs too")
    p.set_defaults(func=cmd_backfill)


def cmd_backfill(args: argparse.Namespace) -> int:
    from .cmd_run import _prefect_startup, _quiet_prefect, _writable

    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers: {args.workers} must be >= 1")
    if args.limit is not None and args.limit < 0:
        raise UserError(f"--limit: {args.limit} must be >= 0")
    _prefect_startup()
    cfg = settings.from_args(args)
    _writable(cfg.data)
    _quiet_prefect(args.verbose)
    from .backfill import backfill

    result = backfill(
        data=str(cfg.data),
        everything=args.all,
        portal_ids=args.portal,
        year=args.year,
        workers=args.workers,
        dask_address=cfg.dask_address or None,
        registry=str(cfg.registry),
        config=args.config,
        limit=args.limit,
    )
    if args.json:
        print(json.dumps(result, ensure_ascii=False, default=str))
    else:
        _print(result)
    return 1 if result["run"]["status"] == "failed" else 0


def _print(result: dict) -> None:
    run = result["run"]
    where = result["dask_address"] or f"local cluster of {result['workers']} workers"
    print(
        f"backfill {run['run_id']}: {run['status']} — extractor {result['extractor_version']}\n"
        f"  {result['selected']} snapshots re-extracted on {where} "
        f"({result['stale']} stale, {result['new']} new, {result['already_current']} current) "
        f"in {result['seconds']:.1f} s ({result['reports_per_second']} /s)\n"
        f"  {run['extracted']} reports loaded ({run['facts_loaded']} facts, "
        f"{result['loads']} loads), {result['not_reports']} not reports, {run['failed']} failed"
    )
    if run.get("detail"):
        print(f"  {run['detail'][:2000]}")
