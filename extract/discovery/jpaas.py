"""jpaas page-build units (Zhejiang, Jiangsu cities, ministries; portals.md §3.3, variant 3).

The column page holds only a loader script whose ``queryData`` attribute (single-quoted JSON)
names the unit; the list comes from ``…/front/page/build/unit`` as JSON with the HTML in
``data.html``.  Paging works only through ``paramJson={"pageNo":N}``; an empty ``data.html``
marks the end.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import urlencode, urljoin

from .base import Adapter, Ctx, Found, Page, links

DEFAULT_API = "/api-gateway/jpaas-publish-server/front/page/build/unit"
_TAG = re.compile(r"<script\b[^>]*\bquery[dD]ata\s*=\s*(\"[^\"]*\"|'[^']*')[^>]*>", re.S)
_URL_ATTR = re.compile(r"""\burl\s*=\s*["']([^"']+)["']""")
_PAGINATION = re.compile(
    r"""class=["']?pagination["']?[^>]*?rows=["']?(\d+)["']?[^>]*?count=["']?(\d+)"""
)
_PAGINATION2 = re.compile(r"""count=["']?(\d+)["']?[^>]*?rows=["']?(\d+)""")


def parse_query_data(raw: str) -> dict[str, str]:
    """``{'webId':'1','pageId':'2',…}`` (single-quoted pseudo-JSON) → dict."""
    raw = raw.strip()[1:-1].replace("&quot;", '"').replace("&#39;", "'")
    try:
        return {k: str(v) for k, v in json.loads(raw.replace("'", '"')).items()}
    except (ValueError, AttributeError):
        return dict(re.findall(r"""['"]?(\w+)['"]?\s*:\s*['"]([^'"]*)['"]""", raw))


class Jpaas(Adapter):
    name = "jpaas"

    def detect(self, page: Page) -> bool:
        t = page.text
        return "jpaas-publish-server" in t or "unitbuild.js" in t or bool(_TAG.search(t))

    def walk(self, ctx: Ctx, first: Page) -> Iterator[Found]:
        base = first.final_url
        yield from links(first.text, base)  # static year archives, if any
        for m in _TAG.finditer(first.text):
            query = parse_query_data(m.group(1))
            url_attr = _URL_ATTR.search(m.group(0))
            api = urljoin(base, url_attr.group(1) if url_attr else DEFAULT_API)
            yield from self._unit(ctx, api, query, base)

    def _unit(self, ctx: Ctx, api: str, query: dict[str, str], column: str) -> Iterator[Found]:
        page_size = query.get("pageSize") or "15"
        total_pages: int | None = None
        seen: set[str] = set()
        n = 1
        while ctx.pages < ctx.max_pages and (total_pages is None or n <= total_pages):
            params = {
                "parseType": "bulidstatic",  # sic: what the vendor's own loader sends
                "webId": query.get("webId", ""),
                "tplSetId": query.get("tplSetId", ""),
                "pageType": query.get("pageType", "column"),
                "tagId": query.get("tagId", ""),
                "editType": query.get("editType", "null"),
                "pageId": query.get("pageId", ""),
                "paramJson": json.dumps(
                    {"pageNo": n, "pageSize": page_size}, ensure_ascii=False, separators=(",", ":")
                ),
            }
            data = ctx.fetch_json(f"{api}?{urlencode(params)}", f"jpaas page {n}", referer=column)
            if data is None:
                return
            try:
                html = (data.get("data") or {}).get("html") or ""
            except AttributeError:
                ctx.note(f"jpaas page {n}: not JSON")
                return
            if not html.strip():
                return
            pm = _PAGINATION.search(html)
            if pm:
                rows, count = int(pm.group(1)), int(pm.group(2))
                total_pages = -(-count // max(rows, 1))
            else:
                pm2 = _PAGINATION2.search(html)
                if pm2:
                    count, rows = int(pm2.group(1)), int(pm2.group(2))
                    total_pages = -(-count // max(rows, 1))
            found = links(html, column)
            urls = {link.url for link in found}
            if not urls or urls <= seen:
                return
            seen |= urls
            yield from found
            n += 1
