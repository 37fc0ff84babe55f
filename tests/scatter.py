"""Re-render a text dump's tables with random separator placement and random line breaks.

Input: a dump whose table rows are one line each (``| a | b |``, synth's ``rows_plain``) or one
cell per line (``a |``, the seeds).  Output: the same paragraphs and the same cells in the same
order, each cell's closing pipe placed at random:

* ``inline``: `` | `` and the next cell on the same line;
* ``end``: `` |`` at the end of the cell's line;
* ``own``: ``|`` on a line of its own;
* ``start``: ``|`` opening the next line (the next cell follows it, if any);

and after a line-ending closer, now and then a run of 2–4 pipes (span filler) on the same line
or on a line of its own.  Pipes are spaced at random (``a |``, ``a|``), a row now and then
opens with a pipe (``| a | b |``), and blank lines fall here and there.  Row breaks fall wherever a placement ends a line.  Filler only
follows a cell that ends its line, as in real dumps, and every cell is printed, so a blank value
cell must not occur in the input (it would be indistinguishable from filler).
"""

from __future__ import annotations

import random

PLACEMENTS = ("inline", "end", "own", "start")


def table_cells(line: str) -> list[str] | None:
    """The cells of a table line of the input dump, None for a paragraph line."""
    s = line.strip()
    if "|" not in s:
        return None
    parts = s.split("|")
    if s.startswith("|"):
        parts = parts[1:]
    if s.endswith("|"):
        parts = parts[:-1]
    return [p.strip() for p in parts if p.strip()]


def _filler(rng: random.Random) -> str:
    return "|" * rng.randint(2, 4)


def _pipe(rng: random.Random) -> str:
    """A closing pipe as dumps space it: ``a |``, ``a|``, ``a  |``."""
    return rng.choice((" |", "|", "  |"))


def render_cells(cells: list[str], rng: random.Random) -> list[str]:
    """One table's cells as dump lines in random placements."""
    lines: list[str] = []
    cur = ""  # the line being written
    for i, cell in enumerate(cells):
        last = i == len(cells) - 1
        if not cur and rng.random() < 0.15:
            cur = "|"  # a row opened by a pipe, as in '| a | b |' (it closes nothing)
        cur = f"{cur}{rng.choice((' ', ''))}{cell}" if cur else cell
        how = rng.choice(PLACEMENTS)
        if how == "inline" and not last:
            cur += _pipe(rng)
            continue
        if how == "start" and not last:
            lines.append(cur)
            cur = "|"
            continue
        if how in ("end", "inline"):
            cur += _pipe(rng)
        else:  # own, or start with nothing left to open: the pipe stands alone
            lines.append(cur)
            cur = "|"
        if rng.random() < 0.3:
            if rng.random() < 0.5:
                cur += " " + _filler(rng)
            else:
                lines.append(cur)
                cur = _filler(rng)
        lines.append(cur)
        cur = ""
    if cur:
        lines.append(cur)
    return [ln for line in lines for ln in ([line, ""] if rng.random() < 0.05 else [line])]


def scatter(text: str, rng: random.Random) -> str:
    """``text`` with every table re-rendered by :func:`render_cells`."""
    out: list[str] = []
    run: list[str] = []
    for line in text.splitlines():
        cells = table_cells(line)
        if cells is None:
            out += render_cells(run, rng)
            run = []
            if line.strip():
                out.append(line)
        else:
            run += cells
    out += render_cells(run, rng)
    return "\n".join(out) + "\n"
