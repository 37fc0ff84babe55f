"""The shape all stages share: a request goes in, a reply comes back.

In the spirit of Scrapy's downloader middlewares, each stage does one thing (allow-list,
robots.txt, retries …) and hands the request on to the next; the innermost handler sends it.
A stage may answer without asking the next one (a refused host is never contacted), ask it
again (a retry, a TLS downgrade, a redirect hop), or judge the reply on its way back (a
challenge page).  A judged reply carries an ``outcome``; outer stages leave such replies alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from requests.structures import CaseInsensitiveDict


@dataclass(slots=True)
class Exchange:
    """What one :meth:`HttpClient.fetch` carries across its hops and attempts."""

    attempts: int = 0  # requests sent, retries and redirect hops included
    redirects: list[str] = field(default_factory=list)
    deadline: float | None = None  # the fetch budget's end, once the first request is due

    def start_budget(self, now: float, seconds: float) -> float:
        """Start the budget at the first request (idempotent) and return its end.

        It starts only once the allow-list and robots.txt have let the URL through, so that
        the robots.txt fetch of a new origin does not eat the budget of the fetch it guards.
        """
        if self.deadline is None:
            self.deadline = now + seconds
        return self.deadline


@dataclass(slots=True)
class Request:
    """One URL to fetch; stages may rewrite ``url`` (the TLS downgrade does) for later tries."""

    url: str
    method: str = "GET"
    data: dict[str, str] | str | None = None
    json: object | None = None
    headers: dict[str, str] = field(default_factory=dict)
    max_bytes: int | None = None
    exchange: Exchange = field(default_factory=Exchange)


@dataclass(slots=True)
class Reply:
    """What came back for a request: a response, a transport error, or a stage's refusal."""

    url: str  # the URL this reply is for
    status: int | None = None
    headers: CaseInsensitiveDict = field(default_factory=CaseInsensitiveDict)
    body: bytes = b""
    cookies: list[str] = field(default_factory=list)  # Set-Cookie names, lower-cased
    error: Exception | None = None  # the attempt's transport error, if any
    raw: Any = None  # the urllib3 response, for urllib3's Retry
    sent: bool = True  # False: a stage answered before anything was sent
    outcome: str | None = None  # the verdict, once a stage has judged the reply
    reason: str | None = None  # why, for anything but ok

    @classmethod
    def stopped(cls, url: str, outcome: str, reason: str) -> Reply:
        """A stage's answer without sending anything (refused, disallowed, out of time)."""
        return cls(url=url, sent=False, outcome=outcome, reason=reason)

    def judge(self, outcome: str, reason: str | None = None) -> Reply:
        """Record the verdict on this reply and return it, for ``return reply.judge(…)``."""
        self.outcome, self.reason = outcome, reason
        return self

    @property
    def location(self) -> str | None:
        """The redirect target header of a 3xx (not 304) response, else None."""
        if self.status is None or not 300 <= self.status < 400 or self.status == 304:
            return None
        return self.headers.get("Location") or None


Handler = Callable[[Request], Reply]


class Stage(Protocol):
    """One concern of fetching: handle ``request``, calling ``next_stage`` zero or more times."""

    def __call__(self, request: Request, next_stage: Handler) -> Reply: ...


def compose(stages: Sequence[Stage], last: Handler) -> Handler:
    """Chain ``stages`` outermost first around ``last`` (the handler that sends)."""
    handler = last
    for stage in reversed(stages):
        handler = _bind(stage, handler)
    return handler


def _bind(stage: Stage, next_stage: Handler) -> Handler:
    def handle(request: Request) -> Reply:
        return stage(request, next_stage)

    return handle
