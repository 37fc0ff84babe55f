"""``build_site``: the warehouse as a static audit site that opens from disk with no network.

Layout (relative links only, so the folder can be copied anywhere and opened as file://)::

    index.html                 counts, the six charts (charts/*.svg) with their numbers
    agencies-N.html            the agencies, 1,000 a page
    failures-N.html            reports failing a check, 1,000 a page
    agency/<hash>.html         one per agency: series, reports by year, failures, coverage
    report/<report_id>.html    one per report: the source as captured beside its values
    report/img/*.png           rendered PDF pages and images
    site.css

Why the site is built beside ``DIR`` and renamed over it: a reader (or a web server) of the
old site never sees half a new one, and a failed build leaves the old site whole.  Why pages
are written in batches: a national warehouse has 10^5 reports and 10^7 facts; each batch of
reports (or agencies) is queried, written and let go, so memory stays a batch's.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from nianbao.extract.rawstore import RawStore

from . import charts, data
from .audit import capture
from .cells import named_cells

MARKER = ".nianbao-site"  # marks a directory this builder made: only such a one is replaced
REPORT_BATCH = 500
AGENCY_BATCH = 500
PER_PAGE = 1000
HERE = Path(__file__).parent

Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class SiteStats:
    """What a build wrote."""

    path: Path
    reports: int = 0
    agencies: int = 0
    listing_pages: int = 0
    images: int = 0
    sources_missing: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return 1 + self.listing_pages + self.agencies + self.reports

    @property
    def index(self) -> Path:
        return self.path / "index.html"


class NotASite(Exception):
    """``DIR`` exists, is not empty and was not made by this builder: it is never replaced."""


def agency_file(key: str) -> str:
    """The agency page's name: a hash, since keys and names are free text."""
    return "agency/" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16] + ".html"


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["pct"] = lambda v: "" if v is None else f"{100 * v:.1f}%"
    env.globals["agency_file"] = agency_file
    return env


