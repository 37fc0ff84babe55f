"""The `runs`, `portal_runs`, `extractions` and `registry_checks` logs: one row per nightly
run, one per portal per run, one per document extraction tried, one per registry row checked.

Append-only Delta tables under ``<data>/warehouse/runs/``, ``portal_runs/`` and ``extractions/``;
each write is one commit, so a killed run leaves whole rows or nothing.
The portal history read back from here is what the health monitor compares tonight against.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
from nianbao.core import delta_log, records

from .health import OK, Health, PortalNight

# Counts are stored as int32, as they always were (older parts keep their type).
Count = records.Int32


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One nightly run: the `runs` row, built once the night is over."""

    run_id: str
    flow: str = "nightly"
    started_at: datetime = field(default_factory=_now)
    finished_at: datetime | None = None
    status: str = "ok"  # ok | degraded | failed
    portals: Count = 0
    listed: Count = 0
    new: Count = 0
    unchanged: Count = 0
    blocked: Count = 0
    extracted: Count = 0
    flagged: Count = 0
    failed: Count = 0
    unsupported: Count = 0
    unhealthy: Count = 0
    facts_loaded: int = 0
    detail: str = ""
    warehouse_version: int | None = None  # the warehouse version the night's load wrote


@dataclass(frozen=True, slots=True)
class PortalRun:
    """One portal in one run: the `portal_runs` row (crawl counts, extraction counts, health).

    The health judge reads only a part of it (``night()``), so it can be tested, and applied
    to history, without the bookkeeping columns.
    """

    run_id: str
    portal_id: str
    started_at: datetime
    crawl_status: str = ""  # the crawler's discovery status (ok, empty, blocked, …)
    adapter: str = ""
    listed: Count = 0
    new: Count = 0
    unchanged: Count = 0
    removed: Count = 0
    blocked: Count = 0
    failed: Count = 0
    extracted: Count = 0
    flagged: Count = 0
    health: str = OK  # ok | warning | unhealthy
    reason: str = ""
    error: str | None = None
    # the registry row crawled (report_coverage expects its agency's reports)
    agency: str | None = None
    level: str | None = None
    region_code: str | None = None  # as the reports' region_code: registry's or inferred
    kind: str | None = None  # column | platform | aggregator

    def night(self) -> PortalNight:
        return PortalNight(
            portal_id=self.portal_id,
            run_id=self.run_id,
            started=self.started_at.isoformat(),
            listed=self.listed,
            new=self.new,
            unchanged=self.unchanged,
            blocked=self.blocked,
            failed=self.failed,
            error=self.error,
            status=self.crawl_status,
        )

    def judged(self, health: Health) -> PortalRun:
        return replace(self, health=health.status, reason=health.reason)


@dataclass(frozen=True, slots=True)
class Extraction:
    """One document the nightly flow tried to extract: what became of it.  A document that
    is not a report, or was refused by a limit, stays out of `reports` and is explained here."""

    run_id: str
    url: str
    portal_id: str | None
    sha256: str
    parser_version: str
    extracted_at: datetime | None
    outcome: str  # report | the refusal reason (limit:time, not_a_report…)
    error: str | None = None
    n_facts: Count | None = None


@dataclass(frozen=True, slots=True)
class RegistryCheck:
    """One registry row checked by ``nianbao registry check`` (the `registry_checks` log;
    the view `registry_status` shows each row's latest).  ``years`` is JSON: {"2023": 5, …}."""

    check_id: str
    portal_id: str
    kind: str
    agency: str
    list_url: str
    checked_at: datetime
    verdict: str  # ok | empty | blocked | moved | unreachable | robots
    detail: str
    reachable: bool
    robots: str
    cms: str
    listed: Count
    years: str
    newest_year: records.Int16 | None
    agencies: Count | None
    proposed: Count | None
    requests: Count


RUNS_SCHEMA = records.schema(RunSummary)
PORTAL_RUNS_SCHEMA = records.schema(PortalRun)
EXTRACTIONS_SCHEMA = records.schema(Extraction)
REGISTRY_CHECKS_SCHEMA = records.schema(RegistryCheck)
# Refusals that may pass on another night (a busy machine, a killed worker): tried again up to
# this many times in all; every other outcome is final for its snapshot and parser version.
RETRY_REASONS = frozenset({"limit:time", "limit:memory", "crashed"})
MAX_TRIES = 3


def _dir(data: Path, table: str) -> Path:
    return Path(data) / "warehouse" / table


def _append(data: Path, table: str, cls: type, rows: list) -> Path | None:
    """One Delta commit of ``rows`` (a night writes each log once: no batching needed)."""
    if not rows:
        return None
    delta_log.append(_dir(data, table), records.table(cls, rows))
    return _dir(data, table)


def write_run(data: Path, run: RunSummary) -> Path:
    out = _append(data, "runs", RunSummary, [run])
    assert out is not None
    return out


def write_portal_runs(data: Path, rows: list[PortalRun]) -> Path | None:
    return _append(data, "portal_runs", PortalRun, rows)


def write_extractions(data: Path, rows: list[Extraction] | list[dict]) -> Path | None:
    return _append(data, "extractions", Extraction, rows)


def write_registry_checks(data: Path, rows: list[RegistryCheck]) -> Path | None:
    return _append(data, "registry_checks", RegistryCheck, rows)


def settled_extractions(data: Path) -> set[tuple[str, str, str]]:
    """(url, sha256, parser_version) not to extract again: a final outcome, or tries used up."""
    tries: dict[tuple[str, str, str], int] = {}
    settled: set[tuple[str, str, str]] = set()
    for r in _read(data, "extractions", EXTRACTIONS_SCHEMA).to_pylist():
        if r["outcome"] == "report":  # loaded or not, the warehouse says (a load can fail)
            continue
        key = (r["url"], r["sha256"], r["parser_version"])
        tries[key] = tries.get(key, 0) + 1
        if r["outcome"] not in RETRY_REASONS or tries[key] >= MAX_TRIES:
            settled.add(key)
    return settled


def _read(data: Path, table: str, schema: pa.Schema) -> pa.Table:
    return delta_log.read(_dir(data, table), schema)


def portal_history(data: Path) -> dict[str, list[PortalNight]]:
    """Every earlier night of every portal, for the health monitor."""
    out: dict[str, list[PortalNight]] = {}
    for r in _read(data, "portal_runs", PORTAL_RUNS_SCHEMA).to_pylist():
        night = PortalRun(**r).night()
        out.setdefault(night.portal_id, []).append(night)
    return out
