"""The one HTTP client of nianbao: the stages composed in order, behind ``fetch``.

Order matters and is the design: the allow-list and robots.txt are asked on every redirect
hop (so the redirect stage is outside them); the budget starts after robots.txt let the URL
through; status, soft 404 and retries look at what the challenge stage has not already judged
``blocked``; every retry and TLS downgrade waits at the host gate again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .allowlist import AllowList, AllowListStage
from .budget import BudgetStage
from .chain import Exchange, Handler, Reply, Request, Stage, compose
from .challenge import ChallengeStage
from .config import BLOCKED, FAILED, NOT_FOUND, OK, HttpConfig
from .outcome import OutcomeStage
from .politeness import HostGates, PolitenessStage
from .redirects import RedirectStage
from .result import FetchResult
from .retry import RetryStage
from .robots import RobotsStage
from .tls import TlsDowngradeStage
from .transport import Transport

BODY_OUTCOMES = (OK, BLOCKED, NOT_FOUND)  # the outcomes whose body is worth keeping


class HttpClient:
    """Thread-safe; share one instance across the crawl so per-host limits hold globally.

    It never raises for network trouble: :meth:`fetch` returns a :class:`FetchResult` whose
    ``outcome`` says what happened.
    """

    def __init__(self, allow: AllowList | None, config: HttpConfig | None = None) -> None:
        self.allow = allow
        self.config = config or HttpConfig()
        self._gates = HostGates(self.config.delay)
        self._transport = Transport(self.config)
        without_robots = compose(self.stages(robots=None), self._transport)
        self._robots = RobotsStage(self.config, self._gates, self._runner(without_robots))
        self._chain = compose(self.stages(robots=self._robots), self._transport)

    def stages(self, robots: RobotsStage | None) -> list[Stage]:
        """The stages, outermost first (robots.txt itself is fetched without that stage)."""
        c, gates = self.config, self._gates
        return [
            RedirectStage(c),
            BudgetStage(c),
            AllowListStage(self.allow),
            *([robots] if robots is not None else []),
            OutcomeStage(),
            RetryStage(c, gates),
            ChallengeStage(),
            TlsDowngradeStage(c, self.allow),
            PolitenessStage(gates),
        ]

    def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        data: dict[str, str] | str | None = None,
        json: object | None = None,
        headers: dict[str, str] | None = None,
        referer: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """Fetch ``url`` politely; never raises for network or HTTP trouble."""
        hdrs = dict(headers or {})
        if referer:
            hdrs["Referer"] = referer
        if etag:
            hdrs["If-None-Match"] = etag
        if last_modified:
            hdrs["If-Modified-Since"] = last_modified
        request = Request(url, method.upper(), data, json, hdrs, max_bytes)
        return self._runner(self._chain)(request)

    def robots_says(self, url: str) -> str | None:
        """None when robots.txt lets the crawler fetch ``url``, else why not (read once per
        origin, as every fetch reads it)."""
        return self._robots.allows(url)

    @staticmethod
    def _runner(chain: Handler) -> Callable[[Request], FetchResult]:
        """``chain`` as a fetch: a fresh exchange in, a :class:`FetchResult` out."""

        def run(request: Request) -> FetchResult:
            started = time.monotonic()
            asked = FetchResult(url=request.url, method=request.method)
            request.exchange = Exchange()
            reply = chain(request)
            return _result(asked, reply, request.exchange, time.monotonic() - started)

        return run

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _result(asked: FetchResult, reply: Reply, exchange: Exchange, elapsed: float) -> FetchResult:
    """Fill ``asked`` (url and method as asked) from the last reply and the exchange's counts."""
    asked.final_url, asked.status, asked.headers = reply.url, reply.status, reply.headers
    asked.outcome, asked.error = reply.outcome or FAILED, reply.reason
    asked.body = reply.body if reply.outcome in BODY_OUTCOMES else b""
    asked.attempts, asked.redirects, asked.elapsed = exchange.attempts, exchange.redirects, elapsed
    return asked
