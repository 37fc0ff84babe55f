"""Crash-safe Parquet storage: immutable part files plus numbered, immutable manifests.

Why this shape: a load touches several tables and may replace rows of reports loaded before,
and a kill -9 may strike between any two writes.  So nothing already published is ever
modified.  New rows go to new part files (written to a temporary name, fsynced, renamed);
rewrites and compactions also write new files.  Only then is ``_manifests/<gen>.json`` created
(temp + fsync + rename + directory fsync): the highest manifest number *is* the current state,
so the switch from one complete state to the next is a single atomic rename.  Files that no
manifest we keep refers to are garbage, removed later under the writer lock.

Readers never glob table directories: they read the file lists of one manifest (the views do
this for them), so orphans of a crashed load and files of the previous generation are
invisible.  ``NIANBAO_WAREHOUSE_FAULT=<point>`` kills the process with SIGKILL at a named point;
the crash tests use it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from nianbao.extract.documents_log import write_parquet_atomic

FAULT_ENV = "NIANBAO_WAREHOUSE_FAULT"
MANIFEST_DIR = "_manifests"
LOCK_FILE = "_lock"
TMP_PREFIX = ".tmp-"
ROW_GROUP_SIZE = 131_072  # small enough that row-group statistics prune sorted facts
COMPRESSION = "zstd"
UNKNOWN_YEAR = "unknown"
_MANIFEST_RE = re.compile(r"^(\d{6,})\.json$")


def fault(point: str) -> None:
    """Die here, like a kill -9, when the fault-injection variable names this point."""
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True, slots=True)
class PartFile:
    """One immutable Parquet file of a table, path relative to the warehouse directory."""

    path: str
    year: int | None
    rows: int
    columns: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "year": self.year,
            "rows": self.rows,
            "columns": list(self.columns),
        }

    @classmethod
    def from_json(cls, d: dict) -> PartFile:
        return cls(d["path"], d.get("year"), int(d["rows"]), tuple(d.get("columns") or ()))


@dataclass(slots=True)
class Manifest:
    """The complete state of the warehouse at one generation: the live files of every table."""

    generation: int = 0
    created_at: str = ""
    tables: dict[str, list[PartFile]] = field(default_factory=dict)

    def files(self, table: str) -> list[PartFile]:
        return list(self.tables.get(table, ()))

    def all_paths(self) -> set[str]:
        return {p.path for parts in self.tables.values() for p in parts}

    def to_json(self) -> dict:
        return {
            "format_version": 1,
            "generation": self.generation,
            "created_at": self.created_at,
            "tables": {t: [p.to_json() for p in parts] for t, parts in sorted(self.tables.items())},
        }

    @classmethod
    def from_json(cls, d: dict) -> Manifest:
        tables = {t: [PartFile.from_json(p) for p in parts] for t, parts in d["tables"].items()}
        return cls(int(d["generation"]), d.get("created_at", ""), tables)


def year_dir(year: int | None) -> str:
    return f"year={UNKNOWN_YEAR if year is None else int(year)}"


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Store:
    """The files under ``<data>/warehouse``: part files, manifests, the writer lock."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- reading -------------------------------------------------------------------------
    def manifest_numbers(self) -> list[int]:
        d = self.root / MANIFEST_DIR
        if not d.is_dir():
            return []
        return sorted(int(m.group(1)) for n in os.listdir(d) if (m := _MANIFEST_RE.match(n)))

    def manifest(self, generation: int | None = None) -> Manifest:
        """The manifest of ``generation`` (default: the current one; empty if none yet)."""
        if generation is None:
            numbers = self.manifest_numbers()
            if not numbers:
                return Manifest()
            generation = numbers[-1]
        if generation == 0:
            return Manifest()
        text = (self.root / MANIFEST_DIR / f"{generation:06d}.json").read_text("utf-8")
        return Manifest.from_json(json.loads(text))

    def abspath(self, part: PartFile | str) -> Path:
        return self.root / (part.path if isinstance(part, PartFile) else part)

    # -- writing -------------------------------------------------------------------------
    @contextlib.contextmanager
    def writer_lock(self, blocking: bool = True) -> Iterator[bool]:
        """Exclusive lock for anything that writes or deletes; yields False if not acquired.

        flock is released by the kernel when the process dies, so a killed loader never
        leaves the warehouse locked.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def new_part_path(self, table: str, year: int | None, generation: int) -> str:
        return f"{table}/{year_dir(year)}/part-{generation:06d}-{uuid.uuid4().hex[:12]}.parquet"

    def write_part(self, table: str, year: int | None, data: pa.Table, generation: int) -> PartFile:
        """Write an Arrow table as a new, not yet referenced part file (temp, fsync, rename)."""
        rel = self.new_part_path(table, year, generation)
        final = self.root / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        write_parquet_atomic(
            data,
            final,
            compression=COMPRESSION,
            row_group_size=ROW_GROUP_SIZE,
            write_statistics=True,
        )
        return PartFile(rel, year, data.num_rows, tuple(data.column_names))

    def adopt_part(
        self, tmp: Path, table: str, year: int | None, generation: int
    ) -> PartFile | None:
        """Turn a file written by someone else (DuckDB COPY) into a part file; None if empty."""
        meta = pq.ParquetFile(tmp).metadata
        if meta.num_rows == 0:
            tmp.unlink()
            return None
        rel = self.new_part_path(table, year, generation)
        final = self.root / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        _fsync_path(tmp)
        os.replace(tmp, final)
        return PartFile(rel, year, meta.num_rows, tuple(meta.schema.to_arrow_schema().names))

    def temp_path(self, table: str, year: int | None) -> Path:
        d = self.root / table / year_dir(year)
        d.mkdir(parents=True, exist_ok=True)
        return d / f"{TMP_PREFIX}{uuid.uuid4().hex}.parquet"

    def commit(self, manifest: Manifest) -> None:
        """Publish ``manifest`` as the new current generation: one atomic rename."""
        d = self.root / MANIFEST_DIR
        d.mkdir(parents=True, exist_ok=True)
        for parts in manifest.tables.values():  # part files' directory entries are durable
            for parent in {self.abspath(p).parent for p in parts}:
                _fsync_path(parent)
        manifest.created_at = datetime.now(UTC).isoformat(timespec="seconds")
        final = d / f"{manifest.generation:06d}.json"
        tmp = d / f"{TMP_PREFIX}{final.name}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(manifest.to_json(), f, ensure_ascii=False, indent=1)
            f.flush()
            os.fsync(f.fileno())
        fault("manifest_written")
        os.replace(tmp, final)
        _fsync_path(d)

    def collect_garbage(self, keep: list[Manifest], tables: tuple[str, ...]) -> int:
        """Delete part files, temp files and manifests that no kept manifest refers to.

        Call only under the writer lock: then every temp file is debris of a dead writer.
        """
        live = set().union(*(m.all_paths() for m in keep))
        removed = 0
        for table in tables:
            tdir = self.root / table
            if not tdir.is_dir():
                continue
            for path in sorted(tdir.rglob("*")):
                if not path.is_file():
                    continue
                rel = path.relative_to(self.root).as_posix()
                if path.name.startswith(TMP_PREFIX) or (
                    path.suffix == ".parquet" and rel not in live
                ):
                    path.unlink()
                    removed += 1
                    fault("gc_deleted_one")
        kept_numbers = {m.generation for m in keep}
        mdir = self.root / MANIFEST_DIR
        if mdir.is_dir():
            for name in os.listdir(mdir):
                m = _MANIFEST_RE.match(name)
                if name.startswith(TMP_PREFIX) or (m and int(m.group(1)) not in kept_numbers):
                    (mdir / name).unlink()
        for table in tables:  # empty year directories left by compaction
            tdir = self.root / table
            if tdir.is_dir():
                for sub in tdir.iterdir():
                    if sub.is_dir() and not any(sub.iterdir()):
                        sub.rmdir()
        return removed
