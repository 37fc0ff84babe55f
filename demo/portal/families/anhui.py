"""Variant 5: Anhui-style /public/column platform (departments via action=rel, year tabs)."""

from __future__ import annotations

from html import escape

from ..model import Column, Item, Request, Response, html
from ..site import BuildContext, SiteApp, page
from .common import article, publish_detail, ymd

ROOT_UNIT = "6601841"
CAT = "7001"
PER = 2
ON = ' class="on"'


def build_anhui(ctx: BuildContext) -> SiteApp:
    """Variant 5: a county platform; each department's 年报 is split into year tabs."""
    app = SiteApp("anhui", "anhui", 5, "皖示县人民政府")
    app.base = ctx.bases["anhui"]
    rel = f"/public/column/{ROOT_UNIT}?type=4&action=rel"
    col = Column(
        "demo-anhui",
        "anhui",
        "皖示县人民政府",
        "county",
        "990500",
        app.url(rel),
        "anhui",
        notes="departments via action=rel; year tabs ul#timeFrame; wzws_ WAF cookie from the homepage",
    )
    depts = [
        ("6602001", "皖示县财政局", [2019, 2021, 2022, 2023], []),
        (
            "6602002",
            "皖示县卫生健康委员会",
            [2020, 2022, 2023, 2024],
            ["000"],
        ),  # some years missing
        ("6602003", "皖示县自然资源和规划局", [2021, 2023, 2024], []),
    ]
    by_unit: dict[str, list[Item]] = {}
    for unit, name, years, seeds in depts:
        plans = ctx.plan(name, years, seeds=seeds)
        for plan in plans:
            aid = ctx.next_id(40000)
            path = f"/public/{unit}/{aid}.html"
            url = app.url(path)
            pdf = f"/group2/M00/00/{aid % 100:02X}/rBAAAmNjYWE{aid}.pdf"
            with_pdf = plan.doc and plan.doc.year == 2022 and unit == "6602001"
            inner, kw = article(app, plan, pdf if with_pdf else None, css="fj")
            y, m, _ = ymd(plan.date)
            box = (
                '<table class="table_suoyin"><tr><th>索引号：</th><td>'
                f"{11340000 + int(unit) % 10000}/{y}-{aid % 100000:05d}</td><th>信息分类：</th><td>年度报告</td></tr>"
                f"<tr><th>发布机构：</th><td>{escape(name)}</td><th>生成日期：</th><td>{plan.date[:10]}</td></tr>"
                f'<tr><th>名称：</th><td colspan="3">{escape(plan.title)}</td></tr></table>'
            )
            body = (
                f'<div class="wzcon-box">{box}<h1 class="newstitle">{escape(plan.title)}</h1>'
                f'<div class="wzcon j-fontContent">{inner}</div></div>'
            )
            it = publish_detail(app, col, ctx, plan, path, url, body, **kw)
            by_unit.setdefault(unit, []).append(it)

    def column(req: Request) -> Response | None:
        unit = req.path.rsplit("/", 1)[1]
        if req.q("action") == "rel" and unit == ROOT_UNIT:
            lis = "".join(
                f'<li><a href="/public/column/{u}?type=4&amp;catId={CAT}&amp;action=list" title="{escape(n)}">{escape(n)}</a></li>'
                for u, n, _, _ in depts
            )
            return html(
                page(
                    f"{app.label}_部门信息公开",
                    f'<div class="bmlist"><ul class="clearfix">{lis}</ul></div>',
                )
            )
        if req.q("action") != "list" or unit not in by_unit:
            return None
        items = [] if app.listing_empty() else by_unit[unit]
        years = sorted({i.date[:4] for i in by_unit[unit]}, reverse=True)
        year = req.q("year") or years[0]
        shown = [i for i in items if i.date.startswith(year)]
        pg = max(1, int(req.q("page") or 1))
        chunk = shown[(pg - 1) * PER : pg * PER]
        pages = max(1, -(-len(shown) // PER))
        tabs = "".join(
            f'<li{ON if y == year else ""}><a href="/public/column/{unit}?type=4&amp;catId={CAT}&amp;action=list&amp;year={y}">{y}年</a></li>'
            for y in years
        )
        rows = "".join(
            f'<li><a href="{i.url.removeprefix(app.base)}" title="{escape(i.title)}">{escape(i.shown)}</a>'
            f'<span class="date">{i.date}</span></li>'
            for i in chunk
        )
        frag = f'<ul class="clearfix xxgk_nav_list">{rows}</ul>'
        if req.headers.get("X-Requested-With") == "XMLHttpRequest":
            return html(frag)
        form = (
            f'<form id="page_public_info" action="/public/column/{unit}" method="get">'
            f'<input type="hidden" name="type" value="4"><input type="hidden" name="catId" value="{CAT}">'
            f'<input type="hidden" name="action" value="list"><input type="hidden" name="year" value="{year}">'
            f'<span>共{pages}页 当前第{pg}页</span><input type="text" name="page" value="{pg}"><button>跳转</button></form>'
        )
        return html(
            page(
                f"{app.label}_年报",
                f'<ul id="timeFrame">{tabs}</ul><div class="xxgk_list">{frag}</div>{form}',
            )
        )

    app.prefix("/public/column/", column)
    app.add(
        "/",
        html(
            page(app.label, f'<a href="{rel}">部门信息公开</a>'),
            headers=[("Set-Cookie", "wzws_cid=4f1c2a9e0b7d; Path=/; HttpOnly")],
        ),
    )
    ctx.columns.append(col)
    if ctx.faults_on:
        app.guard = _wzws_guard
        ctx.fault(
            "anhui",
            "waf_cookie",
            app.url(rel),
            "seed the wzws_ cookie from the homepage; otherwise record blocked",
        )
    return app


def _wzws_guard(req: Request) -> tuple[str, Response | None] | None:
    if not req.path.startswith("/public/") or req.cookies.get("wzws_cid"):
        return None
    body = (
        '<html><head><meta charset="utf-8"><title>安全验证</title></head><body>'
        '<script>var wzwschallenge="WZWS_CONFIRM_PREFIX_LABEL7";var wzwschallengex="STRRANDOM";'
        "function HashChallenge(){}</script><noscript>请开启JavaScript</noscript></body></html>"
    )
    return "waf_cookie", html(body, 200)
