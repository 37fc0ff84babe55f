"""Word and spreadsheet files → Document.

* DOCX is read from its XML (opened with python-docx, walked with lxml) because python-docx's
  table API hides what the document model needs: ``w:gridSpan`` and ``w:vMerge`` are expanded
  into the grid with span marks, ``w:gridBefore``/``gridAfter`` keep columns aligned, body
  order is kept across paragraphs, tables and content controls, text boxes become paragraphs
  (once: the VML fallback copy Word writes beside DrawingML is skipped), and a table whose
  cells hold tables is a layout container whose content is read in order.
* DOC, WPS (Kingsoft, Word 97 binary underneath) and RTF are converted to DOCX by LibreOffice
  headless in a private temp dir and profile; without ``soffice`` the reader raises a
  DocumentError that says which package to install.
* XLSX (openpyxl) and XLS (xlrd), the engines pandas uses, read directly so merged ranges are
  known: every sheet becomes one table grid with spans marked, rows that are long prose become
  paragraphs, and numbers are printed as the sheet displays them (``0.00`` keeps two decimals).
* Before python-docx or openpyxl opens a package, ``sniff.check_zip`` inflates every member once,
  in chunks, and refuses one that outgrows the size the zip directory declares; before openpyxl
  loads a workbook, each sheet's ``<mergeCell>`` ranges and cells are counted
  from its XML against MAX_SHEET_CELLS (openpyxl materialises every cell of a merged range).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from nianbao.core.document import Block, Document, DocumentError, LimitExceeded, Paragraph, Table

from .sniff import MAX_SHEET_CELLS, check_zip
from .textdump import _is_prose

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_W = f"{{{W}}}"
SOFFICE_TIMEOUT = 180  # seconds; a first start of LibreOffice builds its profile (~10 s)
LIBREOFFICE_HINT = "needs LibreOffice (apt-get install libreoffice-writer-nogui)"


# --------------------------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------------------------


def _local(el: Any) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _iter_text(el: Any, boxes: list[Any]) -> Iterator[str]:
    """Text of a paragraph in order; text boxes met on the way are collected, not inlined."""
    for child in el:
        name = _local(child)
        ns_w = isinstance(child.tag, str) and child.tag.startswith(_W)
        if name == "Fallback" and child.tag == f"{{{MC}}}Fallback":
            continue  # VML copy of a DrawingML object already read through mc:Choice
        if name == "txbxContent":
            boxes.append(child)
            continue
        if ns_w and name == "t":
            yield child.text or ""
        elif ns_w and name in ("tab", "ptab"):
            yield " "
        elif ns_w and name in ("br", "cr"):
            yield "\n"
        elif ns_w and name in ("delText", "instrText", "fldData"):
            continue
        else:
            yield from _iter_text(child, boxes)


def _para_text(p: Any, boxes: list[Any]) -> str:
    return "".join(_iter_text(p, boxes)).strip()


def _cell_blocks(tc: Any) -> tuple[str, list[Block]]:
    """A table cell's own text (paragraphs joined by spaces) and any nested blocks."""
    texts: list[str] = []
    nested: list[Block] = []
    for child in tc:
        name = _local(child)
        if name == "p":
            boxes: list[Any] = []
            t = _para_text(child, boxes)
            if t:
                texts.append(t)
            for box in boxes:
                nested.extend(_blocks(box))
        elif name == "tbl":
            nested.extend(_table_blocks(child))
        elif name == "sdt":
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                t, inner = _cell_blocks(content)
                if t:
                    texts.append(t)
                nested.extend(inner)
    return " ".join(" ".join(texts).split("\n")).strip(), nested


def _val(el: Any, path: str, default: str | None = None) -> str | None:
    found = el.find(path)
    if found is None:
        return default
    return found.get(f"{_W}val", "")


