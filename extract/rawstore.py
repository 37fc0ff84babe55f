"""Content-addressed store of fetched bodies: each distinct body once, by sha256.

Reports are re-posted in several columns and re-fetched every night (portals.md §7.10);
addressing by hash stores each body once and keeps every snapshot that was ever seen.
Writes go to a temp file in the store and are renamed into place, so a crawl killed at any
point leaves either the whole file or none (plus perhaps a stray temp file, swept later).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class RawStore:
    """``<data>/raw/ab/cdef…`` for sha256 ``abcdef…``."""

    def __init__(self, data_dir: str | Path) -> None:
        self.root = Path(data_dir) / "raw"
        self._tmp = self.root / ".tmp"

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def put(self, data: bytes) -> str:
        """Store ``data`` (if new) and return its sha256."""
        sha = hashlib.sha256(data).hexdigest()
        dest = self.path(sha)
        if dest.is_file():
            return sha
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._tmp, prefix=sha[:8] + ".")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def sweep_temp(self) -> int:
        """Remove temp files left by a killed writer; returns how many."""
        if not self._tmp.is_dir():
            return 0
        n = 0
        for f in self._tmp.iterdir():
            f.unlink(missing_ok=True)
            n += 1
        return n
