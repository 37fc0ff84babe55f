"""Renamed agencies: ``<data>/agency_aliases.csv``, read when the views are rendered.

Why a table and not a rule: a rename (国家林业局 → 国家林业和草原局, 洪泽县 → 洪泽区 with a new
region code) is a fact of one agency's history; no pattern over names gets it right, and a
wrong merge would join two agencies' panels.  Each row maps a name an agency reported under
(``alias``) to the name it is followed under (``agency``), optionally with the region code its
``agency_key`` takes (``region_code``), and says why (``note``).  Chains (A → B, B → C) are
followed to their end.  The views compare names through the ``agency_norm`` macro, so spacing
and punctuation do not matter here.  The views are re-rendered when the file changes.
"""

from __future__ import annotations

import csv
from pathlib import Path

FILE = "agency_aliases.csv"
COLUMNS = ("alias", "agency", "region_code", "note")


def path(root: Path) -> Path:
    return root / FILE


def load(root: Path) -> list[dict[str, str | None]]:
    """The alias rows with chains resolved; [] without a file.  ValueError (one line, naming
    the row) for a row without alias or agency, an alias given twice or a cycle."""
    p = path(root)
    if not p.is_file():
        return []
    with p.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    target: dict[str, tuple[str, str | None, str]] = {}
    for n, row in enumerate(rows, start=2):
        alias, agency = (row.get("alias") or "").strip(), (row.get("agency") or "").strip()
        if not alias or not agency:
            raise ValueError(f"{p}:{n}: a row needs both alias and agency")
        if alias in target:
            raise ValueError(f"{p}:{n}: alias {alias!r} is given twice")
        code = (row.get("region_code") or "").strip() or None
        target[alias] = (agency, code, (row.get("note") or "").strip())
    out = []
    for alias, (agency, code, note) in target.items():
        seen = {alias}
        while agency in target:  # follow A → B → C
            if agency in seen:
                raise ValueError(f"{p}: the aliases of {alias!r} go round in a circle")
            seen.add(agency)
            agency, later_code, _ = target[agency]
            code = later_code or code
        out.append({"alias": alias, "agency": agency, "region_code": code, "note": note})
    return out
