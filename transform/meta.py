"""Report metadata: title, agency, year, publication date, 索引号, from text and container hints.

Sources in order of trust: the info box (索引号/发布机构/发布日期, as table rows or lines, or
given by the HTML parser in ``Document.hints``), the title, then the opening sentences.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from nianbao.core.dates import iso_date
from nianbao.core.document import Document
from nianbao.core.text import compact, readings
from nianbao.core.vocabulary import LABEL_ALTERNATION, YEAR, label_key, year_value

from .labels import heading_number
from .locate import lines_of
from .result import Meta

_TITLE = re.compile(
    rf"(?P<agency>.*?)(?P<year>{YEAR})\s*年(?:度)?"
    r"(?P<agency2>.{0,40}?)"
    r"(?:政府|政务)?信息公开(?:工作)?(?:年度)?(?:报告|年报)"
)
_PERIOD = re.compile(r"统计期限[^0-9]{0,8}((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日")
_INTRO_AGENCY = [
    re.compile(
        r"结合(?!我|本)(?P<a>[^，,。、；]{3,40}?)(?:\d{4}年(?:度)?)?政府信息公开(?:年度)?工作"
    ),
    re.compile(
        r"^(?:\d{4}年(?:度)?|今年|本年度)[，,](?P<a>[^，,。；]{3,40}?)(?:深入|认真|坚持|以|按照|全面|紧紧|严格|始终|围绕|高度|进一步|持续|积极|在)"
    ),
]
# "label: value" inside one line or cell, with the shared label table (core/vocabulary.py).
_LABEL_VALUE = re.compile(rf"(?P<label>{LABEL_ALTERNATION})\s*:\s*(?P<value>\S+)")
_AGENCY_BAD = ("我", "本", "政府信息公开条例", "国务院")


@lru_cache(maxsize=65536)
def _clean(s: str) -> str:
    """Folded and unspaced (core.text.compact), without the colons and bars around a label."""
    return compact(s).strip(":：|")


def info_box(doc: Document) -> dict[str, str]:
    """Key/value pairs from info-box lines ("索 引 号: | X | 发布机构: | Y")."""
    out: dict[str, str] = {}
    for line in lines_of(doc, 80):
        cells = [c for c in line.cells if c]
        if cells and (cells[0].startswith("第二十条") or heading_number(cells[0]) == "二"):
            break  # the tables have begun: the info box is above them
        if line.is_paragraph:  # "发布机构：X　发布日期：Y" in one paragraph
            text = unicodedata.normalize("NFKC", cells[0]) if cells else ""
            if ":" not in text:
                continue
            for m in _LABEL_VALUE.finditer(text):
                key = label_key(m.group("label"))
                if key:
                    out.setdefault(key, m.group("value"))
            continue
        for i, c in enumerate(cells):
            if len(c) > 80:
                continue
            k = _clean(c) if len(c) <= 24 else ""
            field = label_key(k) if k else None
            if field and i + 1 < len(cells) and field not in out:
                val = cells[i + 1].strip()
                if val and label_key(_clean(val)) is None:
                    out[field] = val
            elif ":" in unicodedata.normalize("NFKC", c):  # "发布机构:X" in one cell
                key, _, val = unicodedata.normalize("NFKC", c).partition(":")
                field = label_key(_clean(key))
                if field and val.strip() and field not in out:
                    out[field] = val.strip()
    return out


def _unlabelled(cells: list[str]) -> list[str]:
    """A line's cells without the info-box label in front ("名称：| X", "名称：X"): the title
    is X, not the label with it."""
    if cells and len(cells[0]) <= 24 and label_key(_clean(cells[0])):
        return cells[1:]
    if cells:
        head, sep, rest = unicodedata.normalize("NFKC", cells[0]).partition(":")
        if sep and len(head) <= 12 and label_key(_clean(head)):
            return [rest, *cells[1:]]
    return cells


def _title_match(text: str) -> re.Match[str] | None:
    """The title rule on the compacted text, else on the text with its spaces (core.text)."""
    for form in readings(text):
        m = _TITLE.search(form.strip(":：| "))
        if m:
            return m
    return None


def _title(doc: Document) -> str | None:
    hint = doc.hints.get("title")
    for line in lines_of(doc, 30):
        text = " ".join(_unlabelled([c for c in line.cells if c])).strip()
        if 8 <= len(text) <= 80 and _title_match(text):
            return unicodedata.normalize("NFKC", text).strip()
    if hint and _title_match(hint):
        return hint.strip()
    return None


def extract_meta(doc: Document) -> Meta:
    box = info_box(doc)
    for k in ("index_no", "agency", "published", "written"):
        if doc.hints.get(k) and k not in box:
            box[k] = doc.hints[k]
    meta = Meta()
    meta.title = _title(doc)
    meta.index_no = box.get("index_no")
    meta.published = iso_date(box.get("published")) or iso_date(doc.hints.get("meta:PubDate"))
    agency = box.get("agency")
    year = None
    if meta.title:
        m = _title_match(meta.title)
        if m:
            year = year_value(m.group("year"))
            named = m.group("agency") or m.group("agency2")
            if not agency and len(named) >= 2:
                agency = named
    paragraphs = [p for p in doc.paragraphs()[:40]]
    text = "\n".join(paragraphs)
    if year is None:
        m = _PERIOD.search(unicodedata.normalize("NFKC", text))
        if m:
            year = int(m.group(1))
    if year is None:
        m = re.search(r"((?:19|20)\d{2})\s*年度", text)
        if m:
            year = int(m.group(1))
    if not agency:
        for p in paragraphs:
            p = unicodedata.normalize("NFKC", p)
            for pat in _INTRO_AGENCY:
                m = pat.search(p)
                if m and not m.group("a").startswith(_AGENCY_BAD):
                    agency = m.group("a")
                    break
            if agency:
                break
    if not agency and box.get("content_source"):
        agency = box["content_source"]
    meta.agency = _clean(agency) if agency else None
    meta.year = year
    return meta
