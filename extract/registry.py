"""The portal registry (data/portals.csv): which 年报 columns to crawl, and so which hosts exist.

Registry entries must hold real column URLs (slugs carry unguessable suffixes, portals.md §1);
their hosts are also the crawler's allow-list, so a bad file must fail loudly with the line
that is wrong instead of silently crawling less (or more).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

COLUMNS = ("portal_id", "agency", "level", "region_code", "list_url", "adapter", "notes")
# Usual levels: national, province, city (prefecture), county (district), township, department.
_LEVEL = re.compile(r"^[a-z][a-z_\-]{0,31}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$")
_REGION = re.compile(r"^\d{2,12}$")


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
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RegistryError(
            f"{source}: header lacks column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}"
        )
    index = {name: header.index(name) for name in COLUMNS}
    errors: list[str] = []
    portals: list[Portal] = []
    seen: dict[str, int] = {}
    for lineno, row in enumerate(reader, start=2):
        if len(row) != len(header):
            errors.append(f"{source}:{lineno}: {len(row)} fields, header has {len(header)}")
            continue
        values = {name: row[i].strip() for name, i in index.items()}
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
    if values["adapter"] and values["adapter"] not in adapters:
        problems.append(
            f"adapter {values['adapter']!r} unknown; known: {', '.join(sorted(adapters))}"
        )
    return problems
