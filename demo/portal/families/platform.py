"""Registry rows that stand for many agencies (issue 13): a 集约化 platform and an aggregator.

- ``platform``: a county's 部门信息公开 directory.  The registry names only its root; each
  department's page leads to that department's own TRS 年报 column (a 政府信息公开年报 link, a
  年度报告 link, or the department link going straight to the column), and one department
  (档案馆) has no 年报 column at all.  Expansion must find three agency columns.
- ``province``: a provincial portal with its own 年报 column and an aggregator page
  (全省政府信息公开年报) linking reports on other hosts: two registered demo hosts and
  ``xinqu``, a host the registry lacks, whose two columns must be *proposed*, never fetched.
"""

from __future__ import annotations

from html import escape

from ..model import Column, Item, html
from ..site import BuildContext, SiteApp, page
from .trs import TrsColumn, publish

PLATFORM_ROOT = "/bmxxgk/index.html"
# (unit slug, agency, how its page leads to the 年报 column, report years)
DEPARTMENTS = (
    ("czj", "示例县财政局", "link:政府信息公开年报", [2021, 2022, 2023]),
    ("wjj", "示例县卫生健康局", "direct", [2020, 2021, 2022, 2023]),
    ("cgz", "示例县城关镇人民政府", "link:年度报告", [2021, 2022, 2023]),
    ("dag", "示例县档案馆", "none", []),
)


def build_platform(ctx: BuildContext) -> SiteApp:
    """A county 部门信息公开 platform: one registry row, three agency columns behind it."""
    app = SiteApp("platform", "platform", 0, "示例县人民政府")
    app.base = ctx.bases["platform"]
    root = Column(
        "demo-platform",
        "platform",
        "示例县人民政府（部门信息公开平台）",
        "county",
        "990106",
        app.url(PLATFORM_ROOT),
        "platform",
        notes="集约化 platform root: expands to each department's 年报 column",
        kind="platform",
    )
    ctx.columns.append(root)
    items = []
    for unit, agency, how, years in DEPARTMENTS:
        folder = f"/bmxxgk/{unit}/"
        column_dir = folder + ("ndbg/" if how == "link:年度报告" else "zfxxgknb/")
        target = folder + "index.html" if how != "direct" else column_dir + "index.html"
        items.append(f'<li><a href="{target}" title="{agency}">{agency}</a></li>')
        links = ['<a href="./jgzn/">机构职能</a>', '<a href="./zcwj/">政策文件</a>']
        if how.startswith("link:"):
            links.append(f'<a href="{column_dir}index.html">{how[5:]}</a>')
        app.add(folder + "index.html", html(page(f"{agency}_{app.label}", " ".join(links))))
        if not years:
            continue
        col = Column(
            root.portal_id,
            "platform",
            agency,
            "township" if agency.endswith("镇人民政府") else "county",
            root.region_code,
            app.url(column_dir + "index.html"),
            "trs",
            parent=root.portal_id,
        )
        publish(ctx, app, col, column_dir, ctx.plan(agency, years))
        TrsColumn(app, col, column_dir, per_page=3)
        ctx.columns.append(col)
    body = (
        '<div class="nav"><a href="/">首页</a> <a href="/zwgk/">政务公开</a></div>'
        '<div class="position">当前位置：首页 &gt; 政务公开 &gt; 部门信息公开</div>'
        f'<ul class="bm-list">{"".join(items)}</ul>'
    )
    app.add(PLATFORM_ROOT, html(page(f"部门信息公开_{app.label}", body)))
    app.add("/", html(page(app.label, f'<a href="{PLATFORM_ROOT}">部门信息公开</a>')))
    return app


def build_province(ctx: BuildContext) -> SiteApp:
    """A provincial portal: its own 年报 column and a page of other hosts' reports."""
    app = SiteApp("province", "trs", 1, "示例省人民政府")
    app.base = ctx.bases["province"]
    own = Column(
        "demo-province-szf",
        "province",
        "示例省人民政府",
        "province",
        "990000",
        app.url("/zwgk/zfxxgknb/szf/index.html"),
        "trs",
    )
    publish(
        ctx, app, own, "/zwgk/zfxxgknb/szf/", ctx.plan(own.agency, [2021, 2022, 2023], gov=True)
    )
    TrsColumn(app, own, "/zwgk/zfxxgknb/szf/")
    ctx.columns.append(own)
    agg = Column(
        "demo-province-sxnb",
        "province",
        "示例省各地各部门",
        "province",
        "990000",
        app.url("/zwgk/zfxxgknb/sxnb/index.html"),
        "trs",
        notes="aggregator: links reports on other hosts",
        kind="aggregator",
    )
    elsewhere = [r for r in ctx.reports if r.site in ("trs", "hanweb") and r.detail_url][:3]
    for rep in elsewhere:
        agg.items.append(Item(rep.title, rep.url, rep.published, "offsite"))
    agg.items.extend(_xinqu(ctx, agg))
    agg.items.append(
        Item("示例省政府信息公开指南", app.url("/zwgk/zfxxgkzn/index.html"), "2023-06-12", "guide")
    )
    TrsColumn(app, agg, "/zwgk/zfxxgknb/sxnb/", per_page=20)
    ctx.columns.append(agg)
    app.add(
        "/", html(page(app.label, '<a href="/zwgk/zfxxgknb/szf/index.html">政府信息公开年报</a>'))
    )
    return app


def _xinqu(ctx: BuildContext, agg: Column) -> list[Item]:
    """Report pages on the unregistered ``xinqu`` host; the columns they sit in are expected
    as proposals (``Column`` rows with kind ``proposed``), not as reports to fetch."""
    base = ctx.bases["xinqu"]
    out = []
    for folder, agency, year, day in (
        ("/zwgk/zfxxgknb/", "示例市新区管理委员会", 2023, "20240125"),
        ("/zwgk/zfxxgknb/", "示例市新区管理委员会", 2022, "20230120"),
        ("/bmxxgk/jsj/zfxxgknb/", "示例市新区建设局", 2023, "20240118"),
    ):
        title = f"{agency}{year}年政府信息公开工作年度报告"
        url = f"{base}{folder}{day[:6]}/t{day}_{ctx.next_id(50)}.html"
        out.append(Item(title, url, f"{day[:4]}-{day[4:6]}-{day[6:]}", "offsite"))
        if not any(c.list_url == base + folder for c in ctx.proposals):
            ctx.proposals.append(
                Column(
                    agg.portal_id, "xinqu", agency, "", "", base + folder, "trs", kind="proposed"
                )
            )
    return out


def build_xinqu(ctx: BuildContext) -> SiteApp:
    """The host the registry lacks: it serves its reports, and nothing may ask for them."""
    app = SiteApp("xinqu", "trs", 0, "示例市新区管理委员会", in_registry=False)
    app.base = ctx.bases["xinqu"]
    for prop in ctx.proposals:
        path = prop.list_url[len(app.base) :]
        app.add(path + "index.html", html(page(prop.agency, "<ul class='gov-com-list'></ul>")))
    for item in (i for c in ctx.columns if c.kind == "aggregator" for i in c.items):
        if item.url.startswith(app.base):
            body = f"<h1>{escape(item.title)}</h1><div class='TRS_Editor'><p>…</p></div>"
            app.add(item.url[len(app.base) :], html(page(item.title, body)))
    app.add("/", html(page(app.label, "")))
    return app
