"""Finding a 年报 column on a page: the links that lead to one, and whether a page is one.

Used where nianbao meets a site it does not know yet: ``nianbao registry discover`` (from a
home page or its 政府信息公开 page to a ready registry row) and platform expansion (from an
agency's page on a 集约化 platform to that agency's column).  Column slugs carry unguessable
suffixes (portals.md §1), so a column is found by following the site's own links — by their
text (政府信息公开年报, 年度报告 …) and, second, by known slugs in their paths — never by
constructing an address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .discovery import Page, detect_adapter
from .discovery.base import (
    Ctx,
    Entry,
    Link,
    SubColumn,
    entry_from_link,
    is_attachment_url,
    is_item_link,
    links,
    looks_like_column_title,
    same_host,
)

# Link texts of 年报 columns, best first (a year in the text means a report, not a column).
_COLUMN_TEXTS = (
    (re.compile(r"政府信息公开(工作)?年(度)?报(告)?|信息公开年报|信息公开工作年度报告"), 100),
    (re.compile(r"年度报告|年报"), 70),
)
# Known column slugs per CMS family (portals.md §1): zfxxgknb, zfxxgkndbg, xxgkndbg, xxgknb, ndbg …
_COLUMN_SLUG = re.compile(
    r"/(zfxxgk_?nb|zfxxgkndbg|xxgkndbg|xxgk-?nb|xxgknb|gknb|ndbg|nianbao|zfxxgknb\d*)(/|\.s?html?|$)",
    re.I,
)
# 政府信息公开 / 政务公开 pages, where a home page's way to the 年报 column usually goes through.
_DISCLOSURE_TEXT = re.compile(r"^(政府)?信息公开(专栏|目录|平台)?$|^政务公开$|^法定主动公开内容$")
_NOT_COLUMN = re.compile(r"企业年报|工商年报|年报公示|统计年报|年鉴")


@dataclass(frozen=True, slots=True)
class ColumnLink:
    """A link that looks like it leads to a 年报 column, with why."""

    url: str
    text: str
    score: int
    why: str


def column_links(page: Page) -> list[ColumnLink]:
    """The page's links to 年报 columns, best first (same-host before other hosts)."""
    best: dict[str, ColumnLink] = {}
    for link in links(page.text, page.final_url):
        found = _score(link)
        if found is None:
            continue
        score, why = found
        if not same_host(link.url, page.final_url):
            score -= 40
            why += ", other host"
        old = best.get(link.url)
        if old is None or score > old.score:
            best[link.url] = ColumnLink(link.url, link.title or link.text, score, why)
    return sorted(best.values(), key=lambda c: (-c.score, c.url))


def _score(link: Link) -> tuple[int, str] | None:
    text = link.title if len(link.title) >= len(link.text) else link.text
    if is_attachment_url(link.url) or _NOT_COLUMN.search(text) or is_item_link(link):
        return None
    slug = bool(_COLUMN_SLUG.search(urlsplit(link.url).path))
    if looks_like_column_title(text):
        for pattern, score in _COLUMN_TEXTS:
            if pattern.search(text):
                return score + (20 if slug else 0), f"link text {text!r}" + (
                    " and column slug" if slug else ""
                )
    if slug and len(text) < 20:
        return 50, f"column slug in {urlsplit(link.url).path!r}"
    return None


def disclosure_links(page: Page) -> list[str]:
    """Same-host links to the site's 政府信息公开 / 政务公开 page (the usual way to 年报)."""
    out: list[str] = []
    for link in links(page.text, page.final_url):
        text = (link.text or link.title).strip()
        if _DISCLOSURE_TEXT.match(text) and same_host(link.url, page.final_url):
            if link.url not in out and link.url.split("#")[0] != page.final_url.split("#")[0]:
                out.append(link.url)
    return out


@dataclass(slots=True)
class Listing:
    """What the first page of a column shows without fetching further pages."""

    adapter: str
    entries: list[Entry]
    year_tabs: int

    @property
    def is_column(self) -> bool:
        return bool(self.entries) or self.year_tabs > 0


def first_page(page: Page) -> Listing:
    """Read a page as its CMS family's adapter would, but fetch nothing more: a page that
    already lists reports (or year tabs) is itself a 年报 column."""
    adapter = detect_adapter(page)
    ctx = Ctx(_no_fetch, page.final_url, max_pages=0)
    entries: dict[str, Entry] = {}
    tabs = 0
    try:
        for item in adapter.walk(ctx, page):
            if isinstance(item, Link):
                entry = entry_from_link(item, page.final_url)
                if entry is not None:
                    entries.setdefault(entry.url, entry)
            elif isinstance(item, Entry):
                entries.setdefault(item.url, item)
            elif isinstance(item, SubColumn) and item.reason.startswith("year tab"):
                tabs += 1
    except Exception:  # noqa: BLE001 - a family adapter surprised by a page that is not its own
        pass
    return Listing(adapter.name, list(entries.values()), tabs)


def _no_fetch(url: str, **_: object) -> Page:
    return Page(url, url, None, "failed", error="not fetched while reading one page")
