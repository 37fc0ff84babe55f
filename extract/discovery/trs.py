"""TRS WCM static "t-date" columns: index.html, index_1.html … (portals.md §3.1, variant 1).

The page count exists only as a script argument (``createPageHTML(N, cur, "index", "html")``
or ``var countPage = N``), so page URLs are computed; pages past the end are 200 stubs.
Guangdong 集约化 portal columns (``content/post_N.html``) page the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from .base import Adapter, Ctx, Found, Page, next_link, parse_html, walk_pages
from .generic import follow_next

_CREATE = re.compile(
    r"""createPageHTML\(\s*['"]?(\d+)['"]?\s*,\s*['"]?(\d+)['"]?\s*,\s*['"]([\w\-]+)['"]\s*,\s*['"](\w+)['"]"""
)
_COUNT = re.compile(r"""countPage\s*[=:]\s*['"]?(\d+)""")
_CURRENT = re.compile(r"""currentPage\s*[=:]\s*['"]?(\d+)""")
_TDATE = re.compile(r"""href\s*=\s*["']?[^"'>\s]*/t(?:19|20)\d{6}_\d+\.s?html?""", re.I)
_INDEX = re.compile(r"^(?P<stem>[\w\-]+?)(?:_(?P<n>\d+))?\.(?P<ext>s?html?)$")


class Trs(Adapter):
    name = "trs"

    def detect(self, page: Page) -> bool:
        t = page.text
        return (
            "createPageHTML(" in t
            or bool(_COUNT.search(t))
            or "TRS_Editor" in t
            or len(_TDATE.findall(t)) >= 2
            or t.count("/content/post_") >= 2
        )

    def walk(self, ctx: Ctx, first: Page) -> Iterator[Found]:
        url = first.final_url.split("?")[0].split("#")[0]
        path = urlsplit(url).path
        directory = url if path.endswith("/") else url.rsplit("/", 1)[0] + "/"
        name = "" if path.endswith("/") else path.rsplit("/", 1)[1]
        m = _INDEX.match(name) if name else None
        stem = m.group("stem") if m else "index"
        ext = m.group("ext") if m else _guess_ext(first.text)
        current = int(m.group("n")) if m and m.group("n") else 0
        total: int | None = None
        cm = _CREATE.search(first.text)
        if cm:
            total, current = int(cm.group(1)), int(cm.group(2))
            stem, ext = cm.group(3), cm.group(4)
        else:
            count = _COUNT.search(first.text)
            if count:
                total = int(count.group(1))
                cur = _CURRENT.search(first.text)
                current = int(cur.group(1)) if cur else current
        if total is None:
            root = parse_html(first.text, first.final_url)
            if root is not None and next_link(root, first.final_url):
                yield from follow_next(ctx, first)  # a plain "下一页" chain says it all
                return
        if total is not None and total <= current + 1:
            yield from walk_pages(ctx, first, lambda k: None)
            return
        last = None if total is None else total - 1 - current
        yield from walk_pages(
            ctx,
            first,
            lambda k: f"{directory}{stem}_{current + k}.{ext}",
            last=last,
            skip_missing_first=current == 0,
        )


def _guess_ext(text: str) -> str:
    m = re.search(r"index_\d+\.(s?html?)", text)
    return m.group(1) if m else "html"
