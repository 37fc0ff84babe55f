"""PDF → Document: text-layer tables (ruled and unruled), pages, and an OCR fallback.

Why this shape:

* Ruled tables are found by pdfplumber from the drawn lines; the grid is rebuilt from the cell
  boxes themselves (every distinct cell edge is a grid line), so merged cells become spans of
  the grid exactly as HTML rowspan/colspan would, and text is assigned to cells by character
  centre with a bisect per character (fast enough for ≥ 10 pages/s).
* A table that runs off the bottom of one page and continues at the top of the next is one
  table in the report: the parts are joined on a common set of column edges, and header rows
  that Word repeats on the continuation page are dropped.
* Text outside ruled tables is grouped into lines; wide gaps split a line into cells so that an
  unruled table reads like a pipe-less text dump (rows may be ragged there, as in text dumps).
* Before pdfminer interprets anything, the content is bounded (``check_pdf_limits``,
  ``check_pdf_pages``): inflated content-stream bytes per page and document, counted in bounded
  chunks, then pdfium's count of graphics objects and characters; an OCR page is rendered at a
  scale computed from its size so the bitmap stays within MAX_IMAGE_PIXELS.  Each refusal is a
  LimitExceeded naming its limit.
* Pages whose text layer is unusable — ``(cid:NNN)`` glyphs with no Unicode mapping, no text at
  all, or a scanned image with a few stray characters — are rendered with pypdfium2 and sent to
  the OCR module (``nianbao.extract.ocr``), imported lazily; when it is missing the page is
  recorded as unreadable with the reason, never silently skipped.
"""

from __future__ import annotations

import io
import math
import re
import zlib
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from nianbao.core.document import Block, Document, DocumentError, LimitExceeded, Paragraph, Table

from .sniff import (
    MAX_IMAGE_PIXELS,
    MAX_PDF_CHARS,
    MAX_PDF_CONTENT,
    MAX_PDF_OBJECTS,
    MAX_PDF_PAGE_CHARS,
    MAX_PDF_PAGE_CONTENT,
    MAX_PDF_PAGE_OBJECTS,
    MAX_PDF_PAGES,
    MAX_PDF_XREF_OBJECTS,
)
from .textdump import _is_prose

OCR_DPI = 200  # rendering resolution for OCR: enough for 10.5pt CJK table text
# Oversized pages (posters, A0 plans) are rendered at a lower resolution to stay within
# MAX_IMAGE_PIXELS, but not below this: 10.5pt CJK glyphs would be under 15 px.
MIN_OCR_DPI = 100
EDGE_TOL = 2.0  # points: cell edges closer than this are the same grid line
BAD_GLYPH_SHARE = 0.2  # share of unmapped glyphs above which a page's text layer is unusable
SCAN_MIN_CHARS = 30  # an image-covered page with fewer characters is a scan

_TABLE_SETTINGS = {
    "vertical_strategy": "lines",
    "horizontal_strategy": "lines",
    "snap_tolerance": 3,
    "join_tolerance": 3,
    "intersection_tolerance": 3,
}
_PAGE_NUMBER = re.compile(
    r"^[-—–\s]*\d{1,4}[-—–\s]*$|^第\s*\d+\s*页(\s*[,，/]?\s*共\s*\d+\s*页)?$|^\d+\s*/\s*\d+$"
)
_OPENS_ITEM = re.compile(
    r"^([一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|\d+[.、．])"
)


@dataclass(slots=True)
class _Cell:
    x0: float
    top: float  # document coordinates (page.initial_doctop + top): monotonic across pages
    x1: float
    bottom: float
    text: str = ""


@dataclass(slots=True)
class _RawTable:
    """A ruled table part on one page, kept as cell boxes until parts are joined."""

    page: int
    cells: list[_Cell]
    x0: float
    x1: float
    top: float
    bottom: float


@dataclass(slots=True)
class _Line:
    top: float
    bottom: float
    x0: float
    x1: float
    size: float
    cells: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.cells)


@dataclass(slots=True)
class _Page:
    items: list[_RawTable | _Line | Block] = field(default_factory=list)
    width: float = 0.0


# --------------------------------------------------------------------------------------------
# Characters → text
# --------------------------------------------------------------------------------------------


def _is_wide(ch: str) -> bool:
    return ch >= "\u2e80"


