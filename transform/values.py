"""Cell text → value.  Placeholders are null (never 0); the raw text is always kept by callers.

Reading the number itself is shared with OCR (core/values.py); what this module adds is the
report's convention for cells that hold no number: a placeholder ("/", "无", "—") means
"nothing to report" and must stay distinct from a blank and from free text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from nianbao.core.text import compact
from nianbao.core.values import parse_number

PLACEHOLDERS = frozenset(
    {
        "/",
        "-",
        "—",
        "——",
        "–",
        "－",
        "─",
        "无",
        "空",
        "n/a",
        "na",
        "\\",
        "／",
        "×",
        "…",
        "...",
        "---",
        "--",
    }
)
_DASHES = frozenset("/-—–－─\\")


@dataclass(frozen=True, slots=True)
class Parsed:
    kind: str  # "number", "placeholder", "blank", "text"
    value: int | float | None = None
    unit: str | None = None


BLANK = Parsed("blank")
TEXT = Parsed("text")
PLACEHOLDER = Parsed("placeholder")


@lru_cache(maxsize=65536)
def parse_cell(raw: str) -> Parsed:
    """Classify a cell: a number (with sign words and unit moved out), a placeholder, blank, text."""
    s = compact(raw)
    if not s:
        return BLANK
    if s.lower() in PLACEHOLDERS or (len(s) <= 3 and set(s) <= _DASHES):
        return PLACEHOLDER
    number = parse_number(s)
    if number is None:
        return TEXT
    return Parsed("number", number.value, number.unit)
