"""Where the data lives: ``--data DIR``, else ``$NIANBAO_DATA``, else ``./data``.

One resolver so every command (ingest, sql, export, crawl, run) and the notebook helper agree
on the same directory without each re-implementing the precedence.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "NIANBAO_DATA"
DEFAULT_DIR = "data"


def data_dir(arg: str | os.PathLike[str] | None = None) -> Path:
    """The data directory as an absolute path (it may not exist yet)."""
    chosen = arg if arg not in (None, "") else os.environ.get(ENV_VAR) or DEFAULT_DIR
    return Path(chosen).expanduser().resolve()


def warehouse_dir(data: Path) -> Path:
    """Parquet tables and manifests: ``<data>/warehouse``."""
    return data / "warehouse"


def duckdb_path(data: Path) -> Path:
    """The DuckDB file holding the views: ``<data>/nianbao.duckdb``."""
    return data / "nianbao.duckdb"
