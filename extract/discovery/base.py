"""What every discovery adapter shares: the page/entry types and link/title/date helpers.

Listings differ wildly between CMS families (portals.md §3), but once an adapter has turned a
listing page or API answer into HTML fragments or (url, title, date) records, the rest is the
same: absolute URLs, full titles from ``a[title]``, a nearby date, and the 年报 title test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict, Unpack
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import lxml.html
from nianbao.core.dates import DATE_PATTERN as _DATE
from nianbao.core.dates import iso_date
from nianbao.core.vocabulary import is_companion, report_year

# --------------------------------------------------------------------------- types


@dataclass(slots=True)
class Page:
    """A fetched listing resource as discovery sees it (body restored from the store on 304)."""

    url: str
    final_url: str
    status: int | None
    outcome: str  # ok | blocked | not_found | failed | refused | disallowed
    text: str = ""
    content_type: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


class FetchOptions(TypedDict, total=False):
    """How a listing resource is asked for beyond its URL: POST forms, JSON bodies, Referer."""

    method: str  # GET unless given
    data: dict[str, str] | None
    json: object | None
    referer: str | None
    headers: dict[str, str] | None


class Fetch(Protocol):
    """How discovery asks the crawler for a listing resource (logged, conditional, polite)."""

    def __call__(self, url: str, **options: Unpack[FetchOptions]) -> Page: ...


@dataclass(slots=True)
class Entry:
    """A list entry that is (or may be) an annual report."""

    url: str
    title: str
    list_date: str | None
    year: int | None
    listing_url: str
    attachment: bool = False  # the entry links straight to a file (H1)
    verify: bool = False  # title truncated: confirm on the detail page


@dataclass(slots=True)
class Link:
    """An anchor of a listing with the context discovery needs."""

    url: str
    text: str
    title: str  # a[title] or text
    date: str | None
    css: str = ""  # class of the anchor


@dataclass(slots=True)
class SubColumn:
    """Another listing to walk (a department's or a year's 年报 column, a year tab)."""

    url: str
    reason: str = ""


@dataclass(slots=True)
class Ctx:
    """Per-column state handed to adapters."""

    fetch: Fetch
    column_url: str
    max_pages: int = 100
    notes: list[str] = field(default_factory=list)
    pages: int = 0

    def note(self, msg: str) -> None:
        self.notes.append(msg)

    def fetch_json(self, url: str, what: str, **options: Unpack[FetchOptions]) -> Any:
        """One page of a JSON list API, counted against the page budget.

        None (with a note saying why) when the page failed or is not JSON: the adapters then
        stop paging that list rather than guess.
        """
        page = self.fetch(url, **options)
        self.pages += 1
        if not page.ok:
            self.note(f"{what}: {page.outcome} {page.error or ''}".strip())
            return None
        try:
            return json.loads(page.text)
        except ValueError:
            self.note(f"{what}: not JSON")
            return None


Found = Entry | SubColumn | Link


class Adapter:
    """A CMS family: recognise its listing page and walk its pagination.

    ``pages`` yields Links (turned into entries by the engine's title test), ready Entries,
    or SubColumns.  Adapters stop on an empty page, a repeated page, or ``ctx.max_pages``.
    """

    name = "generic"

    def detect(self, page: Page) -> bool:
        raise NotImplementedError

    def walk(self, ctx: Ctx, first: Page) -> Iterator[Found]:
        raise NotImplementedError


# --------------------------------------------------------------------------- titles

_REPORT = re.compile(r"年度报告|年报|信息公开工作报告|工作年度报|年度工作报告")
_NOT_REPORT = re.compile(r"企业年报|工商年报|年报公示|年报申报|年报填报")
_TRUNCATED = re.compile(r"(…|\.\.\.|。。。)\s*$")


def is_report_title(title: str) -> bool:
    """Does a title mark an annual report: 年度报告/年报 with a year, not a 解读/图解 companion."""
    t = title.strip()
    return (
        bool(_REPORT.search(t))
        and report_year(t) is not None
        and not is_companion(t)
        and not _NOT_REPORT.search(t)
    )


def maybe_report_title(title: str) -> bool:
    """A truncated list title ("2023年政府信息公开工作年…") that may be a report."""
    t = title.strip()
    if not _TRUNCATED.search(t) or is_companion(t) or report_year(t) is None:
        return False
    return bool(re.search(r"信息|政务|公开|年度|年报|报告", t)) and "指南" not in t


def looks_like_column_title(title: str) -> bool:
    """A link to a 年报 column rather than a report: '部门年报', 'XX局信息公开年报' (no year)."""
    t = title.strip()
    return (
        bool(_REPORT.search(t)) and report_year(t) is None and not is_companion(t) and len(t) < 40
    )


# --------------------------------------------------------------------------- links

ATTACHMENT_EXTS = frozenset(
    "pdf doc docx wps xls xlsx et ofd rtf zip rar 7z jpg jpeg png gif bmp tif tiff".split()
)
IMAGE_EXTS = frozenset("jpg jpeg png gif bmp tif tiff".split())
_DOWNLOAD_PATH = re.compile(
    r"down(?:load)?(?:file)?\.(?:jsp|aspx?|php|do)$|/attach(?:ment)?/|/download\w*$", re.I
)


def norm_date(text: str | None) -> str | None:
    """A list entry's date as ISO (the shared reader in core/dates.py)."""
    return iso_date(text)


def file_ext(url: str) -> str | None:
    """The attachment extension of a URL: from its path, or a download script's file name."""
    parts = urlsplit(url)
    path = unquote(parts.path).lower()
    m = re.search(r"\.([a-z0-9]{2,5})$", path)
    if m and m.group(1) in ATTACHMENT_EXTS:
        return m.group(1)
    if m:  # an ordinary page (.html, .jsp …): a file only if a parameter names one
        if not _DOWNLOAD_PATH.search(path):
            return None
    for values in parse_qs(parts.query).values():  # showname=…pdf, fileUrl=/attach/….pdf
        for value in values:
            vm = re.search(r"\.([A-Za-z0-9]{2,5})$", unquote(value))
            if vm and vm.group(1).lower() in ATTACHMENT_EXTS:
                return vm.group(1).lower()
    if _DOWNLOAD_PATH.search(path):
        return "bin"
    return None


def is_attachment_url(url: str) -> bool:
    return file_ext(url) is not None


def clean_text(s: str | None) -> str:
    return re.sub(r"\s+", " ", (s or "").replace("\xa0", " ")).strip()


def parse_html(text: str, base: str) -> lxml.html.HtmlElement | None:
    if not text or not text.strip():
        return None
    try:
        root = lxml.html.fromstring(text, base_url=base)
    except (lxml.etree.ParserError, ValueError):
        try:
            root = lxml.html.fromstring(text.encode("utf-8", "replace"), base_url=base)
        except (lxml.etree.ParserError, ValueError):
            return None
    return root


def absolute(base: str, href: str | None) -> str | None:
    if not href:
        return None
    href = href.strip().replace("\\/", "/")
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    url = urljoin(base, href)
    if not url.startswith(("http://", "https://")):
        return None
    return url.split("#")[0] if "/gkmlpt/" not in url else url


def _date_near(a: lxml.html.HtmlElement) -> str | None:
    own = norm_date(a.text_content())
    # the row/item holding the anchor: li, tr, dd/dt, or the parent
    node = a
    for _ in range(3):
        parent = node.getparent()
        if parent is None:
            break
        node = parent
        if node.tag in ("li", "tr", "dl", "dd", "p", "div"):
            break
    text = node.text_content() if node is not None else ""
    title = a.get("title") or ""
    # prefer a date outside the anchor's own title
    for m in _DATE.finditer(text):
        if m.group(0) not in title:
            return norm_date(m.group(0))
    return own


def anchor_text(a: lxml.html.HtmlElement) -> str:
    """An anchor's visible text without the date some templates put inside it (VSB ``<i>``)."""
    text = clean_text(a.text_content())
    stripped = clean_text(_DATE.sub(" ", text))
    return stripped or text


def links(text: str, base: str, root: lxml.html.HtmlElement | None = None) -> list[Link]:
    """Every anchor of an HTML fragment, absolute, with title and nearby date."""
    root = root if root is not None else parse_html(text, base)
    if root is None:
        return []
    out: list[Link] = []
    for a in root.iter("a"):
        url = absolute(base, a.get("href"))
        if not url:
            continue
        shown = anchor_text(a)
        full = clean_text(a.get("title")) or shown
        out.append(Link(url, shown, full, _date_near(a), a.get("class") or ""))
    return out


_ITEMOBJ = re.compile(r"var\s+itemObj\s*=\s*(\[.*?\])\s*;", re.S)


def item_obj_links(text: str, base: str) -> list[Link]:
    """Entries of a JS array list ``var itemObj = [{aT: …, aPd: …, aU: …}]`` (国家疾控局 style;
    a JS literal: keys may be unquoted, strings single-quoted).

    ``aU`` is a URL, or a string holding a JSON object that names it (``{"common": "/jbkzzx/…"}``,
    the shape public crawlers of ndcpa.gov.cn describe; the demo portal uses plain URLs)."""
    m = _ITEMOBJ.search(text)
    if not m:
        return []
    fixed = re.sub(r"([{,]\s*)([A-Za-z_]\w*)\s*:", r'\1"\2":', m.group(1))
    fixed = re.sub(r"'([^']*)'", lambda q: json.dumps(q.group(1), ensure_ascii=False), fixed)
    try:
        rows = json.loads(fixed)
    except ValueError:
        return []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and isinstance(row.get("aU"), str):
            row["aU"] = _url_in_json(row["aU"])
    return row_links(rows, base, set(), url=("aU", "url"), title=("aT", "title"), date=("aPd",))


def _url_in_json(value: str) -> str:
    """``{"common": "/a/b.html"}`` → ``/a/b.html`` (its "common" member, else its first string
    member); any other value is returned as it is."""
    if not value.lstrip().startswith("{"):
        return value
    try:
        obj = json.loads(value)
    except ValueError:
        return value
    if not isinstance(obj, dict):
        return value
    picked = obj.get("common")
    if not isinstance(picked, str):
        picked = next((v for v in obj.values() if isinstance(v, str) and v.strip()), None)
    return picked or value


def _first(row: dict, keys: tuple[str, ...]) -> object:
    return next((row[k] for k in keys if row.get(k)), None)


def row_links(
    rows: object,
    base: str,
    seen: set[str],
    *,
    url: tuple[str, ...],
    title: tuple[str, ...],
    date: tuple[str, ...],
    shown: tuple[str, ...] = (),
) -> list[Link]:
    """The new entries among a JSON list's rows: each vendor names the same fields differently
    (``url``/``infourl``/``aU``…), so the adapters pass their key names, first match wins.

    URLs already in `seen` (an earlier page of the same list) are skipped and the new ones
    added, which lets a pager stop when a page brings nothing new.
    """
    out = []
    for row in rows if isinstance(rows, list) else []:
        href = _first(row, url) if isinstance(row, dict) else None
        if not href or href in seen:
            continue
        seen.add(href)
        name = clean_text(_first(row, title))
        text = clean_text(_first(row, shown)) or name
        out.append(Link(urljoin(base, href), text, name, norm_date(str(_first(row, date) or ""))))
    return out


def page_links(text: str, base: str) -> list[Link]:
    """Anchors of a listing page plus entries it only holds in a JS array."""
    return links(text, base) + item_obj_links(text, base)


def entry_from_link(link: Link, listing_url: str) -> Entry | None:
    """The title test: a report entry, a truncated maybe-report, or None."""
    title = link.title if len(link.title) >= len(link.text) else link.text
    if link.title and link.title != link.text and not _TRUNCATED.search(link.title):
        title = link.title
    attach = is_attachment_url(link.url)
    if is_report_title(title):
        return Entry(link.url, title, link.date, report_year(title), listing_url, attach)
    if maybe_report_title(title):
        return Entry(link.url, title, link.date, report_year(title), listing_url, attach, True)
    return None


_ITEM_URL = re.compile(
    r"/t\d{8}_\d+|/art_\d+_\d+|/art/\d{4}/|post_\d+|content_\d+|/info/\d+/\d+|/public/\d+/\d+"
    r"|/News/Detail/|/content/|/\d{6,}\.s?html?$|[0-9a-f]{32}\.html",
    re.I,
)


def is_item_link(link: Link) -> bool:
    """An anchor that looks like a list item (dated, titled, or a detail/attachment URL)."""
    return bool(
        link.date or _ITEM_URL.search(link.url) or is_attachment_url(link.url)
    ) and not _is_pager_text(link.text)


def _is_pager_text(text: str) -> bool:
    return text.strip() in PAGER_WORDS or text.strip().isdigit()


PAGER_WORDS = frozenset(
    [
        "下一页",
        "下页",
        "上一页",
        "上页",
        "首页",
        "尾页",
        "末页",
        "下一頁",
        ">",
        ">>",
        "<",
        "<<",
        "»",
        "«",
    ]
)
NEXT_WORDS = ("下一页", "下页", "下一頁", "后页", "Next", "next", ">", "»")


def next_link(root: lxml.html.HtmlElement, base: str) -> str | None:
    """The href of a "下一页" link, if the page has one."""
    for a in root.iter("a"):
        if clean_text(a.text_content()) in NEXT_WORDS or clean_text(a.get("title")) in NEXT_WORDS:
            url = absolute(base, a.get("href"))
            if url and url.split("#")[0] != base.split("#")[0]:
                return url
    return None


def same_host(a: str, b: str) -> bool:
    return urlsplit(a).netloc.lower() == urlsplit(b).netloc.lower()


_YEAR_TAB = re.compile(r"^\s*((?:19|20)\d{2})\s*(年度?|年报|年度报告)?\s*$")
_COLUMN_SLUG = re.compile(r"nb|ndbg|nianbao|annual|gknb", re.I)


def subcolumns_from_links(found: list[Link], column_url: str) -> Iterator[SubColumn]:
    """Year tabs/sub-columns and department 年报 columns linked from a listing page."""
    base_dir = column_url.split("?")[0].rsplit("/", 1)[0] + "/"
    for link in found:
        if not same_host(link.url, column_url) or is_attachment_url(link.url):
            continue
        text = link.text or link.title
        if _YEAR_TAB.match(text):
            yield SubColumn(link.url, f"year tab {text.strip()}")
        elif looks_like_column_title(link.title) and not _ITEM_URL.search(link.url):
            yield SubColumn(link.url, f"column {link.title}")
        elif (
            text.strip() in ("更多", "更多>>", "更多>", "MORE", "more", "more>>")
            or "more" in link.css
        ):
            if _COLUMN_SLUG.search(urlsplit(link.url).path) or link.url.startswith(base_dir):
                yield SubColumn(link.url, "更多")


def walk_pages(
    ctx: Ctx,
    first: Page,
    page_url: Callable[[int], str | None],
    *,
    referer: str | None = None,
    last: int | None = None,
    skip_missing_first: bool = False,
) -> Iterator[Found]:
    """Walk computed page URLs ``page_url(1), page_url(2) …`` after ``first``.

    Stops after page ``last`` (when the listing says how many there are) or at a failed, empty
    or repeated page (out-of-range pages are often 200 stubs or page 1 again, portals.md §7.11).  ``skip_missing_first``: a 404 for page 1 shifts numbering by one
    (an "intertid" TRS column whose first extra page is index_2).
    """
    seen_items: set[str] = set()
    found = page_links(first.text, first.final_url)
    seen_items.update(link.url for link in found if is_item_link(link))
    yield from found
    n, shift = 1, 0
    while ctx.pages < ctx.max_pages and (last is None or n <= last):
        url = page_url(n + shift)
        if not url:
            return
        page = ctx.fetch(url, referer=referer)
        ctx.pages += 1
        if not page.ok:
            if n == 1 and shift == 0 and skip_missing_first and page.outcome == "not_found":
                shift = 1
                continue
            if page.outcome != "not_found":
                ctx.note(f"page {url}: {page.outcome} {page.error or ''}".strip())
            return
        n += 1
        found = page_links(page.text, page.final_url)
        items = {link.url for link in found if is_item_link(link)}
        if not items - seen_items:
            return  # stub past the end, or the same page again
        seen_items |= items
        yield from found
