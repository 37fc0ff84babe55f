"""Guangdong 政府信息公开目录 platform gkmlpt (portals.md §3.4, variant 4).

``/gkmlpt/index`` carries ``window._CONFIG = {SID: '…', TREE: […]}``; a category is a hash
route (``#2811``) and its list is JSON from ``/gkmlpt/api/all/{cat}?page=N&sid=S``.  Sites
number pages from 0 or from 1, so both are tried and repeats are dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

from .base import Adapter, Ctx, Found, Link, Page, clean_text, norm_date

_SID = re.compile(r"""\bSID\s*[:=]\s*['"]?([\w\-]+)['"]?""")
_TREE_NODE = re.compile(
    r"""['"]?id['"]?\s*:\s*['"]?(\d+)['"]?\s*,\s*['"]?name['"]?\s*:\s*['"]([^'"]+)['"]"""
)
_TREE_NODE_REV = re.compile(
    r"""['"]?name['"]?\s*:\s*['"]([^'"]+)['"]\s*,\s*['"]?id['"]?\s*:\s*['"]?(\d+)['"]?"""
)
_REPORT_CAT = re.compile(r"年报|年度报告")


def report_categories(text: str) -> list[str]:
    """Ids of TREE categories named like a 年报 column."""
    ids: list[str] = []
    for cid, name in _TREE_NODE.findall(text):
        if _REPORT_CAT.search(name) and cid not in ids:
            ids.append(cid)
    for name, cid in _TREE_NODE_REV.findall(text):
        if _REPORT_CAT.search(name) and cid not in ids:
            ids.append(cid)
    return ids


def _date(article: dict) -> str | None:
    for key in ("display_publish_time", "publish_time", "create_time", "created_at", "date"):
        value = article.get(key)
        if isinstance(value, int | float) and value > 10**8:
            return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d")
        if isinstance(value, str) and norm_date(value):
            return norm_date(value)
    return None


class Gkmlpt(Adapter):
    name = "gkmlpt"

    def detect(self, page: Page) -> bool:
        return "/gkmlpt/" in page.final_url or (
            "_CONFIG" in page.text and bool(_SID.search(page.text))
        )

    def walk(self, ctx: Ctx, first: Page) -> Iterator[Found]:
        sid = _SID.search(first.text)
        if not sid:
            ctx.note("gkmlpt: no SID in _CONFIG")
            return
        fragment = urlsplit(ctx.column_url).fragment or urlsplit(first.url).fragment
        cats = [fragment] if fragment.isdigit() else report_categories(first.text)
        if not cats:
            ctx.note("gkmlpt: no 年报 category in TREE")
            return
        root = "{0.scheme}://{0.netloc}".format(urlsplit(first.final_url))
        for cat in cats:
            yield from self._category(ctx, root, cat, sid.group(1), first.final_url)

    def _category(self, ctx: Ctx, root: str, cat: str, sid: str, column: str) -> Iterator[Found]:
        seen: set[str] = set()
        total: int | None = None
        per: int | None = None
        page_no = 0
        while ctx.pages < ctx.max_pages:
            page = ctx.fetch(
                f"{root}/gkmlpt/api/all/{cat}?page={page_no}&sid={sid}", referer=column
            )
            ctx.pages += 1
            if not page.ok:
                if page_no == 0:
                    page_no = 1  # a site numbering from 1 may reject page=0
                    continue
                return
            try:
                data = json.loads(page.text)
            except ValueError:
                ctx.note(f"gkmlpt page {page_no}: not JSON")
                return
            articles = data.get("articles") or []
            if total is None:
                total = data.get("total") or (data.get("classify") or {}).get("post_count")
            new = [a for a in articles if isinstance(a, dict) and _url(a) not in seen]
            if not new and page_no == 1 and articles:
                page_no = 2  # numbering from 1: page=0 was page 1 again
                continue
            if not new and page_no > 0:
                return
            per = per or len(articles) or None
            for a in new:
                url = urljoin(root + "/", _url(a))
                seen.add(_url(a))
                title = clean_text(a.get("title"))
                yield Link(url, title, title, _date(a))
            if total and per and len(seen) >= int(total):
                return
            page_no += 1


def _url(article: dict) -> str:
    return str(article.get("url") or article.get("post_url") or "")
