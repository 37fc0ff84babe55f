"""Label normalisation: the one place that decides when two printed labels are "the same".

Reports print the same label in many ways: full- or half-width punctuation, spaces and line
breaks inside words (`商业 企业`), curly or straight or no quotes, enclosed ideographs (`㈠`),
with or without their enumerator (`一、`, `(一)`, `1.`) and parentheticals (`(单位:万元)`,
provincial filling notes).  ``norm`` folds presentation; ``stem`` also drops enumerators and
parentheticals, giving the key rows and columns are matched on.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans("", "", "\"'“”‘’「」『』〝〞＂")
# Leading enumerators: 一、 (一) 1. 1、 ① … possibly stacked ("三、(一)").
_ENUM = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|\([一二三四五六七八九十]+\)|\d{1,2}[.、．)](?!\d)|[①-⑳])+"
)
_PAREN = re.compile(r"\([^()]*\)")
_PUNCT = re.compile(r"[、,，:：;；。.·\-—_/|()\[\]【】<>《》]+")


@lru_cache(maxsize=65536)
def norm(text: str) -> str:
    """NFKC, no whitespace (incl. NBSP/U+3000), no quotes.  Punctuation and enumerators kept."""
    text = unicodedata.normalize("NFKC", text)
    text = _SPACES.sub("", text)
    return text.translate(_QUOTES)


@lru_cache(maxsize=65536)
def stem(text: str) -> str:
    """The matching key: ``norm`` minus leading enumerators, parentheticals and punctuation."""
    t = norm(text)
    t = _ENUM.sub("", t)
    prev = None
    while prev != t:  # nested parentheses
        prev, t = t, _PAREN.sub("", t)
    t = t.replace("(", "").replace(")", "")
    return _PUNCT.sub("", t)


_HEADING = re.compile(r"^([一二三四五六七八九十])[、.．]")


def heading_number(text: str) -> str | None:
    """'二' for '二、主动公开政府信息情况', else None."""
    m = _HEADING.match(norm(text))
    return m.group(1) if m else None
