"""Piped text dumps → blocks, wherever the ``|`` separators and line breaks fall.

Real dumps print the same table cells in several ways, often mixed within one dump:

* ``a | b | c |``: a row per line, `` | `` between cells (optional leading/trailing pipes);
* ``a |``: a cell per line, its separator at the line's end;
* ``a`` then ``| b``: the separator at the start of the next line;
* ``a`` then ``|``: the separator on a line of its own;
* runs of pipes (``||||``) as span filler, after a cell or on a line of their own.

Every placement gives the same cells.  A line's cells form one row; a pipe-less line whose
closing pipe opens the next line (``| b`` or ``|``) is a cell of its own row, and that first
pipe closes it and nothing more.  Exception: when every piped line of the dump is a framed row
(``| a | b |``, Markdown tables), a leading pipe opens its row and closes nothing.  A pipe-less
line that no pipe closes stays a paragraph (headings, prose, info-box lines), and so does a
closed line that reads as a sentence: prose never becomes a cell.  Empty cells between pipes on
one line are kept, a line of k pipes gives k-1 empty cells (after the pipe that closes a cell
above, if any), as before: the transform tells blank values from filler.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from nianbao.core.document import Paragraph, Table

Block = Paragraph | Table


def split_piped(line: str) -> list[str]:
    """A line's cells: split on every pipe, one leading and one trailing pipe dropped."""
    stripped = line.strip()
    parts = stripped.split("|")
    if stripped.startswith("|"):
        parts = parts[1:]
    if stripped.endswith("|") and parts:
        parts = parts[:-1]
    return [p.strip() for p in parts]


class _Builder:
    """Collects rows into tables and closes a table whenever a paragraph comes between."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.rows: list[list[str]] = []

    def row(self, cells: list[str]) -> None:
        self.rows.append(cells)

    def paragraph(self, text: str) -> None:
        self.flush()
        self.blocks.append(Paragraph(text))

    def flush(self) -> None:
        if self.rows:
            self.blocks.append(Table(rows=list(self.rows)))
            self.rows.clear()


_COLON_OUTSIDE_PARENS = re.compile(r"[:：](?![^(（]*[)）])")


def _stays_paragraph(line: str, is_prose: Callable[[str], bool]) -> bool:
    """A line that a pipe on the next line closes, but that is no cell all the same: prose, or
    an info line with two ``label：value`` pairs (a cell would lose the second to the info-box
    reader)."""
    if is_prose(line):
        return True
    return len(_COLON_OUTSIDE_PARENS.findall(line)) >= 2


def rows_are_framed(lines: list[str]) -> bool:
    """Every piped line is a row framed by pipes (``| a | b |``, Markdown tables; a line of
    pipes alone is a closer, not a row): then a leading pipe opens its row and closes nothing,
    and the line above it stays a paragraph (``二、主动公开政府信息情况`` above
    ``| 第二十条第(一)项 |``)."""
    piped = [ln for ln in lines if "|" in ln]
    return bool(piped) and all(
        ln.startswith("|") and ln.endswith("|") and ln.strip("| ") for ln in piped
    )


def piped_blocks(lines: list[str], is_prose: Callable[[str], bool]) -> list[Block]:
    """Blocks of a piped dump's non-blank, stripped lines (see the module docstring).

    ``pending`` is a pipe-less line waiting for the next line to tell whether a pipe closes it
    (a cell) or not (a paragraph); ``open_tail`` says the last row ended without its closing
    pipe, so a pipe opening the next line closes that cell rather than starting a new one.
    """
    out = _Builder()
    framed = rows_are_framed(lines)
    pending: str | None = None
    open_tail = False
    for line in lines:
        if "|" not in line:
            if pending is not None:
                out.paragraph(pending)
            pending, open_tail = line, False
            continue
        closes = line.startswith("|") and (open_tail or (pending is not None and not framed))
        if pending is not None:
            # Between two table lines, an unclosed line is a cell as well: a heading between
            # tables, or the first half of a wrapped label ('(一)予以' above '公开 |'), which
            # the transform joins; either way it is no paragraph of the text.
            inside = bool(out.rows) and not framed
            if (closes or inside) and not _stays_paragraph(pending, is_prose):
                out.row([pending])
            else:
                out.paragraph(pending)
            pending = None
        rest = line[1:] if closes else line
        open_tail = bool(rest.strip()) and not rest.rstrip().endswith("|")
        if rest.strip():
            out.row(split_piped(rest))
    if pending is not None:
        out.paragraph(pending)
    out.flush()
    return out.blocks