def _table_blocks(tbl: Any) -> list[Block]:
    """A w:tbl as a Table (spans expanded), or as its content when it is a layout container."""
    rows_xml = [tr for tr in tbl if _local(tr) == "tr"]
    parsed: list[list[tuple[str, int, str | None, list[Block]]]] = []
    befores: list[int] = []
    has_nested = False
    for tr in rows_xml:
        cells = []
        trpr = tr.find(f"{_W}trPr")
        before = int(_val(trpr, f"{_W}gridBefore", "0") or 0) if trpr is not None else 0
        befores.append(before)
        for tc in tr.iter(f"{_W}tc"):
            if tc.getparent() is not tr and _local(tc.getparent()) != "sdtContent":
                continue
            tcpr = tc.find(f"{_W}tcPr")
            span = 1
            vmerge: str | None = None
            if tcpr is not None:
                span = int(_val(tcpr, f"{_W}gridSpan", "1") or 1)
                vm = tcpr.find(f"{_W}vMerge")
                if vm is not None:
                    vmerge = vm.get(f"{_W}val", "continue")
            text, nested = _cell_blocks(tc)
            has_nested = has_nested or bool(nested)
            cells.append((text, max(span, 1), vmerge, nested))
        parsed.append(cells)
    if has_nested:
        # A layout table: its cells are page regions, read them in order.
        out: list[Block] = []
        for cells in parsed:
            for text, _, vmerge, nested in cells:
                if vmerge == "continue":
                    continue
                if text:
                    out.append(Paragraph(text))
                out.extend(nested)
        return out
    width = max(
        (b + sum(c[1] for c in cells) for b, cells in zip(befores, parsed, strict=True)), default=0
    )
    grid: list[list[str]] = []
    span: list[list[bool]] = []
    for r, (before, cells) in enumerate(zip(befores, parsed, strict=True)):
        row = [""] * width
        copies = [False] * width
        col = before
        for text, cs, vmerge, _ in cells:
            for k in range(cs):
                if col + k >= width:
                    break
                if vmerge == "continue" and r > 0:
                    row[col + k] = grid[r - 1][col + k]
                    copies[col + k] = True
                else:
                    row[col + k] = text
                    copies[col + k] = k > 0
            col += cs
        grid.append(row)
        span.append(copies)
    if not grid or width == 0:
        return []
    return [Table(rows=grid, span=span)]


def _blocks(container: Any) -> list[Block]:
    """Blocks of a body, text box or content control, in document order."""
    out: list[Block] = []
    for child in container:
        name = _local(child)
        if name == "p":
            boxes: list[Any] = []
            text = _para_text(child, boxes)
            for part in text.split("\n"):
                if part.strip():
                    out.append(Paragraph(part.strip()))
            for box in boxes:
                out.extend(_blocks(box))
        elif name == "tbl":
            out.extend(_table_blocks(child))
        elif name in ("sdt", "customXml", "smartTag"):
            content = child.find(f"{_W}sdtContent")
            out.extend(_blocks(content if content is not None else child))
        elif name == "AlternateContent":
            choice = child.find(f"{{{MC}}}Choice")
            if choice is not None:
                out.extend(_blocks(choice))
    return out


