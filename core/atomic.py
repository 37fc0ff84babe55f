"""Files replaced whole: written beside their destination, then renamed over it.

A reader (or a crash) sees the old file or the new one, never half of one; the rename is atomic
on POSIX file systems when both names are in one directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; on a clean exit it becomes ``dest``."""
    path = Path(dest)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(dest: str | os.PathLike[str], text: str) -> Path:
    """Replace ``dest`` by ``text`` (UTF-8, newlines as given)."""
    with replacing(dest) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")
    return Path(dest)
