"""Variant 9: gov.cn-style national lists (home.htm, home_N.htm) and a JS-rendered list with JSON."""

from __future__ import annotations

import json
import re
from html import escape

from ..model import Column, Item, Request, Response, html
from ..site import BuildContext, Plan, SiteApp, epoch, page
from .common import add_item, body_of, meta_for, publish_detail, ymd

PER = 4


def build_govcn(ctx: BuildContext) -> SiteApp:
    """Variant 9: national-level lists of ministries' reports."""
    app = SiteApp("govcn", "govcn", 9, "中国政府网（示例）")
    app.base = ctx.bases["govcn"]
    ldir = "/zhengce/xxgknb/"
    col = Column(
        "demo-govcn-xxgknb",
        "govcn",
        "国务院办公厅（示例）",
        "national",
        "000000",
        app.url(ldir + "home.htm"),
        "govcn",
        notes="gov.cn home_N.htm; #UCAP-CONTENT; metadata table (template A)",
    )
    plans: list[Plan] = []
    for name, years in [
        ("示例部", [2019, 2021, 2022, 2023]),
        ("示例总局", [2020, 2022, 2023, 2024]),
    ]:
        plans += ctx.plan(name, years, companion=name == "示例部", guide=name == "示例总局")
    plans.sort(key=lambda p: p.date, reverse=True)
    for plan in plans:
        _publish(ctx, app, col, plan, template_a=bool(plan.doc and plan.doc.year % 2 == 0))

    def home(req: Request) -> Response | None:
        got = _list_page(app, col, rf"{ldir}home(?:_(\d+))?\.htm", req.path)
        if got is None:
            return None
        k, n, items = got
        lis = "".join(
            f'<li><h4><a href="..{i.url.removeprefix(app.base + "/zhengce")}" target="_blank">{escape(i.title)}</a>'
            f'<span class="date">{i.date}</span></h4></li>'
            for i in items[k * PER : (k + 1) * PER]
        )
        pager = (
            f'<div class="page"><script>var totalPage = {n}; var currentPage = {k};</script></div>'
        )
        return html(
            page(
                "政府信息公开年报_中国政府网",
                f'<div class="list list_1 list_2"><ul>{lis}</ul></div>{pager}',
            ),
            last_modified=epoch(items[0].date) if items else None,
        )

    app.prefix(ldir, home)

    # a JS-rendered list: only the JSON search API gives the entries
    jcol = Column(
        "demo-govcn-bmnb",
        "govcn",
        "国务院部门（示例）",
        "national",
        "000000",
        app.url("/zhengce/bmnb/index.htm"),
        "govcn",
        notes="JS-rendered list; use /search-gov/data JSON",
    )
    jplans = ctx.plan("示例监督管理委员会", [2020, 2021, 2022, 2023, 2024], companion=False)
    for plan in jplans:
        _publish(ctx, app, jcol, plan, template_a=False)
    app.add(
        "/zhengce/bmnb/index.htm",
        html(
            page(
                "部门信息公开年报",
                (
                    '<div class="list" id="list"></div><script src="/images/jquery.js"></script><script>'
                    "$.getJSON('/search-gov/data?t=zhengcelibrary_bm&q=年度报告&p=1&n=5', function(d){/* render */});</script>"
                ),
            )
        ),
    )

    def search(req: Request) -> Response:
        p, n = max(1, int(req.q("p") or 1)), min(int(req.q("n") or 5), 20)
        items = [] if app.listing_empty() else jcol.items
        lst = [
            {
                "title": i.title,
                "url": i.url,
                "pubtimeStr": i.date.replace("-", "."),
                "pcode": "国办",
            }
            for i in items
        ]
        out = {
            "code": 200,
            "searchVO": {
                "totalCount": len(lst),
                "totalpage": max(1, -(-len(lst) // n)),
                "listVO": lst[(p - 1) * n : p * n],
            },
        }
        return Response(
            200, json.dumps(out, ensure_ascii=False).encode(), "application/json;charset=UTF-8"
        )

    app.route("/search-gov/data", search)
    app.add("/", html(page(app.label, f'<a href="{ldir}home.htm">政府信息公开年报</a>')))
    # a 国家疾控局-style list: entries only in a JS array literal (two pages)
    acol = Column(
        "demo-govcn-jkj",
        "govcn",
        "国家示例防控局",
        "national",
        "000000",
        app.url("/jkj/xxgk/ndbg/index.html"),
        "govcn",
        notes="list is a JS array literal `var itemObj = [...]`",
    )
    for plan in ctx.plan("国家示例防控局", [2021, 2022, 2023, 2024]):
        y, m, d = ymd(plan.date)
        path = f"/jkj/xxgk/ndbg/{y}{m}/t{y}{m}{d}_{ctx.next_id(500)}.html"
        url = app.url(path)
        inner = body_of(plan)
        body = f'<h1 class="title">{escape(plan.title)}</h1><div class="TRS_Editor">{inner}</div>'
        publish_detail(app, acol, ctx, plan, path, url, body)

    def item_obj(req: Request) -> Response | None:
        got = _list_page(app, acol, r"/jkj/xxgk/ndbg/index(?:_(\d+))?\.html", req.path)
        if got is None:
            return None
        k, n, items = got
        rows = ",".join(
            f"{{aT:'{i.title}',aPd:'{i.date}',aU:'.{i.url.removeprefix(app.base + '/jkj/xxgk/ndbg')}'}}"
            for i in items[k * PER : (k + 1) * PER]
        )
        script = f'<script>var itemObj = [{rows}];</script><script>createPageHTML({n}, {k}, "index", "html");</script>'
        return html(page("年度报告_国家示例防控局", '<ul class="list" id="list"></ul>' + script))

    app.prefix("/jkj/xxgk/ndbg/", item_obj)
    ctx.columns += [col, jcol, acol]
    target = next(i for i in col.items if i.kind == "report" and i.report and i.report.year == 2023)
    ctx.fault(
        "govcn",
        "truncated",
        target.url,
        "retry after a short body (Content-Length larger than sent)",
        "first attempt sends half the body then closes",
        times=1,
        action="truncate",
    )
    return app


def _publish(ctx: BuildContext, app: SiteApp, col: Column, plan: Plan, template_a: bool) -> Item:
    y, m, _ = ymd(plan.date)
    cid = ctx.next_id(9000) + 6_900_000
    path = (
        f"/zhengce/content/{y}{m}/content_{cid}.htm"
        if template_a
        else f"/zhengce/{y}{m}/content_{cid}.htm"
    )
    url = app.url(path)
    inner = body_of(plan)
    agency = plan.doc.agency if plan.doc else col.agency
    meta_table = ""
    if template_a:
        meta_table = (
            '<table class="bd1" width="100%"><tr><td><b>索  引  号：</b></td><td>'
            f"000014349/{y}-{cid % 100000:05d}</td><td><b>主题分类：</b></td><td>政务公开</td></tr>"
            f"<tr><td><b>发文机关：</b></td><td>{escape(agency)}</td><td><b>成文日期：</b></td><td>{y}年{m}月{int(plan.date[8:10]) - 2:02d}日</td></tr>"
            f'<tr><td><b>标　　题：</b></td><td colspan="3">{escape(plan.title)}</td></tr>'
            f"<tr><td><b>发文字号：</b></td><td></td><td><b>发布日期：</b></td><td>{y}年{m}月{plan.date[8:10]}日</td></tr></table>"
        )
    body = (
        f'{meta_table}<div class="article oneColumn pub_border"><h1 id="ti">{escape(plan.title)}</h1>'
        f'<div class="pages-date">{plan.date[:10]} 10:00 <span class="font">来源：{escape(agency)}</span></div>'
        f'<div class="pages_content" id="UCAP-CONTENT"><div class="trs_editor_view TRS_UEDITOR trs_paper_default">{inner}</div></div></div>'
    )
    app.add(
        path,
        html(
            page(f"{plan.title}_中国政府网", body, meta_for(app, col, plan, url)),
            last_modified=epoch(plan.date),
        ),
    )
    if plan.kind == "report":
        return add_item(col, ctx, plan, url, detail_url=url)
    return add_item(col, ctx, plan, url)


def _list_page(
    app: SiteApp, col: Column, pattern: str, path: str
) -> tuple[int, int, list[Item]] | None:
    """Page k of a gov.cn list (``pattern``'s group is k, none for page 0): (k, the page count,
    all the entries shown); None when ``path`` is no page of it or lies past the end."""
    m = re.fullmatch(pattern, path)
    if not m:
        return None
    k = int(m.group(1) or 0)
    items = [] if app.listing_empty() else col.items
    n = max(1, -(-len(items) // PER))
    return (k, n, items) if k < n else None
