"""What the transform returns for one report: metadata, facts, checks, errors.

These plain dataclasses are the contract between transform (which builds them, pure) and
flows (which prints them or writes them to the warehouse).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from nianbao.core.version import extractor_version

from .narrative import Statement


@dataclass(slots=True)
class Fact:
    """One table cell of a report, addressed by catalogue codes."""

    table: str
    item: str
    column: str
    value: int | float | None  # None: the cell holds no number (blank, '/', '—', …)
    unit: str | None
    raw: str  # the cell text as printed


@dataclass(slots=True)
class Check:
    """One identity or completeness check; ok=None means skipped (an operand was null)."""

    name: str
    ok: bool | None
    detail: str


@dataclass(slots=True)
class Meta:
    title: str | None = None
    agency: str | None = None
    year: int | None = None
    published: str | None = None  # ISO date
    index_no: str | None = None


@dataclass(slots=True)
class ExtractResult:
    source: str
    format: str | None  # "2021", "2019" or None (no standard tables)
    meta: Meta = field(default_factory=Meta)
    facts: list[Fact] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # e.g. format_inferred_from_year
    # numbers the report's text states (transform.narrative.Statement), compared with the
    # tables in the warehouse's narrative_checks view
    statements: list[Statement] = field(default_factory=list)
    # what extracted it: the content hash of the readers, transform and catalogue (core.version)
    parser_version: str = field(default_factory=extractor_version)

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if c.ok is False]

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "format": self.format,
            "meta": asdict(self.meta),
            "facts": [asdict(f) for f in self.facts],
            "checks": [asdict(c) for c in self.checks],
            "errors": list(self.errors),
            "flags": list(self.flags),
            "statements": [asdict(s) for s in self.statements],
            "parser_version": self.parser_version,
        }
