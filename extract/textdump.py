"""Text dumps of report pages → Document.

Two families occur (formats.md D8):

* piped dumps: one cell per line ending in `` |`` (``X |``, ``X | |||`` with filler after the
  cell), one table row per line with `` | `` between cells, optional leading/trailing pipes, and
  filler lines made only of pipes.  Lines without a pipe are paragraphs.
* pipe-less dumps (PDF flip-books, copy-paste): cells separated by blank lines or spaces.  Short
  lines become table rows split on whitespace, with neighbouring words re-joined so that labels
  with inner spaces (``商业 企业``) stay one cell while runs of numbers split; long prose lines
  stay paragraphs.

The parser does not interpret labels or numbers; empty cells are kept (the transform decides
whether an empty cell is a blank value or filler).
"""

from __future__ import annotations

import re

from nianbao.core.document import Document, DocumentError, Paragraph, Table

from .charset import decode

_NUMERIC_TOKEN = re.compile(r"^[+\-−減减增]?\d[\d,，.]*(?:万元|元|件|项|个|%)?$|^[/／\-—–－]+$")
_PROSE_PUNCT = re.compile(r"[，。；：,;:！？]")


def _split_piped(line: str) -> list[str]:
    stripped = line.strip()
    parts = stripped.split("|")
    if stripped.startswith("|"):
        parts = parts[1:]
    if stripped.endswith("|") and parts:
        parts = parts[:-1]
    return [p.strip() for p in parts]


def _split_pipeless(line: str) -> list[str]:
    """Whitespace-separated tokens; adjacent non-numeric tokens are re-joined with one space."""
    cells: list[str] = []
    prev_text = False
    for tok in line.split():
        is_text = not _NUMERIC_TOKEN.match(tok)
        if is_text and prev_text:
            cells[-1] += " " + tok
        else:
            cells.append(tok)
        prev_text = is_text
    return cells


_PARENS = re.compile(r"[(（][^()（）]*[)）]")
_SENTENCE_END = ("。", "；", ";", "！", "？", "!", "?")


def _is_prose(line: str) -> bool:
    """Sentences are paragraphs even inside table regions of pipe-less dumps.  A line carrying
    standalone numbers (a label with its values) is a table row however long, and punctuation
    inside parentheses (filling notes in header labels) does not make a sentence."""
    s = line.strip()
    if any(_NUMERIC_TOKEN.match(tok) for tok in s.split()):
        return False
    if s.endswith(_SENTENCE_END):
        return True
    bare = _PARENS.sub("", s)
    return len(bare) > 60 or (len(bare) > 30 and len(_PROSE_PUNCT.findall(bare)) >= 2)


def parse_text(text: str, source: str = "") -> Document:
    """Parse a decoded text dump."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    lines = text.split("\n")
    piped = sum(1 for ln in lines if "|" in ln)
    pipe_mode = piped >= 5
    blocks: list[Paragraph | Table] = []
    rows: list[list[str]] = []

    def flush() -> None:
        if rows:
            blocks.append(Table(rows=list(rows)))
            rows.clear()

    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if pipe_mode:
            if "|" in line:
                rows.append(_split_piped(line))
            else:
                flush()
                blocks.append(Paragraph(line))
        elif _is_prose(line):
            flush()
            blocks.append(Paragraph(line))
        else:
            rows.append(_split_pipeless(line))
    flush()
    if not blocks:
        raise DocumentError("no text")
    return Document(blocks=blocks, source=source, kind="text")


def parse_text_bytes(
    data: bytes, source: str = "", declared_charset: str | None = None
) -> Document:
    text, encoding = decode(data, declared_charset)
    doc = parse_text(text, source=source)
    doc.hints["encoding"] = encoding
    return doc
