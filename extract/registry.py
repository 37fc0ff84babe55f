"""The portal registry (data/portals.csv): which 年报 columns to crawl, and so which hosts exist.

Registry entries must hold real column URLs (slugs carry unguessable suffixes, portals.md §1);
their hosts are also the crawler's allow-list, so a bad file must fail loudly with the line
that is wrong instead of silently crawling less (or more).

A row's ``kind`` says what its address is: a ``column`` (one 年报 listing), a ``platform`` (a
multi-agency platform root whose agencies' columns become *derived* rows, refreshed by every
crawl and kept in ``<data>/registry-derived.csv``) or an ``aggregator`` (a page linking reports on
other hosts, which become *proposed* rows for a person to accept).  ``verified_at`` records when
``nianbao registry check`` last saw the row list reports; ``parent`` names the platform a derived
row came from.  ``kind``, ``verified_at`` and ``parent`` are optional in a file (old registries
keep working: every row is then a column).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from nianbao.core import atomic

REQUIRED = ("portal_id", "agency", "level", "region_code", "list_url", "adapter", "notes")
OPTIONAL = ("kind", "verified_at", "parent")
# the order a registry file is written in (data/portals.csv, registry-derived.csv)
COLUMNS = ("portal_id", "agency", "level", "region_code", "list_url", "adapter", "kind",
           "verified_at", "notes", "parent")  # fmt: skip
KINDS = ("column", "platform", "aggregator")
# Usual levels: national, province, city (prefecture), county (district), township, department.
_LEVEL = re.compile(r"^[a-z][a-z_\-]{0,31}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$")
_REGION = re.compile(r"^\d{2,12}$")
_VERIFIED = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


class RegistryError(ValueError):
    """A registry file that cannot be used; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Portal:
    """One 年报 column to crawl."""

    portal_id: str
    agency: str
    level: str
    region_code: str
    list_url: str
    adapter: str  # "" = auto-detect from the listing page
    notes: str = ""
    kind: str = "column"  # column | platform | aggregator
    verified_at: str = ""  # ISO date/time a check last saw reports listed; "" = unverified
    parent: str = ""  # the platform row a derived row was expanded from

    def row(self) -> dict[str, str]:
        """The row as a registry file holds it (COLUMNS order)."""
        return {name: getattr(self, name) for name in COLUMNS}


def load_registry(path: str | Path, adapters: Iterable[str] | None = None) -> list[Portal]:
    """Read and validate a registry CSV; raises RegistryError listing every problem found."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RegistryError(f"{p}: registry file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise RegistryError(f"{p}: cannot read registry: {e}") from None
    return parse_registry(text.splitlines(), source=str(p), adapters=adapters)


def parse_registry(
    lines: Iterable[str], source: str = "<registry>", adapters: Iterable[str] | None = None
) -> list[Portal]:
    if adapters is None:
        from .discovery import ADAPTER_NAMES

        adapters = ADAPTER_NAMES
    known = set(adapters)
    rows = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.reader(rows)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise RegistryError(
            f"{source}: empty registry (expected header {','.join(COLUMNS)})"
        ) from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise RegistryError(
            f"{source}: header lacks column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}"
        )
    index = {name: header.index(name) for name in COLUMNS if name in header}
    errors: list[str] = []
    portals: list[Portal] = []
    seen: dict[str, int] = {}
    for lineno, row in enumerate(reader, start=2):
        if len(row) != len(header):
            errors.append(f"{source}:{lineno}: {len(row)} fields, header has {len(header)}")
            continue
        values = {name: row[i].strip() for name, i in index.items()}
        values["kind"] = values.get("kind") or "column"
        problems = _check(values, known)
        pid = values["portal_id"]
        if pid in seen:
            problems.append(f"duplicate portal_id {pid!r} (first on line {seen[pid]})")
        seen.setdefault(pid, lineno)
        if problems:
            errors.extend(f"{source}:{lineno}: {msg}" for msg in problems)
            continue
        portals.append(Portal(**values))
    if errors:
        raise RegistryError("invalid registry:\n  " + "\n  ".join(errors))
    if not portals:
        raise RegistryError(f"{source}: no portals listed")
    return portals


def _check(values: dict[str, str], adapters: set[str]) -> list[str]:
    problems: list[str] = []
    if not _ID.match(values["portal_id"]):
        problems.append(
            f"portal_id {values['portal_id']!r} must be 1–80 characters of A-Z a-z 0-9 _ . -"
        )
    if values["level"] and not _LEVEL.match(values["level"]):
        problems.append(
            f"level {values['level']!r} must be a lower-case word (national, province, city, county …)"
        )
    if values["region_code"] and not _REGION.match(values["region_code"]):
        problems.append(f"region_code {values['region_code']!r} must be 2–12 digits")
    url = values["list_url"]
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        problems.append(f"list_url {url!r} is not an absolute http(s) URL")
    if values["kind"] not in KINDS:
        problems.append(f"kind {values['kind']!r} unknown; known: {', '.join(KINDS)}")
    if values.get("verified_at") and not _VERIFIED.match(values["verified_at"]):
        problems.append(f"verified_at {values['verified_at']!r} is not an ISO date or date-time")
    if values["adapter"] and values["adapter"] not in adapters:
        problems.append(
            f"adapter {values['adapter']!r} unknown; known: {', '.join(sorted(adapters))}"
        )
    return problems


def write_registry(path: str | Path, portals: Iterable[Portal]) -> Path:
    """Write a registry file atomically (a reader never sees half of it)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(portal.row() for portal in portals)
    return atomic.write_text(path, buf.getvalue())
