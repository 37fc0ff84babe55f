"""Discovery's fetch without a crawl: for checking registry rows and discovering new ones.

``nianbao registry check`` and ``nianbao registry discover`` read listing pages exactly as the
crawler does (the same polite client, allow-list, robots.txt, challenge detection and WAF-cookie
visit) but store and log nothing: a check must not change what the warehouse knows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Unpack
from urllib.parse import urlsplit

from .discovery import Page
from .discovery.base import FetchOptions
from .http import BLOCKED, NOT_FOUND, OK, FetchResult, HttpClient, host_key


def may_visit_home(error: str | None) -> bool:
    """A blocked column worth one more try after a home-page visit: WAF cookies handed to
    every visitor (网站卫士 ``wzws_``, portals.md §3.5) — not JS challenges or a 412."""
    e = error or ""
    return not (e.startswith("HTTP 412") or "云锁" in e or "瑞数" in e)


@dataclass(slots=True)
class ProbeFetch:
    """A :class:`~nianbao.extract.discovery.Fetch` over an :class:`HttpClient`, keeping the
    results it saw (redirects, requests) for the caller's verdict."""

    client: HttpClient
    requests: int = 0
    seen: list[FetchResult] = field(default_factory=list)
    _visited_home: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, url: str, **options: Unpack[FetchOptions]) -> Page:
        res = self._fetch(url, options)
        if res.outcome == BLOCKED and may_visit_home(res.error) and self._first_visit(url):
            home = self._fetch("{0.scheme}://{0.netloc}/".format(urlsplit(url)), {})
            if home.outcome == OK:
                res = self._fetch(url, options)
        text = res.text if res.outcome in (OK, BLOCKED, NOT_FOUND) and res.body else ""
        outcome = res.outcome if res.outcome != "not_modified" else OK
        return Page(
            url, res.final_url or url, res.status, outcome, text, res.content_type, res.error
        )

    def _fetch(self, url: str, options: FetchOptions) -> FetchResult:
        res = self.client.fetch(
            url,
            method=options.get("method") or "GET",
            data=options.get("data"),
            json=options.get("json"),
            headers=options.get("headers"),
            referer=options.get("referer"),
        )
        with self._lock:
            self.requests += res.attempts
            self.seen.append(res)
        return res

    def _first_visit(self, url: str) -> bool:
        with self._lock:
            key = host_key(url)
            if key in self._visited_home:
                return False
            self._visited_home.add(key)
            return True
