"""The number a table cell's text spells, if any: the one reading OCR and the transform share.

OCR needs to know whether a cell it read is a number (numbers get a stricter confidence gate)
and the transform needs its value; both must agree on what counts as one, so the reading lives
here.  What a non-number means (a placeholder such as "/" or "无", a blank) is the transform's
business and stays in transform/values.py.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from .text import compact

UNITS = ("万元", "元", "件", "项", "个", "次", "宗")
_NUMBER = re.compile(
    r"^(?P<sign>[+\-−]|减|增|減)?(?P<num>\d+(?:\.\d+)?)(?P<unit>" + "|".join(UNITS) + r")?$"
)
# Thousands grouping only in groups of three: "1,2" is not a number, and we do not guess.
_GROUPED = re.compile(r"[+\-−减增減]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\D*")
_NEGATIVE = frozenset(("-", "−", "减", "減"))


class Number(NamedTuple):
    """A cell's number, with its unit word moved out (件, 万元 …) when it had one."""

    value: int | float
    unit: str | None


@lru_cache(maxsize=65536)
def parse_number(text: str) -> Number | None:
    """The number a cell spells ("1,234", "减3", "12件", "0.5万元"), or None."""
    s = compact(text)
    m = _NUMBER.match(s.replace(",", "").replace("，", ""))
    if not m:
        return None
    if "," in s and not _GROUPED.fullmatch(s):
        return None
    num = m.group("num")
    value: int | float = float(num) if "." in num else int(num)
    if m.group("sign") in _NEGATIVE:
        value = -value
    return Number(value, m.group("unit"))
