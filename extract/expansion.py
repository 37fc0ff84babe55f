"""Registry rows that stand for many agencies: platforms expand, aggregators propose.

A ``platform`` row is the root of a 集约化 platform (a county's 部门信息公开 directory, an
Anhui-style ``action=rel`` department list, a Hanweb 部门目录): every agency on it has its own
年报 column on the same host.  Expansion walks root → agency page → that agency's column and
returns one *derived* row per agency, so each report is attributed to the agency that
published it.  Derived rows live only on the platform's host (already the crawler's), and are
found again by every crawl, so a department that joins the platform joins the crawl.

An ``aggregator`` row is a page linking reports that sit on *other* hosts (the central
government's page of ministries' reports, a province's page of its departments').  Those hosts
are not the crawler's to visit; each becomes a *proposed* row (its column derived from the
report's address by the CMS families' URL rules) for a person to accept into the registry.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .columns import column_links, disclosure_links, first_page
from .discovery import Fetch, Page, discover
from .discovery import _follow_shells as follow_shells
from .discovery.base import Entry, clean_text, links, same_host
from .http import host_key
from .registry import Portal

# An agency's name as a platform's department list shows it.
_AGENCY = re.compile(
    r"^[\u4e00-\u9fa5（）()·]{2,40}?"
    r"(人民政府|政府|办公室|委员会|管委会|局|委|办|厅|院|中心|街道办事处|街道|镇|乡|署|所|站|队|会|馆|部|处)$"
)
_TOWNSHIP = re.compile(r"(街道办事处|街道|镇|乡)(人民政府)?$")


@dataclass(slots=True)
class Expansion:
    """What a platform or aggregator row gave this time."""

    status: str = "ok"  # ok | empty | the root page's outcome (blocked, not_found …)
    error: str | None = None
    derived: list[Portal] = field(default_factory=list)
    proposed: list[Proposal] = field(default_factory=list)
    linked: list[Entry] = field(default_factory=list)  # report links seen (aggregators)
    adapters: list[str] = field(default_factory=list)  # CMS families read (aggregators)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Proposal:
    """A registry row someone should look at: a column on a host the registry lacks."""

    portal: Portal
    report_url: str
    report_title: str
    proposed_by: str  # the aggregator/platform row's portal_id


def derived_id(parent: str, list_url: str) -> str:
    """A derived row's id: stable across nights for the same column address (a valid
    registry id: the parent's, shortened to fit, a dot and 8 hex digits)."""
    return f"{parent[:71]}.{hashlib.sha1(list_url.encode()).hexdigest()[:8]}"


# --------------------------------------------------------------------------- platforms


def expand_platform(fetch: Fetch, portal: Portal, max_agencies: int = 300) -> Expansion:
    """One derived row per agency on the platform whose 年报 column could be found."""
    out = Expansion()
    root = follow_shells(fetch, fetch(portal.list_url))
    if not root.ok:
        out.status, out.error = root.outcome, root.error
        return out
    agencies = agency_links(root)
    if len(agencies) > max_agencies:
        out.notes.append(f"{len(agencies)} agencies listed; the first {max_agencies} expanded")
    for name, url in agencies[:max_agencies]:
        if not same_host(url, root.final_url):
            out.proposed.append(_agency_proposal(portal, name, url))
            continue
        column = find_column(fetch, url, referer=root.final_url)
        if column is None:
            out.notes.append(f"no 年报 column found for {name} ({url})")
            continue
        out.derived.append(_derived(portal, name, column, url))
    if not out.derived:
        out.status = "empty"
    return out


def agency_links(page: Page) -> list[tuple[str, str]]:
    """(agency name, its page) for every link whose text is an agency's name, in page order."""
    seen: dict[str, str] = {}
    for link in links(page.text, page.final_url):
        name = clean_text(link.title if _AGENCY.match(clean_text(link.title)) else link.text)
        if _AGENCY.match(name) and link.url.split("#")[0] != page.final_url.split("#")[0]:
            seen.setdefault(link.url, name)
    return [(name, url) for url, name in seen.items()]


def find_column(fetch: Fetch, url: str, referer: str | None = None, hops: int = 2) -> str | None:
    """The 年报 column reached from ``url``: the page itself when it lists reports, else its
    best same-host column link, else the same through its 政府信息公开 link (``hops`` pages)."""
    page = follow_shells(fetch, fetch(url, referer=referer))
    if not page.ok:
        return None
    if first_page(page).is_column:
        return page.final_url
    candidates = [c for c in column_links(page) if same_host(c.url, page.final_url)]
    if candidates:
        return candidates[0].url
    if hops > 1:
        for nxt in disclosure_links(page)[:2]:
            found = find_column(fetch, nxt, referer=page.final_url, hops=hops - 1)
            if found:
                return found
    return None