def parse_docx(data: bytes, source: str = "", kind: str = "docx") -> Document:
    """DOCX bytes → Document (body order; headers/footers are page furniture, skipped)."""
    check_zip(data)
    try:
        import docx
    except ImportError as e:  # pragma: no cover - dependency of the project
        raise DocumentError(f"DOCX reader unavailable: {e}") from e
    try:
        wd = docx.Document(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - python-docx raises KeyError/ValueError/lxml errors
        raise DocumentError(f"unreadable DOCX: {type(e).__name__}: {e}") from e
    body = wd.element.body
    blocks = _blocks(body)
    warnings: list[str] = []
    if body.find(f".//{_W}altChunk") is not None:
        warnings.append("DOCX embeds altChunk content (HTML/RTF) that is not read")
    if not blocks:
        raise DocumentError("DOCX has no text")
    doc = Document(blocks=blocks, source=source, kind=kind, warnings=warnings)
    title = wd.core_properties.title
    if title:
        doc.hints["title"] = title
    return doc


# --------------------------------------------------------------------------------------------
# DOC / WPS / RTF through LibreOffice
# --------------------------------------------------------------------------------------------


def soffice_path() -> str | None:
    """The LibreOffice binary, or None: it is an optional system package."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_docx(data: bytes, suffix: str) -> bytes:
    """Run ``soffice --headless --convert-to docx`` in a temp dir with its own profile."""
    exe = soffice_path()
    if exe is None:
        raise DocumentError(f"{suffix.lstrip('.').upper()} {LIBREOFFICE_HINT}")
    with tempfile.TemporaryDirectory(prefix="nianbao-soffice-") as tmp:
        src = Path(tmp) / f"input{suffix}"
        src.write_bytes(data)
        profile = Path(tmp) / "profile"
        cmd = [
            exe,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(Path(tmp) / "out"),
            str(src),
        ]
        env = dict(os.environ, HOME=tmp)
        try:
            proc = subprocess.run(
                cmd, capture_output=True, timeout=SOFFICE_TIMEOUT, env=env, check=False
            )
        except subprocess.TimeoutExpired as e:
            raise DocumentError(f"LibreOffice conversion timed out after {SOFFICE_TIMEOUT}s") from e
        out = Path(tmp) / "out" / "input.docx"
        if not out.exists():
            err = (proc.stderr or proc.stdout or b"").decode("utf-8", "replace").strip()[-300:]
            raise DocumentError(f"LibreOffice could not convert the file: {err or 'no output'}")
        return out.read_bytes()


def parse_legacy_word(data: bytes, source: str = "", kind: str = "doc") -> Document:
    """DOC/WPS/RTF → DOCX (LibreOffice) → Document; ``kind`` is kept on the Document."""
    suffix = ".rtf" if kind == "rtf" else ".doc"
    converted = convert_to_docx(data, suffix)
    doc = parse_docx(converted, source=source, kind=kind)
    doc.hints["converted_by"] = "libreoffice"
    return doc


# --------------------------------------------------------------------------------------------
# Spreadsheets
# --------------------------------------------------------------------------------------------


def _decimals(fmt: str) -> int | None:
    """Decimal places a number format shows ('0.00' → 2), None for General."""
    if not fmt or fmt == "General" or "0" not in fmt:
        return None
    fmt = fmt.split(";")[0]
    if "." in fmt:
        tail = fmt.split(".", 1)[1]
        return len(tail) - len(tail.lstrip("0#"))
    return 0


def _show(value: Any, fmt: str = "") -> str:
    """A cell value as the sheet displays it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        places = _decimals(fmt)
        comma = "," if "#,##" in (fmt or "") else ""
        if places is not None:
            return f"{value:{comma}.{places}f}"
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _sheet_blocks(
    cells: dict[tuple[int, int], str], merges: list[tuple[int, int, int, int]]
) -> list[Block]:
    """One sheet (0-based cells, merges as (r0, c0, r1, c1) inclusive) → blocks.

    Runs of rows separated by empty rows become tables; a row whose only text is prose (the
    report's paragraphs pasted into column A) becomes a paragraph.
    """
    if not cells:
        return []
    n_rows = max(r for r, _ in cells) + 1
    n_cols = max(c for _, c in cells) + 1
    for _r0, _c0, r1, c1 in merges:
        n_rows, n_cols = max(n_rows, r1 + 1), max(n_cols, c1 + 1)
    if n_rows * n_cols > MAX_SHEET_CELLS:
        raise LimitExceeded(
            "cells", f"sheet of {n_rows}x{n_cols} cells > limit {MAX_SHEET_CELLS} (MAX_SHEET_CELLS)"
        )
    grid = [[""] * n_cols for _ in range(n_rows)]
    span = [[False] * n_cols for _ in range(n_rows)]
    for (r, c), v in cells.items():
        grid[r][c] = v
    for r0, c0, r1, c1 in merges:
        text = grid[r0][c0]
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0):
                    grid[r][c] = text
                    span[r][c] = True
    used = [c for c in range(n_cols) if any(grid[r][c] for r in range(n_rows))]
    width = (max(used) + 1) if used else 0
    blocks: list[Block] = []
    rows: list[list[str]] = []
    spans: list[list[bool]] = []

    def flush() -> None:
        if rows:
            blocks.append(Table(rows=list(rows), span=list(spans)))
            rows.clear()
            spans.clear()

    for r in range(n_rows):
        row, sp = grid[r][:width], span[r][:width]
        own = [t for t, s in zip(row, sp, strict=True) if t and not s]
        if not any(row):
            flush()
            continue
        if len(own) == 1 and _is_prose(own[0]) and all(not t or t == own[0] for t in row):
            flush()
            blocks.append(Paragraph(own[0]))
            continue
        rows.append(row)
        spans.append(sp)
    flush()
    return blocks


