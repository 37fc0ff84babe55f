"""Variant 3: jpaas page-build units (unitbuild.js loader + JSON API paged by paramJson only)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from html import escape
from urllib.parse import quote

from ..model import Column, Item, Request, Response, html
from ..site import BuildContext, SiteApp, page
from .common import attachment_bytes, file_resp, publish_detail, text_page, ymd

API = "/api-gateway/jpaas-publish-server/front/page/build/unit"
GATEWAY = "/jpaas-jpaas-web-server/front/file/download"
ROWS = 6  # the unit template shows at most 6 rows whatever pageSize asks


def _entry(it: Item, base: str) -> str:
    return (
        f'<li class="clearfix"><a href="{it.url.removeprefix(base)}" title="{escape(it.title)}" target="_blank">'
        f'{escape(it.shown)}</a><span class="bt-right">{it.date}</span></li>'
    )


def build_jpaas(ctx: BuildContext, gateway_ttl: float = 600.0) -> SiteApp:
    """Variant 3: a Zhejiang-style bureau site; bodies are 印发 notices with the report attached."""
    app = SiteApp("jpaas", "jpaas", 3, "示例市市场监督管理局")
    app.base = ctx.bases["jpaas"]
    colid = "1229100"
    col = Column(
        "demo-jpaas-scjg",
        "jpaas",
        "示例市市场监督管理局",
        "city",
        "990300",
        app.url(f"/col/col{colid}/index.html"),
        "jpaas",
        notes="jpaas unit API (paramJson pageNo); report bodies are attachments",
    )
    plans = ctx.plan("示例市市场监督管理局", [2018, 2019, 2020, 2021, 2022, 2023, 2024])
    started = time.time()
    for plan in plans:
        y, m, d = ymd(plan.date)
        new_style = int(y) >= 2022
        path = (
            f"/col/col{colid}/art/{y}/art_{ctx.hex32()}.html"
            if new_style
            else f"/art/{y}/{int(m)}/{int(d)}/art_{colid}_{ctx.next_id(3000)}.html"
        )
        url = app.url(path)
        kw: dict[str, object] = {}
        if plan.doc is None:
            inner = text_page(plan)
        else:
            year = plan.doc.year
            if year == 2020:  # WPS original (stored, not parsed)
                ext, apath = "wps", f"/attach/-1/{ctx.rng.randrange(10**18, 10**19)}.wps"
            elif year == 2023 and ctx.faults_on:  # expiring download-gateway URL (H9)
                ext = "pdf"
                apath = f"{GATEWAY}?fileUrl={quote('/attach/0/' + ctx.hex32() + '.pdf')}&expires={int(started + gateway_ttl)}"
            else:
                ext, apath = "pdf", f"/attach/-1/{ctx.rng.randrange(10**18, 10**19)}.{'pdf'}"
            data = attachment_bytes(plan.doc, ext)
            name = f"{plan.title}.{ext}"
            if apath.startswith(GATEWAY):
                app.route(GATEWAY, _gateway(data, name, started + gateway_ttl))
            else:
                app.add(apath, file_resp(data, ext, name, plan.date))
            inner = (
                f"<p>各有关单位：</p><p>现将《{escape(plan.title)}》予以公布，详见附件。</p>"
                f'<p>附件：<a href="{escape(apath)}" target="_blank">{escape(name)}</a></p>'
            )
            kw = {"attachment_url": app.url(apath), "content": ext}
            if apath.startswith(GATEWAY):
                kw["hazards"] = ("expiring_url",)
        body = (
            f'<div class="head">{escape(app.label)}</div><div class="wzzw-article"><h1>{escape(plan.title)}</h1>'
            f'<div class="info">发布日期：{plan.date[:10]}</div><div class="article-content">{inner}</div></div>'
        )
        publish_detail(app, col, ctx, plan, path, url, body, **kw)

    loader = (
        f'<div id="div{colid}"></div><script src="/module/jpaas/AuthorizedRead/unitbuild.js" '
        f"url=\"{API}\" queryData=\"{{'webId':'3185','pageId':'{colid}','tplSetId':'fc259c381af3496d85e61997ea7771cb',"
        f"'pageType':'column','tagId':'分页列表','editType':'null'}}\"></script>"
    )
    app.add(
        col.list_url.removeprefix(app.base),
        html(
            page(
                f"{col.agency}政府信息公开年报",
                f'<div class="head">{escape(app.label)}</div>{loader}',
            )
        ),
    )

    def api(req: Request) -> Response:
        try:
            pj = json.loads(req.q("paramJson") or "{}")
        except json.JSONDecodeError:
            pj = {}
        page_no = max(1, int(pj.get("pageNo") or 1))  # bare pageNo / page parameters are ignored
        size = min(int(pj.get("pageSize") or ROWS), ROWS)
        items = [] if app.listing_empty() else col.items
        chunk = items[(page_no - 1) * size : page_no * size]
        frag = ""
        if chunk:
            frag = (
                "<ul>" + "".join(_entry(i, app.base) for i in chunk) + "</ul>"
                f'<div class="pagination" rows="{size}" count="{len(items)}"></div>'
            )
        data = {"success": True, "code": 200, "data": {"html": frag}}
        return Response(
            200, json.dumps(data, ensure_ascii=False).encode(), "application/json;charset=UTF-8"
        )

    app.route(API, api)
    # static year archive beside the API
    y23 = [i for i in col.items if i.date.startswith("2023")]
    app.add(
        "/2023n/index.html",
        html(
            page(
                "2023年",
                '<ul class="lmy-list-ul">' + "".join(_entry(i, app.base) for i in y23) + "</ul>",
            )
        ),
    )
    app.add(
        "/", html(page(app.label, f'<a href="/col/col{colid}/index.html">政府信息公开年报</a>'))
    )
    ctx.columns.append(col)
    ctx.fault(
        "jpaas",
        "http_429",
        app.url(API),
        "back off and retry (no Retry-After)",
        "first unit API call answers 429 without Retry-After",
        times=1,
        action="status",
        status=429,
    )
    gw = next(
        (
            i.report.attachment_url
            for i in col.items
            if i.report and "expiring_url" in i.report.hazards
        ),
        None,
    )
    if gw:
        ctx.fault(
            "jpaas", "expiring_url", gw, f"download before expiry; 403 after {gateway_ttl:.0f} s"
        )
    return app


def _gateway(data: bytes, name: str, expires: float) -> Callable[[Request], Response]:
    last = [0.0]

    def handler(req: Request) -> Response:
        now = time.time()
        if now > expires or float(req.q("expires") or 0) < expires - 1:
            return html("<html><body>链接已失效</body></html>", 403)
        if now - last[0] < 0.2:  # rate-limits quick polling
            last[0] = now
            return html("<html><body>请求过于频繁</body></html>", 429)
        last[0] = now
        return file_resp(data, "pdf", name)

    return handler