def _num(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


class _Writer:
    def __init__(self, root: Path) -> None:
        self.root, self.env = root, _env()

    def page(self, rel: str, template: str, **ctx: object) -> None:
        depth = rel.count("/")
        html = self.env.get_template(template).render(root="../" * depth, **ctx)
        dest = self.root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(html, encoding="utf-8")


def _check_destination(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise NotASite(f"{dest} exists and is not a directory")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / MARKER).exists():
        raise NotASite(
            f"{dest} is not empty and holds no site built by nianbao: choose a new or empty "
            "directory (a site built earlier is replaced)"
        )


def build_site(
    to: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> SiteStats:  # fmt: skip
    """Write the site for the warehouse in ``data_dir`` into ``to`` (replacing a previous one)."""
    from ..paths import data_dir as resolve
    from ..warehouse import connect

    t0 = time.perf_counter()
    dest = Path(to).resolve()
    _check_destination(dest)
    root = resolve(data_dir)
    con = connect(root)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        stats = SiteStats(dest)
        w = _Writer(tmp)
        s = data.Schema.of(con)
        shutil.copyfile(HERE / "static" / "site.css", tmp / "site.css")
        (tmp / MARKER).write_text("built by nianbao site\n", encoding="utf-8")
        _reports(con, s, w, RawStore(root), stats, progress)
        _agencies(con, s, w, stats, progress)
        _failures(con, s, w, stats)
        _index(con, s, w, stats)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        con.close()
    _swap(tmp, dest)
    stats.seconds = time.perf_counter() - t0
    return stats


def _swap(tmp: Path, dest: Path) -> None:
    """``tmp`` becomes ``dest``; an old site is moved aside first and deleted after."""
    old = dest.with_name(f".{dest.name}.{os.getpid()}.old")
    if dest.exists():
        os.replace(dest, old)
    os.replace(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)


# --- pages -----------------------------------------------------------------------------------


def _tables(facts: list[dict], bad: set[tuple[str, str, str]]) -> list[dict]:
    """Facts grouped by table, each marked when a failed check names its cell."""
    out: dict[str, list[dict]] = {}
    for f in facts:
        f["bad"] = (f["table"], f["item"], f["column"]) in bad
        out.setdefault(f["table"], []).append(f)
    return [{"name": k, "facts": v, "n_bad": sum(f["bad"] for f in v)} for k, v in out.items()]


def _reports(con, s, w: _Writer, raw: RawStore, stats: SiteStats, progress) -> None:  # noqa: ANN001
    ids = data.report_ids(con)
    done = 0
    for batch in data.batched(ids, REPORT_BATCH):
        b = data.report_batch(con, s, batch)
        for r in b.reports:
            rid = r["report_id"]
            checks = b.checks.get(rid, [])
            bad: set[tuple[str, str, str]] = set()
            for c in checks:
                c["cells"] = sorted(".".join(x) for x in named_cells(c["name"], c["detail"]))
                if c["ok"] is False:
                    bad |= named_cells(c["name"], c["detail"])
            source = capture(raw, r["sha256"], rid, w.root)
            stats.images += len(source.images)
            stats.sources_missing += source.kind == "missing"
            w.page(
                f"report/{rid}.html",
                "report.html",
                r=r,
                source=source,
                source_html=Markup(source.html),  # built by sanitize.py: escaped, allowlisted
                tables=_tables(b.facts.get(rid, []), bad),
                checks=checks,
                panel=b.panel.get(rid, []),
                narrative=b.narrative.get(rid, []),
                agency_page=agency_file(r["agency_key"] or ""),
            )
        done += len(batch)
        stats.reports = done
        if progress:
            progress("reports", done, len(ids))


def _agencies(con, s, w: _Writer, stats: SiteStats, progress) -> None:  # noqa: ANN001
    agencies = data.agency_list(con, s)
    for i, chunk in enumerate(data.batched(agencies, PER_PAGE)):
        w.page(f"agencies-{i + 1}.html", "agencies.html", stem="agencies", agencies=chunk, page=i + 1,
               pages=-(-len(agencies) // PER_PAGE), total=len(agencies))  # fmt: skip
        stats.listing_pages += 1
    done = 0
    for batch in data.batched(agencies, AGENCY_BATCH):
        b = data.agency_batch(con, s, [a["key"] for a in batch])
        for a in batch:
            key = a["key"]
            series = b.series.get(key, [])
            sparks = [
                ("New requests", charts.sparkline([(x["year"], x["new"]) for x in series],
                                                  "new requests by year")),
                ("Disclosure rate", charts.sparkline(
                    [(x["year"], x["disclosure_rate"]) for x in series],
                    "disclosure rate by year", percent=True)),
            ]  # fmt: skip
            w.page(
                agency_file(key or ""),
                "agency.html",
                a=a,
                sparks=[(t, Markup(svg)) for t, svg in sparks],  # written by charts.sparkline
                series=series,
                reports=b.reports.get(key, []),
                failures=b.failures.get(key, []),
                panel=b.panel_failures.get(key, []),
                coverage=None if b.coverage is None else b.coverage.get(key, []),
                has_panel=s.has("panel_failures"),
            )
        done += len(batch)
        stats.agencies = done
        if progress:
            progress("agencies", done, len(agencies))


def _failures(con, s, w: _Writer, stats: SiteStats) -> None:  # noqa: ANN001
    n = data.n_failing(con, s)
    pages = max(1, -(-n // PER_PAGE))
    for i in range(pages):
        w.page(f"failures-{i + 1}.html", "failures.html", stem="failures",
               reports=data.failing_reports(con, s, i, PER_PAGE), page=i + 1, pages=pages,
               total=n)  # fmt: skip
        stats.listing_pages += 1


def _index(con, s, w: _Writer, stats: SiteStats) -> None:  # noqa: ANN001
    out = w.root / "charts"
    totals = data.totals_by_year(con)
    charts.totals_by_year(out / "totals.svg", totals)
    disclosure = data.disclosure_by_province(con)
    charts.rate_by_group(out / "disclosure.svg", disclosure, {"rate": "disclosure rate"},
                         "Disclosure rate by province (all years, pooled)", "%")  # fmt: skip
    denial = data.denial_shares(con)
    charts.denial_shares(out / "denial.svg", denial)
    correction = data.correction_by_year(con)
    charts.lines_by_year(out / "correction.svg", correction,
                         {"review_correction_rate": "administrative review",
                          "suit_correction_rate": "litigation"},
                         "Correction rate (corrected / decided)")  # fmt: skip
    coverage = data.coverage_by_province(con, s)
    if coverage is not None:
        charts.rate_by_group(out / "coverage.svg", coverage,
                             {"rate": "reports present", "late_rate": "published late"},
                             "Coverage and lateness by province", "% of expected / of present")  # fmt: skip
    failure = data.failure_rate_by_year(con, s)
    series = {"failure_rate": "failing a check"}
    if "passes_panel_checks" in s.report_columns:
        series["panel_failure_rate"] = "failing a panel check"
    charts.lines_by_year(out / "failures.svg", failure, series,
                         "Reports failing checks (share)")  # fmt: skip
    w.page(
        "index.html",
        "index.html",
        counts=data.counts(con, s),
        stats=stats,
        totals=totals,
        disclosure=disclosure,
        denial=denial,
        correction=correction,
        coverage=coverage,
        failure=failure,
        agency_pages=-(-stats.agencies // PER_PAGE),
    )
