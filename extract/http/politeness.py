"""Stage 9, politeness: one request in flight per host, ``HttpConfig.delay`` seconds apart.

Portals block crawlers that hammer them, so each host gets a gate: a request waits for the
previous one to that host to end plus the delay (raised by robots.txt ``Crawl-delay``,
pushed back by retry waits), while different hosts proceed in parallel from other threads.
Every attempt passes here, so this is also where attempts are counted.
"""

from __future__ import annotations

import threading
import time

from .allowlist import host_key
from .chain import Handler, Reply, Request


class HostGate:
    """One request at a time per host, ``delay`` seconds from one's end to the next's start."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.next_at = 0.0

    def defer(self, seconds: float) -> None:
        """Push the next request at least ``seconds`` from now (Retry-After, backoff)."""
        self.next_at = max(self.next_at, time.monotonic() + seconds)

    def __enter__(self) -> HostGate:
        self.lock.acquire()
        wait = self.next_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        return self

    def __exit__(self, *exc: object) -> None:
        self.next_at = max(self.next_at, time.monotonic() + self.delay)
        self.lock.release()


class HostGates:
    """The gate of every host seen so far, created on first use with the default delay."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._gates: dict[str, HostGate] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> HostGate:
        key = host_key(url)
        with self._lock:
            gate = self._gates.get(key)
            if gate is None:
                gate = self._gates[key] = HostGate(self.delay)
            return gate


class PolitenessStage:
    """Sends each attempt through its host's gate and counts it."""

    def __init__(self, gates: HostGates) -> None:
        self.gates = gates

    def __call__(self, request: Request, next_stage: Handler) -> Reply:
        request.exchange.attempts += 1
        with self.gates.get(request.url):
            return next_stage(request)