def _join_text(chars: list[dict[str, Any]]) -> list[tuple[float, float, float, float, list]]:
    """Group characters into visual lines: (top, bottom, x0, x1, chars sorted by x)."""
    lines: list[tuple[float, float, float, float, list]] = []
    if not chars:
        return lines
    chars = sorted(chars, key=lambda c: (c["top"], c["x0"]))
    cur: list[dict[str, Any]] = [chars[0]]
    top, bottom = chars[0]["top"], chars[0]["bottom"]
    for c in chars[1:]:
        h = max(bottom - top, 1.0)
        mid = (c["top"] + c["bottom"]) / 2
        if top - 0.1 * h <= mid <= bottom + 0.1 * h and abs(c["top"] - top) < 0.6 * h:
            cur.append(c)
            bottom = max(bottom, c["bottom"])
            continue
        cur.sort(key=lambda c: c["x0"])
        lines.append((top, bottom, cur[0]["x0"], max(x["x1"] for x in cur), cur))
        cur, top, bottom = [c], c["top"], c["bottom"]
    cur.sort(key=lambda c: c["x0"])
    lines.append((top, bottom, cur[0]["x0"], max(x["x1"] for x in cur), cur))
    return lines


def _line_cells(chars: list[dict[str, Any]], gap_factor: float = 1.2) -> list[str]:
    """Split one visual line into cells at gaps wider than ``gap_factor`` x the font size."""
    cells: list[str] = []
    buf: list[str] = []
    prev_x1: float | None = None
    for c in chars:
        t = c["text"]
        size = c.get("size") or (c["bottom"] - c["top"]) or 10.0
        if prev_x1 is not None and c["x0"] - prev_x1 > gap_factor * size:
            cells.append("".join(buf).strip())
            buf = []
        elif prev_x1 is not None and c["x0"] - prev_x1 > 0.25 * size and buf and buf[-1] != " ":
            if t != " ":
                buf.append(" ")
        buf.append(t)
        prev_x1 = c["x1"]
    cells.append("".join(buf).strip())
    return [c for c in cells if c]


def _cell_text(chars: list[dict[str, Any]]) -> str:
    """Text of one table cell: its lines joined (no space between CJK line breaks)."""
    out = ""
    for _, _, _, _, lc in _join_text(chars):
        text = " ".join(_line_cells(lc, gap_factor=2.0))
        if out and text:
            sep = "" if _is_wide(out[-1]) or _is_wide(text[0]) else " "
            out += sep + text
        else:
            out += text
    return out.strip()


# --------------------------------------------------------------------------------------------
# Text-layer quality
# --------------------------------------------------------------------------------------------


def _bad_glyph(t: str) -> bool:
    if t.startswith("(cid:"):
        return True
    if len(t) != 1:
        return False
    o = ord(t)
    return o == 0xFFFD or 0xE000 <= o <= 0xF8FF or (o < 32 and t not in "\t\n\r")


def text_layer_problem(page: Any, chars: list[dict[str, Any]]) -> str | None:
    """Why the page's text layer cannot be trusted (None when it can)."""
    visible = [c for c in chars if c["text"].strip()]
    area = max(float(page.width) * float(page.height), 1.0)
    img_area = 0.0
    for im in page.images:
        img_area += max(0.0, (im["x1"] - im["x0"])) * max(0.0, (im["bottom"] - im["top"]))
    covered = img_area / area
    if not visible:
        if covered > 0.3:
            return "scanned page: an image and no text layer"
        return None if not page.rects and not page.lines else "no text layer"
    bad = sum(1 for c in visible if _bad_glyph(c["text"]))
    if bad / len(visible) > BAD_GLYPH_SHARE:
        return (
            f"unusable text layer: {bad} of {len(visible)} glyphs have no Unicode mapping "
            "((cid:NNN) or private-use codes)"
        )
    if covered > 0.5 and len(visible) < SCAN_MIN_CHARS:
        return f"scanned page: an image with only {len(visible)} characters of text"
    return None


# --------------------------------------------------------------------------------------------
# Ruled tables
# --------------------------------------------------------------------------------------------


def _edges(values: list[float]) -> list[float]:
    """Distinct coordinates, merging those within EDGE_TOL."""
    out: list[float] = []
    for v in sorted(values):
        if out and v - out[-1] <= EDGE_TOL:
            continue
        out.append(v)
    return out


def _index(edges: list[float], v: float) -> int:
    """Index of the edge nearest to v."""
    i = bisect_right(edges, v)
    if i == 0:
        return 0
    if i == len(edges):
        return len(edges) - 1
    return i if edges[i] - v < v - edges[i - 1] else i - 1


