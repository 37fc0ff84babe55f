"""`nianbao site --to DIR`: the warehouse as a static audit site (flows/site/)."""

from __future__ import annotations

import argparse
import sys

from . import settings
from .errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "site",
        help="build a static audit site (charts, agency pages, an audit page per report)",
        description="Write a static site into DIR that opens from disk with no network: an "
        "index with charts, a page per agency and an audit page per report showing its source "
        "as captured beside the extracted values.  A site built earlier in DIR is replaced; "
        "any other non-empty DIR is refused.",
    )
    p.add_argument("--to", required=True, metavar="DIR")
    settings.add_arguments(p, ("data",))
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    p.set_defaults(func=run_site)


def run_site(args: argparse.Namespace) -> int:
    from .site import NotASite, build_site

    def progress(what: str, done: int, total: int) -> None:
        if not args.quiet:
            print(f"site: {what} {done}/{total}", file=sys.stderr, flush=True)

    data = settings.from_args(args).data
    try:
        stats = build_site(args.to, data, progress=progress)
    except (NotASite, FileNotFoundError) as e:
        raise UserError(str(e)) from None
    print(
        f"site: {stats.index} ({stats.pages} pages: {stats.reports} reports, {stats.agencies} "
        f"agencies, {stats.listing_pages + 1} index/listing; {stats.images} images) "
        f"in {stats.seconds:.1f}s"
    )
    if stats.sources_missing:
        print(f"note: {stats.sources_missing} report(s) have no snapshot in the raw store "
              "(their audit pages say so)", file=sys.stderr)  # fmt: skip
    return 0
