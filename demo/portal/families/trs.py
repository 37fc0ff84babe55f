"""Variant 1: TRS WCM static "t-date" columns (index.html, index_N.html, createPageHTML)."""

from __future__ import annotations

import re
from html import escape

from ...synth import TRS_STYLE
from ..model import Column, Request, Response, html
from ..reports import TableStyle
from ..screenshots import SEED, screenshot
from ..site import STUB_PAST_END, BuildContext, Plan, SiteApp, epoch, info_box, page
from .common import (
    add_item,
    attachment_bytes,
    body_of,
    file_resp,
    meta_for,
    ymd,
)


class TrsColumn:
    """A TRS column directory with static pages and 200 stubs past the last page."""

    def __init__(
        self,
        app: SiteApp,
        col: Column,
        directory: str,
        per_page: int = 4,
        ext: str = "html",
        counter: str = "create",  # "create" → createPageHTML(...); "count" → var countPage
        layout: str = "ul",  # "ul" → ul.gov-com-list; "table" → rows with td.huise
        first_extra: int = 1,
    ) -> None:
        self.app, self.col, self.dir = app, col, directory
        self.per_page, self.ext, self.counter, self.layout, self.first_extra = (
            per_page,
            ext,
            counter,
            layout,
            first_extra,
        )
        app.prefix(directory, self.handle)

    def pages(self) -> int:
        n = 0 if self.app.listing_empty() else len(self.col.items)
        return max(1, -(-n // self.per_page))

    def handle(self, req: Request) -> Response | None:
        rest = req.path[len(self.dir) :]
        if rest in ("", f"index.{self.ext}"):
            return self.render(0)
        m = re.fullmatch(rf"index_(\d+)\.{self.ext}", rest)
        if not m:
            return None
        k = int(m.group(1))
        if k < self.first_extra:
            return None  # e.g. 无锡-style: index_1 is a 404, paging starts at index_2
        idx = k - self.first_extra + 1
        if idx >= self.pages():
            return html(STUB_PAST_END)  # ~300-byte 200 stub past the end
        return self.render(idx)

    def render(self, idx: int) -> Response:
        items = [] if self.app.listing_empty() else self.col.items
        chunk = items[idx * self.per_page : (idx + 1) * self.per_page]
        rows = []
        for it in chunk:
            href = _rel(self.dir, it.url, self.app.base)
            shown = escape(it.shown)
            if self.layout == "ul":
                rows.append(
                    f'<li class="clearfix"><a href="{href}" title="{escape(it.title)}" target="_blank">{shown}</a>'
                    f"<span>{it.date}</span></li>"
                )
            else:
                rows.append(
                    f'<tr><td class="bt"><a href="{href}" title="{escape(it.title)}">{shown}</a></td><td class="huise">{it.date}</td></tr>'
                )
        lst = (
            '<ul class="gov-com-list">\n' + "\n".join(rows) + "\n</ul>"
            if self.layout == "ul"
            else '<table width="100%" class="list-table"><tbody>\n'
            + "\n".join(rows)
            + "\n</tbody></table>"
        )
        n = self.pages()
        pager = (
            f'<script>createPageHTML({n}, {idx}, "index", "{self.ext}");</script>'
            if self.counter == "create"
            else f'<script>var countPage = {n};var currentPage = {idx};</script><div id="page"></div>'
        )
        body = (
            f'<div class="header"><a href="/">{escape(self.app.label)}</a></div>'
            f'<div class="position">当前位置：<a href="/">首页</a> &gt; 政务公开 &gt; {escape(self.col.agency)}年报</div>'
            f'<div class="list">{lst}</div><div class="page">{pager}</div>'
            '<script src="/js/common.js"></script>'
        )
        return html(page(f"{self.col.agency}政府信息公开年报_{self.app.label}", body))


def _rel(directory: str, url: str, base: str) -> str:
    """./YYYYMM/t….html relative to the column dir when on this host, else absolute."""
    if url.startswith(base + directory):
        return "./" + url[len(base + directory) :]
    return url


def detail_page(
    app: SiteApp,
    col: Column,
    plan: Plan,
    url: str,
    attachments: list[tuple[str, str]],
    body: str | None = None,
    meta_charset: str | None = None,
) -> str:
    """TRS detail: #printContent > h1.title, div.source-box, info box, div.TRS_Editor with <style>."""
    y, m, d = ymd(plan.date)
    idx = f"{col.region_code}-{abs(hash(url)) % 100000:05d}/{y}-{int(m) * 7:05d}"
    fj = "".join(f'<p><a href="{h}" target="_blank">{escape(n)}</a></p>' for h, n in attachments)
    inner = body if body is not None else (body_of(plan))
    content = (
        f'<div class="header"><a href="/">{escape(app.label)}</a></div>'
        f'<div id="printContent"><h1 class="title">{escape(plan.title)}</h1>'
        f'<div class="source-box"><span>发布时间：{plan.date[:10]}</span><span>来源：{escape(col.agency)}</span>'
        f"<span>字号：[ 大 中 小 ]</span></div>"
        + info_box(idx, plan.doc.agency if plan.doc else col.agency, plan.date[:10], plan.date)
        + f'<div class="TRS_Editor">{TRS_STYLE}\n{inner}</div>'
        + (f'<div class="fujian">附件：{fj}</div>' if fj else "")
        + "</div>"
    )
    return page(
        f"{plan.title}_{app.label}",
        content,
        meta_for(app, col, plan, url),
        meta_charset=meta_charset,
    )


def publish(
    ctx: BuildContext,
    app: SiteApp,
    col: Column,
    directory: str,
    plans: list[Plan],
    modes: dict[int, str] | None = None,
    reachable: bool = True,
    styles: dict[int, TableStyle] | None = None,
) -> None:
    """Give each plan a t-date URL, register its page(s) and listing item.

    ``modes`` by plan index: "html" (default), "pdf_direct" (H1), "attach_doc" (H2, 详见附件 +
    .doc), "images" (H3), "with_pdf" (HTML + PDF copy), "wrong_meta" (H12 UTF-8 + gb2312 meta).
    """
    modes = modes or {}
    for i, plan in enumerate(plans):
        if styles and plan.doc and plan.doc.year in styles:
            plan.doc.style = styles[plan.doc.year]
        y, m, d = ymd(plan.date)
        month = f"{y}{m}"
        pid = ctx.next_id(900)
        mode = modes.get(i, "html")
        if mode == "pdf_direct":
            path = f"{directory}{month}/P0{y}{m}{d}{pid:09d}.pdf"
            a = _serve(app, path, attachment_bytes(plan.doc, "pdf"), "pdf", plan.date)
            add_item(
                col,
                ctx,
                plan,
                a,
                detail_url=None,
                attachment_url=a,
                content="pdf",
                reachable=reachable,
                hazards=("H1",),
            )
            continue
        path = f"{directory}{month}/t{y}{m}{d}_{pid}.html"
        url = app.url(path)
        atts: list[tuple[str, str]] = []
        body = None
        kw: dict[str, object] = {}
        if plan.kind == "report" and mode == "attach_doc":
            a = _attachment(app, f"{directory}{month}/", f"P0{y}{m}{d}{pid:09d}", plan, "doc", atts)
            body = "<p>详见附件。</p>"
            kw = {"attachment_url": a, "content": "doc", "hazards": ("H2",)}
        elif plan.kind == "report" and mode == "images":
            # The tables only as one screenshot of them (the plan's report is the seed shown).
            fname = f"W0{y}{m}{d}{pid:08d}0.png"
            a = _serve(app, directory + month + "/" + fname, screenshot(SEED), "png", plan.date)
            img = f'<p style="text-align:center"><img src="./{fname}" border="0" alt=""></p>'
            body = "".join(f"<p>{escape(p)}</p>" for p in plan.doc.intro) + img
            kw = {"content": "images", "hazards": ("H3",), "attachment_url": a}
        elif plan.kind == "report" and mode == "with_pdf":
            a = _attachment(app, f"{directory}{month}/", f"P0{y}{m}{d}{pid:09d}", plan, "pdf", atts)
            kw = {"attachment_url": a}
        meta_cs = "gb2312" if mode == "wrong_meta" else None
        if mode == "wrong_meta":
            kw["hazards"] = ("H12",)
        doc_html = detail_page(app, col, plan, url, atts, body, meta_charset=meta_cs)
        app.add(path, html(doc_html, last_modified=epoch(plan.date)))
        if plan.kind == "report":
            kw.setdefault("content", "html")
            add_item(col, ctx, plan, url, detail_url=url, reachable=reachable, **kw)
        else:
            add_item(col, ctx, plan, url)


def _attachment(
    app: SiteApp, folder: str, stem: str, plan: Plan, ext: str, atts: list[tuple[str, str]]
) -> str:
    """Serve the plan's report as ``folder/stem.ext``, list it in ``atts`` (relative link,
    shown name) for the page; its absolute URL."""
    assert plan.doc is not None
    atts.append((f"./{stem}.{ext}", f"{plan.title}.{ext}"))
    return _serve(app, f"{folder}{stem}.{ext}", attachment_bytes(plan.doc, ext), ext, plan.date)


def _serve(app: SiteApp, path: str, data: bytes, ext: str, date: str) -> str:
    """Serve a file at ``path`` (Last-Modified of ``date``); its absolute URL."""
    app.add(path, file_resp(data, ext, date=date))
    return app.url(path)


def _with_screenshot_report(ctx: BuildContext, plans: list[Plan], year: int) -> list[Plan]:
    """``plans`` with the ``year`` report replaced by the seed whose tables the committed
    screenshot shows (H3: a report posted only as an image, with exact ground truth).

    Its date is fixed rather than drawn, so the portal's random stream, and with it every
    other page of every site, stays the same.
    """
    doc = ctx.seed_doc(SEED)
    out = [p for p in plans if not (p.doc and p.doc.year == year)]
    out.append(Plan("report", doc.title, f"{doc.year + 1}-02-16", doc))
    out.sort(key=lambda p: p.date, reverse=True)
    return out


def build_trs(ctx: BuildContext) -> SiteApp:
    """Variant 1: a city portal on TRS with a 政府年报 column and two department columns."""
    app = SiteApp("trs", "trs", 1, "示例市人民政府")
    app.base = ctx.bases["trs"]
    cols = []
    # 政府年报 (the government's own reports): createPageHTML, .html, ul.gov-com-list
    c1 = Column(
        "demo-trs-szf",
        "trs",
        "示例市人民政府",
        "city",
        "990100",
        app.url("/zwgk/zfxxgk/zfxxgknb/szf/index.html"),
        "trs",
        notes="TRS createPageHTML; pre-2019 report; PDF copy attached",
    )
    plans = ctx.plan("示例市人民政府", [2017, 2019, 2020, 2021, 2022, 2023], gov=True)
    modes = {i: "with_pdf" for i, p in enumerate(plans) if p.doc and p.doc.year == 2022}
    publish(ctx, app, c1, "/zwgk/zfxxgk/zfxxgknb/szf/", plans, modes)
    TrsColumn(app, c1, "/zwgk/zfxxgk/zfxxgknb/szf/")
    cols.append(c1)
    # 发改委: var countPage, .shtml, table rows with td.huise; a direct PDF (H1)
    c2 = Column(
        "demo-trs-fgw",
        "trs",
        "示例市发展和改革委员会",
        "city",
        "990100",
        app.url("/zwgk/zfxxgk/zfxxgknb/fgw/index.shtml"),
        "trs",
        notes="TRS var countPage, .shtml, td.huise rows; one report only as PDF (H1)",
    )
    plans = ctx.plan("示例市发展和改革委员会", [2019, 2020, 2021, 2022, 2023])
    h1 = next(i for i, p in enumerate(plans) if p.doc and p.doc.year == 2021)
    wrong = next(i for i, p in enumerate(plans) if p.doc and p.doc.year == 2023)
    publish(
        ctx,
        app,
        c2,
        "/zwgk/zfxxgk/zfxxgknb/fgw/",
        plans,
        {h1: "pdf_direct", **({wrong: "wrong_meta"} if ctx.faults_on else {})},
        styles={
            2022: TableStyle(quirks=("split_headers", "trailing_filler")),
            2020: TableStyle(quirks=("flat_appeals",)),
        },
    )
    TrsColumn(app, c2, "/zwgk/zfxxgk/zfxxgknb/fgw/", ext="shtml", counter="count", layout="table")
    cols.append(c2)
    # 教育局: 详见附件 .doc (H2), screenshots (H3); paging starts at index_2 (intertid-style)
    c3 = Column(
        "demo-trs-jyj",
        "trs",
        "示例市教育局",
        "city",
        "990100",
        app.url("/zwgk/zfxxgk/zfxxgknb/jyj/"),
        "trs",
        notes="TRS bare directory URL; first extra page is index_2; 详见附件 .doc (H2); images only (H3)",
    )
    plans = _with_screenshot_report(
        ctx, ctx.plan("示例市教育局", [2020, 2021, 2022, 2023, 2024], blanks_year=2022), 2020
    )
    att = next(i for i, p in enumerate(plans) if p.doc and p.doc.year == 2021)
    img = next(i for i, p in enumerate(plans) if p.doc and p.doc.source == f"seed:{SEED}")
    publish(
        ctx,
        app,
        c3,
        "/zwgk/zfxxgk/zfxxgknb/jyj/",
        plans,
        {att: "attach_doc", img: "images"},
        styles={2022: TableStyle(quirks=("missing_trailing",))},
    )
    TrsColumn(app, c3, "/zwgk/zfxxgk/zfxxgknb/jyj/", first_extra=2)
    cols.append(c3)
    ctx.columns += cols
    app.add(
        "/",
        html(
            page(
                app.label,
                '<div class="nav"><a href="/zwgk/zfxxgk/zfxxgknb/szf/index.html">政府信息公开年报</a></div>',
            )
        ),
    )
    app.add(
        "/js/common.js",
        Response(200, b"function createPageHTML(n,c,s,e){}", "application/javascript"),
    )
    if ctx.faults_on:  # 加速乐-style 109-byte anti-bot shell in front of a column (H7)
        jsl = Column(
            "demo-trs-jsl",
            "trs",
            "示例市审计局",
            "city",
            "990100",
            app.url("/zwgk/zfxxgk/zfxxgknb/sjj/index.html"),
            "trs",
            notes="anti-bot shell (加速乐 __jsl_clearance)",
        )
        shell = '<html><script>document.cookie="__jsl_clearance=170000000.1|0";location.href=location.pathname</script></html>'
        app.add("/zwgk/zfxxgk/zfxxgknb/sjj/index.html", html(shell, 521))
        ctx.columns.append(jsl)
        ctx.fault(
            "trs",
            "antibot_shell",
            jsl.list_url,
            "blocked (tiny JS cookie shell, 521), not 'no reports'",
        )
    ctx.fault(
        "trs",
        "stub_past_end",
        app.url("/zwgk/zfxxgk/zfxxgknb/szf/index_5.html"),
        "stop paging on a small 200 stub",
    )
    ctx.fault(
        "trs",
        "http_500",
        app.url("/zwgk/zfxxgk/zfxxgknb/szf/index_1.html"),
        "retry then ok",
        "500 on the first attempt",
        times=1,
        action="status",
        status=500,
    )
    ctx.fault(
        "trs",
        "wrong_charset",
        next((i.url for i in c2.items if i.report and "H12" in i.report.hazards), ""),
        "decode by the header charset (utf-8), not the gb2312 <meta>",
    )
    ctx.fault(
        "trs",
        "conditional_get",
        app.url("/zwgk/zfxxgk/zfxxgknb/szf/index.html"),
        "304 on If-None-Match/If-Modified-Since (all static pages carry ETag and Last-Modified)",
    )
    return app


def build_trs_blocked(ctx: BuildContext, name: str, label: str, kind: str) -> SiteApp:
    """A small TRS host behind an anti-bot wall or robots.txt (faults off: an ordinary site)."""
    app = SiteApp(name, "trs", 1, label)
    app.base = ctx.bases[name]
    blocked = ctx.faults_on
    agency = label
    col = Column(
        f"demo-{name}",
        name,
        agency,
        "national" if kind == "rs" else "county",
        "990000" if kind == "rs" else "990105",
        app.url("/zfxxgk/zfxxgkndbg/index.html"),
        "trs",
        notes=f"blocked host ({kind})" if blocked else "",
    )
    plans = ctx.plan(agency, [2021, 2022, 2023, 2024], gov=kind != "rs")
    publish(ctx, app, col, "/zfxxgk/zfxxgkndbg/", plans, reachable=not blocked)
    TrsColumn(app, col, "/zfxxgk/zfxxgkndbg/", per_page=3)
    ctx.columns.append(col)
    app.add(
        "/", html(page(label, '<a href="/zfxxgk/zfxxgkndbg/index.html">政府信息公开年度报告</a>'))
    )
    if kind == "robots" and blocked:
        app.add("/robots.txt", Response(200, b"User-agent: *\nDisallow: /\n", "text/plain"))
        ctx.fault(
            name,
            "robots_disallow_all",
            app.url("/robots.txt"),
            "robots_disallowed: fetch nothing but robots.txt",
        )
    elif kind == "rs" and blocked:
        app.guard = _rs_guard
        ctx.fault(name, "challenge_412", app.base, "blocked (瑞数 412 challenge), not 'no reports'")
    elif kind == "yunsuo" and blocked:
        app.guard = _yunsuo_guard
        ctx.fault(name, "yunsuo", app.base, "blocked (云锁 cookie/JS reload), not 'no reports'")
    return app


def _rs_guard(req: Request) -> tuple[str, Response | None] | None:
    if req.path == "/robots.txt":
        return None
    body = (
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '<meta id="9DhefwqGPrzGxEp9hPaoag" content="ZxGRQJ3w.kZvO3tCzdCvU1oSpe7WrXgVnE7aU_Xrv5wDT3yjMZgQj9w" r="m">'
        '<script type="text/javascript" r="m">$_ts=window[\'$_ts\'];if(!$_ts)$_ts={};$_ts.nsd=84893;'
        '$_ts.cd="qhzcrrAlqGWzrGAlqGL0cGqqcAlqDGLcpqGcrAZnqAqqcG0ZEalqqs";</script>'
        '<script type="text/javascript" charset="utf-8" src="/4QbVtADbnLVIc/d.FxJzG50F.dfe1675.js" r="m"></script>'
        "</head><body></body></html>"
    )
    return "challenge_412", html(
        body, 412, headers=[("Set-Cookie", "FSSBBIl1UgzbN7N80S=8k2JjPmw1Xr0; Path=/; HttpOnly")]
    )


def _yunsuo_guard(req: Request) -> tuple[str, Response | None] | None:
    if req.path == "/robots.txt" or req.cookies.get("security_session_mid_verify"):
        return None
    if req.q("security_verify_data") and req.cookies.get("yunsuo_session_verify"):
        # the JS would now get the mid cookie; a crawler must not play along, but browsers do
        target = bytes.fromhex(req.cookies.get("srcurl", "2f")).decode("utf-8", "replace")
        return "yunsuo", Response(
            302,
            b"",
            "text/html",
            [("Set-Cookie", "security_session_mid_verify=5c6e2b; Path=/"), ("Location", target)],
        )
    src = req.target.encode().hex()
    body = (
        '<html><head><meta charset="utf-8"></head><body><script type="text/javascript">'
        'function stringToHex(str){var val="";for(var i=0;i<str.length;i++){val+=str.charCodeAt(i).toString(16);}return val;}'
        'function YunSuoAutoJump(){var width=screen.width;var height=screen.height;var screendate=width+","+height;'
        'var curlocation=window.location.href;if(-1==curlocation.indexOf("security_verify_")){'
        f'document.cookie="srcurl={src};path=/;";}}'
        'self.location="?security_verify_data="+stringToHex(screendate);}</script>'
        '<script>setTimeout("YunSuoAutoJump()",50);</script></body></html>'
    )
    return "yunsuo", html(
        body,
        200,
        headers=[
            (
                "Set-Cookie",
                "yunsuo_session_verify=2a87ab507187674302f32bbc33248be8; expires=Fri, 01-Jan-2038 00:00:00 GMT; path=/; HttpOnly",
            )
        ],
    )
