"""Plain data types of the fixture portal: ground truth, listing items, requests, responses."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email.message import Message
from http.cookies import SimpleCookie
from urllib.parse import parse_qs


@dataclass
class ExpectedReport:
    """Ground truth for one annual report as published at one place.

    ``detail_url`` is the HTML page listed in the column (None when the list links straight to
    the attachment, H1); ``attachment_url`` is set when the report (or its only copy) is a file.
    ``report_id`` is the same for copies of one report posted in several places (H14).
    ``reachable`` is False when a polite crawler cannot get it (anti-bot, robots.txt).
    """

    portal_id: str
    site: str
    agency: str
    year: int
    format: str  # "2021" | "2019" | "pre2019"
    title: str
    detail_url: str | None
    attachment_url: str | None
    content: str  # "html" | "pdf" | "docx" | "doc" | "wps" | "images" | "json-html"
    published: str  # 发布日期 YYYY-MM-DD
    report_id: str
    reachable: bool = True
    hazards: tuple[str, ...] = ()
    values: dict[str, str] = field(default_factory=dict, repr=False)  # code -> printed text
    source: str = "synth"  # "synth" | "seed:NNN"

    @property
    def url(self) -> str:
        """The URL a crawler finds in the listing (detail page, else attachment)."""
        return self.detail_url or self.attachment_url or ""


@dataclass
class Item:
    """One entry of a listing (report, guide, 解读 companion, or a link never to follow)."""

    title: str
    url: str  # absolute
    date: str  # list date as shown ("" = list without dates)
    kind: str  # "report" | "guide" | "companion" | "offsite" | "private"
    report: ExpectedReport | None = None
    list_title: str | None = None  # shown text when it differs from title (truncated "…")

    @property
    def shown(self) -> str:
        return self.list_title or self.title


@dataclass
class Column:
    """One registry row: a 年报 column of one agency on one site."""

    portal_id: str
    site: str
    agency: str
    level: str
    region_code: str
    list_url: str
    family: str
    items: list[Item] = field(default_factory=list)
    notes: str = ""
    kind: str = "column"  # column | platform | aggregator | proposed (an unregistered column)
    parent: str = ""  # an agency column behind the platform row ``parent`` (not a registry row)

    @property
    def in_registry(self) -> bool:
        return not self.parent and self.kind != "proposed"

    def registry_row(self, adapter: bool = False) -> dict[str, str]:
        return {
            "portal_id": self.portal_id,
            "agency": self.agency,
            "level": self.level,
            "region_code": self.region_code,
            "list_url": self.list_url,
            "adapter": self.family if adapter and self.kind == "column" else "",
            "kind": self.kind,
            "notes": self.notes,
        }


@dataclass
class Fault:
    """A deliberate hazard, listed in ground truth so tests can check it was recorded."""

    id: str
    kind: str
    site: str
    url: str  # absolute URL (or base URL for host-wide faults)
    times: int = 0  # how many first attempts fail (0 = always / not attempt-based)
    expect: str = ""  # what a correct crawler should record
    detail: str = ""
    portal_id: str = ""  # the registry row it affects ("" = host-wide, several rows)


@dataclass
class LogEntry:
    """One request as the portal saw it."""

    t: float  # time.monotonic()
    host: str  # "127.0.0.1:PORT"
    site: str
    method: str
    path: str  # path with query string
    headers: dict[str, str]
    status: int = 0
    fault: str = ""
    body: bytes = b""


class Request:
    """What a site handler sees of an HTTP request."""

    def __init__(self, method: str, target: str, headers: Message, body: bytes) -> None:
        self.method = method
        self.target = target
        path, _, query = target.partition("?")
        self.path = path
        self.raw_query = query
        self.query = parse_qs(query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        jar = SimpleCookie()
        try:
            jar.load(headers.get("Cookie", ""))
        except Exception:  # noqa: BLE001 - malformed cookies are simply ignored
            pass
        self.cookies = {k: m.value for k, m in jar.items()}

    def q(self, name: str, default: str = "") -> str:
        vals = self.query.get(name)
        return vals[0] if vals else default

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}


@dataclass
class Response:
    """A response before faults and conditional GET are applied."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    last_modified: float | None = None  # epoch seconds; enables ETag/Last-Modified/304

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:20] + '"'


def html(
    text: str,
    status: int = 200,
    charset: str = "utf-8",
    header_charset: str | None = "same",
    last_modified: float | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    """An HTML response encoded in ``charset``; ``header_charset=None`` omits it from the header."""
    hc = charset if header_charset == "same" else header_charset
    ctype = f"text/html; charset={hc}" if hc else "text/html"
    return Response(
        status, text.encode(charset, "replace"), ctype, list(headers or []), last_modified
    )
