"""The `runs`, `portal_runs` and `extractions` logs: one row per nightly run, one per portal
per run, one per document extraction tried.

Append-only Delta tables under ``<data>/warehouse/runs/``, ``portal_runs/`` and ``extractions/``;
each write is one commit, so a killed run leaves whole rows or nothing.
The portal history read back from here is what the health monitor compares tonight against.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
from nianbao.core import delta_log

from .health import Health, PortalNight

RUNS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("flow", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("finished_at", pa.timestamp("us", tz="UTC")),
        ("status", pa.string()),  # ok | degraded | failed
        ("portals", pa.int32()),
        ("listed", pa.int32()),
        ("new", pa.int32()),
        ("unchanged", pa.int32()),
        ("blocked", pa.int32()),
        ("extracted", pa.int32()),
        ("flagged", pa.int32()),
        ("failed", pa.int32()),
        ("unsupported", pa.int32()),
        ("unhealthy", pa.int32()),
        ("facts_loaded", pa.int64()),
        ("detail", pa.string()),
    ]
)

PORTAL_RUNS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("portal_id", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("crawl_status", pa.string()),
        ("adapter", pa.string()),
        ("listed", pa.int32()),
        ("new", pa.int32()),
        ("unchanged", pa.int32()),
        ("removed", pa.int32()),
        ("blocked", pa.int32()),
        ("failed", pa.int32()),
        ("extracted", pa.int32()),
        ("flagged", pa.int32()),
        ("health", pa.string()),  # ok | warning | unhealthy
        ("reason", pa.string()),
        ("error", pa.string()),
    ]
)

# One row per document the nightly flow tried to extract: what became of it.  A document that
# is not a report, or was refused by a limit, stays out of `reports` and is explained here.
EXTRACTIONS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("url", pa.string()),
        ("portal_id", pa.string()),
        ("sha256", pa.string()),
        ("parser_version", pa.string()),
        ("extracted_at", pa.timestamp("us", tz="UTC")),
        ("outcome", pa.string()),  # report | the refusal reason (limit:time, not_a_report…)
        ("error", pa.string()),
        ("n_facts", pa.int32()),
    ]
)
# Refusals that may pass on another night (a busy machine, a killed worker): tried again up to
# this many times in all; every other outcome is final for its snapshot and parser version.
RETRY_REASONS = frozenset({"limit:time", "limit:memory", "crashed"})
MAX_TRIES = 3


@dataclass(slots=True)
class RunSummary:
    run_id: str
    flow: str = "nightly"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    status: str = "ok"
    portals: int = 0
    listed: int = 0
    new: int = 0
    unchanged: int = 0
    blocked: int = 0
    extracted: int = 0
    flagged: int = 0
    failed: int = 0
    unsupported: int = 0
    unhealthy: int = 0
    facts_loaded: int = 0
    detail: str = ""


def _dir(data: Path, table: str) -> Path:
    return Path(data) / "warehouse" / table


def _append(data: Path, table: str, rows: pa.Table) -> Path | None:
    """One Delta commit of ``rows`` (a night writes each log once: no batching needed)."""
    if not rows.num_rows:
        return None
    delta_log.append(_dir(data, table), rows)
    return _dir(data, table)


def write_run(data: Path, run: RunSummary) -> Path:
    out = _append(data, "runs", pa.Table.from_pylist([asdict(run)], schema=RUNS_SCHEMA))
    assert out is not None
    return out


def write_portal_runs(data: Path, rows: list[dict]) -> Path | None:
    return _append(data, "portal_runs", pa.Table.from_pylist(rows, schema=PORTAL_RUNS_SCHEMA))


def write_extractions(data: Path, rows: list[dict]) -> Path | None:
    return _append(data, "extractions", pa.Table.from_pylist(rows, schema=EXTRACTIONS_SCHEMA))


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
        out.setdefault(r["portal_id"], []).append(
            PortalNight(
                portal_id=r["portal_id"],
                run_id=r["run_id"],
                started=r["started_at"].isoformat() if r["started_at"] else "",
                listed=r["listed"] or 0,
                new=r["new"] or 0,
                unchanged=r["unchanged"] or 0,
                blocked=r["blocked"] or 0,
                failed=r["failed"] or 0,
                error=r["error"],
                status=r["crawl_status"] or "",
            )
        )
    return out


def portal_row(night: PortalNight, health: Health, **extra: object) -> dict:
    row = {
        "run_id": night.run_id,
        "portal_id": night.portal_id,
        "started_at": datetime.fromisoformat(night.started) if night.started else None,
        "listed": night.listed,
        "new": night.new,
        "unchanged": night.unchanged,
        "blocked": night.blocked,
        "failed": night.failed,
        "health": health.status,
        "reason": health.reason,
        "error": night.error,
    }
    row.update(extra)
    return row
