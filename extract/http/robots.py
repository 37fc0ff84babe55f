"""Stage 4, robots.txt: honoured per origin with protego, fetched once per client.

robots.txt is fetched through the same stages minus this one (allow-list, budget, retries,
host gate), so it is as polite and bounded as any other request.  ``Crawl-delay`` raises the
host's delay (capped at ``HttpConfig.max_crawl_delay``).  A missing robots.txt (4xx) or one
redirected off the registry allows everything (RFC 9309); one that cannot be read (5xx,
network trouble) stops the whole origin, since its rules are unknown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from protego import Protego

from .allowlist import origin
from .chain import Handler, Reply, Request
from .config import DISALLOWED, FAILED, OK, REFUSED, HttpConfig
from .politeness import HostGates
from .result import FetchResult


@dataclass(slots=True)
class _Robots:
    parser: Protego | None  # None: allow all
    error: str | None = None  # robots.txt could not be read: fetch nothing from the origin


class RobotsStage:
    """Disallows (``disallowed``) what robots.txt forbids; ``failed`` when it is unreadable."""

    def __init__(
        self, config: HttpConfig, gates: HostGates, fetch: Callable[[Request], FetchResult]
    ) -> None:
        self.config = config
        self.gates = gates
        self.fetch = fetch  # the client's chain without this stage
        self._robots: dict[str, _Robots] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Request, next_stage: Handler) -> Reply:
        reason = self.allows(request.url)
        if reason:
            outcome = DISALLOWED if reason.startswith("disallowed") else FAILED
            return Reply.stopped(request.url, outcome, reason)
        return next_stage(request)

    def allows(self, url: str) -> str | None:
        """None when robots.txt allows ``url``, else why not."""
        if not self.config.robots:
            return None
        robots = self._rules(origin(url))
        if robots.error:
            return robots.error
        if robots.parser is not None and not robots.parser.can_fetch(url, self.config.user_agent):
            return "disallowed by robots.txt"
        return None

    def _rules(self, key: str) -> _Robots:
        """The origin's rules, loaded once even when several threads ask at the same time."""
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            robots = self._robots.get(key)
            if robots is None:
                robots = self._robots[key] = self._load(key + "/robots.txt")
            return robots

    def _load(self, robots_url: str) -> _Robots:
        res = self.fetch(Request(robots_url, max_bytes=self.config.max_robots_bytes))
        if res.outcome == OK:
            parser = Protego.parse(res.text)
            delay = parser.crawl_delay(self.config.user_agent)
            if delay:
                gate = self.gates.get(robots_url)
                gate.delay = max(gate.delay, min(float(delay), self.config.max_crawl_delay))
            return _Robots(parser)
        if res.status is not None and 400 <= res.status < 500:
            return _Robots(None)  # RFC 9309: no robots.txt means everything is allowed
        if res.outcome == REFUSED:
            return _Robots(None)  # robots.txt redirected off-registry: treat as absent
        return _Robots(None, f"robots.txt unavailable ({res.error or res.status})")
