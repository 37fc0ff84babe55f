"""The source of one report as it was captured, ready to sit beside its extracted values.

Each snapshot is shown in the form closest to what a person saw, bounded so that a huge or
odd snapshot never makes a huge page:

- HTML pages: their ``<table>`` elements re-emitted through the allowlist (sanitize.py);
- PDFs: the pages holding the tables (those whose text names a report section; else the first
  pages, e.g. scans) rendered to PNG with pypdfium2 at a modest resolution;
- images (screenshots, scans): the image itself, converted to PNG and scaled down;
- DOCX/XLSX/DOC…: the tables the extractor's reader finds, allowlisted like HTML;
- text dumps: the text in ``<pre>``.

Only snapshots that produced a report reach this module, so each was already read within the
extractor's limits (extract/sniff.py, flows/extraction.py); the caps here bound what the site
shows, not what a reader may survive.  A snapshot missing from the raw store (``nianbao
ingest`` of local files stores none) is said to be missing, never an error.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.extract.rawstore import RawStore

from .sanitize import TooLarge, tables_from_grids, tables_from_html

MAX_SOURCE_BYTES = 20 * 1024 * 1024  # larger snapshots are not shown
MAX_HTML_OUT = 2 * 1024 * 1024  # allowlisted tables of one page
MAX_TEXT_CHARS = 200_000  # a text dump shown in <pre>
MAX_PDF_PAGES = 6  # pages rendered per PDF
PDF_SCALE = 80 / 72  # 80 dpi: legible table text, ~100-200 KB per page
MAX_IMAGE_SIDE = 1600  # pixels, longest side of a PNG written
# Words on the pages that hold the three tables (二 主动公开, 三 收到和处理…申请, 四 复议/诉讼).
TABLE_PAGE_WORDS = ("主动公开", "申请", "行政复议", "行政诉讼")


@dataclass(slots=True)
class Source:
    """What the audit page shows on its left: one of html / images / text, or a note."""

    kind: str  # html, pdf, image, docx, text, … or "missing"
    html: str = ""  # allowlisted tables
    images: list[str] = field(default_factory=list)  # paths relative to the site root
    text: str = ""
    note: str = ""  # why nothing (or not everything) is shown
    bytes: int = 0


def capture(raw: RawStore, sha256: str | None, report_id: str, site: Path) -> Source:
    """The source of ``report_id`` (snapshot ``sha256``); PNGs are written under ``site/report/img``."""
    if not sha256 or not raw.has(sha256):
        return Source("missing", note="the snapshot is not in the raw store (e.g. loaded by "
                      "`nianbao ingest` from a local file): nothing to show")  # fmt: skip
    size = raw.path(sha256).stat().st_size
    if size > MAX_SOURCE_BYTES:
        return Source("?", note=f"source too large to show ({size:,} bytes)", bytes=size)
    data = raw.get(sha256)
    from nianbao.extract.readers import sniff

    kind = sniff(data)
    try:
        if kind == "html":
            src = _html(data)
        elif kind == "pdf":
            src = _pdf(data, report_id, site)
        elif kind == "image":
            src = _image(data, report_id, site)
        elif kind == "text":
            src = _text(data)
        else:
            src = _document_tables(data)
    except TooLarge as e:
        src = Source(kind, note=f"source too large to show ({e})")
    except Exception as e:  # an odd snapshot must not stop the site: say why it is not shown
        src = Source(kind, note=f"source could not be shown: {type(e).__name__}: {e}"[:300])
    src.kind, src.bytes = kind, size
    return src


def _html(data: bytes) -> Source:
    from nianbao.extract.charset import decode

    text, _ = decode(data, html=True)
    html, n = tables_from_html(text)
    if len(html) > MAX_HTML_OUT:
        raise TooLarge(f"{len(html):,} bytes of tables")
    return Source("html", html=html, note="" if n else "the page holds no <table>")


def _png(image, dest: Path) -> None:  # noqa: ANN001 (a PIL image)
    image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    dest.parent.mkdir(parents=True, exist_ok=True)
    image.save(dest, "PNG", optimize=True)


def _pdf(data: bytes, report_id: str, site: Path) -> Source:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        n = len(pdf)
        chosen = []
        for i in range(n):
            page = pdf[i]
            try:
                text = page.get_textpage().get_text_range()
            finally:
                page.close()
            if any(w in text for w in TABLE_PAGE_WORDS):
                chosen.append(i)
        note = ""
        if not chosen:
            chosen = list(range(min(n, MAX_PDF_PAGES)))
            note = "no page names a report table (a scan?): the first pages are shown"
        if len(chosen) > MAX_PDF_PAGES:
            note = f"pages {', '.join(str(i + 1) for i in chosen[MAX_PDF_PAGES:])} not shown"
            chosen = chosen[:MAX_PDF_PAGES]
        images = []
        for i in chosen:
            page = pdf[i]
            try:
                bitmap = page.render(scale=PDF_SCALE)
                rel = f"report/img/{report_id}-p{i + 1}.png"
                _png(bitmap.to_pil(), site / rel)
                images.append(rel)
            finally:
                page.close()
        return Source("pdf", images=images, note=f"{n} page(s); {note}" if note else "")
    finally:
        pdf.close()


def _image(data: bytes, report_id: str, site: Path) -> Source:
    from nianbao.extract.sniff import MAX_IMAGE_PIXELS
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        if im.width * im.height > MAX_IMAGE_PIXELS:
            raise TooLarge(f"{im.width}x{im.height} pixels")
        rel = f"report/img/{report_id}.png"
        _png(im.copy(), site / rel)
    return Source("image", images=[rel])


def _text(data: bytes) -> Source:
    from nianbao.extract.charset import decode

    text, _ = decode(data)
    note = ""
    if len(text) > MAX_TEXT_CHARS:
        text, note = text[:MAX_TEXT_CHARS], f"the first {MAX_TEXT_CHARS:,} characters"
    return Source("text", text=text, note=note)


def _document_tables(data: bytes) -> Source:
    """Word, WPS, spreadsheets: the tables the extractor's own reader finds."""
    from nianbao.extract.readers import read_bytes

    doc = read_bytes(data)
    grids = [t.logical_rows() for t in doc.tables()]
    html = tables_from_grids(grids)
    if len(html) > MAX_HTML_OUT:
        raise TooLarge(f"{len(html):,} bytes of tables")
    return Source(doc.kind, html=html, note="" if grids else "no table found in the document")
