"""Variant 4: Guangdong 集约化 portal columns (post_N.html) and the gkmlpt JSON API."""

from __future__ import annotations

import json
import random
import re
from html import escape

from ...synth import inject
from ..model import Column, Request, Response, html
from ..reports import ReportDoc
from ..site import STUB_PAST_END, BuildContext, Plan, SiteApp, epoch, page
from .common import (
    article,
    body_of,
    publish_detail,
    ymd,
)

SID = "755031"
CAT = 2811


def build_gd(ctx: BuildContext) -> SiteApp:
    """Variant 4: a Guangdong city portal with a static 年报 column and a gkmlpt category."""
    app = SiteApp("gd", "gkmlpt", 4, "粤示市人民政府门户网站")
    app.base = ctx.bases["gd"]
    # ---- portal column: the city's own reports, static index / index_N pages
    cdir = "/zwgk/xxgkndbg/"
    col = Column(
        "demo-gd-portal",
        "gd",
        "粤示市人民政府",
        "city",
        "990400",
        app.url(cdir + "index.html"),
        "gkmlpt",
        notes="Guangdong portal column (post_N.html); http only; browser-like UA required",
    )
    plans = ctx.plan("粤示市人民政府", [2019, 2020, 2021, 2022, 2023], gov=True)
    dup_plan: Plan | None = None
    for plan in plans:
        pid = ctx.next_id(20000)
        path = f"{cdir}content/post_{pid}.html"
        url = app.url(path)
        pdf = f"/attachment/0/{pid // 1000}/{pid}/{pid + 7}.pdf"
        inner, kw = article(app, plan, pdf if plan.doc and plan.doc.year == 2022 else None)
        if plan.doc and plan.doc.year == 2023:
            dup_plan = plan
        body = (
            f'<div class="article"><h1 class="title">{escape(plan.title)}</h1>'
            f'<div class="date">发布时间：{plan.date[:10]}  来源：{escape(col.agency)}</div>'
            f'<div class="article-content">{inner}</div></div>'
        )
        publish_detail(app, col, ctx, plan, path, url, body, **kw)

    def portal_list(req: Request) -> Response | None:
        rest = req.path[len(cdir) :]
        m = re.fullmatch(r"index(?:_(\d+))?\.html", rest) if rest else None
        if rest and not m:
            return None
        k = int(m.group(1) or 0) if m else 0
        items = [] if app.listing_empty() else col.items
        per = 4
        if k and k * per >= len(items):
            return html(STUB_PAST_END)
        chunk = items[k * per : (k + 1) * per]
        lis = "".join(
            f'<li><a href="./{i.url.removeprefix(app.base + cdir)}" title="{escape(i.title)}">{escape(i.shown)}</a>'
            f"<span>{i.date}</span></li>"
            for i in chunk
        )
        n = max(1, -(-len(items) // per))
        return html(
            page(
                f"{col.agency}政府信息公开年报",
                f'<div class="list"><ul class="news_list">{lis}</ul></div>'
                f'<script>createPageHTML({n}, {k}, "index", "html");</script>',
            )
        )

    app.prefix(cdir, portal_list)

    # ---- gkmlpt 部门年报 category (plus the city's 2023 report re-posted, H14)
    gcol = Column(
        "demo-gd-gkmlpt",
        "gd",
        "粤示市人民政府",
        "city",
        "990400",
        app.url(f"/gkmlpt/index#{CAT}"),
        "gkmlpt",
        notes=f"gkmlpt category {CAT} (部门年报), sid {SID}; the city's 2023 report re-posted (H14)",
    )
    gplans = ctx.plan("粤示市教育局", [2020, 2021, 2022, 2023], seeds=["002"])
    if dup_plan is not None:
        gplans.append(Plan("report", dup_plan.title, dup_plan.date, dup_plan.doc, hazards=["H14"]))
        gplans.sort(key=lambda p: p.date, reverse=True)
    articles: list[dict[str, object]] = []
    for plan in gplans:
        pid = ctx.next_id(20000)
        path = f"/gkmlpt/content/{pid // 100000}/{pid // 1000}/post_{pid}.html"
        url = app.url(path) + f"#{CAT}"
        if plan.doc is not None and plan.doc.source == "seed:002":
            _space_labels(plan.doc)
        inner = body_of(plan)
        detail = {
            "id": pid,
            "title": plan.title,
            "content": inner,
            "publisher": plan.doc.agency if plan.doc else gcol.agency,
            "display_publish_time": plan.date[:10],
            "identifier": f"007{pid % 1000000:06d}/{plan.date[:4]}-{pid % 1000:05d}",
        }
        cfg = json.dumps(detail, ensure_ascii=True).replace("<", "\\u003C").replace(">", "\\u003E")
        shell = (
            f"<div id=\"app\"></div><script>window._CONFIG = {{ SID: '{SID}', DETAIL: {cfg}, "
            f'TREE: [] }};</script><script src="/gkmlpt/static/js/detail.js"></script>'
        )
        publish_detail(app, gcol, ctx, plan, path, url, shell, content="json-html")
        y, m, d = ymd(plan.date)
        articles.append(
            {
                "id": pid,
                "title": plan.title,
                "url": url,
                "post_url": url,
                "publisher": detail["publisher"],
                "document_number": "",
                "identifier": detail["identifier"],
                "display_publish_time": int(epoch(plan.date)),
                "created_at": f"{y}-{m}-{d} 10:00:00",
                "create_time": int(epoch(plan.date)),
                "classify_main_name": "政府信息公开年报",
                "attachment": [],
            }
        )
    tree = [{"id": CAT, "name": "政府信息公开年报", "parent": 0, "jump_url": ""}]
    index = (
        f"<script>window._CONFIG = {{ SID: '{SID}', TREE: {json.dumps(tree, ensure_ascii=False)}, "
        "LIST_URL: '/gkmlpt/api/all/' };</script><div id=\"app\"></div>"
    )
    app.add("/gkmlpt/index", html(page("政府信息公开目录", index)))

    def api(req: Request) -> Response | None:
        m = re.fullmatch(r"/gkmlpt/api/all/(\d+)", req.path)
        if not m:
            return None
        per = 3
        pg = max(1, int(req.q("page") or 1))  # page=0 and page=1 are both the first page
        arts = [] if (app.listing_empty() or int(m.group(1)) != CAT) else articles
        out = {
            "classify": {"id": CAT, "name": "政府信息公开年报", "post_count": len(arts)},
            "total": len(arts),
            "articles": arts[(pg - 1) * per : pg * per],
        }
        return Response(200, json.dumps(out, ensure_ascii=False).encode(), "application/json")

    app.prefix("/gkmlpt/api/all/", api)
    app.add(
        "/",
        html(
            page(
                app.label,
                f'<a href="{cdir}index.html">年报</a> <a href="/gkmlpt/index">政府信息公开目录</a>',
            )
        ),
    )
    ctx.columns += [col, gcol]
    if ctx.faults_on:
        app.guard = _ua_guard
        ctx.fault(
            "gd",
            "ua_reset",
            app.base,
            "send a browser-like User-Agent (connection reset otherwise)",
        )
    ctx.fault(
        "gd",
        "http_429",
        app.url(f"/gkmlpt/api/all/{CAT}"),
        "back off and retry (no Retry-After)",
        "first gkmlpt API call answers 429",
        times=1,
        action="status",
        status=429,
    )
    return app


def _ua_guard(req: Request) -> tuple[str, Response | None] | None:
    if "Mozilla" in req.headers.get("User-Agent", ""):
        return None
    return "ua_reset", None


def _space_labels(doc: ReportDoc) -> None:
    """Header words printed with an inner space ('商业 企业', D1), once however often posted."""
    if "label_spaces" not in doc.report.deviations:
        doc.report = inject(doc.report, random.Random(0), ["label_spaces"])
