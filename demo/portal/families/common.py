"""Helpers shared by the family builders."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from ...synth import render_lines
from ..files import CONTENT_TYPES, make_docx, make_pdf, make_placeholder
from ..model import Column, Item, Response, html
from ..reports import ReportDoc, render_body
from ..site import BuildContext, Plan, SiteApp, epoch, page, std_meta, text_page

__all__ = [
    "add_item",
    "article",
    "attach",
    "attachment_bytes",
    "body_of",
    "file_resp",
    "meta_for",
    "publish_detail",
    "short",
    "text_page",
    "ymd",
]


def short(title: str, n: int = 24) -> str | None:
    """List text truncated with "…" (the full title stays in a[title])."""
    return title[: n - 1] + "…" if len(title) > n else None


def attachment_bytes(doc: ReportDoc, ext: str) -> bytes:
    if ext == "pdf":
        return make_pdf(render_lines(doc.report), doc.title)
    if ext == "docx":
        return make_docx(render_lines(doc.report))
    return make_placeholder(ext, doc.title)


def attach(
    app: SiteApp, plan: Plan, path: str, ext: str, inner: str, css: str = ""
) -> tuple[str, str]:
    """Serve the plan's report as an ``ext`` file at ``path`` (downloaded under its title);
    the body ``inner`` with the 附件 link below it, and the file's absolute URL."""
    assert plan.doc is not None
    name = f"{plan.title}.{ext}"
    app.add(path, file_resp(attachment_bytes(plan.doc, ext), ext, name, plan.date))
    cls = f' class="{css}"' if css else ""
    return inner + f'<p{cls}>附件：<a href="{escape(path)}">{escape(name)}</a></p>', app.url(path)


def article(
    app: SiteApp, plan: Plan, path: str | None = None, css: str = ""
) -> tuple[str, dict[str, object]]:
    """The body of a listing entry and the ground-truth keywords of its report; with ``path``
    the report is also served as a PDF there and linked below the body."""
    if path is None or plan.doc is None:
        return body_of(plan), {}
    inner, url = attach(app, plan, path, "pdf", body_of(plan), css)
    return inner, {"attachment_url": url}


def file_resp(data: bytes, ext: str, name: str | None = None, date: str | None = None) -> Response:
    """A file response; ``name`` adds Content-Disposition (RFC 5987 and a GBK-free fallback)."""
    headers = []
    if name:
        headers.append(
            (
                "Content-Disposition",
                f"attachment; filename=\"{quote(name)}\"; filename*=UTF-8''{quote(name)}",
            )
        )
    return Response(
        200,
        data,
        CONTENT_TYPES.get(ext, "application/octet-stream"),
        headers,
        epoch(date) if date else None,
    )


def body_of(plan: Plan) -> str:
    """The article of a listing entry: the report's body, else the 指南/解读 text."""
    return render_body(plan.doc) if plan.doc else text_page(plan)


def add_item(col: Column, ctx: BuildContext, plan: Plan, url: str, **report_kw: object) -> Item:
    """Append the listing item for ``plan`` (and its ground truth when it is a report)."""
    rep = None
    if plan.kind == "report":
        rep = ctx.expect(plan, col.portal_id, col.site, **report_kw)  # type: ignore[arg-type]
    item = Item(
        plan.title, url, (plan.list_date or plan.date)[:10], plan.kind, rep, short(plan.title)
    )
    col.items.append(item)
    return item


def meta_for(app: SiteApp, col: Column, plan: Plan, url: str) -> str:
    return std_meta(
        app.label,
        app.base.split("//")[1],
        col.agency + "年报",
        plan.title,
        plan.date,
        plan.doc.agency if plan.doc else col.agency,
        url,
    )


def ymd(date: str) -> tuple[str, str, str]:
    y, m, d = date[:10].split("-")
    return y, m, d


def publish_detail(
    app: SiteApp,
    col: Column,
    ctx: BuildContext,
    plan: Plan,
    path: str,
    url: str,
    body: str,
    **report_kw: object,
) -> Item:
    """Serve a detail page (standard <meta> set, Last-Modified of its date) and list it."""
    app.add(
        path,
        html(page(plan.title, body, meta_for(app, col, plan, url)), last_modified=epoch(plan.date)),
    )
    if plan.kind == "report":
        return add_item(col, ctx, plan, url, detail_url=url, **report_kw)
    return add_item(col, ctx, plan, url)
