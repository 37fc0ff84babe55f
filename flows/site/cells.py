"""Which cells a failed check names, read from its detail text (transform/checks.py).

Identities print their operands as ``item.column=value`` (the table is the family's:
``requests_balance`` → requests); type checks print ``table.item.column='raw'``.  The audit page
highlights those cells among the extracted values.
"""

from __future__ import annotations

import re

_THREE = re.compile(r"\b([a-z_]+)\.([a-z0-9_]+)\.([a-z0-9_]+)=")
_TWO = re.compile(r"(?<![.\w])([a-z0-9_]+)\.([a-z0-9_]+)=")
TABLES = ("active", "requests", "appeals")


def named_cells(name: str, detail: str | None) -> set[tuple[str, str, str]]:
    """(table, item, column) of every cell ``detail`` names."""
    detail = detail or ""
    out = {m.groups() for m in _THREE.finditer(detail) if m.group(1) in TABLES}
    family = name.split(".", 1)[0].split("_", 1)[0]
    if family in TABLES:
        out |= {(family, item, col) for item, col in _TWO.findall(detail)}
    return out
