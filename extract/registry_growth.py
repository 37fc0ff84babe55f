"""Where the registry grows by itself: derived rows and proposed rows in the data directory.

- ``<data>/registry-derived.csv``: the agency columns platform rows expanded to, as registry
  rows with ``parent``.  Each crawl that expands a platform replaces that platform's rows (an
  agency that left the platform leaves the file); a platform that could not be read tonight
  keeps last night's, so one bad night does not forget its agencies.
- ``<data>/registry-proposed.csv``: columns on hosts the registry lacks, found on aggregator
  pages (and platform links to other hosts).  Nothing fetches them: a person reads the file and
  copies the rows worth having into ``data/portals.csv``.  A proposal keeps its ``first_seen``;
  ``last_seen`` moves on each sighting; a host that has since been registered drops out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from nianbao.core import atomic

from .expansion import Proposal
from .http import host_key
from .registry import COLUMNS, Portal, RegistryError, load_registry

DERIVED_FILE = "registry-derived.csv"
PROPOSED_FILE = "registry-proposed.csv"
PROPOSED_COLUMNS = (
    *COLUMNS,
    "report_url",
    "report_title",
    "proposed_by",
    "first_seen",
    "last_seen",
)


def derived_path(data: str | Path) -> Path:
    return Path(data) / DERIVED_FILE


def load_derived(data: str | Path) -> list[Portal]:
    """The derived rows of earlier crawls ([] when none yet, or the file is unreadable: it is
    rebuilt by the next crawl that expands the platforms)."""
    path = derived_path(data)
    if not path.is_file():
        return []
    try:
        return load_registry(path)
    except RegistryError:
        return []


def with_derived(portals: list[Portal], data: str | Path) -> list[Portal]:
    """The registry's rows plus the derived rows of its platforms (for lookups by portal_id)."""
    parents = {p.portal_id for p in portals if p.kind == "platform"}
    mine = {p.portal_id for p in portals}
    extra = [d for d in load_derived(data) if d.parent in parents and d.portal_id not in mine]
    return [*portals, *extra]


def save_derived(data: str | Path, expanded: Iterable[str], rows: Iterable[Portal]) -> Path:
    """Replace the rows of the platforms ``expanded`` tonight by ``rows``; keep the others."""
    done = set(expanded)
    fresh = {r.portal_id: r for r in rows}
    kept = [d for d in load_derived(data) if d.parent not in done and d.portal_id not in fresh]
    path = derived_path(data)
    from .registry import write_registry

    return write_registry(path, [*kept, *fresh.values()])


def save_proposals(data: str | Path, proposals: Iterable[Proposal], registered: set[str]) -> Path:
    """Merge tonight's proposals into ``registry-proposed.csv`` (by column address)."""
    path = Path(data) / PROPOSED_FILE
    now = datetime.now(UTC).isoformat(timespec="seconds")
    rows: dict[str, dict[str, str]] = {}
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as fh:
            rows = {r["list_url"]: r for r in csv.DictReader(fh) if r.get("list_url")}
    for p in proposals:
        old = rows.get(p.portal.list_url)
        row = {
            **p.portal.row(),
            "report_url": p.report_url,
            "report_title": p.report_title,
            "proposed_by": p.proposed_by,
            "first_seen": old["first_seen"] if old else now,
            "last_seen": now,
        }
        rows[p.portal.list_url] = row
    keep = [r for r in rows.values() if host_key(r["list_url"]) not in registered]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=PROPOSED_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(sorted(keep, key=lambda r: (r["proposed_by"], r["list_url"])))
    return atomic.write_text(path, buf.getvalue())
