"""The one document model every parser produces and every transform reads.

A report, whatever it was published as (text dump, HTML page, later PDF/DOCX/OCR), becomes an
ordered list of blocks: paragraphs of text and tables.  A table is a rectangular grid of cell
strings with rowspan/colspan already expanded; ``span`` marks the cells that are copies of a
spanning cell, so a consumer can read the grid either geometrically (every position filled) or
logically (each source cell once).  Parsers do not interpret numbers or labels: that is the
transform's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Paragraph:
    """A run of text outside any table (heading, prose line, info-box line)."""

    text: str


@dataclass(slots=True)
class Table:
    """A grid of cell strings, spans expanded.

    ``rows[r][c]`` is the text of the cell covering row r, column c.  ``span[r][c]`` is True
    when that position holds no source cell of its own: it is covered by a cell that starts at
    another position (a rowspan or colspan copy), or it pads a short row ('' there means
    "no cell", not "a blank cell").  Rows may be ragged when the source was (text dumps).
    """

    rows: list[list[str]]
    span: list[list[bool]] | None = None

    def logical_rows(self) -> list[list[str]]:
        """Each row with span copies removed: every source cell exactly once, in order."""
        if self.span is None:
            return [list(r) for r in self.rows]
        out: list[list[str]] = []
        for cells, copies in zip(self.rows, self.span, strict=False):
            out.append([c for c, is_copy in zip(cells, copies, strict=False) if not is_copy])
        return out


Block = Paragraph | Table


@dataclass(slots=True)
class Document:
    """Ordered blocks of one source, plus hints the container gave (HTML <title>, <meta>)."""

    blocks: list[Block]
    source: str = ""
    kind: str = ""  # "text", "html", ...
    hints: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def paragraphs(self) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, Paragraph)]

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


class DocumentError(Exception):
    """A source that cannot be turned into a document (unreadable, empty, unknown format)."""


class LimitExceeded(DocumentError):
    """Input over one of the readers' limits (pages, cells, pixels, inflated bytes…).

    ``limit`` names which (``pages``, ``cells``, ``pixels``, ``inflated``, ``size``…), so the
    run summary can count refusals by limit without re-reading messages.
    """

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


class UnsupportedFormat(DocumentError):
    """Bytes of a known kind that no reader handles yet (OFD, archives…); ``kind`` names it."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"unsupported format: {kind}: {reason}")
        self.kind = kind
