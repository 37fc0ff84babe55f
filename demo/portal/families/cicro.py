"""Variant 7: Cicro-style JSP lists (/info/iList.jsp?cat_id=…&cur_page=N), GB2312 pages."""

from __future__ import annotations

from html import escape

from ..model import Column, Request, Response, html
from ..site import BuildContext, SiteApp, epoch, page
from .common import add_item, attach, body_of, meta_for

CAT = "10111"
PER = 15
CS = "gb2312"


def build_cicro(ctx: BuildContext) -> SiteApp:
    """Variant 7: a city 信息公开 catalogue whose 年度报告 category aggregates many agencies."""
    app = SiteApp("cicro", "cicro", 7, "陕示市人民政府")
    app.base = ctx.bases["cicro"]
    col = Column(
        "demo-cicro",
        "cicro",
        "陕示市人民政府",
        "city",
        "990700",
        app.url(f"/info/iList.jsp?cat_id={CAT}&node_id=GKxxgk&tm_id=41"),
        "cicro",
        notes="Cicro iList.jsp, 15 rows per page, broken 下一页 href, GB2312; openresty 302-to-self cookie",
    )
    plans = []
    for name, years, seeds in [
        ("陕示市应急管理局", [2019, 2021, 2022, 2023], ["003"]),
        ("陕示市民政局", [2020, 2021, 2022, 2023], ["001"]),
        ("陕示市司法局", [2021, 2022, 2023, 2024], []),
        ("陕示市人力资源和社会保障局", [2022, 2023, 2024], []),
    ]:
        plans += ctx.plan(
            name, years, seeds=seeds, companion=name == "陕示市民政局", guide=name == "陕示市司法局"
        )
    plans.sort(key=lambda p: p.date, reverse=True)
    for n, plan in enumerate(plans):
        if n % 5 == 2:  # list date differs from 发布日期 (H15)
            plan.list_date = plan.date[:8] + f"{min(28, int(plan.date[8:10]) + 2):02d}"
            plan.hazards.append("H15")
        info_id = ctx.next_id(700)
        path = f"/info/iInfo.jsp?cat_id={CAT}&info_id={info_id}"
        url = app.url(path)
        inner = body_of(plan)
        kw: dict[str, object] = {}
        if plan.doc and plan.doc.year == 2019:
            for ext in ("doc", "xls"):
                a = f"/uploadfiles/{plan.date[:4]}{plan.date[5:7]}/{info_id}.{ext}"
                inner, url_of = attach(app, plan, a, ext, inner)
                kw.setdefault("attachment_url", url_of)  # the .doc, listed first
        body = (
            f'<div class="info-title"><h2>{escape(plan.title)}</h2></div>'
            f'<table class="info-table"><tr><td>索引号：</td><td>{info_id:08d}/{plan.date[:4]}-{info_id % 1000:05d}</td>'
            f"<td>发布日期：</td><td>{plan.date[:10]}</td></tr></table>"
            f'<div class="info-content">{inner}</div>'
        )
        app.add(
            path,
            html(
                page(plan.title, body, meta_for(app, col, plan, url), charset=CS),
                charset=CS,
                last_modified=epoch(plan.date),
            ),
        )
        if plan.kind == "report":
            add_item(col, ctx, plan, url, detail_url=url, **kw)
        else:
            add_item(col, ctx, plan, url)

    def ilist(req: Request) -> Response | None:
        if req.q("cat_id") != CAT:
            return html(
                page(
                    "信息公开",
                    '<div class="info-list"><table><tbody></tbody></table></div>',
                    charset=CS,
                ),
                charset=CS,
            )
        items = [] if app.listing_empty() else col.items
        if req.q("title"):  # the title= filter of iList.jsp
            items = [i for i in items if req.q("title") in i.title]
        pg = max(1, int(req.q("cur_page") or 1))
        chunk = items[(pg - 1) * PER : pg * PER]
        rows = "".join(
            f'<tr><td>{(pg - 1) * PER + k + 1}</td><td><a href="{i.url.removeprefix(app.base)}" title="{escape(i.title)}" target="_blank">'
            f"{escape(i.shown)}</a></td><td>{(i.report.published if i.report else i.date)[:4]}-{k:05d}</td><td>{i.date}</td></tr>"
            for k, i in enumerate(chunk)
        )
        pages = max(1, -(-len(items) // PER))
        nxt = (
            f'<a href="/info/?cat_id={CAT}&amp;cur_page={pg + 1}">下一页</a>' if pg < pages else ""
        )  # broken href
        body = (
            '<div class="info-list"><table><thead><tr><th>序号</th><th>标题</th><th>索引号</th><th>发布日期</th></tr></thead>'
            f'<tbody>{rows}</tbody></table></div><div class="page">共{len(items)}条 第{pg}/{pages}页 {nxt}</div>'
        )
        return html(page("年度报告", body, charset=CS), charset=CS)

    app.route("/info/iList.jsp", ilist)
    app.add(
        "/",
        html(
            page(app.label, f'<a href="/info/iList.jsp?cat_id={CAT}">年度报告</a>', charset=CS),
            charset=CS,
        ),
    )
    ctx.columns.append(col)
    if ctx.faults_on:
        app.guard = _openresty_guard
        ctx.fault(
            "cicro",
            "cookie_302_self",
            app.base,
            "keep cookies: the first request 302s to itself setting CT6T",
        )
    target = next(i for i in col.items if i.kind == "report" and i.report and i.report.year == 2023)
    ctx.fault(
        "cicro",
        "reset",
        target.url,
        "retry after a connection reset mid-body",
        "first attempt sends half the body then RST",
        times=1,
        action="reset",
    )
    return app


def _openresty_guard(req: Request) -> tuple[str, Response | None] | None:
    if req.cookies.get("CT6T") or req.path == "/robots.txt":
        return None
    return "cookie_302_self", Response(
        302,
        b"",
        "text/html",
        [
            ("Set-Cookie", "CT6T=312900; Path=/"),
            ("Set-Cookie", "CT6TS=1700000000; Path=/"),
            ("Location", req.target),
        ],
    )
