"""gov.cn-style national lists ``home_0.htm … home_N.htm`` (portals.md §3.9, variant 9), and
the State Council search JSON used where a list is rendered by JS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

from .anhui import set_query
from .base import Adapter, Ctx, Found, Page, row_links, walk_pages

_HOME = re.compile(r"home(?:_(\d+))?\.s?html?$")
_HOME_LINK = re.compile(r"""href\s*=\s*["']?[^"'>\s]*home_\d+\.s?html?""")
_SEARCH = re.compile(r"""["']([^"']*search-gov/data\?[^"']*)["']""")
_PAGES = re.compile(r"""(?:countPage|totalPage|pageCount)\s*[=:]\s*['"]?(\d+)""")


class GovCn(Adapter):
    name = "govcn"

    def detect(self, page: Page) -> bool:
        return bool(
            _HOME.search(urlsplit(page.final_url).path)
            or _HOME_LINK.search(page.text)
            or _SEARCH.search(page.text)
            or "UCAP-CONTENT" in page.text
        )

    def walk(self, ctx: Ctx, first: Page) -> Iterator[Found]:
        search = _SEARCH.search(first.text)
        if search:
            yield from self._search(ctx, urljoin(first.final_url, search.group(1)), first.final_url)
        path = urlsplit(first.final_url).path
        m = _HOME.search(path)
        directory = first.final_url.split("?")[0].rsplit("/", 1)[0] + "/"
        current = int(m.group(1)) if m and m.group(1) else 0
        pages = _PAGES.search(first.text)
        last = int(pages.group(1)) - 1 - current if pages else None
        ext = m.group(0).rsplit(".", 1)[1] if m else "htm"
        if not m and not _HOME_LINK.search(first.text):
            yield from walk_pages(ctx, first, lambda k: None)
            return
        yield from walk_pages(
            ctx, first, lambda k: f"{directory}home_{current + k}.{ext}", last=last
        )

    def _search(self, ctx: Ctx, api: str, column: str) -> Iterator[Found]:
        """``search-gov/data?…&p={page}&n={size}`` → searchVO.listVO[] (1-based pages)."""
        seen: set[str] = set()
        page_no = 1
        while ctx.pages < ctx.max_pages:
            data = ctx.fetch_json(
                set_query(api, p=str(page_no)), f"search page {page_no}", referer=column
            )
            if not isinstance(data, dict):
                return
            vo = data.get("searchVO") or data.get("result", {}).get("data", {}) or {}
            rows = vo.get("listVO") or vo.get("list") or []
            new = row_links(
                rows,
                column,
                seen,
                url=("url", "link"),
                title=("title", "name"),
                date=("pubtimeStr", "pubtime"),
            )
            yield from new
            total = vo.get("totalpage") or vo.get("totalPage")
            if not new or (total and page_no >= int(total)):
                return
            page_no += 1
