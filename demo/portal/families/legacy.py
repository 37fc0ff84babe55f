"""Variant 10: the legacy long tail (GBK table layouts, JS/meta shells, iframes, dead and looping
registry URLs) and the off-registry spam mirror host (H13b)."""

from __future__ import annotations

import uuid
from html import escape

from ..model import Column, Item, Request, Response, html
from ..reports import TableStyle, render_body, synth_report
from ..site import BuildContext, Plan, SiteApp, epoch, page
from .common import add_item, attach, attachment_bytes, body_of, file_resp, ymd

CS = "gbk"
META_CS = "gb2312"
PER = 4


def _gbk(text: str, meta: bool = True, last_modified: float | None = None) -> Response:
    """GBK bytes, charset only in <meta> (or nowhere), no charset in the Content-Type header."""
    if not meta:
        text = text.replace(
            f'<meta http-equiv="Content-Type" content="text/html; charset={META_CS}">\n', ""
        )
    return html(text, charset=CS, header_charset=None, last_modified=last_modified)


def build_legacy(ctx: BuildContext) -> SiteApp:
    """Variant 10: an old county site (GBK, table layout, two lists, shells, odd attachments)."""
    app = SiteApp("legacy", "legacy", 10, "黔示县人民政府")
    app.base = ctx.bases["legacy"]
    app.error_charset = "iso-8859-1"
    mirror = ctx.bases["mirror"]
    col = Column(
        "demo-legacy",
        "legacy",
        "黔示县人民政府",
        "county",
        "991000",
        app.url("/xxgk/"),
        "legacy",
        notes="JS location.replace shell → table layout, two lists (#in_list, #in_zfnb); GBK via <meta> only",
    )
    dept = ctx.plan("黔示县财政局", [2016, 2019, 2020, 2021, 2023], companion=False)
    dept += ctx.plan("黔示县林业局", [2017, 2022, 2024], guide=False, companion=False)
    dept.sort(key=lambda p: p.date, reverse=True)
    gov = ctx.plan("黔示县人民政府", [2021, 2022, 2023], gov=True, guide=False)
    dept_items: list[Item] = []
    gov_items: list[Item] = []
    for k, plan in enumerate(dept):
        dept_items.append(_publish(ctx, app, col, plan, aspnet=k % 2 == 0, no_meta=k == 3))
    for plan in gov:
        gov_items.append(_publish(ctx, app, col, plan, aspnet=False, no_meta=False))
    if ctx.faults_on:
        src = next(i for i in gov_items if i.report and i.report.year == 2022)
        mirror_url = f"{mirror}/zwgk/xxgkndbg/202111/t20211118_1337823.html"
        off = Item(src.title + "（转载）", mirror_url, src.date, "offsite")
        p1 = Item(
            "黔示县龙潭乡2017年政府信息公开工作年度报告",
            "http://10.0.0.1:8080/pub/ltqxxgkw/ndbg/201803/t20180314_407316.html",
            "2018-03-14",
            "private",
        )
        p2 = Item(
            "黔示县城关镇2016年政府信息公开年报",
            "http://192.168.1.1/xxgk/ndbg/2016.htm",
            "2017-03-20",
            "private",
        )
        gov_items += [off]
        dept_items += [p1, p2]
        col.items += [off, p1, p2]
        ctx.fault(
            "legacy",
            "offsite_link",
            mirror_url,
            "never fetch: host not in the registry",
            "listed in #in_zfnb",
        )
        ctx.fault(
            "legacy", "private_link", p1.url, "never fetch: private address", "listed in #in_list"
        )
        ctx.fault(
            "legacy", "private_link", p2.url, "never fetch: private address", "listed in #in_list"
        )

    def listing(req: Request) -> Response | None:
        name = req.path.rsplit("/", 1)[1]
        if name not in ("", "index.htm") and not (
            name.startswith("index_") and name.endswith(".htm")
        ):
            return None
        k = 1 if name in ("", "index.htm") else int(name[6:-4])
        items = [] if app.listing_empty() else dept_items
        n = max(1, -(-len(items) // PER))
        if not 1 <= k <= n:
            return None
        rows = "".join(
            f'<tr><td class="cn4" width="80%">·<a href="{i.url.removeprefix(app.base)}" target="_blank">{escape(i.title)}</a></td>'
            f'<td class="cn4">{i.date}</td></tr>'
            for i in items[(k - 1) * PER : k * PER]
        )
        zf = "".join(
            f'<tr><td class="cn4"><a href="{i.url.removeprefix(app.base)}">{escape(i.title)}</a></td><td>[{i.date}]</td></tr>'
            for i in ([] if app.listing_empty() else gov_items)
        )
        nav = f"共{n}页 " + (f'<a href="index_{k + 1}.htm">下一页</a>' if k < n else "")
        body = (
            '<table width="1003" border="0" align="center" cellpadding="0" cellspacing="0"><tr>'
            '<td width="700" valign="top"><table width="100%" id="in_list"><tr><td class="title">部门年报</td></tr>'
            f'{rows}</table><div class="fy">{nav}</div></td>'
            f'<td width="303" valign="top"><table width="100%" id="in_zfnb"><tr><td class="title">政府年报</td></tr>{zf}</table></td>'
            "</tr></table>"
        )
        return _gbk(page("黔示县人民政府-政府信息公开年报", body, meta_charset=META_CS))

    app.prefix("/xxgk/nb/", listing)
    app.add(
        "/xxgk/",
        _gbk(
            '<html><head><script language="javascript">location.replace("/xxgk/nb/index.htm");</script></head><body></body></html>'
        ),
    )

    # a second column: meta refresh → iframe shell → list without dates
    fcol = Column(
        "demo-legacy-jyj",
        "legacy",
        "黔示县教育局",
        "county",
        "991000",
        app.url("/zfxxgk/"),
        "legacy",
        notes="meta refresh shell → iframe → list without dates",
    )
    for plan in ctx.plan("黔示县教育局", [2018, 2020, 2022, 2023]):
        _publish(ctx, app, fcol, plan, aspnet=True, no_meta=False)
    for it in fcol.items:
        it.date = ""
    app.add(
        "/zfxxgk/",
        _gbk(
            '<html><head><meta http-equiv="refresh" content="0;url=/zfxxgk/frame.htm"></head><body></body></html>'
        ),
    )
    app.add(
        "/zfxxgk/frame.htm",
        _gbk(
            page(
                "教育局信息公开",
                '<iframe src="/zfxxgk/list_frame.htm" width="100%" height="800" frameborder="0"></iframe>',
                meta_charset=META_CS,
            )
        ),
    )

    def frame_list(req: Request) -> Response:
        items = [] if app.listing_empty() else fcol.items
        lis = "".join(
            f'<li><a href="{i.url.removeprefix(app.base)}" target="_blank">{escape(i.title)}</a></li>'
            for i in items
        )
        return _gbk(page("list", f"<ul>{lis}</ul>", meta_charset=META_CS))

    app.route("/zfxxgk/list_frame.htm", frame_list)
    app.add(
        "/",
        _gbk(
            page(
                app.label,
                '<a href="/xxgk/">信息公开</a> <a href="/zfxxgk/">教育局</a>',
                meta_charset=META_CS,
            )
        ),
    )
    ctx.columns += [col, fcol]
    ctx.fault(
        "legacy",
        "gbk_no_charset_header",
        col.list_url,
        "decode GBK from <meta> (header has no charset)",
    )
    nometa = next((i for i in col.items if i.report and "no_meta" in i.report.hazards), None)
    if nometa:
        ctx.fault(
            "legacy", "gbk_no_meta", nometa.url, "detect GBK with neither header nor <meta> charset"
        )
    ctx.fault(
        "legacy", "error_iso_8859_1", app.url("/no-such-page.htm"), "404 pages come in iso-8859-1"
    )
    if ctx.faults_on:
        # registry URL behind a working redirect chain
        fcol.list_url = app.url("/zfxxgk-old/")
        app.add("/zfxxgk-old/", Response(301, b"", "text/html", [("Location", "/zfxxgk-2019/")]))
        app.add(
            "/zfxxgk-2019/", Response(302, b"", "text/html", [("Location", app.url("/zfxxgk/"))])
        )
        ctx.fault(
            "legacy", "redirect_chain", fcol.list_url, "follow 301 → 302 → meta refresh → iframe"
        )
        # a moved host whose chain ends in 404, and a redirect loop (H10)
        moved = Column(
            "demo-legacy-moved",
            "legacy",
            "黔示县住房和城乡建设局",
            "county",
            "991000",
            app.url("/bjhd/zfxxgknb/"),
            "legacy",
            notes="path drift: 301 chain ends in 404",
        )
        app.add(
            "/bjhd/zfxxgknb/",
            Response(301, b"", "text/html", [("Location", "/zyk/jbdt/zfxxgknb/")]),
        )
        app.add(
            "/zyk/jbdt/zfxxgknb/",
            Response(301, b"", "text/html", [("Location", "/zyk/jbdt/zfxxgknb/2024/")]),
        )
        loop = Column(
            "demo-legacy-loop",
            "legacy",
            "黔示县水务局",
            "county",
            "991000",
            app.url("/loop/a.htm"),
            "legacy",
            notes="redirect loop",
        )
        app.add("/loop/a.htm", Response(302, b"", "text/html", [("Location", "/loop/b.htm")]))
        app.add("/loop/b.htm", Response(302, b"", "text/html", [("Location", "/loop/a.htm")]))
        ctx.columns += [moved, loop]
        ctx.fault(
            "legacy",
            "redirect_to_404",
            moved.list_url,
            "record the column as gone (301 → 301 → 404)",
        )
        ctx.fault(
            "legacy", "redirect_loop", loop.list_url, "stop after a bounded number of redirects"
        )
    return app


def _publish(
    ctx: BuildContext, app: SiteApp, col: Column, plan: Plan, aspnet: bool, no_meta: bool
) -> Item:
    y, m, d = ymd(plan.date)
    if aspnet:
        path = f"/News/Detail/{uuid.UUID(int=ctx.rng.getrandbits(128))}.html"
    else:
        path = f"/xxgk/nb/{y}{m}/{y}{m}{d}{ctx.next_id(90):05d}.htm"
    url = app.url(path)
    if plan.doc:
        plan.doc.style = TableStyle("clean")
    inner = body_of(plan)
    kw: dict[str, object] = {}
    hz: list[str] = []
    year = plan.doc.year if plan.doc else 0
    if plan.doc and year == 2019 and col.portal_id == "demo-legacy":  # 详见附件 with a docx (H2)
        a = f"/uploadfile/{y}{m}/{ctx.next_id(50)}.docx"
        app.add(
            a,
            file_resp(attachment_bytes(plan.doc, "docx"), "docx", f"{plan.title}.docx", plan.date),
        )
        inner = f'<p>{escape(plan.title)}详见附件。</p><p>附件：<a href="{a}">{escape(plan.title)}.docx</a></p>'
        kw = {"attachment_url": app.url(a), "content": "docx"}
        hz.append("H2")
    elif plan.doc and year == 2020:
        for ext in ("wps", "ofd", "zip"):
            a = f"/uploadfile/{y}{m}/{ctx.next_id(50)}.{ext}"
            inner, _ = attach(app, plan, a, ext, inner)
    elif (
        plan.doc
        and year == 2023
        and col.portal_id == "demo-legacy"
        and plan.doc.agency.endswith("财政局")
    ):
        # H13a: injected token in the contact line and a hidden block of links
        inner = inner.replace(
            "办公室联系。", "办公室联系（地址：黔示县府前路1号mobile28365-365_bt365）。", 1
        )
        inner += (
            '<div style="display:none"><a href="http://casino.invalid/">bet365</a>'
            '<a href="http://casino.invalid/2">mobile28365</a></div>'
        )
        hz.append("H13a")
    if no_meta:
        hz.append("no_meta")
    container = "td" if aspnet else "div"
    content = (
        f'<td class="heise" id="content">{inner}</td>'
        if container == "td"
        else f'<div class="content">{inner}</div>'
    )
    body = (
        '<table width="1003" align="center"><tr><td class="cn4" align="center">'
        f"<b>{escape(plan.title)}</b></td></tr><tr><td>发布时间：{plan.date[:10]}</td></tr>"
        + (f"<tr>{content}</tr>" if container == "td" else f"<tr><td>{content}</td></tr>")
        + "</table>"
    )
    app.add(
        path,
        _gbk(
            page(plan.title, body, meta_charset=META_CS),
            meta=not no_meta,
            last_modified=epoch(plan.date),
        ),
    )
    if plan.kind == "report":
        kw.setdefault("content", "html")
        return add_item(col, ctx, plan, url, detail_url=url, hazards=tuple(hz), **kw)
    return add_item(col, ctx, plan, url)


_TRAD = str.maketrans(
    "报开务门县规范请处总计结数况复诉讼议织认发间财据统项种会关经济业类权设实现体还这进与对时为从"
    "员应决达专单东电乡镇区书长问题尽转级网",
    "報開務門縣規範請處總計結數況復訴訟議織認發間財據統項種會關經濟業類權設實現體還這進與對時為從"
    "員應決達專單東電鄉鎮區書長問題盡轉級網",
)


def build_mirror(ctx: BuildContext) -> SiteApp:
    """H13b: a spam mirror on a non-government host (never in the registry)."""
    app = SiteApp("mirror", "mirror", 0, "新葡京娱乐城", in_registry=False)
    app.base = ctx.bases["mirror"]
    doc = synth_report(ctx.rng, "黔示县人民政府", 2022)
    body = render_body(doc).translate(_TRAD)
    for word, py in (("公开", "公(gong)開(kai)"), ("政府", "政(zheng)府(fu)")):
        body = body.replace(word.translate(_TRAD), py, 3)
    title = "澳门新葡京-免费下载app-" + doc.title.translate(_TRAD)
    app.add(
        "/zwgk/xxgkndbg/202111/t20211118_1337823.html",
        html(page(title, f'<h1>{escape(title)}</h1><div class="TRS_Editor">{body}</div>')),
    )
    app.add("/", html(page(app.label, "<p>欢迎光临</p>")))
    return app
