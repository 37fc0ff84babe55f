"""The reports the demo portal publishes: a model from :mod:`nianbao.demo.synth` (the one
generator and renderer) plus what one site adds in printing it.

Why a portal layer at all: a page of a simulated CMS needs the report's identity for the
ground truth (agency, year, format, which seed it is) and that site's table habits (Word paste
or plain markup, split headers, filler cells, rows cut short).  What a report says and how any
markup prints it stay in synth.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import cache

from nianbao.demo import synth
from nianbao.demo.seeds import seed_files

# seed file prefix -> (agency, report year) the demo pages state; the dumps do not carry these
# reliably in one place (the extractor reads e.g. 精河工业园区 for the 管理委员会's report)
_SEEDS = {
    "000": ("精河工业园区管理委员会", 2024),
    "001": ("怀化市洪江区科技和工业信息化局", 2024),
    "002": ("赣州经开区党政办公室", 2021),
    "003": ("呼和浩特经济技术开发区管理委员会", 2024),
    "004": ("河东区中小企业发展服务中心", 2024),
}
_HEADING = re.compile(r"^[一二三四五六七八九十]+、")


@dataclass(frozen=True)
class TableStyle:
    """How one site prints a report's tables (portals.md §5.4, formats.md D1–D6)."""

    markup: str = "word"  # synth markup of the body: word (Word paste), clean, zoom (legacy)
    quirks: tuple[str, ...] = ()  # synth.TABLE_QUIRKS


@dataclass
class ReportDoc:
    """One report as the portal publishes it: the model, where it came from, how it prints."""

    report: synth.SynthReport
    source: str = "synth"  # "synth" | "seed:NNN"
    style: TableStyle = field(default_factory=TableStyle)
    body_html: str | None = None  # a body from another generator (wins over rendering)

    @property
    def agency(self) -> str:
        return self.report.meta.agency or ""

    @property
    def year(self) -> int:
        return self.report.meta.year or 0

    @property
    def fmt(self) -> str:
        return self.report.fmt

    @property
    def title(self) -> str:
        return self.report.meta.title or ""

    @property
    def values(self) -> dict[str, str]:
        """Printed text of every catalogue cell by ``table.item.column`` (the ground truth)."""
        return {".".join(code): cell.raw for code, cell in self.report.cells.items()}

    @property
    def intro(self) -> list[str]:
        """The paragraphs before the first section heading (一、…)."""
        out: list[str] = []
        for block in self.report.body:
            if not isinstance(block, str) or _HEADING.match(block):
                break
            out.append(block)
        return out


def render_body(doc: ReportDoc) -> str:
    """The report body (paragraphs and tables) as an HTML fragment in the site's style."""
    if doc.body_html is not None:
        return doc.body_html
    return synth.body_html(doc.report, doc.style.markup, doc.style.quirks)


def synth_report(rng: random.Random, agency: str, year: int, *, blanks: bool = False) -> ReportDoc:
    """A generated report of ``agency`` for report ``year``, in the format of that year.

    With ``blanks`` it is a small office's report (most request rows all zero) and about half
    of its zero request cells print empty, as many portals do (D6).
    """
    if year <= 2018:
        return ReportDoc(synth.pre2019_report(rng, agency, year))
    fmt = "2019" if year <= 2020 else "2021"
    report = synth.random_report(rng, fmt, year, agency, scale=2 if blanks else None)
    if blanks:
        _blank_zeros(report, rng)
    return ReportDoc(report)


def _blank_zeros(report: synth.SynthReport, rng: random.Random) -> None:
    for code, cell in report.cells.items():
        if code[0] == "requests" and cell.value == 0 and rng.random() < 0.5:
            report.cells[code] = synth.SynthCell("", None, cell.unit)


def load_seed_reports() -> list[ReportDoc]:
    """The five real seed reports (package data), each a fresh copy the sites may restyle."""
    return [
        ReportDoc(_seed_report(path.name[:3]).copy(), source=f"seed:{path.name[:3]}")
        for path in seed_files()
    ]


@cache
def _seed_report(sid: str) -> synth.SynthReport:
    """Seed ``sid`` modelled by synth, as its page shows it: the agency and year of _SEEDS, the
    dump's first copy only (seed 003 was dumped with its print copy), no info-box rows."""
    path = next(p for p in seed_files() if p.name.startswith(sid))
    report = synth.report_from_text(path)
    agency, year = _SEEDS[sid]
    report.meta = synth.SynthMeta(f"{agency}{year}年政府信息公开工作年度报告", agency, year)
    first = report.body[0]
    again = next((i for i, b in enumerate(report.body) if i and b == first), len(report.body))
    report.body = [b for b in report.body[:again] if not (isinstance(b, str) and b.endswith("|"))]
    return report
