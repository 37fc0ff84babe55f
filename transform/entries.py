"""Section lines → labelled entries with their value cells.

Whatever the serialisation (HTML grid row, one cell per line, one row per line, pipe-less), a
table reads as labels each followed by the value cells that belong to it.  An entry keeps its
cells grouped by source row ("segments") so that the slot assignment can tell blank value
cells from filler (formats.md §9.3–9.4).  A row label broken over two lines or cells is joined
back where the join spells a catalogue label (``_join_wrapped``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from . import catalogue
from .labels import norm, stem
from .locate import Line
from .values import parse_cell


@dataclass(slots=True)
class Entry:
    label: str  # as printed
    segments: list[list[str]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return stem(self.label)

    @property
    def norm(self) -> str:
        return norm(self.label)

    def n_values(self) -> int:
        return sum(1 for seg in self.segments for c in seg if parse_cell(c).kind != "blank")


def build_entries(lines: list[Line]) -> list[Entry]:
    """Group a section's rows into entries.  Cells before the first label go to a '' entry."""
    entries: list[Entry] = [Entry("")]
    for line in lines:
        cells = line.cells
        label_pos = [i for i, c in enumerate(cells) if c and parse_cell(c).kind == "text"]
        if not label_pos:
            if all(not c.strip() for c in cells):
                # A lone empty cell on its own line may be a blank value (one-cell-per-line
                # dumps); wider all-empty rows are filler.  Keep the former, marked.
                if len(cells) == 1:
                    entries[-1].segments.append([""])
                continue
            entries[-1].segments.append(list(cells))
            continue
        head = cells[: label_pos[0]]
        if any(c.strip() for c in head):
            # Values before the row's first label close the previous entry: a dump that breaks
            # lines wherever it likes can print '89 | 第二十条第(五)项' (empty leading cells
            # are span copies and stay ignored).
            entries[-1].segments.append(list(head))
        for k, pos in enumerate(label_pos):
            end = label_pos[k + 1] if k + 1 < len(label_pos) else len(cells)
            entry = Entry(cells[pos])
            tail = cells[pos + 1 : end]
            if tail:
                entry.segments.append(list(tail))
            entries.append(entry)
    return _join_wrapped(entries)


@cache
def _row_label_stems() -> frozenset[str]:
    """Stems of every catalogue row label, both formats."""
    return frozenset(stem(c.item_zh) for fmt in catalogue.FORMATS for c in catalogue.cells(fmt))


def _wrapped(first: str, second: str) -> bool:
    """``first`` and ``second`` are one row label broken over two lines or cells
    (``三、本年度办理结果（一）予以`` / ``公开``, ``1.属于国家`` / ``秘密``): neither is a label
    itself, and a catalogue label (four characters or more) runs across the break."""
    known = _row_label_stems()
    a, b = stem(first), stem(second)
    if not a or not b or a in known or b in known:
        return False
    joined = stem(first + second)
    if joined in known:  # also a break inside a parenthetical: '(二)部分公开(区分…' / '…情形)'
        return True
    return any(len(k) >= 4 and k in joined and k not in a and k not in b for k in known)


def _join_wrapped(entries: list[Entry]) -> list[Entry]:
    """A label without values followed by a label with values that completes it: one entry.
    Only where the join spells a catalogue label, so separate labels (``（三）不予公开`` /
    ``1.属于国家秘密``) and header words stay apart."""
    out: list[Entry] = []
    for e in entries:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.label
            and not prev.n_values()  # at most span filler after the first half
            and e.n_values()
            and _wrapped(prev.label, e.label)
        ):
            out[-1] = Entry(prev.label + e.label, prev.segments + e.segments)
        else:
            out.append(e)
    return out


def assign_slots(segments: list[list[str]], n: int) -> list[str] | None:
    """Pick exactly ``n`` value cells (raw strings, '' for blank) from an entry's segments.

    Tried in order, first exact fit wins; None when no reading gives exactly ``n`` (the caller
    records an error instead of guessing):
    1. the non-empty cells (blanks were filler);
    2. every cell of the segments that hold a value, plus lone blank lines between them;
    3. the same with each segment's trailing blanks dropped (row-end filler);
    4. one segment whose first ``n`` cells hold all its non-empty cells.
    """
    if n <= 0:
        return []
    flat = [c for seg in segments for c in seg]
    nonempty = [c for c in flat if parse_cell(c).kind != "blank"]
    if len(nonempty) == n:
        return nonempty
    if not nonempty:
        # A whole row of blank cells (D6) counts only when the label's own row has at least
        # ``n`` cells (the rest is row-end filler); a label with no cells stays unmapped.
        if segments and len(segments[0]) >= n and all(len(seg) <= 1 for seg in segments[1:]):
            return [""] * n
        return None
    if len(nonempty) > n:
        return None
    # Drop leading/trailing lone-blank segments; keep those sandwiched between value segments.
    has_value = [any(parse_cell(c).kind != "blank" for c in seg) for seg in segments]
    first = has_value.index(True)
    last = len(has_value) - 1 - has_value[::-1].index(True)
    core = [
        seg
        for i, seg in enumerate(segments[first : last + 1], start=first)
        if has_value[i] or seg == [""]
    ]
    allc = [c for seg in core for c in seg]
    if len(allc) == n:
        return [c.strip() for c in allc]
    trimmed: list[str] = []
    for seg in core:
        s = list(seg)
        while s and not s[-1].strip():
            s.pop()
        trimmed.extend(s)
    if len(trimmed) == n:
        return [c.strip() for c in trimmed]
    for seg in core:
        if len(seg) >= n and sum(1 for c in seg[:n] if c.strip()) == len(nonempty):
            return [c.strip() for c in seg[:n]]
    return None