# Sheet XML elements read before openpyxl loads a workbook (any namespace: transitional or not).
# Not ``<dimension>``: openpyxl ignores it, and old converted files declare whole-sheet extents
# (A1:IV65536) over a handful of real cells, so refusing by it would refuse real reports.
_EXTENT_TAGS = ("{*}mergeCell", "{*}row")
_SHEET_ROWS, _SHEET_COLS = 1_048_576, 16_384  # an open range (A:C, 2:5) runs to the sheet edge


def _range_cells(ref: str) -> int:
    """Cells covered by an A1-style range ('A1', 'P1:XFD1048576', 'A:C'), by arithmetic."""
    from openpyxl.utils.cell import range_boundaries

    try:
        c0, r0, c1, r1 = range_boundaries(ref)
    except (ValueError, TypeError) as e:
        raise DocumentError(f"unreadable XLSX: bad cell range {ref!r}") from e
    cols = abs((c1 or _SHEET_COLS) - (c0 or 1)) + 1
    rows = abs((r1 or _SHEET_ROWS) - (r0 or 1)) + 1
    return rows * cols


class _Extents:
    """Running cell counts of a workbook's sheets, refused past MAX_SHEET_CELLS.

    Counted per kind over the whole workbook: the cells of each sheet's ``<mergeCell>`` ranges (openpyxl creates a MergedCell object for every one of
    them on load) and the ``<c>`` elements it really holds.
    """

    def __init__(self) -> None:
        self.totals = {"merged": 0, "real": 0}

    def add(self, sheet: str, kind: str, cells: int, what: str) -> None:
        if cells > MAX_SHEET_CELLS:
            raise LimitExceeded(
                "cells",
                f"sheet {sheet!r}: {what} covers {cells} cells > limit {MAX_SHEET_CELLS} "
                "(MAX_SHEET_CELLS)",
            )
        self.totals[kind] += cells
        if self.totals[kind] > MAX_SHEET_CELLS:
            raise LimitExceeded(
                "cells",
                f"sheet {sheet!r}: {kind} cells of the workbook reach {self.totals[kind]} > "
                f"limit {MAX_SHEET_CELLS} (MAX_SHEET_CELLS)",
            )


def _scan_sheet(sheet: str, source: IO[bytes], extents: _Extents) -> None:
    """Stream one sheet's XML (lxml iterparse, elements dropped once counted) into ``extents``.

    ``<mergeCells>`` follows ``<sheetData>``, so the whole part is parsed; rows are cleared as
    they end, which keeps memory flat whatever the sheet holds.
    """
    from lxml import etree

    try:
        for _, el in etree.iterparse(
            source, events=("end",), tag=_EXTENT_TAGS, resolve_entities=False, no_network=True
        ):
            name = etree.QName(el).localname
            if name == "row":
                extents.add(sheet, "real", len(el), "a row")
            elif ref := el.get("ref"):
                extents.add(sheet, "merged", _range_cells(ref), f"merged range {ref}")
            el.clear()
            while el.getprevious() is not None:
                del el.getparent()[0]
    except etree.XMLSyntaxError as e:
        raise DocumentError(f"unreadable XLSX: sheet {sheet!r}: {e}") from e


