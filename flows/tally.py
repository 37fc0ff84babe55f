"""What a night's extraction outcomes add up to: warehouse inputs, counts, one readable line.

Kept apart from the flow so that counting is a pure function of the outcomes (no Prefect, no
I/O): the flow's load, health and summary stages only read the result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nianbao.extract.documents_log import ReportDocument
from nianbao.extract.registry import Portal

from .extraction import Outcome
from .runlog import Extraction
from .warehouse_build import ReportInput


@dataclass(slots=True)
class Tally:
    """Extraction outcomes counted for the run summary and each portal."""

    inputs: list[ReportInput] = field(default_factory=list)
    extracted: Counter[str] = field(default_factory=Counter)  # portal_id → reports
    flagged: Counter[str] = field(default_factory=Counter)  # portal_id → with failed checks
    failed: int = 0
    unsupported: Counter[str] = field(default_factory=Counter)  # format kind → documents
    problems: list[tuple[str, str]] = field(default_factory=list)  # (URL or "", what happened)

    def describe(self, more: Sequence[tuple[str, str]] = ()) -> str:
        """One readable line: problems (and ``more``) grouped by message, each with a count and
        one example."""
        parts: list[str] = []
        if self.unsupported:
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.unsupported.items()))
            n = self.unsupported.total()
            parts.append(f"{n} documents in formats not read yet ({kinds})")
        groups: dict[str, list[str]] = {}
        for url, message in [*self.problems, *more]:
            groups.setdefault(message, []).append(url)
        for message, urls in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            example = f" (e.g. {urls[0]})" if urls[0] else ""
            parts.append(f"{len(urls)}× {message}{example}")
        return "; ".join(parts)


def tally(
    extracted: Iterable[tuple[ReportDocument, Outcome]], portals: Mapping[str, Portal]
) -> Tally:
    """Count every outcome; a report that yielded facts becomes a warehouse input."""
    out = Tally()
    for doc, outcome in extracted:
        reason = outcome.reason or ""
        if reason.startswith("unsupported:"):
            out.unsupported[reason.split(":", 1)[1]] += 1
        elif reason == "not_a_report":  # notices, 详见附件 pages: explained in `extractions`
            continue
        elif reason:
            out.failed += 1
            detail = reason if reason.startswith("limit:") else outcome.describe()
            out.problems.append((doc.url, detail))
        else:
            out.inputs.append(_report_input(doc, outcome, portals.get(doc.portal_id)))
            out.extracted[doc.portal_id] += 1
            result = outcome.result
            out.flagged[doc.portal_id] += bool(result and (result.failed_checks or result.errors))
    return out


def _report_input(doc: ReportDocument, outcome: Outcome, portal: Portal | None) -> ReportInput:
    """A report for the warehouse, with what the registry knows of its agency."""
    result = outcome.result
    assert result is not None
    return ReportInput(
        result=result,
        sha256=doc.sha256,
        source_url=doc.url,
        fetched_at=doc.fetched_at,
        level=portal.level if portal else None,
        region_code=portal.region_code if portal else None,
        portal_id=doc.portal_id,
        agency=None if result.meta.agency else (portal.agency if portal else None),
    )


def extraction_record(run_id: str, doc: ReportDocument, outcome: Outcome) -> Extraction:
    """The `extractions` row of one document tried tonight."""
    from nianbao.core.version import extractor_version

    result = outcome.result
    return Extraction(
        run_id=run_id,
        url=doc.url,
        portal_id=doc.portal_id,
        sha256=doc.sha256,
        parser_version=result.parser_version if result else extractor_version(),
        extracted_at=datetime.now(UTC),
        outcome=outcome.reason or "report",
        error=outcome.error,
        n_facts=len(result.facts) if result else 0,
    )
