"""One agency's reports over several years, linked as real consecutive reports are.

Why: a report's 上年结转 is last year's 结转下年度继续办理, and its 现行有效件数 is last year's plus
本年制发 minus 本年废止 (issue 14's panel checks).  Reports drawn independently break both links
everywhere; a series keeps them, so a planted break is the only one.  The demo portal plans its
agencies' years through :func:`link`, and tests build series with :func:`agency_series`.
"""

from __future__ import annotations

import random

from nianbao.transform import catalogue

from . import synth

APPLICANTS = catalogue.REQUEST_COLUMNS[:-1]  # the six applicant columns (total is their sum)
IN_FORCE_ITEMS = ("regulation", "normative_doc")


def format_of(year: int) -> str:
    return "2019" if year <= 2020 else "2021"


def link(prev: synth.SynthReport, cur: synth.SynthReport) -> None:
    """Make ``cur`` follow ``prev`` (the agency's report of the year before): carried_over =
    prev's carried_forward per applicant column, 现行有效 continuous (2021 format on both sides);
    every identity of ``cur`` still holds.  Blank cells on either side are left alone."""
    pv, c = prev.values(), cur.cells
    for col in APPLICANTS:
        fwd_prev = pv.get(("requests", "carried_forward", col))
        keys = [
            ("requests", it, col)
            for it in ("carried_over", "new", "result_total", "carried_forward")
        ]
        if fwd_prev is None or any(c[k].value is None for k in keys):
            continue
        over, _, done, fwd = (int(c[k].value) for k in keys)
        over = int(fwd_prev)
        new = done + fwd - over
        if new < 0:  # more came over than was handled: the rest is carried forward again
            fwd, new = fwd - new, 0
        for k, x in zip(keys, (over, new, done, fwd), strict=True):
            c[k] = synth.number_cell(x)
    retotal(cur)
    if prev.fmt == cur.fmt == "2021":
        for it in IN_FORCE_ITEMS:
            before = pv.get(("active", it, "in_force"))
            issued, repealed = (c[("active", it, k)].value for k in ("issued", "repealed"))
            if None in (before, issued, repealed):
                continue
            repealed = min(int(repealed), int(before) + int(issued))
            c[("active", it, "repealed")] = synth.number_cell(repealed)
            c[("active", it, "in_force")] = synth.number_cell(int(before) + int(issued) - repealed)
    synth.state_totals(cur)


def retotal(report: synth.SynthReport) -> None:
    """The requests table's total column again as the sum of the applicant columns."""
    for it in catalogue.items(report.fmt, "requests"):
        parts = [report.cells[("requests", it, col)].value for col in APPLICANTS]
        if None not in parts:
            report.cells[("requests", it, "total")] = synth.number_cell(int(sum(parts)))


def agency_series(
    rng: random.Random, agency: str, years: list[int], *, government: bool = False
) -> list[synth.SynthReport]:
    """Linked reports of ``agency`` for ``years`` (ascending; a gap is a missing year, and the
    report after it is not linked), each published before its deadline (1月31日 for a
    department, 3月31日 for a government)."""
    out: list[synth.SynthReport] = []
    for y in sorted(years):
        r = synth.random_report(rng, format_of(y), y, agency, scale=rng.choice([5, 20, 80]))
        last_day = 31 if not government else rng.randint(1, 31)
        month = 3 if government else 1
        r.meta.published = f"{y + 1}-{month:02d}-{min(last_day, rng.randint(5, 28)):02d}"
        if out and out[-1].meta.year == y - 1:
            link(out[-1], r)
        out.append(r)
    return out