def _check_sheet_extents(data: bytes) -> None:
    """Refuse a workbook whose sheets merge or hold more than MAX_SHEET_CELLS cells,
    from the sheet XML, before ``openpyxl.load_workbook`` materialises them.

    The sheets are found the way openpyxl finds them (content types, workbook relations).
    ``data`` has passed :func:`check_zip`, so every member inflates to no more than it declares.
    """
    from openpyxl.reader.excel import ExcelReader

    try:
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        reader.read_manifest()
        reader.read_workbook()
        sheets = [
            (sheet.name, rel.target)
            for sheet, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        ]
    except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds on broken packages
        raise DocumentError(f"unreadable XLSX: {type(e).__name__}: {e}") from e
    extents = _Extents()
    with reader.archive:
        for name, target in sheets:
            with reader.archive.open(target) as source:
                _scan_sheet(name, source, extents)


def _xlsx_sheets(data: bytes) -> Iterator[tuple[str, dict, list]]:
    import openpyxl

    check_zip(data)
    _check_sheet_extents(data)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds on broken files
        raise DocumentError(f"unreadable XLSX: {type(e).__name__}: {e}") from e
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        if (ws.max_row or 0) * (ws.max_column or 0) > MAX_SHEET_CELLS:
            raise LimitExceeded(
                "cells",
                f"sheet {ws.title!r} too large: {ws.max_row}x{ws.max_column} > limit "
                f"{MAX_SHEET_CELLS} (MAX_SHEET_CELLS)",
            )
        cells: dict[tuple[int, int], str] = {}
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                text = _show(cell.value, cell.number_format)
                if text:
                    cells[(cell.row - 1, cell.column - 1)] = text
        merges = [
            (m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1)
            for m in ws.merged_cells.ranges
        ]
        yield ws.title, cells, merges


def _xls_sheets(data: bytes) -> Iterator[tuple[str, dict, list]]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    except Exception as e:  # noqa: BLE001 - xlrd raises XLRDError, CompDocError, struct errors
        raise DocumentError(f"unreadable XLS: {type(e).__name__}: {e}") from e
    for sh in book.sheets():
        if sh.visibility:
            continue
        if sh.nrows * sh.ncols > MAX_SHEET_CELLS:
            raise LimitExceeded(
                "cells",
                f"sheet {sh.name!r} too large: {sh.nrows}x{sh.ncols} > limit {MAX_SHEET_CELLS} "
                "(MAX_SHEET_CELLS)",
            )
        cells: dict[tuple[int, int], str] = {}
        for r in range(sh.nrows):
            for c in range(sh.ncols):
                cell = sh.cell(r, c)
                if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    continue
                fmt = ""
                try:
                    xf = book.xf_list[cell.xf_index]
                    fmt = book.format_map[xf.format_key].format_str
                except (IndexError, KeyError, AttributeError):
                    pass
                value = cell.value
                if cell.ctype == xlrd.XL_CELL_DATE:
                    value = xlrd.xldate.xldate_as_datetime(value, book.datemode)
                text = _show(value, fmt)
                if text:
                    cells[(r, c)] = text
        merges = [(r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in sh.merged_cells]
        yield sh.name, cells, merges


def parse_sheet(data: bytes, source: str = "", kind: str = "xlsx") -> Document:
    """XLSX/XLS bytes → Document: visible sheets in order."""
    sheets = _xls_sheets(data) if kind == "xls" else _xlsx_sheets(data)
    blocks: list[Block] = []
    names: list[str] = []
    for name, cells, merges in sheets:
        names.append(name)
        blocks.extend(_sheet_blocks(cells, merges))
    if not blocks:
        raise DocumentError(f"{kind.upper()} has no cells")
    doc = Document(blocks=blocks, source=source, kind=kind)
    doc.hints["sheets"] = ",".join(names)
    return doc
