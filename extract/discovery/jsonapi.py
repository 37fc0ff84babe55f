"""Other vendors' JSON/JSONP list APIs (portals.md §3.8, variant 8): Epoint WebBuilder
(``getgovinfolist``), truecms (``getMessage.do`` JSONP) and JS array lists (``var itemObj``).

Their parameters are read from the column page (or its ``webBuilderCommon.js``); every call
carries the column page as Referer, which these vendors require.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urljoin, urlsplit

from .anhui import set_query
from .base import Adapter, Ctx, Found, Page, links, page_links, row_links

_EWB_URL = re.compile(r"""["']([^"']*rest/lightfrontaction/getgovinfolist[^"']*)["']""")
_EWB_JS = re.compile(r"""src\s*=\s*["']([^"']*webBuilderCommon\.js[^"']*)["']""")
_KV = re.compile(
    r"""["']?(siteGuid|categorynum|categoryNum|deptcode|deptCode|pageSize|projectName)["']?"""
    r"""\s*[:=]\s*(?:["']([^"']*)["']|(\d+))"""
)
_TRUECMS = re.compile(r"""["']([^"']*messageController/getMessage\.do[^"']*)["']""")
_ITEMOBJ = re.compile(r"var\s+itemObj\s*=\s*(\[.*?\])\s*;", re.S)
_JSONP = re.compile(r"^\s*[^(\s]*\s*\((.*)\)\s*;?\s*$", re.S)


def _ewb_params(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, quoted, number in _KV.findall(text):
        out.setdefault(
            {"categoryNum": "categorynum", "deptCode": "deptcode"}.get(k, k), quoted or number
        )
    return out


class JsonApi(Adapter):
    name = "jsonapi"

    def detect(self, page: Page) -> bool:
        t = page.text
        return bool(
            _EWB_URL.search(t)
            or "EWB-FRONT" in t
            or "webBuilderCommon" in t
            or _TRUECMS.search(t)
            or _ITEMOBJ.search(t)
        )

    def walk(self, ctx: Ctx, first: Page) -> Iterator[Found]:
        t = first.text
        base = first.final_url
        if _ITEMOBJ.search(t) and ("createPageHTML(" in t or "countPage" in t):
            from .trs import Trs

            yield from Trs().walk(ctx, first)  # JS-array pages, TRS-style page counter
            return
        yield from page_links(t, base)
        if _EWB_URL.search(t) or "webBuilderCommon" in t or "EWB-FRONT" in t:
            yield from self._ewb(ctx, first)
        truecms = _TRUECMS.search(t)
        if truecms:
            yield from self._truecms(
                ctx, urljoin(base, truecms.group(1).replace("&amp;", "&")), base
            )

    def _ewb(self, ctx: Ctx, first: Page) -> Iterator[Found]:
        text = first.text
        params = _ewb_params(text)
        for k, v in parse_qsl(urlsplit(first.final_url).query):
            if k.lower() in ("categorynum", "deptcode", "siteguid"):
                params.setdefault({"siteguid": "siteGuid"}.get(k.lower(), k.lower()), v)
        js = _EWB_JS.search(text)
        if js and ("siteGuid" not in params or not _EWB_URL.search(text)):
            page = ctx.fetch(urljoin(first.final_url, js.group(1)), referer=first.final_url)
            ctx.pages += 1
            if page.ok:
                text = text + "\n" + page.text
                for k, v in _ewb_params(page.text).items():
                    params.setdefault(k, v)
        m = _EWB_URL.search(text)
        project = params.get("projectName") or "EWB-FRONT"
        path = m.group(1) if m else f"/{project}/rest/lightfrontaction/getgovinfolist"
        api = urljoin(first.final_url, path)
        size = int(params.get("pageSize") or 15)
        seen: set[str] = set()
        index = 0
        while ctx.pages < ctx.max_pages:
            body = {
                "siteGuid": params.get("siteGuid", ""),
                "categorynum": params.get("categorynum", ""),
                "deptcode": params.get("deptcode", ""),
                "pageIndex": index,
                "pageSize": size,
            }
            data = ctx.fetch_json(
                api,
                f"getgovinfolist page {index}",
                method="POST",
                json=body,
                referer=first.final_url,
            )
            if not isinstance(data, dict):
                return
            custom = data.get("custom") or {}
            if isinstance(custom, str):
                try:
                    custom = json.loads(custom)
                except ValueError:
                    custom = {}
            rows = custom.get("data") or custom.get("infolist") or []
            new = row_links(
                rows,
                first.final_url,
                seen,
                url=("infourl", "url"),
                title=("realtitle", "title"),
                shown=("title",),
                date=("infodate", "date"),
            )
            yield from new
            total = custom.get("total") or custom.get("count")
            if not new or (total and len(seen) >= int(total)):
                return
            index += 1

    def _truecms(self, ctx: Ctx, api: str, column: str) -> Iterator[Found]:
        per = 50  # larger pages come back empty or 404 on some sites (portals.md §3.8)
        m = re.search(r"[?&]perpage=(\d+)", api)
        if m:
            per = min(int(m.group(1)), 50)
        seen: set[str] = set()
        start = 1
        while ctx.pages < ctx.max_pages:
            url = set_query(
                api,
                startrecord=str(start),
                endrecord=str(start + per - 1),
                perpage=str(per),
                **({"callback": "jsonp1"} if "callback=" in api else {}),  # jQuery's "?" slot
            )
            page = ctx.fetch(url, referer=column)
            ctx.pages += 1
            if not page.ok:
                return
            text = page.text
            jm = _JSONP.match(text)
            payload = jm.group(1) if jm else text
            try:
                value = json.loads(payload)
                fragment = (
                    value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                )
                if isinstance(value, dict):
                    fragment = str(
                        value.get("data") or value.get("html") or value.get("result") or ""
                    )
            except ValueError:
                fragment = payload
            fragment = re.sub(r"<!\[CDATA\[(.*?)\]\]>", r"\1", fragment, flags=re.S)
            found = links(fragment, column)
            new = [f for f in found if f.url not in seen]
            if not new:
                return
            seen.update(f.url for f in new)
            yield from new
            start += per