def _page_tables(page: Any, chars: list[dict[str, Any]], index: int) -> tuple[list, list]:
    """Ruled tables of the page (with their text) and the characters outside them."""
    found = page.find_tables(_TABLE_SETTINGS)
    tables: list[_RawTable] = []
    rest = chars
    off = float(page.initial_doctop)
    for t in found:
        boxes = [c for c in t.cells if c is not None]
        if len(boxes) < 2:
            continue
        xs = _edges([b[0] for b in boxes] + [b[2] for b in boxes])
        ys = _edges([b[1] for b in boxes] + [b[3] for b in boxes])
        owner: dict[tuple[int, int], int] = {}
        for k, (x0, top, x1, bottom) in enumerate(boxes):
            for r in range(_index(ys, top), _index(ys, bottom)):
                for c in range(_index(xs, x0), _index(xs, x1)):
                    owner.setdefault((r, c), k)
        per_cell: list[list[dict[str, Any]]] = [[] for _ in boxes]
        x0, top, x1, bottom = t.bbox
        outside: list[dict[str, Any]] = []
        for ch in rest:
            cx = (ch["x0"] + ch["x1"]) / 2
            cy = (ch["top"] + ch["bottom"]) / 2
            if not (x0 <= cx <= x1 and top <= cy <= bottom):
                outside.append(ch)
                continue
            col = bisect_right(xs, cx) - 1
            row = bisect_right(ys, cy) - 1
            k = owner.get((row, col))
            if k is None:
                outside.append(ch)
            else:
                per_cell[k].append(ch)
        rest = outside
        cells = [
            _Cell(b[0], b[1] + off, b[2], b[3] + off, _cell_text(per_cell[k]))
            for k, b in enumerate(boxes)
        ]
        tables.append(_RawTable(index, cells, x0, x1, top + off, bottom + off))
    return tables, rest


def _grid(parts: list[_RawTable]) -> Table:
    """One Table from the parts of a table (one per page), on a common set of column edges.

    Each part keeps its own row edges.  Rows of a continuation part that repeat the first
    part's header rows are dropped, and an empty cell that continues a rowspan cell cut by the
    page break (the cell above reaches the page bottom over several rows) becomes a span copy
    of it, as one merged cell on screen is one cell in the report.
    """
    xs = _edges([v for p in parts for c in p.cells for v in (c.x0, c.x1)])
    width = len(xs) - 1
    rows: list[list[str]] = []
    span: list[list[bool]] = []
    header: list[list[str]] = []
    last_tall = [False] * width  # the previous part's bottom row: covered by a multi-row cell
    for n, part in enumerate(parts):
        ys = _edges([v for c in part.cells for v in (c.top, c.bottom)])
        height = len(ys) - 1
        prow = [[""] * width for _ in range(height)]
        pspan = [[False] * width for _ in range(height)]
        owner = [[-1] * width for _ in range(height)]
        tall = [[False] * width for _ in range(height)]
        for k, cell in enumerate(part.cells):
            r0, r1 = _index(ys, cell.top), _index(ys, cell.bottom)
            c0, c1 = _index(xs, cell.x0), _index(xs, cell.x1)
            r1, c1 = max(r1, r0 + 1), max(c1, c0 + 1)
            for r in range(r0, min(r1, height)):
                for c in range(c0, min(c1, width)):
                    prow[r][c] = cell.text
                    pspan[r][c] = (r, c) != (r0, c0)
                    owner[r][c] = k
                    tall[r][c] = r1 - r0 > 1
        skip = 0
        if n == 0:
            header = prow[:6]
        else:
            while (
                skip < min(len(header), height) and prow[skip] == header[skip] and any(prow[skip])
            ):
                skip += 1
            if rows and skip < height:
                for c in range(width):
                    k = owner[skip][c]
                    if k < 0 or prow[skip][c] or not last_tall[c] or not rows[-1][c]:
                        continue
                    text = rows[-1][c]
                    for r in range(skip, height):
                        for cc in range(width):
                            if owner[r][cc] == k:
                                prow[r][cc], pspan[r][cc] = text, True
        rows.extend(prow[skip:])
        span.extend(pspan[skip:])
        if height > skip:
            last_tall = tall[-1]
    return Table(rows=rows, span=span)


# --------------------------------------------------------------------------------------------
# Pages → blocks
# --------------------------------------------------------------------------------------------


