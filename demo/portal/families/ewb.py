"""Variant 8: Epoint WebBuilder (EWB) JSON POST API behind a JS-rendered column page."""

from __future__ import annotations

import json
import uuid
from html import escape

from ..model import Column, Request, Response, html
from ..site import BuildContext, SiteApp, page
from .common import (
    article,
    publish_detail,
    ymd,
)

API = "/EWB-FRONT/rest/lightfrontaction/getgovinfolist"
SITE_GUID = "7eb5f7f1-9041-43ad-8e13-8fcb82ea831a"
CATEGORY = "001005003"


def build_ewb(ctx: BuildContext) -> SiteApp:
    """Variant 8: a Jiangsu-style city portal whose list comes only from the EWB API."""
    app = SiteApp("ewb", "epoint", 8, "苏示市人民政府")
    app.base = ctx.bases["ewb"]
    list_path = f"/xxgk/govInfoPub/showinfo.html?categorynum={CATEGORY}"
    col = Column(
        "demo-ewb",
        "ewb",
        "苏示市人民政府",
        "city",
        "990800",
        app.url(list_path),
        "epoint",
        notes="Epoint EWB: POST JSON getgovinfolist (pageIndex from 0); Referer mandatory; pageSize ≤ 50",
    )
    plans = ctx.plan("苏示市人民政府", [2019, 2020, 2021, 2022, 2023, 2024], gov=True)
    rows: list[dict[str, str]] = []
    for plan in plans:
        y, m, d = ymd(plan.date)
        guid = str(uuid.UUID(int=ctx.rng.getrandbits(128)))
        path = f"/xxgk/govInfoPub/{y}{m}{d}/{guid}.html"
        url = app.url(path)
        pdf = f"/EpointWebBuilder/pages/webbuildermis/attach/downloadztbattach?attachGuid={guid[:8]}&appUrlFlag=ztb"
        inner, kw = article(app, plan, pdf if plan.doc and plan.doc.year == 2024 else None)
        body = (
            f'<div class="ewb-article"><h2 class="ewb-article-tt">{escape(plan.title)}</h2>'
            f'<div class="ewb-article-sources">发布日期：{plan.date[:10]}</div>'
            f'<div class="ewb-article-info" id="mainContent">{inner}</div></div>'
        )
        publish_detail(app, col, ctx, plan, path, url, body, **kw)
        rows.append(
            {
                "infourl": path,
                "title": col.items[-1].shown,
                "realtitle": plan.title,
                "infodate": plan.date[:10],
            }
        )

    shell = (
        '<div class="ewb-list" id="infolist"><ul><li><a href="<?=el.link?>"><?=el.title?></a></li></ul></div>'
        '<script src="/js/webBuilderCommon.js"></script><script src="/js/govInfoPub.js"></script>'
    )
    app.add(list_path, html(page("政府信息公开年报", shell)))
    app.add(
        "/js/webBuilderCommon.js",
        Response(
            200,
            (
                f"var siteInfo = {{siteGuid: '{SITE_GUID}', projectName: 'EWB-FRONT', "
                f"categorynum: '{CATEGORY}', pageSize: 5}};\n"
            ).encode(),
            "application/javascript",
        ),
    )

    def api(req: Request) -> Response:
        if req.method != "POST":
            return html("<html><body>405</body></html>", 405)
        if not req.headers.get("Referer", "").startswith(app.base):
            return app.not_found()
        try:
            params = json.loads(req.body or b"{}")
        except json.JSONDecodeError:
            params = {}
        if isinstance(params.get("params"), str):  # EWB clients often double-encode
            params = json.loads(params["params"])
        size = int(params.get("pageSize") or 5)
        if size > 100:
            return app.not_found()
        ok = params.get("siteGuid") == SITE_GUID and params.get("categorynum") == CATEGORY
        data = rows if ok and not app.listing_empty() and size <= 50 else []
        idx = int(params.get("pageIndex") or 0)
        out = {
            "custom": {"data": data[idx * size : (idx + 1) * size], "total": len(data)},
            "status": {"code": 200},
        }
        return Response(
            200, json.dumps(out, ensure_ascii=False).encode(), "application/json;charset=utf-8"
        )

    app.route(API, api)
    app.add("/", html(page(app.label, f'<a href="{list_path}">政府信息公开年报</a>')))
    ctx.columns.append(col)
    ctx.fault("ewb", "referer_required", app.url(API), "send Referer = column page (404 otherwise)")
    return app
