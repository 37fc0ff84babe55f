"""Which stored snapshots still need extracting, and why: never done, or done by another version.

A snapshot (URL + sha256) is *done* by an extractor version when that version loaded it into
`reports` or settled it in `extractions` (not a report, unsupported, tries used up).  Then:

- ``new``: done by no version (just fetched, or a refusal worth another try): every night takes
  all of them;
- ``stale``: done only by other versions: a better extractor should redo them.  The nightly
  flow takes a bounded number per night (``backfill_per_night``), so a release converges
  without a manual step; ``nianbao backfill`` takes them all.

The one selection both use, so a night and a backfill never disagree about what is pending.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.core.version import extractor_version
from nianbao.extract.documents_log import ReportDocument, current_documents

from . import runlog
from .warehouse_build import report_id_for

Key = tuple[str, str]  # (url, sha256): one snapshot of one document


@dataclass(slots=True)
class Backlog:
    version: str  # the extractor version the backlog is measured against
    new: list[ReportDocument] = field(default_factory=list)
    stale: list[ReportDocument] = field(default_factory=list)
    current: int = 0  # snapshots already done by this version

    def for_night(self, stale_limit: int) -> list[ReportDocument]:
        """Tonight's work: every new snapshot, and at most ``stale_limit`` stale ones."""
        return self.new + self.stale[: max(stale_limit, 0)]


def backlog(
    data: Path,
    *,
    version: str | None = None,
    everything: bool = False,
    portal_ids: Iterable[str] | None = None,
    year: int | None = None,
) -> Backlog:
    """The stored report snapshots of ``data`` split by what ``version`` still has to do.

    ``everything`` counts every snapshot as stale (a forced re-extraction); ``portal_ids`` and
    ``year`` (the year discovery read from the listing) narrow the set.
    """
    version = version or extractor_version()
    loaded, settled = _done_by(data)
    wanted = set(portal_ids) if portal_ids else None
    out = Backlog(version)
    for doc in current_documents(data):
        if (wanted is not None and doc.portal_id not in wanted) or (
            year is not None and doc.year != year
        ):
            continue
        versions = _versions(doc, loaded, settled)
        if everything:
            out.stale.append(doc)
        elif version in versions:
            out.current += 1
        elif versions:
            out.stale.append(doc)
        else:
            out.new.append(doc)
    return out


def _done_by(data: Path) -> tuple[dict[Key, set[str]], dict[Key, set[str]]]:
    """Versions that loaded each (report_id, sha256), and that settled each (url, sha256)."""
    settled: dict[Key, set[str]] = {}
    for url, sha256, version in runlog.settled_extractions(data):
        settled.setdefault((url, sha256), set()).add(version)
    return _loaded(data), settled


def _versions(doc: ReportDocument, loaded: dict[Key, set[str]], settled: dict[Key, set[str]]):
    """The versions that did ``doc``'s snapshot (its report id is derived from its URL)."""
    report = loaded.get((report_id_for(doc.url, doc.sha256), doc.sha256), set())
    return report | settled.get((doc.url, doc.sha256), set())


def _loaded(data: Path) -> dict[Key, set[str]]:
    """(report_id, sha256) → the versions in `reports`."""
    from .warehouse import connect

    try:
        con = connect(data)
    except Exception:  # no warehouse yet
        return {}
    try:
        rows = con.execute("SELECT report_id, sha256, parser_version FROM reports").fetchall()
    except Exception:
        return {}
    finally:
        con.close()
    out: dict[Key, set[str]] = {}
    for report_id, sha256, version in rows:
        out.setdefault((report_id, sha256), set()).add(version)
    return out
