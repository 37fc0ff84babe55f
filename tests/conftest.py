"""Shared test helpers: where the seed dumps live, and one-call extraction of bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from nianbao.extract.readers import read_bytes
from nianbao.transform.report import extract_document
from nianbao.transform.result import ExtractResult

TESTS = Path(__file__).parent


def seeds_dir() -> Path:
    """The seed dumps: the project's copy (tests/fixtures/seeds), else the shared spec folder."""
    local = TESTS / "fixtures" / "seeds"
    if any(local.glob("*.txt")):
        return local
    return Path(__file__).parents[2] / "shared" / "seeds"


SEED_FILES: list[Path] = sorted(seeds_dir().glob("*.txt"))


def extract(data: bytes, source: str = "") -> ExtractResult:
    """Bytes (text dump or HTML page) → ExtractResult, as `nianbao extract` does it."""
    return extract_document(read_bytes(data, source=source))


@pytest.fixture(scope="session")
def seed_files() -> list[Path]:
    return SEED_FILES
