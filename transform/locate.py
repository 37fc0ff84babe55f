"""Find sections 二, 三, 四 (the three standard tables) in a document, once per copy.

The document is read as a sequence of lines: each paragraph is one line, each logical table row
(span copies removed) is one line of cells.  Section headings are recognised wherever they sit
(paragraph, one-cell row, pipe-less row) and only with the words of their title, so row labels
such as ``三、本年度办理结果`` or ``四、结转下年度继续办理`` are never taken for headings.  When a
heading is missing, table anchors (``第二十条``, ``勾稽关系``/``申请人情况``, ``行政复议``) open
the section instead, so each table is found on its own: a heading that is missing, garbled or
out of order costs nothing while the table's own anchor is there.  A page carrying the report
twice (print copy) yields two copies.

A document that stops inside a table (a truncated download or capture) is marked on its copy
(``Copy.cut``): that table may lack its tail, and in HTML the blank cells ending its last row
may be cells whose text was cut off, so they are dropped rather than read as blank values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nianbao.core.document import Document, Paragraph, Table

from .labels import heading_number, norm, stem

SECTION_OF_HEADING = {"二": "active", "三": "requests", "四": "appeals"}


@dataclass(slots=True)
class Line:
    cells: list[str]
    is_paragraph: bool
    block: int
    row: int

    @property
    def text(self) -> str:
        return " ".join(c for c in self.cells if c)


@dataclass(slots=True)
class Copy:
    """One rendering of the report's tables: lines per section."""

    sections: dict[str, list[Line]] = field(default_factory=dict)
    cut: str | None = None  # the section whose table the document stops inside


def lines_of(doc: Document, limit: int | None = None) -> list[Line]:
    """The document as lines; ``limit`` stops early (metadata only reads the top)."""
    out: list[Line] = []
    for b, block in enumerate(doc.blocks):
        if limit is not None and len(out) >= limit:
            return out[:limit]
        if isinstance(block, Paragraph):
            out.append(Line([block.text], True, b, 0))
        elif isinstance(block, Table):
            rows = block.logical_rows() if limit is None else block.logical_rows()[:limit]
            for r, row in enumerate(rows):
                out.append(Line(row, False, b, r))
    return out if limit is None else out[:limit]


# The standard tables' own titles (stems).  Some templates number the tables apart from the
# report's sections (Shanghai's departments: 一、主动公开政府信息情况 after six text sections;
# captions such as 表二：…), so a line that is exactly one of these titles opens its table
# whatever number it carries.
_TABLE_TITLES = {
    "主动公开政府信息情况": "active",
    "收到和处理政府信息公开申请情况": "requests",
    "政府信息公开行政复议行政诉讼情况": "appeals",
}
_CAPTION = re.compile(r"^表[一二三四1-4][:：、.]?")


def _titled(text: str) -> str | None:
    return _TABLE_TITLES.get(stem(_CAPTION.sub("", text)))


def _heading(line: Line) -> str | None:
    """The section a heading line opens: 'active', 'requests', 'appeals', 'other', or None."""
    nonempty = [c for c in line.cells if c]
    if not nonempty or len(nonempty) > 2:
        return None
    text = norm(nonempty[0])
    if len(text) > 40:
        return None
    titled = _titled(text)
    if titled is not None:
        return titled
    num = heading_number(text)
    if num is None:
        return None
    if num == "二" and "主动公开" in text:
        return "active"
    if num == "三" and "申请" in text and ("收到" in text or "处理" in text or "依申请" in text):
        return "requests"
    if num == "四" and ("复议" in text or "诉讼" in text):
        return "appeals"
    if num == "五" and ("问题" in text or "改进" in text):
        return "other"
    if num == "六" and "其他" in text:
        return "other"
    if num == "一" and ("总体" in text or "概述" in text):
        return "intro"
    return None


def _anchor(line: Line, current: str | None) -> str | None:
    """A table anchor that opens a section when its heading is missing."""
    if line.is_paragraph:
        return None
    first = norm(next((c for c in line.cells if c), ""))
    if not first:
        return None
    if first.startswith("第二十条") and current not in ("active",):
        return "active"
    if ("勾稽关系" in first or first == "申请人情况") and current != "requests":
        return "requests"
    appeals_head = first == "行政复议" or (first.startswith("行政复议") and "行政诉讼" in first)
    if appeals_head and current != "appeals":  # `行政复议 行政诉讼` as one pipe-less cell
        return "appeals"
    return None


def find_copies(doc: Document) -> list[Copy]:
    """Split the document into copies of the report and each copy into its table sections."""
    copies: list[Copy] = [Copy()]
    current: str | None = None
    last_row: Line | None = None  # the document's last line, when it is a row of a section
    for line in lines_of(doc):
        opened = _heading(line) or _anchor(line, current)
        last_row = line if opened is None and current and not line.is_paragraph else None
        if opened is not None:
            if opened in ("active", "requests", "appeals"):
                cur = copies[-1]
                if opened == current and not cur.sections[opened]:
                    continue  # a caption repeating the heading just read (表二：…)
                if opened in cur.sections:  # the same section again: a second copy
                    copies.append(Copy())
                copies[-1].sections[opened] = []
                current = opened
            elif opened == "intro" and copies[-1].sections:
                copies.append(Copy())
                current = None
            else:
                current = None
            continue
        if current is not None and not line.is_paragraph:
            copies[-1].sections[current].append(line)
    if current is not None:  # no later heading closed the section: the document ends in it
        _mark_cut(copies[-1], current, last_row if doc.kind == "html" else None)
    return [c for c in copies if c.sections]


def _mark_cut(copy: Copy, section: str, last: Line | None) -> None:
    """The document ends inside ``section``: note it, and drop the trailing blank cells of
    ``last``, its table's last row.  Only HTML passes a row: there a download cut inside a
    ``<td>`` leaves a cell whose text is gone and which reads exactly like a blank one (a text
    dump's row ends with its own delimiter, so a blank cell there is printed, not cut)."""
    copy.cut = section
    if last is None:
        return
    cells = list(last.cells)
    while cells and not cells[-1].strip():
        cells.pop()
    if len(cells) != len(last.cells):
        copy.sections[section][-1] = Line(cells, last.is_paragraph, last.block, last.row)
