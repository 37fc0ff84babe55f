"""Discovery: from a registry column URL to the annual-report entries it lists.

The engine fetches the column page (through the crawler's logged, polite fetch), follows
redirect shells (meta refresh, literal ``location.*``, iframes), picks the CMS family adapter
(the registry's, else by fingerprint, portals.md §4), walks its pagination, keeps entries whose
title marks an annual report, and descends into year/department sub-columns.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ..http import shell_target
from .anhui import Anhui
from .base import (
    Adapter,
    Ctx,
    Entry,
    Fetch,
    Link,
    Page,
    SubColumn,
    entry_from_link,
    is_attachment_url,
    is_item_link,
    is_report_title,
    links,
    maybe_report_title,
    parse_html,
    same_host,
    subcolumns_from_links,
)
from .cicro import Cicro
from .generic import Generic, Vsb
from .gkmlpt import Gkmlpt
from .govcn import GovCn
from .hanweb import Hanweb
from .jpaas import Jpaas
from .jsonapi import JsonApi
from .trs import Trs

# Detection order: the most specific fingerprints first, plain links last.
ADAPTERS: tuple[Adapter, ...] = (
    Jpaas(),
    Gkmlpt(),
    Hanweb(),
    JsonApi(),
    Anhui(),
    Cicro(),
    Vsb(),
    GovCn(),
    Trs(),
    Generic(),
)
ALIASES = {
    "epoint": "jsonapi",
    "ewb": "jsonapi",
    "truecms": "jsonapi",
    "guangdong": "gkmlpt",
    "gd": "gkmlpt",
    "bod": "vsb",
    "boda": "vsb",
    "public": "anhui",
    "ucap": "govcn",
    "gov": "govcn",
    "legacy": "generic",
    "plain": "generic",
    "static": "trs",
}
ADAPTER_NAMES = frozenset({a.name for a in ADAPTERS} | set(ALIASES))
_BY_NAME = {a.name: a for a in ADAPTERS}

__all__ = [
    "ADAPTERS",
    "ADAPTER_NAMES",
    "Discovery",
    "Entry",
    "Fetch",
    "Page",
    "detect_adapter",
    "discover",
    "is_attachment_url",
    "is_report_title",
    "maybe_report_title",
]


@dataclass(slots=True)
class Discovery:
    """What discovery found for one registry column."""

    entries: list[Entry] = field(default_factory=list)
    status: str = "ok"  # ok | empty | blocked | failed | not_found | refused | disallowed
    error: str | None = None
    adapters: list[str] = field(default_factory=list)
    columns: int = 0
    pages: int = 0
    notes: list[str] = field(default_factory=list)


def adapter_named(name: str) -> Adapter | None:
    return _BY_NAME.get(ALIASES.get(name, name))


def detect_adapter(page: Page, forced: str = "") -> Adapter:
    """The registry's adapter if it recognises the page, else the first whose fingerprint fits."""
    if forced:
        adapter = adapter_named(forced)
        if adapter is not None and adapter.detect(page):
            return adapter
    for adapter in ADAPTERS:
        if adapter.detect(page):
            return adapter
    return _BY_NAME["generic"]


def _key(url: str) -> str:
    return url if "/gkmlpt/" in url else url.split("#")[0]


def _follow_shells(fetch: Fetch, page: Page, hops: int = 3) -> Page:
    """Replace a redirect shell (meta refresh / ``location.replace('…')``) by its target."""
    for _ in range(hops):
        if not page.ok or len(page.text) > 4096:
            return page
        target = shell_target(page.text, page.final_url)
        if not target or _key(target) == _key(page.final_url):
            return page
        page = fetch(target, referer=page.final_url)
    return page


def _iframes(page: Page) -> list[str]:
    root = parse_html(page.text, page.final_url)
    if root is None:
        return []
    out = []
    for frame in root.xpath("//iframe[@src] | //frame[@src]"):
        url = links(f'<a href="{frame.get("src")}">f</a>', page.final_url)
        if url and same_host(url[0].url, page.final_url):
            out.append(url[0].url)
    return out


def discover(
    fetch: Fetch,
    list_url: str,
    adapter: str = "",
    *,
    max_pages: int = 300,
    max_depth: int = 3,
    max_columns: int = 100,
) -> Discovery:
    """Walk one registry column (and its sub-columns) and return the report entries found."""
    result = Discovery()
    found: dict[str, Entry] = {}
    queue: deque[tuple[str, int, str | None]] = deque([(list_url, 0, None)])
    visited: set[str] = set()
    while queue and result.pages < max_pages and result.columns < max_columns:
        url, depth, referer = queue.popleft()
        if _key(url) in visited:
            continue
        visited.add(_key(url))
        page = fetch(url, referer=referer)
        result.pages += 1
        page = _follow_shells(fetch, page)
        visited.add(_key(page.final_url))
        if not page.ok:
            if depth == 0:
                result.status, result.error = page.outcome, page.error
            else:
                result.notes.append(f"sub-column {url}: {page.outcome} {page.error or ''}".strip())
            continue
        result.columns += 1
        chosen = detect_adapter(page, adapter if depth == 0 else "")
        if chosen.name not in result.adapters:
            result.adapters.append(chosen.name)
        ctx = Ctx(fetch, url, max_pages=max(0, max_pages - result.pages))
        column_links: list[Link] = []
        subs: list[SubColumn] = []
        for item in chosen.walk(ctx, page):
            if isinstance(item, Link):
                column_links.append(item)
                entry = entry_from_link(item, url)
                if entry is not None:
                    _keep(found, entry)
            elif isinstance(item, Entry):
                _keep(found, item)
            elif isinstance(item, SubColumn):
                subs.append(item)
        result.pages += ctx.pages
        result.notes.extend(ctx.notes)
        subs.extend(subcolumns_from_links(column_links, page.final_url))
        if not any(is_item_link(link) for link in column_links):
            subs.extend(SubColumn(u, "iframe") for u in _iframes(page))
        if depth < max_depth:
            for sub in subs:
                if same_host(sub.url, page.final_url) and _key(sub.url) not in visited:
                    queue.append((sub.url, depth + 1, page.final_url))
    result.entries = list(found.values())
    if result.status == "ok" and not result.entries:
        result.status = "empty"
    return result


def _keep(found: dict[str, Entry], entry: Entry) -> None:
    """First sighting wins, except that a full title replaces a truncated one."""
    old = found.get(_key(entry.url))
    if old is None or (old.verify and not entry.verify):
        found[_key(entry.url)] = entry
