"""Cicro-style JSP lists ``/info/iList.jsp?cat_id=…&cur_page=N`` (portals.md §3.7, variant 7).

The "下一页" href is broken on these sites (``/info/?…`` instead of ``/info/iList.jsp?…``), so
pages are computed by setting ``cur_page`` on the column URL, parameters in any order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .anhui import set_query
from .base import Adapter, Ctx, Found, Page, walk_pages

_TOTAL = re.compile(r"共\s*(\d+)\s*页|totalPage\s*[=:]\s*['\"]?(\d+)")


class Cicro(Adapter):
    name = "cicro"

    def detect(self, page: Page) -> bool:
        return "iList.jsp" in page.final_url or "iList.jsp" in page.text or "cur_page=" in page.text

    def walk(self, ctx: Ctx, first: Page) -> Iterator[Found]:
        m = _TOTAL.search(first.text)
        total = int(next(g for g in m.groups() if g)) if m else None
        current = re.search(r"[?&]cur_page=(\d+)", first.final_url)
        start = int(current.group(1)) if current else 1
        url = first.final_url
        if "iList.jsp" not in url:
            found = re.search(r"""["']([^"']*iList\.jsp\?[^"']*)["']""", first.text)
            if found:
                from urllib.parse import urljoin

                url = urljoin(first.final_url, found.group(1).replace("&amp;", "&"))
        last = None if total is None else total - start
        yield from walk_pages(
            ctx, first, lambda k: set_query(url, cur_page=str(start + k)), last=last
        )
