"""``nianbao registry check``: does each registry row still lead to reports?

A row is judged from what a crawl would see — robots.txt, the column page, its pagination, its
report entries — without fetching reports or storing anything.  The verdicts:

- ``ok``: reports are listed;
- ``empty``: the column answers but lists no report;
- ``blocked``: an anti-bot challenge stands in front of it (never "no reports");
- ``moved``: the address is gone (404/410 or a soft 404, directly or after redirects) or
  redirects somewhere that lists nothing — the column moved, find it again with
  ``nianbao registry discover``;
- ``unreachable``: no usable answer (network errors, 5xx after retries, redirect loops);
- ``robots``: robots.txt forbids the column.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from .discovery import Entry, discover
from .expansion import expand_platform, propose_from_aggregator
from .http import host_key
from .probe import ProbeFetch
from .registry import Portal

VERDICTS = ("ok", "empty", "blocked", "moved", "unreachable", "robots")


@dataclass(slots=True)
class RowCheck:
    """One registry row's check (one JSON object of ``registry check --json``)."""

    portal_id: str
    kind: str
    agency: str
    list_url: str
    reachable: bool = False  # the host answered at all (any HTTP status)
    robots: str = "allowed"  # allowed | disallowed | unavailable | off
    cms: str = ""  # detected CMS families (discovery adapters), comma-separated
    listed: int = 0  # report entries listed (platforms: over all agencies' columns)
    years: dict[str, int] = field(default_factory=dict)  # reports listed per report year
    newest_year: int | None = None
    verdict: str = "unreachable"
    detail: str = ""
    agencies: int | None = None  # platforms: agency columns found
    proposed: int | None = None  # aggregators: columns on unregistered hosts
    requests: int = 0
    checked_at: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def check_portal(
    fetch: ProbeFetch, portal: Portal, registered: set[str], max_pages: int = 300
) -> RowCheck:
    """Check one row with ``fetch`` (whose client's allow-list admits the row's host)."""
    row = RowCheck(portal.portal_id, portal.kind, portal.agency, portal.list_url)
    before = len(fetch.seen)
    row.robots = _robots(fetch, portal.list_url)
    try:
        if portal.kind == "platform":
            _check_platform(fetch, portal, row, registered, max_pages)
        elif portal.kind == "aggregator":  # counts every report it links, wherever it is
            _check_aggregator(fetch, portal, registered, row)
        else:
            found = discover(fetch, portal.list_url, portal.adapter, max_pages=max_pages)
            _count(row, _ours(row, found.entries, registered), found.adapters)
            row.verdict, row.detail = _verdict(found.status, found.error, row, fetch, before)
    except Exception as e:  # noqa: BLE001 - one odd page must not stop the check of the rest
        row.verdict, row.detail = "unreachable", f"check failed: {type(e).__name__}: {e}"
    seen = fetch.seen[before:]
    row.reachable = any(r.status is not None for r in seen)
    row.requests = sum(r.attempts for r in seen)
    row.checked_at = datetime.now(UTC).isoformat(timespec="seconds")
    return row


def _robots(fetch: ProbeFetch, url: str) -> str:
    if not fetch.client.config.robots:
        return "off"
    reason = fetch.client.robots_says(url)
    if reason is None:
        return "allowed"
    return "disallowed" if reason.startswith("disallowed") else "unavailable"


def _check_platform(
    fetch: ProbeFetch, portal: Portal, row: RowCheck, registered: set[str], max_pages: int
) -> None:
    before = len(fetch.seen)
    expansion = expand_platform(fetch, portal)
    row.agencies = len(expansion.derived)
    adapters: list[str] = []
    for derived in expansion.derived:
        found = discover(fetch, derived.list_url, max_pages=max_pages)
        _count(row, _ours(row, found.entries, registered), found.adapters, adapters)
    row.verdict, row.detail = _verdict(expansion.status, expansion.error, row, fetch, before)
    if row.verdict in ("ok", "empty"):
        row.detail = f"{row.agencies} agency columns" + (f"; {row.detail}" if row.detail else "")


def _check_aggregator(
    fetch: ProbeFetch, portal: Portal, registered: set[str], row: RowCheck
) -> None:
    before = len(fetch.seen)
    expansion = propose_from_aggregator(fetch, portal, registered)
    _count(row, expansion.linked, expansion.adapters)
    row.proposed = len(expansion.proposed)
    row.verdict, row.detail = _verdict(expansion.status, expansion.error, row, fetch, before)


def _ours(row: RowCheck, entries: list[Entry], registered: set[str]) -> list[Entry]:
    """The entries a crawl may fetch; links to other hosts are only mentioned (a column
    linking a mirror or an unregistered site does not list those reports for us)."""
    ours = [e for e in entries if host_key(e.url) in registered]
    if len(ours) < len(entries):
        note = f"{len(entries) - len(ours)} report link(s) to hosts outside the registry"
        row.detail = f"{row.detail}; {note}" if row.detail else note
    return ours


def _count(
    row: RowCheck, entries: list, adapters: list[str], seen: list[str] | None = None
) -> None:
    years = Counter(str(e.year) for e in entries if e.year)
    for year, n in years.items():
        row.years[year] = row.years.get(year, 0) + n
    row.years = dict(sorted(row.years.items()))
    row.listed += len(entries)
    row.newest_year = max((int(y) for y in row.years), default=None)
    names = seen if seen is not None else []
    for a in [*row.cms.split(","), *adapters]:
        if a and a not in names:
            names.append(a)
    row.cms = ",".join(names)


def _verdict(
    status: str, error: str | None, row: RowCheck, fetch: ProbeFetch, before: int
) -> tuple[str, str]:
    first = fetch.seen[before] if len(fetch.seen) > before else None
    redirected = bool(first and first.redirects)
    if status == "ok":
        return ("ok", row.detail) if row.listed else ("empty", row.detail or "no report entries")
    if status == "empty":
        if redirected and first is not None and _is_site_root(first.final_url):
            return "moved", f"redirected to the site's home page {first.final_url}"
        return "empty", "the column lists no reports"
    if status == "disallowed":
        return "robots", error or "disallowed by robots.txt"
    if status == "blocked":
        return "blocked", error or "anti-bot challenge"
    if status == "not_found":
        hops = f" after redirects via {' → '.join(first.redirects)}" if redirected else ""
        return "moved", f"{error or 'not found'}{hops}"
    return "unreachable", error or status


def _is_site_root(url: str) -> bool:
    return urlsplit(url).path.strip("/") in ("", "index.html", "index.htm", "index.shtml")


def registered_hosts(portals: list[Portal]) -> set[str]:
    """The host keys the registry names (what the crawler may fetch)."""
    return {host_key(p.list_url) for p in portals}
