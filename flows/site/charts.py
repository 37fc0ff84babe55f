"""The index's charts as SVG files (matplotlib, Agg) and the agency pages' sparklines.

Why labels are English and codes only: matplotlib ships no CJK font, and a missing glyph is a warning and
an empty box, not an error — a chart of province names would silently show boxes on a machine
without a Chinese font.  So charts are labelled in English and codes (province 320000, item
codes), the Chinese names stay in the HTML tables beside them, and :func:`_draw` turns any
matplotlib warning (a missing glyph among them) into an error, and any CJK label into a
ValueError before drawing.

Why agency sparklines are not matplotlib: there is one agency page per agency (10^4-10^5
nationally) and matplotlib takes ~50 ms a figure; a polyline written directly is microseconds,
and it is inline SVG, so it needs no file and no request.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path

WIDTH, HEIGHT = 6.4, 3.2  # inches; SVG scales in the page


def _ascii(*labels: object) -> None:
    """Refuse CJK (and anything past U+2E7F) in a label; the typographic minus and the like
    that the default font has pass, and a glyph it lacks still fails at savefig (a warning,
    made an error)."""
    for label in labels:
        if isinstance(label, str) and any(ord(ch) >= 0x2E80 for ch in label):
            raise ValueError(f"chart label {label!r} needs a CJK font: label charts in English")


def _draw(dest: Path, build: Callable, title: str, height: float = HEIGHT) -> Path:
    """Run ``build(ax)`` on a fresh figure and write it to ``dest`` as SVG; warnings are errors."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    _ascii(title)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig, ax = plt.subplots(figsize=(WIDTH, height), layout="constrained")
        try:
            build(ax)
            for text in [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()] + [
                t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()
            ]:
                _ascii(text)
            legend = ax.get_legend()
            if legend is not None:
                _ascii(*(t.get_text() for t in legend.get_texts()))
            ax.set_title(title, fontsize=10)
            ax.grid(True, alpha=0.3)
            dest.parent.mkdir(parents=True, exist_ok=True)
            # no metadata date: the same warehouse gives the same bytes
            fig.savefig(dest, format="svg", metadata={"Date": None})
        finally:
            plt.close(fig)
    return dest


def _empty(ax, why: str) -> None:  # noqa: ANN001
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes, color="#777")
    ax.set_xticks([])
    ax.set_yticks([])


def totals_by_year(dest: Path, rows: Sequence[dict]) -> Path:
    """National totals by year: new requests, handled, disclosed (granted + partial)."""

    def build(ax) -> None:  # noqa: ANN001
        if not rows:
            return _empty(ax, "no reports")
        years = [r["year"] for r in rows]
        for key, label in (("new", "new requests"), ("result_total", "handled"),
                           ("disclosed", "disclosed (granted + partial)")):  # fmt: skip
            ax.plot(years, [r[key] for r in rows], marker="o", label=label)
        ax.set_xlabel("report year")
        ax.set_xticks(years)
        ax.legend(fontsize=8)

    return _draw(dest, build, "National totals by year")


def rate_by_group(
    dest: Path, rows: Sequence[dict], series: dict[str, str], title: str, xlabel: str
) -> Path:
    """Horizontal bars per group (``code``, e.g. a province code) of rates in [0, 1]: one bar
    per ``series`` key (key → ASCII label), in percent."""

    def build(ax) -> None:  # noqa: ANN001
        shown = [r for r in rows if any(r[k] is not None for k in series)]
        if not shown:
            return _empty(ax, "no data")
        codes = [str(r["code"] or "unknown") for r in shown]
        height = 0.8 / len(series)
        for j, (key, label) in enumerate(series.items()):
            ys = [i + (j - (len(series) - 1) / 2) * height for i in range(len(shown))]
            vals = [0.0 if r[key] is None else 100 * r[key] for r in shown]
            ax.barh(ys, vals, height=height, label=label)
        ax.set_yticks(range(len(shown)), codes)
        ax.set_xlabel(xlabel)
        ax.set_xlim(0, 100)
        ax.invert_yaxis()
        ax.tick_params(axis="y", labelsize=7)
        if len(series) > 1:
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))

    return _draw(dest, build, title, height=max(HEIGHT, 1.2 + 0.22 * len(rows) * len(series)))


def denial_shares(dest: Path, rows: Sequence[dict]) -> Path:
    """Stacked shares of the eight refusal reasons per year (English labels)."""

    def build(ax) -> None:  # noqa: ANN001
        if not rows:
            return _empty(ax, "no refusals")
        years = sorted({r["year"] for r in rows})
        items = sorted({r["item"] for r in rows})
        labels = {r["item"]: r["item_en"] or r["item"] for r in rows}
        share = {(r["year"], r["item"]): r["share"] or 0.0 for r in rows}
        bottom = [0.0] * len(years)
        for item in items:
            vals = [100 * share.get((y, item), 0.0) for y in years]
            ax.bar([str(y) for y in years], vals, bottom=bottom, label=labels[item][:40])
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        ax.set_ylabel("% of refusals")
        ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1, 0.5))

    return _draw(dest, build, "Refusal reasons: share of all refusals")


def lines_by_year(dest: Path, rows: Sequence[dict], series: dict[str, str], title: str) -> Path:
    """Rates in [0, 1] by year, one line per ``series`` key (key → ASCII label), in percent."""

    def build(ax) -> None:  # noqa: ANN001
        if not rows:
            return _empty(ax, "no data")
        years = [r["year"] for r in rows]
        for key, label in series.items():
            ys = [None if r[key] is None else 100 * r[key] for r in rows]
            ax.plot(years, [math.nan if y is None else y for y in ys], marker="o", label=label)
        ax.set_xticks(years)
        ax.set_xlabel("report year")
        ax.set_ylabel("%")
        ax.legend(fontsize=8)

    return _draw(dest, build, title)


def sparkline(values: Sequence[tuple[int, float | None]], label: str, percent: bool = False) -> str:
    """A small inline SVG line of (year, value) points, with the last value printed."""
    pts = [(x, y) for x, y in values if y is not None and not math.isnan(y)]
    w, h, pad = 250, 48, 6
    head = (f'<svg class="spark" role="img" aria-label="{escape(label)}" width="{w}" '
            f'height="{h}" viewBox="0 0 {w} {h}">')  # fmt: skip
    if not pts:
        return head + f'<text x="{pad}" y="{h / 2}" class="none">no values</text></svg>'
    xs = [x for x, _ in pts]
    ys = [y for _, y in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys) or 1.0
    right = w - 90

    def px(x: float) -> float:
        return pad + (right - pad) * ((x - x0) / (x1 - x0) if x1 > x0 else 0.5)

    def py(y: float) -> float:
        return h - pad - (h - 2 * pad) * ((y - y0) / (y1 - y0) if y1 > y0 else 0.5)

    line = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
    dots = "".join(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2"/>' for x, y in pts)
    last = f"{100 * ys[-1]:.1f}%" if percent else f"{ys[-1]:,.0f}"
    return (head + f'<polyline points="{line}"/>{dots}'
            f'<text x="{right + 6}" y="{h / 2 + 4}">{escape(last)} ({xs[-1]})</text></svg>')  # fmt: skip