def _derived(portal: Portal, name: str, column: str, via: str) -> Portal:
    level = "township" if _TOWNSHIP.search(name) else portal.level
    return Portal(
        portal_id=derived_id(portal.portal_id, column),
        agency=name,
        level=level,
        region_code=portal.region_code,
        list_url=column,
        adapter="",
        notes=f"derived from platform {portal.portal_id}: agency page {via}",
        kind="column",
        parent=portal.portal_id,
    )


def _agency_proposal(portal: Portal, name: str, url: str) -> Proposal:
    notes = (
        f"proposed; agency page on another host, linked from platform {portal.portal_id} "
        "(find its 年报 column with `nianbao registry discover`)"
    )
    return Proposal(_proposed_row(portal, name, url, notes), "", "", portal.portal_id)


def _proposed_row(by: Portal, agency: str, list_url: str, notes: str) -> Portal:
    """A row proposed by the platform or aggregator row ``by`` (its level and region)."""
    return Portal(
        portal_id=derived_id(by.portal_id, list_url),
        agency=agency,
        level=by.level,
        region_code=by.region_code,
        list_url=list_url,
        adapter="",
        notes=notes,
    )


# --------------------------------------------------------------------------- aggregators


def propose_from_aggregator(fetch: Fetch, portal: Portal, registered: set[str]) -> Expansion:
    """Proposed rows for the report links of an aggregator page that sit on unregistered hosts.

    ``registered`` holds the registry's host keys; reports on those hosts are left to their own
    columns.  The page's own pagination is walked as discovery walks a column."""
    out = Expansion()
    found = discover(fetch, portal.list_url, portal.adapter, max_pages=50, max_depth=1)
    out.status, out.error, out.notes = found.status, found.error, list(found.notes)
    out.linked, out.adapters = found.entries, found.adapters
    by_column: dict[str, Proposal] = {}
    for entry in found.entries:
        if host_key(entry.url) in registered or entry.verify:
            continue
        column = column_of_report(entry.url)
        agency = agency_of_title(entry.title)
        if column is None or column in by_column:
            continue
        notes = (
            f"proposed; unverified; source: report {entry.url} linked from aggregator "
            f"{portal.portal_id} ({portal.list_url})"
        )
        row = _proposed_row(portal, agency, column, notes)
        by_column[column] = Proposal(row, entry.url, entry.title, portal.portal_id)
    out.proposed = list(by_column.values())
    return out


# Report addresses → their column, by the CMS families' URL rules (portals.md §2).
_COLUMN_RULES = (
    (re.compile(r"^(.*/)\d{6}/t\d{8}_\d+(?:_wap)?\.s?html?$"), r"\1"),  # TRS t-date
    (re.compile(r"^(.*/)content/(?:m?post)_\d+\.html$"), r"\1"),  # Guangdong 集约化
    (re.compile(r"^(https?://[^/]+)/gkmlpt/content/.*$"), r"\1/gkmlpt/index"),  # gkmlpt
    (re.compile(r"^(https?://[^/]+/(?:.*/)?)art/\d{4}/\d{1,2}/\d{1,2}/art_(\d+)_\d+\.html$"),
     r"\1col/col\2/index.html"),  # Hanweb
    (re.compile(r"^(https?://[^/]+)/public/(\d+)/\d+\.html$"),
     r"\1/public/column/\2?type=4&action=list"),  # Anhui-style /public
)  # fmt: skip


def column_of_report(url: str) -> str | None:
    """The column a report address sits in, by its family's URL rule; else its directory."""
    clean = url.split("#")[0].split("?")[0]
    for pattern, column in _COLUMN_RULES:
        if pattern.match(clean):
            return pattern.sub(column, clean)
    path = urlsplit(clean).path
    if "/" not in path.strip("/"):
        return None  # a report at the site root: no column to name
    directory = clean.rsplit("/", 1)[0]
    while re.fullmatch(r"\d{4}(\d{2})?", directory.rsplit("/", 1)[-1]) and directory.count("/") > 3:
        directory = directory.rsplit("/", 1)[0]  # a month or year folder of the column
    return directory + "/"


_TITLE_YEAR = re.compile(r"(关于)?((19|20)\d{2}|[二〇○零O一二三四五六七八九]{4})年")


def agency_of_title(title: str) -> str:
    """The agency a report title names before its year ("XX局2023年政府信息公开…" → "XX局")."""
    t = clean_text(title)
    m = _TITLE_YEAR.search(t)
    head = t[: m.start()] if m else ""
    head = re.sub(r"[《“\"]", "", head).strip(" ：:—-")
    return head if 2 <= len(head) <= 40 else ""
