"""Building blocks shared by the site families: the per-site app (routes), the build context
(ids, dates, ground truth, fault registration) and common page fragments."""

from __future__ import annotations

import calendar
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from nianbao.transform import catalogue

from .. import series
from .model import Column, ExpectedReport, Fault, Request, Response, html
from .reports import ReportDoc, load_seed_reports, synth_report

if TYPE_CHECKING:
    from .server import Portal

Handler = Callable[[Request], Response | None]
# (rng, agency, report year, blanks=…) -> ReportDoc; the default is reports.synth_report
ReportFactory = Callable[..., ReportDoc]
# a guard returns (fault kind, response) to intercept a request; response None = connection reset
Guard = Callable[[Request], tuple[str, Response | None] | None]


def _norm(target: str) -> str:
    """Path plus sorted, re-encoded query: the key of static pages."""
    path, _, query = target.partition("?")
    if not query:
        return path
    return path + "?" + urlencode(sorted(parse_qsl(query, keep_blank_values=True)))


def epoch(date: str) -> float:
    """'YYYY-MM-DD[ HH:MM]' (Beijing time) → epoch seconds, for Last-Modified."""
    d, _, t = date.partition(" ")
    y, m, dd = (int(x) for x in d.split("-"))
    hh, mm = (int(x) for x in (t or "09:30").split(":"))
    return calendar.timegm((y, m, dd, hh - 8, mm, 0))


class SiteApp:
    """Routes of one simulated host: static pages by target, handlers by path or prefix."""

    def __init__(
        self, name: str, family: str, variant: int, label: str, in_registry: bool = True
    ) -> None:
        self.name = name
        self.family = family
        self.variant = variant
        self.label = label
        self.in_registry = in_registry
        self.base = ""
        self.portal: Portal | None = None
        self.pages: dict[str, Response] = {}
        self.routes: dict[str, Handler] = {}
        self.prefixes: list[tuple[str, Handler]] = []
        self.guard: Guard | None = None  # host-wide hazard (anti-bot, WAF), only with faults on
        self.error_charset = "utf-8"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, resp: Response) -> None:
        """A static page at ``path`` (a query string, if any, matches in any parameter order)."""
        self.pages[_norm(path)] = resp

    def route(self, path: str, fn: Handler) -> None:
        self.routes[path] = fn

    def prefix(self, prefix: str, fn: Handler) -> None:
        self.prefixes.append((prefix, fn))

    def listing_empty(self) -> bool:
        """True after ``portal.empty_listing(site)``: listings and list APIs show no entries."""
        return bool(self.portal and self.name in self.portal._empty)

    def dispatch(self, req: Request) -> Response | None:
        resp = self.pages.get(_norm(req.target))
        if resp is None and req.path in self.routes:
            resp = self.routes[req.path](req)
        if resp is None and req.raw_query:
            resp = self.pages.get(req.path)
        if resp is None:
            for pre, fn in self.prefixes:
                if req.path.startswith(pre):
                    resp = fn(req)
                    if resp is not None:
                        break
        return resp

    def not_found(self) -> Response:
        if self.error_charset == "iso-8859-1":  # H12: error page in iso-8859-1
            body = "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL was not found on this server.</p><hr><address>Apache/2.2.15 Server</address></body></html>"
            return html(body, 404, "iso-8859-1")
        body = "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>"
        return html(body, 404)


@dataclass
class FaultRule:
    """Runtime side of a :class:`Fault` bound to one URL."""

    fault: Fault
    action: str  # "status" | "stall" | "reset" | "truncate"
    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    hits: int = 0


@dataclass
class Plan:
    """One listing entry before a family gives it URLs."""

    kind: str  # report | guide | companion
    title: str
    date: str  # 发布日期
    doc: ReportDoc | None = None
    list_date: str | None = None  # when the list shows another date (H15)
    hazards: list[str] = field(default_factory=list)


