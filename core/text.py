"""Text folding every reader of printed values shares."""

from __future__ import annotations

import unicodedata


def compact(text: str) -> str:
    """``text`` NFKC-folded (full-width digits, commas, colons to ASCII), without whitespace.

    Portal pages mix full-width and ASCII forms and scatter spaces inside numbers and years
    ("２０２３", "1 234"); every comparison is made on this one folded form.
    """
    return "".join(unicodedata.normalize("NFKC", text).split())
