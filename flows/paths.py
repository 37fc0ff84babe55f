"""Where the data lives: ``--data DIR``, else the settings' data directory (config file,
``$NIANBAO_DATA``, else ``./data``: see settings.py).

One resolver so every command (ingest, sql, export, crawl, run) and the notebook helper agree
on the same directory without each re-implementing the precedence.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir(arg: str | os.PathLike[str] | None = None) -> Path:
    """The data directory as an absolute path (it may not exist yet)."""
    if arg not in (None, ""):
        return Path(arg).expanduser().resolve()
    from .settings import load

    return load().data


def warehouse_dir(data: Path) -> Path:
    """Parquet tables and manifests: ``<data>/warehouse``."""
    return data / "warehouse"


def duckdb_path(data: Path) -> Path:
    """The DuckDB file holding the views: ``<data>/nianbao.duckdb``."""
    return data / "nianbao.duckdb"
