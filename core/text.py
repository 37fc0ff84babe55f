"""Text folding every reader of printed values shares."""

from __future__ import annotations

import unicodedata


def compact(text: str) -> str:
    """``text`` NFKC-folded (full-width digits, commas, colons to ASCII), without whitespace.

    Portal pages mix full-width and ASCII forms and scatter spaces inside numbers and years
    ("２０２３", "1 234"); every comparison is made on this one folded form.
    """
    return "".join(unicodedata.normalize("NFKC", text).split())


def readings(text: str) -> tuple[str, str]:
    """The two forms a title is searched in, in order: compacted, then with spaces kept.

    Compacting reads letter-spaced PDF titles ("2 0 2 3 年 度"), but it also glues a number to
    the year after a space ("第3 2024年" → "32024年"), which a year rule rightly refuses; the
    second form, NFKC-folded with each whitespace run kept as one space, lets that space
    separate them again.
    """
    folded = unicodedata.normalize("NFKC", text)
    return compact(folded), " ".join(folded.split())
