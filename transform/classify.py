"""What kind of document this is (formats.md §9.10): standard report, 解读 companion, aggregate
report, pre-2019/non-format report, or a suspected spam mirror.

Only standard reports on registered government hosts should produce warehouse facts; these
flags let the loader and researchers tell the others apart.  Host checks belong to the crawler;
here only the text speaks.
"""

from __future__ import annotations

import re

from nianbao.core.document import Document
from nianbao.core.vocabulary import YEAR, is_companion

from .result import Meta

_AGGREGATE = re.compile(
    "^(?:(?:" + YEAR + ")年)?"
    r"[^局委办厅处所中心站队]{1,12}(?:省|市|区|县|自治州|盟|旗)(?:人民)?政府信息公开工作年度报告"
)
_GAMBLING = re.compile(
    r"博彩|彩票|娱乐城|真人(?:视讯|娱乐)|百家乐|赌场|棋牌|体育投注|bet365|365bet|bt365|mobile28365|澳门|威尼斯人|葡京|开奖|六合彩|AG(?:视讯|真人)"
)
_PINYIN_AFTER_HAN = re.compile(r"[\u4e00-\u9fff]\([a-z]{1,6}\)")
# Characters whose Traditional form a Simplified government page would not contain.
_TRADITIONAL = set("們說這個與來會對時過還當從開關發經體們於義學國區處們總資產應變數條報專")


def classify(doc: Document, meta: Meta, n_facts: int) -> list[str]:
    """Flags describing the document; empty for an ordinary single-agency standard report."""
    flags: list[str] = []
    title = meta.title or doc.hints.get("title") or ""
    text = "\n".join(doc.paragraphs()[:200]) + "\n" + title
    if is_companion(title) and n_facts == 0:
        flags.append("companion")
    if meta.title and _AGGREGATE.search(meta.title.replace(" ", "")):
        flags.append("scope:region")
    if meta.year is not None and meta.year <= 2018:
        flags.append("pre2019")
    gambling = _GAMBLING.findall(text)
    pinyin = _PINYIN_AFTER_HAN.findall(text)
    traditional = sum(1 for ch in text if ch in _TRADITIONAL)
    if gambling:
        # Visible gambling tokens: hacked genuine pages carry them too (portals.md §7.9).
        flags.append("injected_spam:" + ",".join(sorted(set(gambling))[:5]))
    if len(pinyin) >= 5 or traditional >= 20:
        detail = []
        if len(pinyin) >= 5:
            detail.append(f"{len(pinyin)} pinyin insertions")
        if traditional >= 20:
            detail.append(f"{traditional} Traditional characters")
        flags.append("suspected_mirror:" + "; ".join(detail))
    return flags
