"""Plain listings: anchors on the page, "下一页"/"下页" links (VSB count-down pages, legacy
table layouts, two lists on one page).  Also the fallback for any page no family claims."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .base import Adapter, Ctx, Found, Page, is_item_link, next_link, page_links, parse_html

_VSB = re.compile(
    r"v_news_content|vsb_content|/system/_content/download\.jsp|_sitegray|VsbBootstrap"
)
_VSB_LINK = re.compile(r"""href\s*=\s*["']?[^"'>\s]*info/\d+/\d+\.htm""")


def follow_next(ctx: Ctx, first: Page, referer: str | None = None) -> Iterator[Found]:
    """Anchors of ``first`` and of every page reached by its "下一页" chain."""
    page = first
    seen_pages = {first.final_url.split("#")[0], first.url.split("#")[0]}
    seen_items: set[str] = set()
    while True:
        found = page_links(page.text, page.final_url)
        items = {link.url for link in found if is_item_link(link)}
        if page is not first and not items - seen_items:
            return
        seen_items |= items
        yield from found
        root = parse_html(page.text, page.final_url)
        nxt = next_link(root, page.final_url) if root is not None else None
        if not nxt or nxt.split("#")[0] in seen_pages or ctx.pages >= ctx.max_pages:
            return
        seen_pages.add(nxt.split("#")[0])
        page = ctx.fetch(nxt, referer=referer or first.final_url)
        ctx.pages += 1
        if not page.ok:
            if page.outcome != "not_found":
                ctx.note(f"page {nxt}: {page.outcome} {page.error or ''}".strip())
            return


class Generic(Adapter):
    name = "generic"

    def detect(self, page: Page) -> bool:
        return True

    def walk(self, ctx: Ctx, first: Page) -> Iterator[Found]:
        yield from follow_next(ctx, first)


class Vsb(Generic):
    """VSB/博达: ``xxgknb.htm`` then ``xxgknb/23.htm``, ``22.htm`` … (numbers count down), always
    reached through the "下页" link (portals.md §3.6, variant 6)."""

    name = "vsb"

    def detect(self, page: Page) -> bool:
        return bool(_VSB.search(page.text) or len(_VSB_LINK.findall(page.text)) >= 2)