def _link_years(docs: dict[int, ReportDoc]) -> None:
    """An agency's consecutive generated reports follow each other (demo/series.py), so the
    demo's panel checks pass unless a site plants a break."""
    for y, doc in sorted(docs.items()):
        prev = docs.get(y - 1)
        if prev is not None and {prev.fmt, doc.fmt} <= set(catalogue.FORMATS):
            series.link(prev.report, doc.report)


class BuildContext:
    """State shared while the families build their sites."""

    def __init__(
        self,
        seed: int,
        faults: bool,
        bases: dict[str, str],
        report_factory: ReportFactory | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.factory: ReportFactory = report_factory or synth_report
        self.seed = seed
        self.faults_on = faults
        self.bases = bases
        self.seeds = {d.source: d for d in load_seed_reports()}
        self.reports: list[ExpectedReport] = []
        self.columns: list[Column] = []
        self.proposals: list[Column] = []  # columns an aggregator should propose
        self.faults: list[Fault] = []
        self.rules: dict[str, FaultRule] = {}
        self._ids = 1000

    def next_id(self, step: int = 1) -> int:
        self._ids += self.rng.randint(1, step) if step > 1 else 1
        return self._ids

    def hex32(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def pubdate(self, year: int, gov: bool = False, hour: bool = False) -> str:
        m = self.rng.choice([3]) if gov else self.rng.choice([1, 1, 2])
        d = self.rng.randint(5, 28)
        base = f"{year + 1}-{m:02d}-{d:02d}"
        return base + (
            f" {self.rng.randint(8, 18):02d}:{self.rng.randint(0, 59):02d}" if hour else ""
        )

    def seed_doc(self, sid: str) -> ReportDoc:
        return self.seeds[f"seed:{sid}"]

    def plan(
        self,
        agency: str,
        years: list[int],
        guide: bool = True,
        companion: bool = True,
        gov: bool = False,
        seeds: list[str] = (),  # type: ignore[assignment]
        blanks_year: int | None = None,
    ) -> list[Plan]:
        """Reports for ``years`` (+ seed reports), a 指南 and a 解读 companion; newest first."""
        out: list[Plan] = []
        docs = {y: self.factory(self.rng, agency, y, blanks=(y == blanks_year)) for y in years}
        _link_years(docs)
        for y, doc in docs.items():
            out.append(Plan("report", doc.title, self.pubdate(y, gov), doc))
        for sid in seeds:
            doc = self.seed_doc(sid)
            out.append(Plan("report", doc.title, self.pubdate(doc.year, gov), doc))
        if companion and years:
            y = max(years)
            shapes = [
                "图解：{a}{y}年政府信息公开工作年度报告",
                "《{a}{y}年政府信息公开工作年度报告》解读",
                "一图读懂{a}{y}年政府信息公开工作年度报告",
            ]
            title = self.rng.choice(shapes).format(a=agency, y=y)
            out.append(Plan("companion", title, self.pubdate(y, gov)))
        if guide:
            out.append(
                Plan(
                    "guide",
                    f"{agency}政府信息公开指南",
                    f"{max(years or [2022])}-06-{self.rng.randint(10, 28):02d}",
                )
            )
        out.sort(key=lambda p: p.date, reverse=True)
        return out

    def expect(
        self,
        plan: Plan,
        portal_id: str,
        site: str,
        detail_url: str | None,
        attachment_url: str | None = None,
        content: str = "html",
        reachable: bool = True,
        hazards: tuple[str, ...] = (),
    ) -> ExpectedReport:
        doc = plan.doc
        assert doc is not None
        rid = hashlib.sha1(f"{doc.agency}|{doc.year}|{doc.source}".encode()).hexdigest()[:12]
        rep = ExpectedReport(
            portal_id=portal_id,
            site=site,
            agency=doc.agency,
            year=doc.year,
            format=doc.fmt,
            title=plan.title,
            detail_url=detail_url,
            attachment_url=attachment_url,
            content=content,
            published=plan.date[:10],
            report_id=rid,
            reachable=reachable,
            hazards=tuple(plan.hazards) + hazards,
            values=dict(doc.values),
            source=doc.source,
        )
        self.reports.append(rep)
        return rep

    def fault(
        self,
        site: str,
        kind: str,
        url: str,
        expect: str,
        detail: str = "",
        times: int = 0,
        action: str | None = None,
        status: int = 0,
        headers: list[tuple[str, str]] | None = None,
    ) -> Fault | None:
        """Register a fault (only when faults are on); ``action`` binds a runtime rule to ``url``."""
        if not self.faults_on:
            return None
        f = Fault(f"F{len(self.faults) + 1:02d}-{kind}", kind, site, url, times, expect, detail)
        self.faults.append(f)
        if action:
            self.rules[url] = FaultRule(f, action, status, list(headers or []))
        return f


# ---------------------------------------------------------------- page fragments


def std_meta(
    site: str, domain: str, column: str, title: str, pubdate: str, source: str, url: str
) -> str:
    """The 《政府网站发展指引》 <meta> set of detail pages (portals.md §5.3)."""
    pairs = [
        ("SiteName", site),
        ("SiteDomain", domain),
        ("SiteIDCode", "9900000001"),
        ("ColumnName", column),
        ("ColumnDescription", column),
        ("ColumnKeywords", column),
        ("ColumnType", "政府信息公开年报"),
        ("ArticleTitle", title),
        ("PubDate", pubdate if " " in pubdate else pubdate + " 09:30"),
        ("ContentSource", source),
        ("Keywords", "政府信息公开,年度报告"),
        ("Author", source),
        ("Description", title),
        ("Url", url),
    ]
    return "\n".join(f'<meta name="{k}" content="{escape(v)}">' for k, v in pairs)


def info_box(index_no: str, publisher: str, written: str, published: str, doc_no: str = "") -> str:
    """信息公开 info box: label/value cells, two pairs per row."""
    return (
        '<table class="xxgk-info" width="100%"><tbody>'
        f"<tr><td>索引号：</td><td>{escape(index_no)}</td><td>主题分类：</td><td>政务公开</td></tr>"
        f"<tr><td>发布机构：</td><td>{escape(publisher)}</td><td>成文日期：</td><td>{written}</td></tr>"
        f"<tr><td>文号：</td><td>{escape(doc_no)}</td><td>发布日期：</td><td>{published[:10]}</td></tr>"
        "</tbody></table>"
    )


def page(
    title: str, body: str, head: str = "", charset: str = "utf-8", meta_charset: str | None = None
) -> str:
    """A full HTML document (the <meta charset> may lie, see H12)."""
    mc = meta_charset or charset
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f'<meta http-equiv="Content-Type" content="text/html; charset={mc}">\n'
        f"<title>{escape(title)}</title>\n{head}\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def text_page(plan: Plan) -> str:
    """Body text of a non-report item (指南 or 解读 companion)."""
    if plan.kind == "guide":
        return (
            "<p>为了更好地提供政府信息公开服务，依据《中华人民共和国政府信息公开条例》，编制本指南。</p>"
            "<p>一、主动公开。公开的范围、形式和时限。</p><p>二、依申请公开。申请的受理机构、申请方式和处理程序。</p>"
            "<p>三、监督和救济。公民、法人或者其他组织认为行政机关侵犯其合法权益的，可以依法申请行政复议或者提起行政诉讼。</p>"
        )
    return (
        f"<p>{escape(plan.title)}。</p><p>一图读懂：全年主动公开政府信息，依申请公开办理情况良好，"
        '行政复议和行政诉讼情况稳定。</p><p><img src="tujie.png" alt="图解"></p>'
    )


STUB_PAST_END = (
    '<html><head><meta charset="utf-8"><title></title></head><body>'
    '<div class="list"><ul class="gov-com-list"></ul></div>'
    '<script>createPageHTML(0, 0, "index", "html");</script></body></html>\n'
)

SOFT_404 = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>页面不存在</title></head><body>'
    '<div class="error"><h2>抱歉，您访问的页面不存在或已被删除！</h2>'
    '<p><a href="/">返回首页</a></p></div></body></html>'
)
