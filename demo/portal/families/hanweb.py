"""Variant 2: Hanweb 大汉 JCMS columns (/col/colN/index.html, <datastore> CDATA, dataproxy.jsp)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from html import escape
from urllib.parse import quote

from ..model import Column, Item, Request, Response, html
from ..reports import TableStyle
from ..site import BuildContext, Plan, SiteApp, epoch, page
from .common import add_item, attachment_bytes, body_of, file_resp, meta_for, ymd

PROXY = "/module/web/jpage/dataproxy.jsp"
EMPTY_DATASTORE = '<?xml version="1.0" encoding="UTF-8"?><datastore/>\n'  # ~50-byte empty reply


@dataclass
class Unit:
    """One jpage unit: a column id, its items and how many records the page embeds."""

    columnid: str  # as sent by the client (may be an opaque blob)
    unitid: str
    items: list[Item] = field(default_factory=list)
    per_page: int = 3


class HanwebSite:
    """Routes for a Hanweb host: column pages and the dataproxy pager."""

    def __init__(self, app: SiteApp, webid: str, require_referer: bool) -> None:
        self.app, self.webid, self.require_referer = app, webid, require_referer
        self.units: dict[str, Unit] = {}
        app.route(PROXY, self.proxy)

    def record(self, it: Item) -> str:
        return (
            f"<li><a href='{it.url.removeprefix(self.app.base)}' title='{escape(it.title)}' target='_blank'>"
            f"{escape(it.shown)}</a><span>{it.date}</span></li>"
        )

    def column_page(self, col: Column, units: list[Unit], encrypted: bool = False) -> None:
        def render(req: Request) -> Response:
            blocks = []
            for u in units:
                items = [] if self.app.listing_empty() else u.items
                recs = "\n".join(
                    f"<record><![CDATA[{self.record(it)}]]></record>" for it in items[: u.per_page]
                )
                nextgroup = (
                    f'<a href="{PROXY}?page=1&appid=1&webid={self.webid}&path=/&columnid={u.columnid}'
                    f'&unitid={u.unitid}&webname={quote(self.app.label)}&permissiontype=0"></a>'
                )
                blocks.append(
                    f'<div id="{u.unitid}"><script type="text/xml"><datastore>\n'
                    f"<nextgroup><![CDATA[{nextgroup}]]></nextgroup>\n<recordset>\n{recs}\n</recordset>\n"
                    "</datastore></script></div>\n"
                    f"<script>$('#{u.unitid}').jpage({{ dataStore: null, totalRecord: {len(items)}, perPage: {u.per_page}, "
                    f"proxyUrl: '{PROXY}', ajaxParam: {{ col: 1, appid: 1, webid: {self.webid}, path: '/', "
                    f"columnid: '{u.columnid}', sourceContentType: 1, unitid: '{u.unitid}', webname: '{self.app.label}', "
                    "permissiontype: 0 } });</script>"
                )
            body = (
                f'<div class="head"><a href="/">{escape(self.app.label)}</a></div>'
                f'<div class="bt-position">当前位置：首页 &gt; 信息公开 &gt; {escape(col.agency)}年报</div>'
                '<div class="main">' + "\n".join(blocks) + "</div>"
                '<script src="/module/web/jpage/jpage.js"></script>'
            )
            return html(page(f"{self.app.label} {col.agency}政府信息公开年报", body))

        self.app.route(col.list_url.removeprefix(self.app.base), render)

    def proxy(self, req: Request) -> Response:
        args = {k: v[0] for k, v in req.query.items()}
        if req.method == "POST":
            args = {**req.form(), **args}
        ref = req.headers.get("Referer", "")
        if self.require_referer and not ref.startswith(self.app.base):
            return html("<html><body>403 Forbidden</body></html>", 403)
        unit = self.units.get(args.get("columnid", "")) or self.units.get(args.get("unitid", ""))
        if unit is None:
            return Response(200, EMPTY_DATASTORE.encode(), "text/xml; charset=UTF-8")
        items = [] if self.app.listing_empty() else unit.items
        per = min(int(args.get("perpage") or unit.per_page), 300)
        if "page" in args:  # `page` wins over startrecord
            p = max(1, int(args["page"] or 1))
            start, end = (p - 1) * unit.per_page, p * unit.per_page
        else:
            start = max(1, int(args.get("startrecord") or 1)) - 1
            end = min(int(args.get("endrecord") or start + per), start + 300)
        chunk = items[start:end]
        if not chunk:
            return Response(200, EMPTY_DATASTORE.encode(), "text/xml; charset=UTF-8")
        recs = "".join(f"<record><![CDATA[{self.record(it)}]]></record>" for it in chunk)
        total_pages = -(-len(items) // unit.per_page)
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?><datastore>'
            f"<totalrecord>{len(items)}</totalrecord><totalpage>{total_pages}</totalpage>"
            f"<recordset>{recs}</recordset></datastore>"
        )
        return Response(200, xml.encode("utf-8"), "text/xml; charset=UTF-8")


def _legacy(markup: str) -> str:
    """温州-style legacy markup: upper-case tags, unquoted attributes."""
    markup = re.sub(
        r"<(/?)(table|tbody|tr|td|p|span|div|b)\b",
        lambda m: f"<{m.group(1)}{m.group(2).upper()}",
        markup,
    )
    return re.sub(
        r'(\s(?:class|align|valign|colspan|rowspan|width|lang))="([^" ]*)"', r"\1=\2", markup
    )


def publish(
    ctx: BuildContext,
    hw: HanwebSite,
    col: Column,
    colid: str,
    plans: list[Plan],
    unit: Unit,
    legacy_year: int | None = None,
    attach_year: int | None = None,
    reachable_from: int | None = None,
) -> None:
    """Register /art/ detail pages for ``plans`` and append their items to ``unit``.

    ``reachable_from``: items from this index on are only listed via dataproxy under /module/
    (robots-disallowed on hanweb-b), so their ground truth is marked unreachable.
    """
    app = hw.app
    for i, plan in enumerate(plans):
        y, m, d = ymd(plan.date)
        aid = ctx.next_id(5000)
        path = f"/art/{y}/{int(m)}/{int(d)}/art_{colid}_{aid}.html"
        url = app.url(path)
        legacy = plan.doc is not None and plan.doc.year == legacy_year
        if legacy and plan.doc:
            plan.doc.style = TableStyle("zoom")
        inner = body_of(plan)
        atts = ""
        kw: dict[str, object] = {}
        if plan.doc and plan.doc.year == attach_year:
            hexname = ctx.hex32()
            show = f"{plan.title}.pdf"
            dl = f"/module/download/downfile.jsp?classid=0&showname={quote(show)}&filename={hexname}.pdf"
            app.add(dl, file_resp(attachment_bytes(plan.doc, "pdf"), "pdf", show, plan.date))
            atts = f'<p>附件：<a href="{escape(dl)}">{escape(show)}</a></p>'
            kw["attachment_url"] = app.url(dl)
        if legacy:
            content = (
                "<DIV id=zoom><!--<$[信息内容]>begin--><!--ZJEG_RSS.content.begin--><META name=ContentStart>"
                + _legacy(inner)
                + "<META name=ContentEnd><!--ZJEG_RSS.content.end--><!--<$[信息内容]>end--></DIV>"
            )
        else:
            content = (
                f'<div id="zoom"><!--<$[信息内容]>begin-->{inner}<!--<$[信息内容]>end--></div>'
            )
        box = (
            '<table class="xxgk_table"><tr><td>索引号：</td><td>'
            f"{y}-{m}-{aid % 100000:05d}</td><td>发布机构：</td><td>{escape(plan.doc.agency if plan.doc else col.agency)}</td></tr>"
            f"<tr><td>生成日期：</td><td>{plan.date[:10]}</td><td>文号：</td><td></td></tr></table>"
        )
        body = f'<div class="head">{escape(app.label)}</div>{box}<div class="bt_content">{content}{atts}</div>'
        # title only in <title>, prefixed with site and column names
        doc = page(
            f"{app.label} {col.agency}年报 {plan.title}", body, meta_for(app, col, plan, url)
        )
        app.add(path, html(doc, last_modified=epoch(plan.date)))
        if plan.kind == "report":
            ok = reachable_from is None or i < reachable_from
            haz = ("legacy_markup",) if legacy else ()
            if not ok:
                haz += ("robots",)
            add_item(col, ctx, plan, url, detail_url=url, reachable=ok, hazards=haz, **kw)
        else:
            add_item(col, ctx, plan, url)
        unit.items.append(col.items[-1])


def build_hanweb(ctx: BuildContext) -> SiteApp:
    """Variant 2: a provincial department site on Hanweb JCMS."""
    app = SiteApp("hanweb", "hanweb", 2, "示例省工业和信息化厅")
    app.base = ctx.bases["hanweb"]
    hw = HanwebSite(app, "3", require_referer=ctx.faults_on)
    ca = _column_proxied(ctx, app, hw)
    cb = _column_two_units(ctx, app, hw)
    cc = _column_encrypted(ctx, app, hw)
    ctx.columns += [ca, cb, cc]
    app.add("/", html(page(app.label, '<a href="/col/col77278/index.html">政府信息公开年报</a>')))
    app.add(
        "/module/web/jpage/jpage.js",
        Response(
            200, b"(function($){$.fn.jpage=function(o){};})(jQuery);", "application/javascript"
        ),
    )
    _hanweb_faults(ctx, app, ca)
    return app


def _column_proxied(ctx: BuildContext, app: SiteApp, hw: HanwebSite) -> Column:
    """Column A: one unit, first 3 records embedded, the rest through dataproxy."""
    ca = Column(
        "demo-hanweb-gxt",
        "hanweb",
        "示例省工业和信息化厅",
        "province",
        "990000",
        app.url("/col/col77278/index.html"),
        "hanweb",
        notes="Hanweb datastore + dataproxy (GET page / POST startrecord)",
    )
    ua = Unit("77278", "301245")
    plans = ctx.plan("示例省工业和信息化厅", [2019, 2020, 2021, 2022, 2023, 2024])
    publish(ctx, hw, ca, "77278", plans, ua, legacy_year=2019, attach_year=2024)
    hw.units[ua.columnid] = ua
    hw.column_page(ca, [ua])
    return ca


def _column_two_units(ctx: BuildContext, app: SiteApp, hw: HanwebSite) -> Column:
    """Column B: two jpage units on one page (current and archived reports)."""
    cb = Column(
        "demo-hanweb-tjj",
        "hanweb",
        "示例省统计局",
        "province",
        "990000",
        app.url("/col/col77301/index.html"),
        "hanweb",
        notes="two jpage units on one page",
    )
    ub1, ub2 = Unit("77301", "301301"), Unit("77302", "301302")
    # one plan for all six years (consecutive reports follow each other), split over the units
    plans = ctx.plan("示例省统计局", [2019, 2020, 2021, 2022, 2023, 2024])
    archived = [p for p in plans if p.kind == "report" and p.doc and p.doc.year <= 2021]
    publish(ctx, hw, cb, "77301", [p for p in plans if p not in archived], ub1)
    publish(ctx, hw, cb, "77302", archived, ub2)
    for u in (ub1, ub2):
        hw.units[u.columnid] = u
    hw.column_page(cb, [ub1, ub2])
    return cb


def _column_encrypted(ctx: BuildContext, app: SiteApp, hw: HanwebSite) -> Column:
    """Column C: encrypted columnid/unitid blobs in <nextgroup>."""
    cc = Column(
        "demo-hanweb-sjj",
        "hanweb",
        "示例省审计厅",
        "province",
        "990000",
        app.url("/col/col77310/index.html"),
        "hanweb",
        notes="encrypted nextgroup parameters",
    )
    blob = base64.b64encode(b"col=77310;salt=9f2c").decode().rstrip("=")
    uc = Unit(blob, base64.b64encode(b"unit=301310").decode().rstrip("="))
    plans = ctx.plan("示例省审计厅", [2020, 2021, 2022, 2023])
    publish(ctx, hw, cc, "77310", plans, uc)
    hw.units[uc.columnid] = uc
    hw.column_page(cc, [uc])
    return cc


def _hanweb_faults(ctx: BuildContext, app: SiteApp, ca: Column) -> None:
    """503s on a detail page, 429 with Retry-After, a Referer check, the empty page past the end."""
    det = next(i for i in ca.items if i.kind == "report" and i.report and i.report.year == 2023)
    ctx.fault(
        "hanweb",
        "http_503",
        det.url,
        "retry then ok",
        "503 on the first two attempts",
        times=2,
        action="status",
        status=503,
    )
    ctx.fault(
        "hanweb",
        "http_429_retry_after",
        app.url(PROXY),
        "wait Retry-After then retry",
        "first dataproxy call answers 429 with Retry-After: 1",
        times=1,
        action="status",
        status=429,
        headers=[("Retry-After", "1")],
    )
    ctx.fault(
        "hanweb",
        "referer_required",
        app.url(PROXY),
        "send Referer = column page",
        "403 without Referer",
    )
    ctx.fault(
        "hanweb",
        "empty_past_end",
        app.url(PROXY + "?page=99&columnid=77278&unitid=301245"),
        "stop on the 54-byte empty datastore",
    )


def build_hanweb_b(ctx: BuildContext) -> SiteApp:
    """A Shandong-style Hanweb city site whose robots.txt disallows /module/."""
    app = SiteApp("hanweb-b", "hanweb", 2, "示例市人民政府办公室")
    app.base = ctx.bases["hanweb-b"]
    hw = HanwebSite(app, "7", require_referer=False)
    col = Column(
        "demo-hanweb-b-bgs",
        "hanweb-b",
        "示例市人民政府办公室",
        "city",
        "990200",
        app.url("/col/col1229001/index.html"),
        "hanweb",
        notes="robots.txt disallows /module/",
    )
    unit = Unit("1229001", "5501", per_page=5)
    plans = ctx.plan("示例市人民政府办公室", [2019, 2020, 2021, 2022, 2023, 2024], gov=True)
    publish(ctx, hw, col, "1229001", plans, unit, reachable_from=5 if ctx.faults_on else None)
    hw.units[unit.columnid] = unit
    hw.column_page(col, [unit])
    ctx.columns.append(col)
    app.add("/", html(page(app.label, '<a href="/col/col1229001/index.html">年报</a>')))
    if ctx.faults_on:
        app.add("/robots.txt", Response(200, b"User-agent: *\nDisallow: /module/\n", "text/plain"))
        ctx.fault(
            "hanweb-b",
            "robots_disallow_module",
            app.url("/robots.txt"),
            "fetch /col/ pages, never /module/ (dataproxy): later records stay unknown",
        )
    return app
