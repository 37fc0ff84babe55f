"""Dates as printed on portals and in reports (2025-01-24, 2025年1月24日, 2025/1/24, full-width
digits) → ISO ``YYYY-MM-DD``.  The one date reader for list dates, info boxes and metadata."""

from __future__ import annotations

import re
import unicodedata

DATE_PATTERN = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


def iso_date(text: str | None) -> str | None:
    """The first plausible date in ``text``, or None."""
    if not text:
        return None
    m = DATE_PATTERN.search(unicodedata.normalize("NFKC", text))
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"
