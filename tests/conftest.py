"""Shared test helpers: where the seed dumps live, one-call extraction of bytes, and the one
Prefect server every flow test runs against."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Prefect reads its settings from the environment when first imported, and this file is
# imported before any test module: a private home, no telemetry, quiet logs, and a start-up
# limit for the Prefect server that a busy 2-core machine does not exceed (the default 20 s
# did: "Timed out while attempting to connect to ephemeral Prefect API server").
PREFECT_STARTUP_TIMEOUT = 180
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="nianbao-prefect-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault(
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(PREFECT_STARTUP_TIMEOUT)
)

import pytest  # noqa: E402
from nianbao.demo.seeds import seed_dir, seed_files  # noqa: E402
from nianbao.extract.readers import read_bytes  # noqa: E402
from nianbao.transform.report import extract_document  # noqa: E402
from nianbao.transform.result import ExtractResult  # noqa: E402

TESTS = Path(__file__).parent


# The seed dumps are package data of nianbao.demo (one copy, see demo/seeds.py); their
# independently read truth is a test fixture.
SEEDS_DIR: Path = seed_dir()
SEED_FILES: list[Path] = seed_files()
SEED_EXPECTED: Path = TESTS / "fixtures" / "seed_expected"


def extract(data: bytes, source: str = "") -> ExtractResult:
    """Bytes (text dump or HTML page) → ExtractResult, as `nianbao extract` does it."""
    return extract_document(read_bytes(data, source=source))


@pytest.fixture(scope="session")
def seed_files() -> list[Path]:
    return SEED_FILES


@dataclass(frozen=True, slots=True)
class PrefectServer:
    api_url: str
    startup_seconds: float  # how long the server took to answer (the race being guarded)

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a subprocess (e.g. the CLI) that should use this server."""
        return {**os.environ, "PREFECT_API_URL": self.api_url, **extra}


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[PrefectServer]:
    """One Prefect server for the whole test run, through Prefect's own test harness.

    Every test that runs a flow asks for this fixture: flows in this process use it (the
    harness sets PREFECT_API_URL in Prefect's settings, and Prefect's process-pool workers
    inherit those settings); subprocesses get it through ``env()``.  One start instead of one
    temporary server per test module: that start is the slow, load-sensitive step.
    """
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    started = time.monotonic()
    with prefect_test_harness(server_startup_timeout=PREFECT_STARTUP_TIMEOUT):
        yield PrefectServer(PREFECT_API_URL.value(), time.monotonic() - started)