def _page_lines(page: Any, chars: list[dict[str, Any]]) -> list[_Line]:
    off = float(page.initial_doctop)
    out: list[_Line] = []
    height = float(page.height)
    for top, bottom, x0, x1, lc in _join_text(chars):
        cells = _line_cells(lc)
        if not cells:
            continue
        text = " ".join(cells)
        in_margin = top < 0.08 * height or bottom > 0.92 * height
        if in_margin and _PAGE_NUMBER.match(text):
            continue
        sizes = sorted(c.get("size") or (c["bottom"] - c["top"]) for c in lc)
        out.append(_Line(top + off, bottom + off, x0, x1, sizes[len(sizes) // 2], cells))
    return out


def _lines_to_blocks(lines: list[_Line], right: float) -> list[Block]:
    """Lines outside ruled tables → paragraphs and (unruled) table rows.

    A line with several gap-separated cells is a table row; a one-cell line is a row too when
    it sits next to such rows and is not prose (captions such as 第二十条第（五）项), otherwise
    a paragraph.  Wrapped prose lines (the previous one reaching the right margin) are joined.
    """
    multi = [len(ln.cells) > 1 for ln in lines]
    blocks: list[Block] = []
    rows: list[list[str]] = []
    prev_para: _Line | None = None

    def flush() -> None:
        if rows:
            blocks.append(Table(rows=[list(r) for r in rows]))
            rows.clear()

    for i, ln in enumerate(lines):
        next_multi = i + 1 < len(lines) and multi[i + 1]
        near_rows = bool(rows) or next_multi
        is_row = multi[i] or (near_rows and not _is_prose(ln.text))
        if is_row:
            rows.append(ln.cells)
            prev_para = None
            continue
        flush()
        text = ln.text
        if (
            prev_para is not None
            and blocks
            and isinstance(blocks[-1], Paragraph)
            and prev_para.x1 >= right - 2.5 * prev_para.size
            and ln.top - prev_para.bottom < 1.2 * ln.size
            and not _OPENS_ITEM.match(text)
        ):
            last = blocks[-1].text
            sep = "" if _is_wide(last[-1]) or _is_wide(text[0]) else " "
            blocks[-1] = Paragraph(last + sep + text)
        else:
            blocks.append(Paragraph(text))
        prev_para = ln
    flush()
    return blocks


def _render_scale(width: float, height: float, dpi: int) -> float:
    """The render scale for a page of ``width`` x ``height`` points: ``dpi`` / 72, lowered so
    that the bitmap stays within MAX_IMAGE_PIXELS, refused below MIN_OCR_DPI.

    Computed from the page size before anything is rendered: a 14400 pt square page (the PDF
    maximum) at 200 dpi is 40,000 x 40,000 px, 4.7 GB of pixels.
    """
    area = width * height
    if not area > 0:
        raise DocumentError(f"page of {width:.0f}x{height:.0f} pt has no area to render")
    scale = dpi / 72
    fit = math.sqrt(MAX_IMAGE_PIXELS / area) * 0.999  # margin for the rounding up to pixels
    if scale <= fit:
        return scale
    if fit * 72 < MIN_OCR_DPI:
        pixels = math.ceil(width * scale) * math.ceil(height * scale)
        raise LimitExceeded(
            "pixels",
            f"page of {width:.0f}x{height:.0f} pt renders to {pixels} pixels at {dpi} dpi, "
            f"> limit {MAX_IMAGE_PIXELS} (MAX_IMAGE_PIXELS) even at {MIN_OCR_DPI} dpi "
            "(MIN_OCR_DPI): not rendered for OCR",
        )
    return fit


def _render_png(pdf_bytes: bytes, index: int, dpi: int | None = None) -> bytes:
    import pypdfium2 as pdfium

    try:
        pdoc = pdfium.PdfDocument(pdf_bytes)
    except pdfium.PdfiumError as e:
        raise DocumentError(f"page {index + 1} cannot be rendered for OCR: {e}") from e
    try:
        scale = _render_scale(*pdoc.get_page_size(index), dpi or OCR_DPI)
        page = pdoc[index]
        image = page.render(scale=scale).to_pil()
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return buf.getvalue()
    except pdfium.PdfiumError as e:
        raise DocumentError(f"page {index + 1} cannot be rendered for OCR: {e}") from e
    finally:
        pdoc.close()


# --------------------------------------------------------------------------------------------
# Limits checked before pdfminer interprets a page
# --------------------------------------------------------------------------------------------

_INFLATE_CHUNK = 1024 * 1024  # bytes of output per decompression step while counting


class _OverBudget(Exception):
    """A stream decodes past its budget; ``reason`` says why when it was not by counting."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


def _capped(chunks: Iterable[bytes], budget: int) -> Iterator[bytes]:
    """``chunks``, raising _OverBudget once their total passes ``budget``."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > budget:
            raise _OverBudget
        yield chunk


def _inflate(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """FlateDecode in bounded steps (pdfminer inflates a stream whole, in one call).

    A corrupt tail ends the output, as pdfminer's fallback keeps what inflated before it.
    """
    d = zlib.decompressobj()
    try:
        for data in chunks:
            while True:
                out = d.decompress(data, _INFLATE_CHUNK)
                if out:
                    yield out
                data = d.unconsumed_tail
                if d.eof:
                    return
                if not data and len(out) < _INFLATE_CHUNK:
                    break
    except zlib.error:
        return


def _lzw(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """LZWDecode through pdfminer's own decoder, which yields its output code by code."""
    from pdfminer.lzw import LZWDecoder

    yield from LZWDecoder(io.BytesIO(b"".join(chunks))).run()


def _whole(decode: Any, expansion: int, chunks: Iterable[bytes], budget: int) -> Iterator[bytes]:
    """A filter pdfminer can only decode whole, admitted when its worst case fits ``budget``."""
    data = b"".join(chunks)
    if len(data) * expansion > budget:
        raise _OverBudget(f"{len(data)} bytes through a filter expanding up to {expansion}x")
    yield decode(data)


def _decode_stage(name: Any, chunks: Iterable[bytes], budget: int) -> Iterable[bytes]:
    """One filter of a stream's chain, as pdfminer's ``PDFStream.decode`` would apply it."""
    from pdfminer import ascii85
    from pdfminer.pdftypes import (
        LITERALS_ASCII85_DECODE,
        LITERALS_ASCIIHEX_DECODE,
        LITERALS_CCITTFAX_DECODE,
        LITERALS_FLATE_DECODE,
        LITERALS_LZW_DECODE,
        LITERALS_RUNLENGTH_DECODE,
    )
    from pdfminer.runlength import rldecode

    if name in LITERALS_FLATE_DECODE:
        return _inflate(chunks)
    if name in LITERALS_LZW_DECODE:
        return _lzw(chunks)
    if name in LITERALS_ASCII85_DECODE:
        return _whole(ascii85.ascii85decode, 4, chunks, budget)  # 'z' is 4 zero bytes
    if name in LITERALS_ASCIIHEX_DECODE:
        return _whole(ascii85.asciihexdecode, 1, chunks, budget)
    if name in LITERALS_RUNLENGTH_DECODE:
        return _whole(rldecode, 64, chunks, budget)  # 2 bytes repeat one up to 128 times
    if name in LITERALS_CCITTFAX_DECODE:
        raise _OverBudget("a CCITTFaxDecode content stream (expansion cannot be bounded)")
    return chunks  # image codecs pdfminer passes through, or filters it refuses itself


def _decoded_size(stream: Any, budget: int) -> int:
    """Bytes ``stream`` decodes to, counted in bounded chunks; _OverBudget past ``budget``."""
    if stream.data is not None:
        size = len(stream.data)
    else:
        data = stream.rawdata or b""
        if stream.decipher and stream.objid is not None:
            data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
        chunks: Iterable[bytes] = (data,)
        size = 0
        try:
            for name, _params in stream.get_filters():
                chunks = _capped(_decode_stage(name, chunks, budget), budget)
            for chunk in chunks:
                size += len(chunk)
        except _OverBudget:
            raise
        except Exception:  # noqa: BLE001 - corrupt data: pdfminer's decoder stops there too
            pass
    if size > budget:
        raise _OverBudget
    return size


def _resolved(obj: Any) -> Any:
    """``resolve1(obj)``, None for a broken reference (pdfminer reports it if it is used)."""
    from pdfminer.pdftypes import resolve1

    try:
        return resolve1(obj)
    except Exception:  # noqa: BLE001 - pdfminer raises several kinds on broken references
        return None


def _forms(resources: Any) -> list[Any]:
    """The form XObjects of a resource dictionary (pdfminer interprets them like content)."""
    from pdfminer.pdfinterp import LITERAL_FORM
    from pdfminer.pdftypes import PDFStream

    xobjects = _resolved(resources.get("XObject")) if isinstance(resources, dict) else None
    if not isinstance(xobjects, dict):
        return []
    found = (_resolved(x) for x in xobjects.values())
    return [
        x for x in found if isinstance(x, PDFStream) and _resolved(x.get("Subtype")) is LITERAL_FORM
    ]


def _stream_key(stream: Any) -> Any:
    return (stream.objid, stream.genno) if stream.objid is not None else id(stream)


def _page_streams(page: Any) -> Iterator[Any]:
    """The content streams of a pdfminer page and the forms reachable from it, once each."""
    from pdfminer.pdftypes import PDFStream

    pending = [_resolved(c) for c in page.contents] + _forms(page.resources)
    seen: set[Any] = set()
    while pending:
        stream = pending.pop()
        if not isinstance(stream, PDFStream) or _stream_key(stream) in seen:
            continue
        seen.add(_stream_key(stream))
        yield stream
        pending += _forms(_resolved(stream.get("Resources")))


def _declared_objects(doc: Any) -> int:
    """Objects the cross-reference sections declare, by arithmetic on xref-stream ranges."""
    n = 0
    for xref in doc.xrefs:
        ranges = getattr(xref, "ranges", None)
        try:
            n += sum(int(count) for _, count in ranges) if ranges else len(xref.offsets)
        except (AttributeError, TypeError, ValueError):
            continue
    return n


def check_pdf_limits(doc: Any, pages: list[Any]) -> None:
    """Refuse a PDF over MAX_PDF_XREF_OBJECTS, MAX_PDF_PAGE_CONTENT or MAX_PDF_CONTENT before
    pdfminer interprets it (``doc``/``pages``: pdfminer's PDFDocument and PDFPages).

    pdfminer inflates a content stream whole and interprets every operator in pure Python, so
    an 816 KB page inflating to 400 MB of operators runs for minutes.  Here each stream is
    inflated once in bounded chunks and only counted, until the page's budget runs out; a form
    shared by several pages is inflated once and counted on each.
    """
    objects = _declared_objects(doc)
    if objects > MAX_PDF_XREF_OBJECTS:
        raise LimitExceeded(
            "objects",
            f"PDF declares {objects} objects > limit {MAX_PDF_XREF_OBJECTS} (MAX_PDF_XREF_OBJECTS)",
        )
    sizes: dict[Any, int] = {}
    total = 0
    for i, page in enumerate(pages):
        size = 0
        try:
            for stream in _page_streams(page):
                key = _stream_key(stream)
                if key not in sizes:
                    sizes[key] = _decoded_size(stream, MAX_PDF_PAGE_CONTENT - size)
                size += sizes[key]
                if size > MAX_PDF_PAGE_CONTENT:
                    raise _OverBudget
        except _OverBudget as e:
            why = f": {e.reason}" if e.reason else ""
            raise LimitExceeded(
                "content",
                f"page {i + 1}: content streams inflate past {MAX_PDF_PAGE_CONTENT} bytes "
                f"(MAX_PDF_PAGE_CONTENT){why}",
            ) from None
        except Exception:  # noqa: BLE001 - a broken page is reported when pdfminer reads it
            continue
        total += size
        if total > MAX_PDF_CONTENT:
            raise LimitExceeded(
                "content",
                f"content streams of pages 1-{i + 1} inflate to {total} bytes > limit "
                f"{MAX_PDF_CONTENT} (MAX_PDF_CONTENT)",
            )


def _drawn_objects(page: Any) -> int:
    """Graphics objects pdfium parsed on a page, those inside form XObjects included (pdfium
    counts a form as one); counting stops once past MAX_PDF_PAGE_OBJECTS."""
    import pypdfium2.raw as pdfium_c

    n = pdfium_c.FPDFPage_CountObjects(page)
    if n > MAX_PDF_PAGE_OBJECTS:
        return n
    pending = [pdfium_c.FPDFPage_GetObject(page, k) for k in range(n)]
    while pending and n <= MAX_PDF_PAGE_OBJECTS:
        obj = pending.pop()
        if pdfium_c.FPDFPageObj_GetType(obj) != pdfium_c.FPDF_PAGEOBJ_FORM:
            continue
        m = max(pdfium_c.FPDFFormObj_CountObjects(obj), 0)
        n += m
        if n <= MAX_PDF_PAGE_OBJECTS:
            pending += [pdfium_c.FPDFFormObj_GetObject(obj, k) for k in range(m)]
    return n


def check_pdf_pages(data: bytes, n_pages: int) -> None:
    """Refuse a PDF over MAX_PDF_PAGE_OBJECTS/MAX_PDF_OBJECTS graphics objects or
    MAX_PDF_PAGE_CHARS/MAX_PDF_CHARS characters (a page/the document), counted by pdfium (C++,
    a few ms a page) before pdfminer builds a Python object for each.  Runs after
    :func:`check_pdf_limits`, so pdfium parses at most MAX_PDF_PAGE_CONTENT bytes a page.
    """
    import pypdfium2 as pdfium

    try:
        pdoc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return  # pdfminer opened it; what pdfium cannot open it will not be asked to render
    all_objects = all_chars = 0
    try:
        for i in range(min(len(pdoc), n_pages)):
            objects, chars = _page_counts(pdoc, i)
            all_objects, all_chars = all_objects + objects, all_chars + chars
            _check_counts(i, objects, chars, all_objects, all_chars)
    finally:
        pdoc.close()


def _check_counts(index: int, objects: int, chars: int, all_objects: int, all_chars: int) -> None:
    """LimitExceeded naming the first page or document limit the counts so far break."""
    page = index + 1
    for n, limit, name, what in (
        (objects, MAX_PDF_PAGE_OBJECTS, "MAX_PDF_PAGE_OBJECTS", f"page {page}: graphics objects"),
        (chars, MAX_PDF_PAGE_CHARS, "MAX_PDF_PAGE_CHARS", f"page {page}: characters"),
        (all_objects, MAX_PDF_OBJECTS, "MAX_PDF_OBJECTS", f"graphics objects of pages 1-{page}"),
        (all_chars, MAX_PDF_CHARS, "MAX_PDF_CHARS", f"characters of pages 1-{page}"),
    ):
        if n > limit:
            kind = "objects" if "OBJECTS" in name else "chars"
            raise LimitExceeded(kind, f"{what}: {n} > limit {limit} ({name})")


def _page_counts(pdoc: Any, index: int) -> tuple[int, int]:
    """Graphics objects and characters of one page as pdfium parses it; (0, 0) when pdfium
    cannot load the page (pdfminer reports it when it reads the page)."""
    import pypdfium2 as pdfium

    try:
        page = pdoc[index]
    except pdfium.PdfiumError:
        return 0, 0
    try:
        textpage = page.get_textpage()
        try:
            return _drawn_objects(page), textpage.count_chars()
        finally:
            textpage.close()
    except pdfium.PdfiumError:
        return 0, 0
    finally:
        page.close()


def ocr_module() -> Any:
    """The OCR module, or DocumentError('OCR unavailable: …') when it cannot be imported."""
    try:
        from . import ocr  # type: ignore[attr-defined]
    except ImportError as e:
        raise DocumentError(f"OCR unavailable: {e}") from e
    return ocr


def _ocr_page(pdf_bytes: bytes, index: int, source: str) -> Document:
    ocr = ocr_module()
    png = _render_png(pdf_bytes, index)
    fn = (
        getattr(ocr, "ocr_page_image", None)
        or getattr(ocr, "ocr_pdf_page", None)
        or getattr(ocr, "ocr_image", None)
    )
    if fn is None:
        raise DocumentError("OCR unavailable: nianbao.extract.ocr has no ocr_page_image/ocr_image")
    return fn(png, source=f"{source}#page={index + 1}")


def parse_image(data: bytes, source: str = "") -> Document:
    """A PNG/JPEG/... screenshot or scan: size-checked, then OCR."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
    except Image.DecompressionBombError as e:
        raise DocumentError(f"image too large: {e}") from e
    except Exception as e:  # noqa: BLE001 - any decoder failure means an unreadable image
        raise DocumentError(f"unreadable image: {e}") from e
    if w * h > MAX_IMAGE_PIXELS:
        raise DocumentError(f"image too large: {w}x{h} pixels > {MAX_IMAGE_PIXELS}")
    ocr = ocr_module()
    doc = ocr.ocr_image(data, source=source)
    doc.kind = doc.kind or "image"
    return doc


def parse_pdf(data: bytes, source: str = "", *, ocr: bool = True) -> Document:
    """Parse PDF bytes.  Raises DocumentError when no page yields anything readable."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError

    warnings: list[str] = []
    pages: list[_Page] = []
    ocr_pages: list[int] = []
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except (PDFSyntaxError, PDFPasswordIncorrect) as e:
        raise DocumentError(f"unreadable PDF: {type(e).__name__}: {e}") from e
    except Exception as e:  # noqa: BLE001 - pdfminer raises many kinds on broken files
        raise DocumentError(f"unreadable PDF: {type(e).__name__}: {e}") from e
    with pdf:
        try:
            n_pages = len(pdf.pages)
        except Exception as e:  # noqa: BLE001
            raise DocumentError(f"unreadable PDF page tree: {e}") from e
        if n_pages > MAX_PDF_PAGES:
            raise LimitExceeded(
                "pages", f"PDF has {n_pages} pages > limit {MAX_PDF_PAGES} (MAX_PDF_PAGES)"
            )
        check_pdf_limits(pdf.doc, [page.page_obj for page in pdf.pages])
        check_pdf_pages(data, n_pages)
        n_chars = n_cjk = 0
        for i, page in enumerate(pdf.pages):
            pg = _Page(width=float(page.width))
            pages.append(pg)
            try:
                chars = [c for c in page.chars if c.get("upright", True) or c["text"].strip()]
            except Exception as e:  # noqa: BLE001
                warnings.append(f"page {i + 1}: unreadable content stream ({e})")
                continue
            problem = text_layer_problem(page, chars)
            if problem:
                warnings.append(f"page {i + 1}: {problem}")
                ocr_pages.append(i)
                continue
            n_chars += len(chars)
            n_cjk += sum(1 for c in chars if "\u3400" <= c["text"] <= "\u9fff")
            tables, rest = _page_tables(page, chars, i)
            lines = _page_lines(page, rest)
            items: list[tuple[float, _RawTable | _Line]] = [(t.top, t) for t in tables]
            items += [(ln.top, ln) for ln in lines]
            items.sort(key=lambda it: it[0])
            pg.items = [it for _, it in items]
            page.flush_cache()
        if n_chars >= 200 and n_cjk < 0.01 * n_chars:
            warnings.append(
                "text layer has no Chinese characters (garbled font encoding): read through OCR"
            )
            ocr_pages = list(range(len(pages)))
            for pg in pages:
                pg.items = []
    refused: LimitExceeded | None = None  # a page over a limit, when nothing else is read
    if ocr_pages and ocr:
        for i in ocr_pages:
            try:
                odoc = _ocr_page(data, i, source)
            except DocumentError as e:
                warnings.append(f"page {i + 1}: {e}")
                refused = e if isinstance(e, LimitExceeded) else refused
                continue
            pages[i].items = [
                b
                for b in odoc.blocks
                if not (isinstance(b, Paragraph) and _PAGE_NUMBER.match(b.text.strip()))
            ]
            warnings.extend(f"page {i + 1}: {w}" for w in odoc.warnings)
    elif ocr_pages:
        warnings.append(f"OCR disabled: {len(ocr_pages)} page(s) not read")
    blocks = _assemble(pages)
    if not blocks:
        why = "; ".join(warnings) or "no text on any page"
        if refused is not None:
            raise LimitExceeded(refused.limit, f"no readable content in PDF: {why}")
        raise DocumentError(f"no readable content in PDF: {why}")
    doc = Document(blocks=blocks, source=source, kind="pdf", warnings=warnings)
    doc.hints["pages"] = str(len(pages))
    if ocr_pages:
        doc.hints["ocr_pages"] = ",".join(str(i + 1) for i in ocr_pages)
    return doc


def _width(t: Table) -> int:
    return max((len(r) for r in t.rows), default=0)


def _join_grids(first: Table, cont: Table) -> Table:
    """A table continued on the next page (grids already built, e.g. by OCR): rows appended,
    leading rows that repeat the first part's header rows dropped."""
    k = 0
    while k < min(len(first.rows), len(cont.rows), 6) and cont.rows[k] == first.rows[k]:
        k += 1
    span_a = first.span or [[False] * len(r) for r in first.rows]
    span_b = cont.span or [[False] * len(r) for r in cont.rows]
    return Table(rows=first.rows + cont.rows[k:], span=span_a + span_b[k:])


def _assemble(pages: list[_Page]) -> list[Block]:
    """Page items in order, with tables that continue on the next page joined."""
    groups: list[list[_RawTable] | list[_Line] | Block] = []
    table_page: dict[int, int] = {}  # id of an OCR Table → its page
    for n, pg in enumerate(pages):
        for pos, item in enumerate(pg.items):
            last = groups[-1] if groups else None
            if isinstance(item, _RawTable):
                prev = last[-1] if isinstance(last, list) and last else None
                if (
                    pos == 0
                    and isinstance(prev, _RawTable)
                    and prev.page == item.page - 1
                    and abs(prev.x0 - item.x0) <= 3 * EDGE_TOL
                    and abs(prev.x1 - item.x1) <= 3 * EDGE_TOL
                ):
                    last.append(item)  # type: ignore[union-attr, arg-type]
                else:
                    groups.append([item])
            elif isinstance(item, _Line):
                if isinstance(last, list) and last and isinstance(last[-1], _Line):
                    last.append(item)  # type: ignore[arg-type]
                else:
                    groups.append([item])
            elif (
                isinstance(item, Table)
                and pos == 0
                and isinstance(last, Table)
                and table_page.get(id(last)) == n - 1
                and _width(last) == _width(item)
            ):
                merged = _join_grids(last, item)
                groups[-1] = merged
                table_page[id(merged)] = n
            else:
                groups.append(item)
                if isinstance(item, Table):
                    table_page[id(item)] = n
    # A table part is the last item of its page when nothing but lines in the footer follow;
    # page-number lines are already gone, so any line between parts prevents the join above.
    right = max((pg.width for pg in pages), default=0.0)
    blocks: list[Block] = []
    for g in groups:
        if isinstance(g, list) and g and isinstance(g[0], _RawTable):
            blocks.append(_grid(g))  # type: ignore[arg-type]
        elif isinstance(g, list):
            lines: list[_Line] = g  # type: ignore[assignment]
            margin = max(ln.x1 for ln in lines) if lines else right
            blocks.extend(_lines_to_blocks(lines, margin))
        else:
            blocks.append(g)
    return blocks
