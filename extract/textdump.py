"""Text dumps of report pages → Document.

Two families occur (formats.md D8):

* piped dumps (five or more lines carrying a pipe, the pipes separating cells:
  ``_pipes_separate``): cells separated by pipes wherever they stand (line end, line start, a
  line of their own, `` | `` inline) with span filler runs of pipes; see :mod:`.textpipes`.
  Pipe-less lines that no pipe closes are paragraphs.  Markdown captures are piped dumps once
  their ``##`` heading markers and ``|---|`` delimiter rows are dropped.
* pipe-less dumps (PDF flip-books, copy-paste): cells separated by blank lines or spaces.  Short
  lines become table rows split on whitespace, with neighbouring words re-joined so that labels
  with inner spaces (``商业 企业``) stay one cell while runs of numbers split; long prose lines
  stay paragraphs.

The parser does not interpret labels or numbers; empty cells are kept (the transform decides
whether an empty cell is a blank value or filler).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from nianbao.core.document import Document, DocumentError, Paragraph, Table

from .charset import decode
from .textpipes import piped_blocks, split_piped

_NUMERIC_TOKEN = re.compile(r"^[+\-−減减增]?\d[\d,，.]*(?:万元|元|件|项|个|%)?$|^[/／\-—–－]+$")
_PROSE_PUNCT = re.compile(r"[，。；：,;:！？]")


def _split_pipeless(line: str) -> list[str]:
    """Whitespace-separated tokens; adjacent non-numeric tokens are re-joined with one space.

    A stray run of pipes (span filler such as ``第二十条第(一)项 | |||`` in a dump with too few
    pipes for pipe mode) separates cells and is never a cell itself."""
    cells: list[str] = []
    prev_text = False
    for tok in line.split():
        if not tok.strip("|"):
            prev_text = False
            continue
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


_MD_HEADING = re.compile(r"^#{1,6}\s+")
_MD_RULE_CELL = re.compile(r"^:?-{3,}:?$")


def _without_markdown(lines: Iterable[str]) -> list[str]:
    """Non-blank lines without Markdown's own markup: captures that turn a report into Markdown
    print headings as ``## 二、主动公开政府信息情况`` and put a delimiter row (``|---|---|``)
    under each table's first row; that row is no table row and the ``##`` is no text."""
    out: list[str] = []
    for line in lines:
        if "|" in line:
            cells = split_piped(line)
            if len(cells) >= 2 and all(_MD_RULE_CELL.match(c) for c in cells):
                continue
        line = _MD_HEADING.sub("", line)
        if line:
            out.append(line)
    return out


def _pipes_separate(lines: list[str]) -> bool:
    """Pipe mode: five or more lines carry a pipe, and the pipes are the dump's separators.
    They are not when no pipe stands between two cells and most lines holding numbers have no
    pipe to close them: a space- or line-separated dump whose captions alone carry span filler
    (``第二十条第(一)项 | |||`` above ``规章 0 0 0``) reads as pipe-less."""
    piped = [ln for ln in lines if "|" in ln]
    if len(piped) < 5:
        return False
    if any(sum(1 for c in split_piped(ln) if c) >= 2 for ln in piped):
        return True
    unclosed = sum(
        1
        for ln, nxt in zip(lines, [*lines[1:], ""], strict=True)
        if "|" not in ln and not nxt.startswith("|") and _holds_number(ln)
    )
    return len(piped) >= unclosed


def _holds_number(line: str) -> bool:
    """A line with a standalone number: a value or a row of them, not a sentence."""
    return any(_NUMERIC_TOKEN.match(t) for t in line.split()) and not _is_prose(line)


def parse_text(text: str, source: str = "") -> Document:
    """Parse a decoded text dump."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    lines = _without_markdown(ln.strip() for ln in text.split("\n"))
    if _pipes_separate(lines):
        blocks = piped_blocks(lines, _is_prose)
    else:
        blocks = _pipeless_blocks(lines)
    if not blocks:
        raise DocumentError("no text")
    return Document(blocks=blocks, source=source, kind="text")


def _pipeless_blocks(lines: list[str]) -> list[Paragraph | Table]:
    """Prose lines are paragraphs; the other lines are table rows split on whitespace."""
    blocks: list[Paragraph | Table] = []
    rows: list[list[str]] = []
    for line in lines:
        if _is_prose(line):
            if rows:
                blocks.append(Table(rows=list(rows)))
                rows.clear()
            blocks.append(Paragraph(line))
        else:
            # A line of filler pipes gives an empty row: kept, so that a dump of nothing but
            # pipes is an empty table rather than no document.
            rows.append(_split_pipeless(line))
    if rows:
        blocks.append(Table(rows=rows))
    return blocks


def parse_text_bytes(
    data: bytes, source: str = "", declared_charset: str | None = None
) -> Document:
    text, encoding = decode(data, declared_charset)
    doc = parse_text(text, source=source)
    doc.hints["encoding"] = encoding
    return doc
