"""The one HTTP client of nianbao: polite, bounded, and honest about what it got.

Government portals are slow, flaky and guarded; a crawler that hammers them gets blocked and a
crawler that trusts them records challenge pages as "no reports".  Every request of the project
goes through :class:`HttpClient`, a chain of small stages in the manner of Scrapy's downloader
middlewares (:mod:`.chain`), one concern each, outermost first:

1. redirects (:mod:`.redirects`) — follows Location hops through all the stages below again;
   302-to-self cookie setters once; loops, too many hops, POST→GET;
2. budget (:mod:`.budget`) — no hop starts after ``fetch_timeout``;
3. allow-list (:mod:`.allowlist`) — only registry hosts, never a private address behind one;
4. robots.txt (:mod:`.robots`) — protego, once per origin; ``Crawl-delay`` raises the delay;
5. outcome (:mod:`.outcome`) — status to ok / not_modified / not_found / failed, soft 404s;
6. retry (:mod:`.retry`) — urllib3 ``Retry``: errors, 429, 5xx, backoff, ``Retry-After``;
7. challenge (:mod:`.challenge`) — anti-bot pages judged ``blocked`` (JavaScript never run);
8. TLS downgrade (:mod:`.tls`) — a broken certificate retried over plain http;
9. politeness (:mod:`.politeness`) — one request per host in flight, ``delay`` apart;

then the transport (:mod:`.transport`: requests, body-size limit) with the per-attempt
deadline watchdog (:mod:`.watchdog`, ``total_timeout``).  :class:`HttpConfig` holds every
default.  Conditional requests (ETag / Last-Modified) are sent when told what was seen before.
It never raises for network trouble: :meth:`HttpClient.fetch` returns a :class:`FetchResult`
whose ``outcome`` says what happened.
"""

from .allowlist import AllowList, host_key, origin
from .challenge import detect_challenge, shell_target
from .client import HttpClient
from .config import (
    BLOCKED,
    DISALLOWED,
    FAILED,
    HOMEPAGE,
    NOT_FOUND,
    NOT_MODIFIED,
    OK,
    REFUSED,
    RETRY_STATUSES,
    USER_AGENT,
    HttpConfig,
)
from .outcome import SOFT_404_MARKERS, is_soft_404
from .politeness import HostGate
from .result import FetchResult
from .retry import PoliteRetry

__all__ = [
    "BLOCKED",
    "DISALLOWED",
    "FAILED",
    "HOMEPAGE",
    "NOT_FOUND",
    "NOT_MODIFIED",
    "OK",
    "REFUSED",
    "RETRY_STATUSES",
    "SOFT_404_MARKERS",
    "USER_AGENT",
    "AllowList",
    "FetchResult",
    "HostGate",
    "HttpClient",
    "HttpConfig",
    "PoliteRetry",
    "detect_challenge",
    "host_key",
    "is_soft_404",
    "origin",
    "shell_target",
]
