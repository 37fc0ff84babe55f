"""Anhui-style ``/public/column`` platform (portals.md §3.5, variant 5).

``action=rel`` pages list departments; a department's 年报 page carries year tabs in
``ul#timeFrame``; lists page through a form (``#page_public_info``) whose page number the
server also takes as a query parameter.  All of these are followed as sub-columns or pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .base import (
    Adapter,
    Ctx,
    Found,
    Page,
    SubColumn,
    absolute,
    clean_text,
    next_link,
    parse_html,
    walk_pages,
)

_TOTAL = re.compile(
    r"共\s*(\d+)\s*页|totalPage\s*[=:]\s*['\"]?(\d+)|pageCount\s*[=:]\s*['\"]?(\d+)"
)
_PAGE_PARAM = re.compile(r"""name=["']?(page|pageNo|pageIndex|curPage|currpage)["']?""", re.I)


def set_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


class Anhui(Adapter):
    name = "anhui"

    def detect(self, page: Page) -> bool:
        t = page.text
        return (
            "/public/column/" in page.final_url
            or "timeFrame" in t
            or "page_public_info" in t
            or "/public/column/" in t
        )

    def walk(self, ctx: Ctx, first: Page) -> Iterator[Found]:
        root = parse_html(first.text, first.final_url)
        if root is None:
            return
        column_path = urlsplit(first.final_url).path
        # year tabs
        for a in root.xpath('//*[@id="timeFrame"]//a'):
            url = absolute(first.final_url, a.get("href"))
            if url:
                yield SubColumn(url, f"year tab {clean_text(a.text_content())}")
        # department list (action=rel): links to other /public/column/ pages
        if "action=rel" in first.final_url or root.xpath(
            '//ul[contains(@class,"clearfix")]/li/a[@title]'
        ):
            for a in root.xpath("//a[@href]"):
                url = absolute(first.final_url, a.get("href"))
                if (
                    url
                    and "/public/column/" in url
                    and url.split("#")[0] != first.final_url.split("#")[0]
                    and "action=rel" not in url
                    and urlsplit(url).path != column_path
                ):
                    yield SubColumn(
                        url, f"department {clean_text(a.get('title') or a.text_content())}"
                    )
        total = None
        m = _TOTAL.search(first.text)
        if m:
            total = int(next(g for g in m.groups() if g))
        nxt = next_link(root, first.final_url)
        if nxt:
            yield from _follow_next(ctx, first)
            return
        form = root.xpath('//*[@id="page_public_info"]')
        param = "page"
        pm = _PAGE_PARAM.search(first.text)
        if pm:
            param = pm.group(1)
        if form or total:
            last = None if total is None else total - 1
            yield from walk_pages(
                ctx,
                first,
                lambda k: set_query(first.final_url, **{param: str(k + 1)}),
                last=last,
            )
        else:
            yield from walk_pages(ctx, first, lambda k: None)


def _follow_next(ctx: Ctx, first: Page) -> Iterator[Found]:
    from .generic import follow_next

    yield from follow_next(ctx, first)
