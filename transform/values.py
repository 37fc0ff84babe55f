"""Cell text → value.  Placeholders are null (never 0); the raw text is always kept by callers."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

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
_UNITS = ("万元", "元", "件", "项", "个", "次", "宗")
_NUMBER = re.compile(
    r"^(?P<sign>[+\-−]|减|增|減)?(?P<num>\d+(?:\.\d+)?)(?P<unit>万元|元|件|项|个|次|宗)?$"
)
_SPACES = re.compile(r"\s+")


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
    s = unicodedata.normalize("NFKC", raw)
    s = _SPACES.sub("", s)
    if not s:
        return BLANK
    if s.lower() in PLACEHOLDERS or (len(s) <= 3 and set(s) <= set("/-—–－─\\")):
        return PLACEHOLDER
    s2 = s.replace(",", "").replace("，", "")
    m = _NUMBER.match(s2)
    if not m:
        return TEXT
    if "," in s and not re.fullmatch(r"[+\-−减增減]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\D*", s):
        return TEXT  # "1,2" is not a thousands-grouped number: do not guess
    num = m.group("num")
    value: int | float = float(num) if "." in num else int(num)
    if m.group("sign") in ("-", "−", "减", "減"):
        value = -value
    return Parsed("number", value, m.group("unit"))


def is_value_like(raw: str) -> bool:
    """True for cells that fill a value slot: numbers, placeholders and blanks."""
    return parse_cell(raw).kind != "text"
