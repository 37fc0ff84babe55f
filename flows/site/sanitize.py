"""A captured page's tables re-emitted through an allowlist: the only HTML of a snapshot a
site page ever contains.

Why an allowlist and not a cleaner: captured pages are third-party markup, some hostile
(scripts, ``onerror=`` handlers, tracking images, CSS that hides spam).  Anything copied
verbatim could run in the reader's browser, and any external reference would be a failed
request when the site is opened offline.  So nothing is copied: a new tree is written with only
``table/thead/tbody/tr/th/td``, only ``rowspan``/``colspan`` (as bounded integers), and every
cell's text escaped.  Markup inside a cell is flattened to its text; ``<script>``, ``<style>``
and the like contribute nothing, not even their text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from lxml import etree

MAX_TABLES = 40  # a report has three; page chrome adds a few layout tables
MAX_CELLS = 20_000  # over all tables of one page (a 2021 report's three tables: ~260 cells)
MAX_CELL_TEXT = 2_000  # characters of one cell kept
MAX_SPAN = 100  # rowspan/colspan beyond this is clamped (a table is never that large)

_SECTIONS = {"thead", "tbody", "tfoot"}
_ROW_CELLS = {"td", "th"}
_SILENT = {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math"}


# lxml's own HTML parser (libxml2), plain elements: lxml.html's element classes cost a lookup
# per node and are not needed here.  Tags come out lower-case.
_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)


class TooLarge(Exception):
    """The tables exceed the caps: the page says "source too large to show" instead."""


@dataclass(slots=True)
class _Budget:
    cells: int = 0

    def take(self) -> None:
        self.cells += 1
        if self.cells > MAX_CELLS:
            raise TooLarge(f"more than {MAX_CELLS} table cells")


def _span(value: str | None) -> int:
    try:
        n = int((value or "1").strip())
    except ValueError:
        return 1
    return min(max(n, 1), MAX_SPAN)


def _text(el: etree._Element) -> str:
    """The text of ``el`` without the text of nested tables (scripts and styles are gone by
    now: tables_from_html strips them from the whole tree first)."""
    if next(el.iterdescendants("table"), None) is None:  # the usual cell: one C call
        return " ".join(el.xpath("string()").split())[:MAX_CELL_TEXT]
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if not isinstance(node.tag, str) or node.tag == "table":
            return
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    if el.text:
        parts.append(el.text)
    for child in el:
        walk(child)
        if child.tail:
            parts.append(child.tail)
    return " ".join("".join(parts).split())[:MAX_CELL_TEXT]


def _rows(table: etree._Element) -> Iterable[etree._Element]:
    """The table's own rows (in sections or directly), not those of nested tables."""
    for child in table:
        if not isinstance(child.tag, str):
            continue
        tag = child.tag.lower()
        if tag == "tr":
            yield child
        elif tag in _SECTIONS:
            yield from (r for r in child if isinstance(r.tag, str) and r.tag.lower() == "tr")


def _nested(cell: etree._Element) -> list[etree._Element]:
    """Tables inside a cell that are not inside a deeper table (rendered after its text)."""
    out = []
    for t in cell.iter("table"):
        if t is cell:
            continue
        parent = t.getparent()
        while parent is not None and parent is not cell and parent.tag != "table":
            parent = parent.getparent()
        if parent is cell:
            out.append(t)
    return out


def _emit_table(table: etree._Element, out: list[str], budget: _Budget, depth: int) -> None:
    out.append("<table>")
    for row in _rows(table):
        out.append("<tr>")
        for cell in row:
            if not isinstance(cell.tag, str) or cell.tag.lower() not in _ROW_CELLS:
                continue
            budget.take()
            tag = cell.tag.lower()
            attrs = ""
            for name in ("rowspan", "colspan"):
                n = _span(cell.get(name))
                if n > 1:
                    attrs += f' {name}="{n}"'
            out.append(f"<{tag}{attrs}>{escape(_text(cell))}")
            if depth < 3:
                for inner in _nested(cell):
                    _emit_table(inner, out, budget, depth + 1)
            out.append(f"</{tag}>")
        out.append("</tr>")
    out.append("</table>")


def tables_from_html(text: str) -> tuple[str, int]:
    """Allowlisted HTML of the outermost tables of a page, and how many there were.

    Raises TooLarge past the caps.  A page with no table gives ``("", 0)``.
    """
    if not text.strip():
        return "", 0
    root = etree.fromstring(text.encode("utf-8"), _PARSER)
    if root is None:
        return "", 0
    # what a cell must never contribute, not even as text
    etree.strip_elements(root, *_SILENT, with_tail=False)
    tops = [t for t in root.iter("table") if not any(a.tag == "table" for a in t.iterancestors())]
    if len(tops) > MAX_TABLES:
        raise TooLarge(f"{len(tops)} tables (more than {MAX_TABLES})")
    out: list[str] = []
    budget = _Budget()
    for t in tops:
        _emit_table(t, out, budget, 0)
    return "".join(out), len(tops)


def tables_from_grids(grids: Sequence[Sequence[Sequence[str]]]) -> str:
    """Allowlisted HTML of tables given as rows of cell strings (a reader's logical rows)."""
    if len(grids) > MAX_TABLES:
        raise TooLarge(f"{len(grids)} tables (more than {MAX_TABLES})")
    out: list[str] = []
    budget = _Budget()
    for grid in grids:
        out.append("<table>")
        for row in grid:
            out.append("<tr>")
            for cell in row:
                budget.take()
                out.append(f"<td>{escape(' '.join(str(cell).split())[:MAX_CELL_TEXT])}</td>")
            out.append("</tr>")
        out.append("</table>")
    return "".join(out)
