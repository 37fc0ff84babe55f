"""Variant 8 (cont.): truecms JSONP lists (getMessage.do wrapping an XML datastore)."""

from __future__ import annotations

import json
from html import escape

from ..model import Column, Request, Response, html
from ..site import BuildContext, SiteApp, page
from .common import body_of, publish_detail, ymd

API = "/messageController/getMessage.do"
COLUMN_ID = "37261"


def build_truecms(ctx: BuildContext) -> SiteApp:
    """A 南通-style city portal: the column page loads its list by JSONP; Referer mandatory."""
    app = SiteApp("truecms", "truecms", 8, "通示市人民政府")
    app.base = ctx.bases["truecms"]
    col = Column(
        "demo-truecms",
        "truecms",
        "通示市人民政府",
        "city",
        "990900",
        app.url(f"/ntsrmzf/zfxxgknb/zfxxgknb.html?columnId={COLUMN_ID}"),
        "truecms",
        notes="truecms getMessage.do JSONP; Referer mandatory; perpage 50 fine, 100 empty, more 404",
    )
    for plan in ctx.plan("通示市人民政府", [2019, 2020, 2021, 2022, 2023, 2024], gov=True):
        y, m, d = ymd(plan.date)
        path = f"/ntsrmzf/zfxxgknb/content/{ctx.hex32()[:8]}-{y}{m}{d}.html"
        url = app.url(path)
        inner = body_of(plan)
        body = (
            f'<div class="xl-title">{escape(plan.title)}</div><div class="xl-date">发布日期：{plan.date[:10]}</div>'
            f'<div class="xl-content" id="zoom">{inner}</div>'
        )
        publish_detail(app, col, ctx, plan, path, url, body)
    shell = (
        '<div id="list"></div><script src="/js/jquery.min.js"></script><script>'
        f"$.getJSON('{API}?startrecord=1&endrecord=15&perpage=15&columnId={COLUMN_ID}&callback=?',"
        " function(d){ $('#list').html(d.data); });</script>"
    )
    app.add(col.list_url.removeprefix(app.base), html(page("政府信息公开年报", shell)))

    def api(req: Request) -> Response:
        if not req.headers.get("Referer", "").startswith(app.base):
            return app.not_found()
        per = int(req.q("perpage") or 15)
        if per > 100:
            return app.not_found()
        start = max(1, int(req.q("startrecord") or 1))
        end = int(req.q("endrecord") or start + per - 1)
        items = (
            [] if (app.listing_empty() or req.q("columnId") != COLUMN_ID or per > 50) else col.items
        )
        chunk = items[start - 1 : min(end, start - 1 + per)]
        recs = "".join(
            f'<record><![CDATA[<li><a href="{i.url.removeprefix(app.base)}" title="{escape(i.title)}" '
            f'target="_blank">{escape(i.shown)}</a><span>{i.date}</span></li>]]></record>'
            for i in chunk
        )
        xml = f"<datastore><totalrecord>{len(items)}</totalrecord><recordset>{recs}</recordset></datastore>"
        payload = json.dumps({"totalRecord": len(items), "data": xml}, ensure_ascii=False)
        cb = req.q("callback") or "callback"
        return Response(200, f"{cb}({payload});".encode(), "application/javascript;charset=UTF-8")

    app.route(API, api)
    app.add(
        "/",
        html(
            page(app.label, f'<a href="{col.list_url.removeprefix(app.base)}">政府信息公开年报</a>')
        ),
    )
    ctx.columns.append(col)
    ctx.fault(
        "truecms", "referer_required", app.url(API), "send Referer = column page (404 otherwise)"
    )
    return app
