"""The totals a report's prose states (narrative vs table, issue 14 item 4).

Section 一、总体情况 usually says in words what the tables say in cells: "全年共收到政府信息公开
申请12件", "主动公开政府信息829条", "未发生政府信息公开行政复议、行政诉讼案件".  This module
reads those statements so a caller can compare them with the tables; it compares nothing
itself.  The project's first rule holds here too: never guess a number.  A statement is only
read when the sentence says it plainly; everything doubtful is left out:

* only paragraphs before the first table (section 一 in nearly all reports) are read — later
  prose repeats or breaks totals down, and table cells are the tables' business.  An
  info-box grid above the report (索引号 / 发布机构 …) is page furniture, not that table;
* approximate numbers ("200余条", "10余场", "近百件", "约50条") are no statement;
* percentages, changes ("同比增长5件"), and 其中 sub-counts are no total: a sentence is read
  only up to its first 其中, and parenthesised asides "(含…)" are dropped;
* a stock rather than the year's count ("截至目前，公开各类信息136条", "到年底累计…") is
  skipped: whether it equals the year's count is exactly what we cannot know.

A quantity stated twice with different values yields both statements (the caller flags the
disagreement); the same value stated twice yields one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nianbao.core.document import Document, Paragraph, Table
from nianbao.core.text import compact
from nianbao.core.vocabulary import label_key

QUANTITIES = ("requests_new", "requests_handled", "active_published", "review", "suit")


@dataclass(frozen=True, slots=True)
class Statement:
    """One total the prose states: which quantity, its value, and the sentence (folded) it
    was read from."""

    quantity: str  # one of QUANTITIES
    value: int  # the number stated
    text: str  # the sentence it was read from, trimmed to <= 200 chars


# --------------------------------------------------------------------------- numbers

_CN_DIGIT = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGIT |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
# A count as printed: Arabic digits (thousands commas are removed before matching), or Chinese
# numerals.  The look-behind keeps "1.5件" and the tail of a longer number out.
_NUM = r"(?<![\d.])(?P<n>\d+|[零〇○一二两三四五六七八九十百千]+)"
# The words a count of applications, items or cases is printed with.
_PIECES = r"(?:件|宗|个|起|次)"


def _cn_value(s: str) -> int | None:
    """The value of a Chinese numeral ("十二" 12, "一百零五" 105, "一〇五" 105), or None."""
    if all(c in _CN_DIGIT for c in s):  # digit by digit: "一〇五"
        return int("".join(str(_CN_DIGIT[c]) for c in s))
    total, digit = 0, None
    for c in s:
        if c in _CN_DIGIT:
            if digit is not None:  # two digits in a row inside a positional numeral
                if _CN_DIGIT[c] != 0 and digit != 0:
                    return None
            digit = _CN_DIGIT[c]
        else:
            unit = _CN_UNIT[c]
            total += (1 if digit is None else digit) * unit
            digit = None
    return total + (digit or 0)


def _value(s: str) -> int | None:
    return int(s) if s.isdigit() else _cn_value(s)


# --------------------------------------------------------------------------- the patterns

_BEFORE_APPLICATION = r"(?P<what>[^,]{0,30}?)"
# Connectors allowed between a noun and its count ("申请共计12件", "信息总数为829条"); a fixed
# list, so that "申请同比增长5件" or "申请近200件" never reads as a count.
_LINK = r"(?:数量|总数|总量)?(?:共|共计|总计|合计|累计|为|达|达到|有)?"

# 1. New applications with a count: "共收到政府信息公开申请12件", "受理政府信息公开申请267件",
#    "收到通过邮寄、网站等渠道提交的政府信息公开申请3件", "收到政府信息依申请公开1499件".
#    The words between the verb must show it is a disclosure application (信息公开/依申请),
#    not a 行政许可 application.
_REQ_NEW = re.compile(
    r"(?:收到|接到|受理|新收|接收)"
    + _BEFORE_APPLICATION
    + r"(?P<noun>申请|依申请公开(?:申请|事项)?)"
    + _LINK
    + _NUM
    + _PIECES
)
# 2. No new applications: "未收到政府信息公开申请", "未接到信息公开申请",
#    "未收到依申请公开信息的申请", "未收到依申请公开事项".
_REQ_NONE = re.compile(
    r"(?:未|没有)(?:收到|接到|受理)" + _BEFORE_APPLICATION + r"(?P<noun>申请|依申请公开)"
)
# 3. Applications answered or closed, with a count: "办结23件", "答复263件",
#    "办结政府信息公开申请20件"; only in a sentence about applications (see _read_sentence).
#    "均已办结" without a number states nothing.
#    Not a kind of answer: "同意公开答复9件,部分公开答复0件" are results by kind (their sum is the
#    total, none of them is).
_REQ_HANDLED = re.compile(
    r"(?<!公开)(?<!同意)(?<!告知)(?:办结|答复|办理完毕)(?:了)?(?:[^,]{0,20}?申请(?:件)?)?"
    + _LINK
    + _NUM
    + r"件"
)
# 4. Items actively published: "主动公开政府信息829条", "主动公开信息总数共200条",
#    "公开政府信息2414条", "共发布各类信息46106条".  Bare "公开信息N条" only after 主动:
#    "政府网站公开信息3698条，微博微信公开信息2148条" are per-channel parts, not the total.
_ACTIVE = re.compile(
    r"(?:主动公开(?:了)?(?:各类|各项)?(?:政府|政务)?|(?:公开|发布)(?:了)?(?:各类(?:政府|政务)?|政府|政务))"
    r"信息" + _LINK + _NUM + r"条"
)
# 5. Reconsiderations and lawsuits with a count: "行政复议2件", "行政诉讼案件2件",
#    "行政复议案0件", "被申请行政复议1起".
_CASES = re.compile(r"(?P<kind>行政复议|行政诉讼)(?:案件|案)?" + _LINK + _NUM + _PIECES)
# 6. Both zero in one: "行政复议和行政诉讼均为0", "行政复议、行政诉讼案件均为0件".
_BOTH = re.compile(
    r"行政复议(?:案件)?(?:和|及|与|、|或)(?:提起)?行政诉讼(?:案件)?(?:数量)?(?:均为|都为|均是|皆为|各)"
    + _NUM
    + _PIECES
    + "?"
)
# 7. None happened: "未发生政府信息公开行政复议、行政诉讼案件", "全年未发生因政府信息依申请
#    公开工作引起的行政复议或行政诉讼", "未发生因政府信息公开申请行政复议、提起行政诉讼的情况".
#    "未因…行政复议被纠错" is not this (no verb of occurrence; and see _NOT_ZERO).
_CASES_NONE = re.compile(
    r"(?:未|没有)(?:发生|出现|收到|接到|产生)(?P<what>[^,]{0,30}?)"
    r"(?P<objs>(?:行政复议|行政诉讼)(?:案件)?(?:(?:和|或|及|与|、|或者)(?:提起|被提起)?(?:行政复议|行政诉讼))?)"
)
# 8. "无行政复议、无行政诉讼": 无 opening a clause or a list item.
_CASES_NIL = re.compile(r"(?:^|、)无(?:政府信息公开)?(?P<kind>行政复议|行政诉讼)")

# A sentence read only up to here: what follows is a breakdown, not the total.
_SUBCOUNT = re.compile(r"其中|分别")
# A stock, not the year's count.
_STOCK = re.compile(r"截至|截止|至今|目前|到年底|年底累计|累计至")
# Words around a count of applications that make it someone else's (行政许可, 人大建议 …).
_NOT_DISCLOSURE = re.compile(r"许可|建议|提案|信访|留言|咨询|投诉|举报|复议|诉讼")
# After "未发生…行政复议": the sentence is about an outcome (纠错, 败诉), not the count.
_NOT_ZERO = re.compile(r"^(?:案件)?(?:被|败诉|纠错|撤销|超期)")
# Before "行政复议N件": the agency as the reviewing body (司法局 办理行政复议案件120件) — unless
# the words between say the cases arose from disclosure ("办理因政府信息公开申请引发的行政复议36
# 起": the agency as respondent, the table's count).
_AS_REVIEWER = re.compile(r"(?:办理|审理|受理|办结|审结|决定)(?!.*信息公开)")

_SENTENCE_END = re.compile(r"[。;!?]")
_CLAUSE_SEP = re.compile(r",")
_PAREN = re.compile(r"\([^()]*\)")
_GROUPED = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,])")


def _fold(text: str) -> str:
    """NFKC-folded, unspaced, thousands commas removed, (asides) dropped."""
    s = compact(text)
    s = _GROUPED.sub(lambda m: m.group(0).replace(",", ""), s)
    prev = None
    while prev != s:
        prev, s = s, _PAREN.sub("", s)
    return s


def _is_info_box(table: Table) -> bool:
    """True for the 索引号/发布机构 grid some pages print above the report."""
    for row in table.rows:
        for cell in row:
            c = compact(cell).strip(":|")
            if c and len(c) <= 12 and label_key(c):
                return True
    return False


def _prose(doc: Document) -> list[str]:
    """Paragraph texts before the first (non info-box) table."""
    out: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Table):
            if len(block.rows) <= 6 and _is_info_box(block):
                continue
            break
        if isinstance(block, Paragraph):
            out.append(block.text)
    return out


def _read_sentence(sentence: str) -> list[tuple[str, int]]:
    """(quantity, value) pairs one sentence states, in order."""
    cut = _SUBCOUNT.search(sentence)
    head = sentence[: cut.start()] if cut else sentence
    found: list[tuple[str, int]] = []
    seen_application = False
    start = 0
    for clause in _CLAUSE_SEP.split(head):
        start += len(clause) + 1
        stock = bool(_STOCK.search(head[:start]))
        for m in _REQ_NEW.finditer(clause):
            if stock or _NOT_DISCLOSURE.search(m.group("what")):
                continue
            if m.group("noun") == "申请" and not re.search(r"信息公开|依申请", m.group("what")):
                continue
            v = _value(m.group("n"))
            if v is not None:
                found.append(("requests_new", v))
        for m in _REQ_NONE.finditer(clause):
            if stock or _NOT_DISCLOSURE.search(m.group("what") + clause[m.end() :]):
                continue
            if m.group("noun") == "申请" and not re.search(r"信息公开|依申请", m.group("what")):
                continue
            found.append(("requests_new", 0))
        if "申请" in clause:
            seen_application = True
        for m in _REQ_HANDLED.finditer(clause):
            if stock or not seen_application or _NOT_DISCLOSURE.search(clause):
                continue
            v = _value(m.group("n"))
            if v is not None:
                found.append(("requests_handled", v))
        for m in _ACTIVE.finditer(clause):
            v = _value(m.group("n"))
            if not stock and v is not None:
                found.append(("active_published", v))
        for m in _BOTH.finditer(clause):
            v = _value(m.group("n"))
            if not stock and v is not None:
                found += [("review", v), ("suit", v)]
        if not _BOTH.search(clause):
            for m in _CASES.finditer(clause):
                v = _value(m.group("n"))
                if stock or v is None or _AS_REVIEWER.search(clause[: m.start()]):
                    continue
                found.append(("review" if m.group("kind") == "行政复议" else "suit", v))
        for m in _CASES_NONE.finditer(clause):
            if stock or _NOT_ZERO.search(clause[m.end() :]):
                continue
            objs = m.group("objs")
            if "行政复议" in objs:
                found.append(("review", 0))
            if "行政诉讼" in objs:
                found.append(("suit", 0))
        for m in _CASES_NIL.finditer(clause):
            found.append(("review" if m.group("kind") == "行政复议" else "suit", 0))
    return found


def read_statements(doc: Document) -> list[Statement]:
    """The totals the report's opening prose states, in reading order (see the module doc)."""
    out: list[Statement] = []
    seen: set[tuple[str, int]] = set()
    for para in _prose(doc):
        for raw in _SENTENCE_END.split(_fold(para)):
            if not raw:
                continue
            for quantity, value in _read_sentence(raw):
                if (quantity, value) in seen:
                    continue
                seen.add((quantity, value))
                out.append(Statement(quantity, value, raw[:200]))
    return out
