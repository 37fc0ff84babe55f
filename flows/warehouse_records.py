"""The rows the warehouse stores, one typed record each; their Arrow schemas are generated.

Why records: the loader builds these rows column-wise (see warehouse_build), so the dataclass
is never instantiated on the hot path; it is the single definition the schema, the views'
typed empty relations and the documentation come from.  ``report_values`` is not here: its
226 columns are generated from the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

import pyarrow as pa
from nianbao.core import records

Year = records.Int16
Count = records.Int32
Strings = Annotated[list, pa.list_(pa.string())]
# what the report's text states: transform.narrative.Statement as a struct
STATEMENT = pa.struct([("quantity", pa.string()), ("value", pa.int64()), ("text", pa.string())])
Statements = Annotated[list, pa.list_(STATEMENT)]


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One report: what was found, where it came from, and a digest of all of it."""

    report_id: str
    title: str | None
    agency: str | None
    level: str | None
    region_code: str | None  # the best known: the registry's, or a county inferred inside it
    province_code: str | None  # 6-digit codes and names of region_code's levels (core.regions)
    province: str | None
    city_code: str | None
    city: str | None
    county_code: str | None
    county: str | None
    region_source: str | None  # registry | inferred | None (no known region)
    region_confidence: float | None  # 1.0 from the registry; an inference's confidence
    year: Year | None
    format: str | None
    published: date | None
    index_no: str | None
    source_url: str | None
    source: str | None
    portal_id: str | None
    sha256: str | None
    fetched_at: datetime | None
    extracted_at: datetime | None
    parser_version: str | None
    n_facts: Count | None
    n_values: Count | None
    n_checks: Count | None
    n_checks_failed: Count | None
    n_checks_skipped: Count | None
    errors: Strings | None
    flags: Strings | None
    statements: Statements | None  # numbers the text states (narrative_checks view)
    cells_digest: str | None  # 64-bit hash of the printed cells: equal for copies (hex)
    digest: str | None  # of everything above but the load-time stamps: unchanged = skipped


@dataclass(frozen=True, slots=True)
class FactRow:
    """One cell of a report's tables, with the printed text it was read from."""

    report_id: str | None
    year: Year | None
    format: str | None
    table: str | None
    item: str | None
    column: str | None
    code: str | None  # table.item.column
    value: float | None
    unit: str | None
    raw: str | None


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One arithmetic check of a report; ``ok`` None: skipped (an operand was blank)."""

    report_id: str | None
    year: Year | None
    name: str | None
    ok: bool | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class WarehouseVersion:
    """A row of the ``warehouse_versions`` view: one version of the reports table."""

    version: int
    committed_at: datetime
    operation: str | None
    reports_written: int | None
    facts_version: int | None  # the facts table version this warehouse version reads


REPORTS_SCHEMA = records.schema(ReportRow)
FACTS_SCHEMA = records.schema(FactRow)
CHECKS_SCHEMA = records.schema(CheckRow)
VERSIONS_SCHEMA = records.schema(WarehouseVersion)
