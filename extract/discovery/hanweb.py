"""Hanweb 大汉 JCMS columns: records in ``<script type="text/xml"><datastore>`` + dataproxy.jsp.

An HTML parser sees no anchors on such a page: the first records are CDATA inside an XML
script, and later pages come from ``dataproxy.jsp`` by GET (``page=N``) or POST
(``startrecord/endrecord/perpage`` + form), both with the column page as Referer
(portals.md §3.2, variant 2).  A page may hold several jpage units.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from .base import Adapter, Ctx, Found, Page, links

_XML_SCRIPT = re.compile(
    r"""<div[^>]*\bid\s*=\s*["']?([\w\-]+)["']?[^>]*>\s*<script[^>]*type\s*=\s*["']?text/xml["']?[^>]*>(.*?)</script>"""
    r"""|<script[^>]*type\s*=\s*["']?text/xml["']?[^>]*>(.*?)</script>""",
    re.S | re.I,
)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>\s*</nextgroup>", re.S)
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""")
_TOTAL_PAGE = re.compile(r"<totalpage>\s*(\d+)\s*</totalpage>")
_TOTAL_RECORD = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>")
_JPAGE = re.compile(r"""\$\(\s*['"]#([\w\-]+)['"]\s*\)\s*\.jpage\(\s*\{(.*?)\}\s*\)""", re.S)
_NUM = re.compile(r"""(\w+)\s*:\s*['"]?(\d+)['"]?""")
_PROXY = re.compile(r"""proxyUrl\s*:\s*['"]([^'"]+)['"]""")
_AJAX = re.compile(r"""ajaxParam\s*:\s*\{(.*?)\}""", re.S)
_KV = re.compile(r"""['"]?(\w+)['"]?\s*:\s*['"]([^'"]*)['"]""")
PROXY_PATHS = ("/module/web/jpage/dataproxy.jsp", "/module/jpage/dataproxy.jsp")


@dataclass(slots=True)
class Unit:
    """One jpage unit: embedded records and how to ask for more."""

    unitid: str
    records: list[str] = field(default_factory=list)
    proxy: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    per_page: int | None = None
    total_record: int | None = None


def parse_units(text: str, base: str) -> list[Unit]:
    units: dict[str, Unit] = {}
    for i, m in enumerate(_XML_SCRIPT.finditer(text)):
        unitid = m.group(1) or f"unit{i}"
        xml = m.group(2) if m.group(2) is not None else m.group(3)
        if "<datastore" not in xml:
            continue
        unit = units.setdefault(unitid, Unit(unitid))
        nextgroup = _NEXTGROUP.search(xml)
        body = _NEXTGROUP.sub("", xml)
        recs = _RECORD.findall(body) or _CDATA.findall(body)
        unit.records.extend(recs)
        if nextgroup:
            href = _HREF.search(nextgroup.group(1))
            if href:
                full = urljoin(base, href.group(1).replace("&amp;", "&"))
                unit.proxy = full.split("?")[0]
                unit.params = dict(parse_qsl(urlsplit(full).query, keep_blank_values=True))
    for m in _JPAGE.finditer(text):
        unit = units.setdefault(m.group(1), Unit(m.group(1)))
        conf = m.group(2)
        nums = {k: int(v) for k, v in _NUM.findall(conf)}
        unit.per_page = nums.get("perPage") or unit.per_page
        unit.total_record = nums.get("totalRecord", unit.total_record)
        proxy = _PROXY.search(conf)
        if proxy and not unit.proxy:
            unit.proxy = urljoin(base, proxy.group(1))
        ajax = _AJAX.search(conf)
        if ajax:
            for k, v in _KV.findall(ajax.group(1)):
                unit.params.setdefault(k, v)
    for unit in units.values():
        unit.params.setdefault("unitid", unit.unitid)
    return list(units.values())


class Hanweb(Adapter):
    name = "hanweb"

    def detect(self, page: Page) -> bool:
        t = page.text
        return "<datastore" in t or "dataproxy.jsp" in t or ".jpage(" in t

    def walk(self, ctx: Ctx, first: Page) -> Iterator[Found]:
        base = first.final_url
        yield from links(first.text, base)  # Shandong-style pages list /art/ links directly
        for unit in parse_units(first.text, base):
            for rec in unit.records:
                yield from links(rec, base)
            if unit.proxy or unit.params.get("columnid"):
                yield from self._more(ctx, unit, base)

    def _more(self, ctx: Ctx, unit: Unit, column: str) -> Iterator[Found]:
        per = unit.per_page or max(len(unit.records), 15)
        if unit.total_record is not None and unit.total_record <= len(unit.records):
            return
        embedded = set(unit.records)
        proxies = [unit.proxy] if unit.proxy else []
        root = "{0.scheme}://{0.netloc}".format(urlsplit(column))
        proxies += [root + p for p in PROXY_PATHS if root + p not in proxies]
        result = "none"
        for proxy in proxies:
            for style in ("get", "post"):
                result = yield from self._pages(ctx, unit, column, proxy, style, per, embedded)
                if result in ("complete", "denied"):
                    if result == "denied":
                        ctx.note(f"hanweb unit {unit.unitid}: dataproxy not fetchable")
                    return
        ctx.note(f"hanweb unit {unit.unitid}: dataproxy paging {result}")

    def _pages(
        self,
        ctx: Ctx,
        unit: Unit,
        column: str,
        proxy: str,
        style: str,
        per: int,
        embedded: set[str],
    ) -> Iterator[Found]:
        """Page through one proxy in one call style.

        Returns "complete" (ran to an empty page or the total), "stuck" (the same records came
        back for another page: the parameter is ignored), "denied" (robots.txt/WAF) or "none"
        (no records at all).
        """
        seen_sets: set[tuple[str, ...]] = set()
        total_pages: int | None = None
        if unit.total_record:
            total_pages = -(-unit.total_record // per)
        answered = "none"
        page_no = 1
        while ctx.pages < ctx.max_pages and (total_pages is None or page_no <= total_pages):
            params = {k: v for k, v in unit.params.items() if k not in ("page",)}
            if style == "get":
                params["page"] = str(page_no)
                page = ctx.fetch(f"{proxy}?{urlencode(params)}", referer=column)
            else:
                start, end = (page_no - 1) * per + 1, page_no * per
                query = urlencode(
                    {"startrecord": start, "endrecord": end, "perpage": per, "page": page_no}
                )
                form = {"col": "1", "sourceContentType": "1", **params}
                page = ctx.fetch(f"{proxy}?{query}", method="POST", data=form, referer=column)
            ctx.pages += 1
            if page.outcome in ("disallowed", "refused", "blocked"):
                return "denied"  # robots.txt or a WAF: other paths/styles will not fare better
            if not page.ok:
                return answered if answered == "none" else "complete"
            xml = page.text
            tp = _TOTAL_PAGE.search(xml)
            if tp and int(tp.group(1)) > 0:
                total_pages = int(tp.group(1))
            tr = _TOTAL_RECORD.search(xml)
            if tr and total_pages is None and int(tr.group(1)) > 0:
                total_pages = -(-int(tr.group(1)) // per)
            recs = _RECORD.findall(xml) or _CDATA.findall(_NEXTGROUP.sub("", xml))
            if not recs:  # the empty 54-byte datastore past the end
                return "complete" if answered != "none" else "none"
            key = tuple(recs)
            if key in seen_sets:
                return "stuck"
            seen_sets.add(key)
            answered = "some"
            for rec in recs:
                if rec not in embedded:
                    yield from links(rec, column)
            page_no += 1
        return "complete" if answered != "none" else "none"
