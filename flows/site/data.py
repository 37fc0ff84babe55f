"""What the site reads from the warehouse: every query of the site, in one place.

Why a module of its own: the pages are laid out by templates, but what they say is these
queries over the public views (never the stored tables), so a reader checking a number on the
site finds the SQL that produced it here.  Views that not every warehouse has yet (agencies,
panel_checks, report_coverage, narrative_checks; reports.agency_key, is_copy,
passes_panel_checks) are looked up once (:class:`Schema`), and the pages that need them say
so instead of failing.

Everything per report or per agency is asked for one batch of ids at a time, so the memory a
build takes is a batch's, whatever the size of the warehouse.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import duckdb

OPTIONAL_VIEWS = ("agencies", "panel_checks", "panel_failures", "report_coverage",
                  "narrative_checks")  # fmt: skip


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence | None = None) -> list[dict]:
    rel = con.execute(sql, params or [])
    names = [d[0] for d in rel.description]
    return [dict(zip(names, r, strict=True)) for r in rel.fetchall()]


@dataclass(slots=True)
class Schema:
    """Which optional views and report columns this warehouse has."""

    views: frozenset[str]
    report_columns: frozenset[str]

    @classmethod
    def of(cls, con: duckdb.DuckDBPyConnection) -> Schema:
        views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        cols = {r[0] for r in con.execute("DESCRIBE reports").fetchall()}
        return cls(frozenset(views), frozenset(cols))

    def has(self, view: str) -> bool:
        return view in self.views

    @property
    def key(self) -> str:
        """The agency identity: agency_key where the warehouse has it, else the name."""
        return "coalesce(agency_key, agency)" if "agency_key" in self.report_columns else "agency"

    def col(self, name: str, default: str = "NULL") -> str:
        return name if name in self.report_columns else f"{default} AS {name}"


# --- the index -------------------------------------------------------------------------------


def counts(con: duckdb.DuckDBPyConnection, s: Schema) -> dict:
    copies = "count(*) FILTER (WHERE is_copy)" if "is_copy" in s.report_columns else "0"
    return rows(con, f"""SELECT count(*) AS reports, count(DISTINCT {s.key}) AS agencies,
        {copies} AS copies, count(*) FILTER (WHERE NOT passes_checks) AS failing,
        min(year) AS first_year, max(year) AS last_year FROM reports""")[0]  # fmt: skip


def totals_by_year(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return rows(
        con,
        """SELECT year, n_reports, new, result_total, granted + partial AS disclosed
        FROM totals_by_year WHERE year IS NOT NULL ORDER BY year""",
    )


def disclosure_by_province(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return rows(
        con,
        """SELECT province_code AS code, any_value(province) AS name,
        count(*) AS n_reports, count(disclosure_rate) AS n_with_rate,
        sum(granted + partial) FILTER (WHERE disclosure_rate IS NOT NULL)
          / NULLIF(sum(result_total) FILTER (WHERE disclosure_rate IS NOT NULL), 0) AS rate
        FROM report_summary GROUP BY province_code ORDER BY province_code NULLS LAST""",
    )


def denial_shares(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return rows(
        con,
        """SELECT year, item, item_zh, item_en, n, share FROM denial_reason_shares
        WHERE year IS NOT NULL ORDER BY year, item""",
    )


def correction_by_year(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return rows(
        con,
        """SELECT year, n_reports, review_corrected, review_decided,
        review_correction_rate, suit_corrected, suit_decided, suit_correction_rate
        FROM correction_rates_by_year WHERE year IS NOT NULL ORDER BY year""",
    )


def coverage_by_province(con: duckdb.DuckDBPyConnection, s: Schema) -> list[dict] | None:
    if not s.has("report_coverage"):
        return None
    return rows(
        con,
        """SELECT province_code AS code, any_value(province) AS name,
        count(*) AS expected, count(*) FILTER (WHERE present) AS present,
        count(*) FILTER (WHERE present) / NULLIF(count(*), 0) AS rate,
        count(*) FILTER (WHERE days_late > 0) AS late,
        count(*) FILTER (WHERE days_late > 0) / NULLIF(count(*) FILTER (WHERE present), 0)
          AS late_rate,
        median(days_late) FILTER (WHERE days_late > 0) AS median_days_late
        FROM report_coverage GROUP BY province_code ORDER BY province_code NULLS LAST""",
    )


def failure_rate_by_year(con: duckdb.DuckDBPyConnection, s: Schema) -> list[dict]:
    panel = "NULL"
    if "passes_panel_checks" in s.report_columns:
        panel = "count(*) FILTER (WHERE NOT passes_panel_checks) / count(*)"
    return rows(con, f"""SELECT year, count(*) AS n_reports,
        count(*) FILTER (WHERE NOT passes_checks) AS n_failing,
        count(*) FILTER (WHERE NOT passes_checks) / count(*) AS failure_rate,
        {panel} AS panel_failure_rate
        FROM reports WHERE year IS NOT NULL GROUP BY year ORDER BY year""")  # fmt: skip


# --- listings (paged) ------------------------------------------------------------------------


def agency_list(con: duckdb.DuckDBPyConnection, s: Schema) -> list[dict]:
    """One small row per agency (10^5 rows nationally: a few MB)."""
    if s.has("agencies"):
        return rows(
            con,
            """SELECT agency_key AS key, agency, province, level, first_year,
            last_year, n_reports FROM agencies ORDER BY province_code NULLS LAST, agency, key""",
        )
    return rows(con, f"""SELECT {s.key} AS key, any_value(agency) AS agency,
        any_value(province) AS province, any_value(level) AS level, min(year) AS first_year,
        max(year) AS last_year, count(*) AS n_reports
        FROM reports GROUP BY 1 ORDER BY province NULLS LAST, agency, key""")  # fmt: skip


def failing_reports(
    con: duckdb.DuckDBPyConnection, s: Schema, page: int, per_page: int
) -> list[dict]:
    panel = "NOT passes_panel_checks" if "passes_panel_checks" in s.report_columns else "FALSE"
    return rows(con, f"""SELECT report_id, year, agency, title, n_checks_failed,
        {s.col("passes_panel_checks")},
        (SELECT string_agg(name, ', ' ORDER BY name) FROM check_failures c
          WHERE c.report_id = r.report_id) AS failed
        FROM reports r WHERE NOT passes_checks OR coalesce({panel}, FALSE)
        ORDER BY year NULLS LAST, agency, report_id LIMIT ? OFFSET ?""",
        [per_page, page * per_page])  # fmt: skip


def n_failing(con: duckdb.DuckDBPyConnection, s: Schema) -> int:
    panel = "NOT passes_panel_checks" if "passes_panel_checks" in s.report_columns else "FALSE"
    sql = f"SELECT count(*) FROM reports WHERE NOT passes_checks OR coalesce({panel}, FALSE)"
    return con.execute(sql).fetchone()[0]


# --- per report (audit pages), a batch at a time ---------------------------------------------


def report_ids(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int | None]]:
    """(report_id, year) of every report, year-ordered so batches prune year partitions."""
    return con.execute(
        "SELECT report_id, year FROM reports ORDER BY year NULLS LAST, report_id"
    ).fetchall()


def _in(ids: Sequence[str], years: set) -> tuple[str, list]:
    """A filter on report ids and (for partition pruning) their years."""
    if None in years or not years:
        return "list_contains(?, report_id)", [list(ids)]
    return "year IN (SELECT unnest(?)) AND list_contains(?, report_id)", [sorted(years), list(ids)]


def _grouped(items: list[dict], key: str = "report_id") -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in items:
        out[r[key]].append(r)
    return out


@dataclass(slots=True)
class ReportBatch:
    reports: list[dict]
    facts: dict[str, list[dict]]
    checks: dict[str, list[dict]]
    panel: dict[str, list[dict]]
    narrative: dict[str, list[dict]]


def report_batch(
    con: duckdb.DuckDBPyConnection, s: Schema, batch: Sequence[tuple[str, int | None]]
) -> ReportBatch:
    ids = [rid for rid, _ in batch]
    where, params = _in(ids, {y for _, y in batch})
    reports = rows(con, f"""SELECT report_id, year, title, agency, {s.key} AS agency_key,
        level, province, region_code, format, published, source_url, source, portal_id, sha256,
        fetched_at, extracted_at, parser_version, n_facts, n_checks, n_checks_failed,
        n_checks_skipped, passes_checks, {s.col("passes_panel_checks")}, {s.col("is_copy")},
        errors, flags
        FROM reports WHERE {where} ORDER BY year NULLS LAST, report_id""", params)  # fmt: skip
    facts = rows(con, f"""SELECT f.report_id, f."table", f.item, f."column", f.code, f.item_zh,
        f.column_zh, f.value, f.unit, f.raw
        FROM facts f LEFT JOIN cell_labels l
          ON l.format = f.format AND l."table" = f."table" AND l.item = f.item
             AND l."column" = f."column"
        WHERE {where.replace("report_id", "f.report_id").replace("year", "f.year")}
        ORDER BY f.report_id, l.position NULLS LAST, f.code""", params)  # fmt: skip
    checks = rows(
        con,
        f"""SELECT report_id, name, ok, status, detail FROM checks
        WHERE {where} ORDER BY report_id, ok IS NOT FALSE, ok IS NULL, name""",
        params,
    )
    panel: list[dict] = []
    if s.has("panel_checks"):
        panel = rows(con, f"""SELECT report_id, previous_report_id, "check", expected, found,
            ok, detail FROM panel_checks WHERE {where} ORDER BY report_id, ok, "check" """,
            params)  # fmt: skip
    narrative: list[dict] = []
    if s.has("narrative_checks"):
        narrative = rows(
            con,
            f"""SELECT report_id, quantity, stated, table_value, ok, text
            FROM narrative_checks WHERE {where} ORDER BY report_id, ok, quantity""",
            params,
        )
    return ReportBatch(reports, _grouped(facts), _grouped(checks), _grouped(panel),
                       _grouped(narrative))  # fmt: skip


# --- per agency, a batch at a time -----------------------------------------------------------


@dataclass(slots=True)
class AgencyBatch:
    reports: dict[str, list[dict]]
    series: dict[str, list[dict]]
    failures: dict[str, list[dict]]
    panel_failures: dict[str, list[dict]]
    coverage: dict[str, list[dict]] | None


def agency_batch(con: duckdb.DuckDBPyConnection, s: Schema, keys: Sequence[str]) -> AgencyBatch:
    p = [list(keys)]
    not_copy = "AND NOT coalesce(r.is_copy, FALSE)" if "is_copy" in s.report_columns else ""
    reports = rows(con, f"""SELECT {s.key} AS key, report_id, year, title, agency,
        n_checks_failed, passes_checks, {s.col("passes_panel_checks")}, {s.col("is_copy")},
        published FROM reports WHERE list_contains(?, {s.key})
        ORDER BY year DESC NULLS LAST, report_id""", p)  # fmt: skip
    series = rows(con, f"""SELECT {s.key.replace("agency", "r.agency")} AS key, r.year,
        sum(x.new) AS new, sum(x.granted + x.partial) FILTER (WHERE x.disclosure_rate IS NOT NULL)
          / NULLIF(sum(x.result_total) FILTER (WHERE x.disclosure_rate IS NOT NULL), 0)
          AS disclosure_rate
        FROM report_summary x JOIN reports r USING (report_id)
        WHERE list_contains(?, {s.key.replace("agency", "r.agency")}) AND r.year IS NOT NULL
          {not_copy}
        GROUP BY 1, 2 ORDER BY 1, 2""", p)  # fmt: skip
    failures = rows(con, f"""SELECT {s.key.replace("agency", "r.agency")} AS key, c.report_id,
        c.year, c.name, c.detail FROM check_failures c JOIN reports r USING (report_id)
        WHERE list_contains(?, {s.key.replace("agency", "r.agency")})
        ORDER BY c.year DESC, c.report_id, c.name""", p)  # fmt: skip
    panel: list[dict] = []
    if s.has("panel_failures"):
        panel = rows(
            con,
            """SELECT agency_key AS key, year, "check", expected, found, detail,
            report_id, previous_report_id FROM panel_failures
            WHERE list_contains(?, agency_key) ORDER BY year DESC, "check" """,
            p,
        )
    coverage = None
    if s.has("report_coverage"):
        coverage = _grouped(
            rows(
                con,
                """SELECT agency_key AS key, year, present, report_id,
            published, deadline, days_late FROM report_coverage
            WHERE list_contains(?, agency_key) ORDER BY year DESC""",
                p,
            ),
            "key",
        )
    return AgencyBatch(_grouped(reports, "key"), _grouped(series, "key"),
                       _grouped(failures, "key"), _grouped(panel, "key"), coverage)  # fmt: skip


def batched(items: Sequence, n: int) -> Iterator[Sequence]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
