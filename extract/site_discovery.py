"""From a site's home page to a ready registry row (``nianbao registry discover URL``).

A person adding a portal knows its home page, not the address of its 年报 column (slugs carry
unguessable suffixes, portals.md §1).  This follows the site's own links: the home page's link
to the column if it has one, else its 政府信息公开 page's; each candidate is then read as a
crawl would read it (first pages only) and the first that lists reports becomes the row.
Only the site's own hosts are fetched (the home page's host and hosts of the same site, such as
``xxgk.<site>.gov.cn``), through the crawler's polite client.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from nianbao.core.regions import infer_region

from .columns import ColumnLink, column_links, disclosure_links
from .discovery import Page, discover
from .discovery import _follow_shells as follow_shells
from .discovery.base import clean_text, links, parse_html
from .http import AllowList, HttpClient, HttpConfig
from .probe import ProbeFetch
from .registry import Portal


@dataclass(slots=True)
class SiteDiscovery:
    """What ``discover`` found: the row (None when no column was found) and how."""

    url: str
    row: Portal | None = None
    listed: int = 0
    years: dict[str, int] = field(default_factory=dict)
    candidates: list[ColumnLink] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # pages read to find the candidates
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["row"] = self.row.row() if self.row else None
        return out


def discover_site(url: str, http: HttpConfig | None = None, tries: int = 3) -> SiteDiscovery:
    """Find the 年报 column reachable from ``url`` and describe it as a registry row."""
    out = SiteDiscovery(url)
    with HttpClient(AllowList([url]), http) as client:
        first = ProbeFetch(client)
        home = follow_shells(first, first(url))
    if not home.ok:
        out.detail = f"{url}: {home.outcome} {home.error or ''}".strip()
        return out
    with HttpClient(AllowList([url, home.final_url, *same_site(home)]), http) as client:
        fetch = ProbeFetch(client)
        out.pages.append(home.final_url)
        candidates = column_links(home)
        if not candidates:
            for nxt in disclosure_links(home)[:2]:
                page = follow_shells(fetch, fetch(nxt, referer=home.final_url))
                if page.ok:
                    out.pages.append(page.final_url)
                    candidates = column_links(page)
                    if candidates:
                        break
        out.candidates = candidates
        for cand in candidates[:tries]:
            found = discover(fetch, cand.url, max_pages=5, max_depth=1)
            if found.entries:
                years: dict[str, int] = {}
                for e in found.entries:
                    if e.year:
                        years[str(e.year)] = years.get(str(e.year), 0) + 1
                out.listed, out.years = len(found.entries), dict(sorted(years.items()))
                out.row = _row(home, cand, ",".join(found.adapters))
                out.detail = (
                    f"{cand.why}: {out.listed} reports on the first pages "
                    f"({', '.join(f'{y}: {n}' for y, n in out.years.items())})"
                )
                return out
    out.detail = (
        f"{len(candidates)} candidate link(s), none listing reports"
        if candidates
        else "no link to a 年报 column on the page or its 政府信息公开 page"
    )
    return out


def site_domain(host: str) -> str:
    """The part of a host name a site's hosts share: ``xxgk.huichang.gov.cn`` → ``huichang.gov.cn``."""
    labels = host.lower().split(".")
    if re.fullmatch(r"[\d.]+", host):
        return host
    keep = 3 if labels[-2:] in (["gov", "cn"], ["edu", "cn"], ["org", "cn"], ["com", "cn"]) else 2
    return ".".join(labels[-keep:])


def same_site(page: Page) -> list[str]:
    """Addresses on the page that sit on other hosts of the same site (not other sites)."""
    mine = urlsplit(page.final_url).hostname or ""
    domain = site_domain(mine)
    out = []
    for link in links(page.text, page.final_url):
        host = urlsplit(link.url).hostname or ""
        if host != mine and (host == domain or host.endswith("." + domain)):
            out.append(link.url)
    return out


_TITLE_SPLIT = re.compile(r"[_|｜\-—–·]+")
_LEVELS = (
    (re.compile(r"^中华人民共和国|^国家|^国务院"), "national"),
    (re.compile(r"(省|自治区)(人民政府)?$|^(北京|天津|上海|重庆)市人民政府$"), "province"),
    (re.compile(r"(市|州|盟|地区)(人民政府|行政公署)?$"), "city"),
    (re.compile(r"(县|区|旗)(人民政府)?$"), "county"),
    (re.compile(r"(镇|乡|街道)(人民政府|办事处)?$"), "township"),
)


def site_agency(page: Page) -> str:
    """The agency a home page names in its <title> (the part that reads as a government)."""
    root = parse_html(page.text, page.final_url)
    title = clean_text(root.findtext(".//title")) if root is not None else ""
    parts = [p.strip() for p in _TITLE_SPLIT.split(title) if p.strip()]
    for part in parts:
        if re.search(r"(政府|局|委员会|委|厅|办公室|院|署|部|中心)$", part):
            return part
    for part in parts:
        if part not in ("首页", "门户网站") and not part.endswith(("网", "门户网站")):
            return part
    return title


def level_of(agency: str) -> str:
    for pattern, level in _LEVELS:
        if pattern.search(agency.replace("门户网站", "")):
            return level
    return ""


def _row(home: Page, cand: ColumnLink, adapter: str) -> Portal:
    agency = site_agency(home)
    host = urlsplit(cand.url).hostname or "site"
    slug = [s for s in re.split(r"[/?=&.]+", urlsplit(cand.url).path) if s and s != "index"]
    labels = [h for h in host.split(".") if h not in ("www", "gov", "cn", "com", "org")]
    portal_id = re.sub(r"[^a-z0-9-]+", "-", "-".join(labels[-2:] + slug[-1:]).lower()).strip("-")
    today = datetime.now(UTC).date().isoformat()
    return Portal(
        portal_id=portal_id[:80] or "site",
        agency=agency,
        level=level_of(agency),
        region_code=_region(agency),
        list_url=cand.url,
        adapter=adapter.split(",")[0] if adapter and adapter != "generic" else "",
        notes=(
            f"unverified; discovered by `nianbao registry discover` from {home.url} on {today}: "
            f"{cand.why}"
        ),
    )


def _region(agency: str) -> str:
    """The region code an agency's name gives, when it names one place (``exact``) or a
    region containing every place of that name (``parent``); else empty, for a person to fill."""
    guess = infer_region(agency)
    return guess.code if guess is not None and guess.confidence >= 0.5 else ""
