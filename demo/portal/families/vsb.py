"""Variant 6: VSB / 博达 columns (xxgknb.htm, then count-down page files xxgknb/N.htm)."""

from __future__ import annotations

import re
from html import escape

from ..model import Column, Item, Request, Response, html
from ..site import BuildContext, Plan, SiteApp, epoch, page
from .common import add_item, attachment_bytes, body_of, file_resp

PER = 4
COLUMN_ID = "1517"


def build_vsb(ctx: BuildContext) -> SiteApp:
    """Variant 6: a county portal's 部门年报 column; page numbers count down."""
    app = SiteApp("vsb", "vsb", 6, "鲁示县人民政府")
    app.base = ctx.bases["vsb"]
    col = Column(
        "demo-vsb",
        "vsb",
        "鲁示县人民政府",
        "county",
        "990600",
        app.url("/xxgk/xxgknb.htm"),
        "vsb",
        notes="VSB count-down pages (xxgknb/N.htm); items move between pages as the column grows",
    )
    plans = ctx.plan("鲁示县农业农村局", [2019, 2020, 2022, 2023], seeds=["004"])
    plans += ctx.plan("鲁示县交通运输局", [2021, 2022, 2024], guide=False, companion=False)
    plans.sort(key=lambda p: p.date, reverse=True)

    def publish(plan: Plan) -> Item:
        aid = ctx.next_id(3000)
        path = f"/info/{COLUMN_ID}/{aid}.htm"
        url = app.url(path)
        inner = body_of(plan)
        kw: dict[str, object] = {}
        if plan.doc and plan.doc.source == "seed:004":
            inner = f'<div id="printContent" style="display:none">{inner}</div>{inner}'  # print + screen copy (H14)
            kw["hazards"] = ("H14",)
        if plan.doc and plan.doc.year == 2020:
            dl = f"/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=1372{aid}&wbfileid={aid * 7}"
            app.add(
                dl,
                file_resp(
                    attachment_bytes(plan.doc, "docx"), "docx", f"{plan.title}.docx", plan.date
                ),
            )
            inner += f'<ul style="list-style-type:none;">附件【<a href="{escape(dl)}" target="_blank">{escape(plan.title)}.docx</a>】</ul>'
            kw["attachment_url"] = app.url(dl)
        metas = (
            f'<META Name="ColumnName" Content="政府信息公开年报"><META Name="ArticleTitle" Content="{escape(plan.title)}">'
            f'<META Name="PubDate" Content="{plan.date[:10]} 09:00"><META Name="Description" Content="{escape(plan.title)}">'
        )
        body = (
            f'<form name="_newscontent_fromname"><div class="content-title"><h3>{escape(plan.title)}</h3>'
            f"<i>发布时间：{plan.date[:10]}</i></div>"
            f'<div id="vsb_content"><div class="v_news_content">{inner}</div></div></form>'
        )
        app.add(path, html(page(plan.title, body, metas), last_modified=epoch(plan.date)))
        if plan.kind == "report":
            return add_item(col, ctx, plan, url, detail_url=url, **kw)
        return add_item(col, ctx, plan, url)

    for plan in plans:
        publish(plan)

    def grow() -> Item:
        """Publish a new report at the top (items shift between count-down pages)."""
        doc = ctx.factory(ctx.rng, "鲁示县水利局", 2025)
        item = publish(Plan("report", doc.title, "2026-01-15", doc))
        col.items.remove(item)
        col.items.insert(0, item)
        return item

    app.grow = grow  # type: ignore[attr-defined]

    def listing(req: Request) -> Response | None:
        items = [] if app.listing_empty() else col.items
        n = max(1, -(-len(items) // PER))
        if req.path == "/xxgk/xxgknb.htm":
            k, idx, prefix = n, 0, "xxgknb/"
        else:
            m = re.fullmatch(r"/xxgk/xxgknb/(\d+)\.htm", req.path)
            if not m:
                return None
            k = int(m.group(1))
            if not 1 <= k < n:
                return None
            idx, prefix = n - k, ""
        chunk = items[idx * PER : (idx + 1) * PER]
        up = "../" if req.path == "/xxgk/xxgknb.htm" else "../../"
        lis = "".join(
            f'<li><a href="{up}{i.url.removeprefix(app.base + "/")}"><span>{escape(i.shown)}</span><i>{i.date}</i></a></li>'
            for i in chunk
        )
        nav = f'<span class="p_pages">共{len(items)}条 {idx + 1}/{n}</span>'
        if k > 1:
            nav += f'<span class="p_next p_fun"><a href="{prefix}{k - 1}.htm">下页</a></span>'
        return html(
            page(
                "政府信息公开年报-鲁示县人民政府",
                f'<div class="list"><ul>{lis}</ul></div><div class="pb_sys_common">{nav}</div>',
            )
        )

    app.prefix("/xxgk/", listing)
    app.add("/", html(page(app.label, '<a href="xxgk/xxgknb.htm">政府信息公开年报</a>')))
    ctx.columns.append(col)
    target = next(i for i in col.items if i.kind == "report" and i.report and i.report.year == 2022)
    ctx.fault(
        "vsb",
        "stall",
        target.url,
        "time out, then retry and succeed",
        "first attempt stalls stall_seconds before answering",
        times=1,
        action="stall",
    )
    return app
