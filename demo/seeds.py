"""Where the five real seed reports (text dumps of published annual reports) live.

They are kept once, as package data of ``nianbao.demo``: the demo portal publishes them, and
the tests, the fixture scripts and the benchmarks read the same files through this module, so
no second copy can drift from the first.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def seed_dir() -> Path:
    """The folder of the seed dumps inside the installed package."""
    return Path(str(resources.files("nianbao.demo") / "data" / "seeds"))


def seed_files() -> list[Path]:
    """The seed dumps in name order (000 … 004)."""
    return sorted(seed_dir().glob("*.txt"))
