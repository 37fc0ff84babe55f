"""Who the client says it is, what a fetch can come to, and every HTTP default in one place.

:class:`HttpConfig` is the one home of the client's knobs (the project settings construct
it); each stage reads only the fields of its own concern.
"""

from __future__ import annotations

from dataclasses import dataclass

HOMEPAGE = "https://github.com/nianbao/nianbao"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("nianbao")
    except Exception:  # pragma: no cover - not installed
        return "0"


# The crawler's name and homepage in the "compatible" form crawlers use (Googlebot, Bingbot):
# some portals reset connections for User-Agents without "Mozilla" (www.gd.gov.cn, portals.md
# §3.4), and this form still says plainly who is fetching and where to read about it.
USER_AGENT = f"Mozilla/5.0 (compatible; nianbao/{_version()}; +{HOMEPAGE})"

# Outcomes of one fetch.  The crawler maps "ok" to new/unchanged by comparing hashes.
OK = "ok"
NOT_MODIFIED = "not_modified"
NOT_FOUND = "not_found"  # 404/410 or a soft 404 ("页面不存在")
BLOCKED = "blocked"  # anti-bot challenge: the channel is blocked, not empty
DISALLOWED = "disallowed"  # robots.txt
REFUSED = "refused"  # not on the allow-list, or a private address
FAILED = "failed"  # network error, 5xx/429 after retries, other 4xx, too large, redirects

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


@dataclass(slots=True)
class HttpConfig:
    """Knobs of the client; defaults are for real portals, tests shrink the times.

    Time limits, and why a request cannot hang a host group:

    * ``connect_timeout`` bounds the TCP connect (and each read of a TLS handshake),
      ``read_timeout`` every single read, so also the wait for the first byte of the response.
    * ``total_timeout`` bounds one attempt from sending the request to the last body byte.  A
      server that trickles a byte every few seconds never trips the read timeout, so a watchdog
      thread shuts the attempt's socket down at this deadline and the blocked read returns.  An
      attempt cut this way is recorded as a timeout (outcome ``failed``, error ``timeout (…)``)
      and is not retried: the server would only trickle again.
    * ``fetch_timeout`` bounds one :meth:`HttpClient.fetch` as a whole (host-delay waits,
      retries with their backoff, redirect hops): no retry or hop starts when it would begin
      after the budget, and a running attempt is cut at the budget like at ``total_timeout``.
      So retries never multiply ``total_timeout``: with the defaults a fetch returns within
      300 s (not (1 + retries) x 120 s), plus, once per origin and run, the robots.txt fetch
      (itself a fetch under the same bounds) and name resolution (the system resolver's own
      timeouts).
    """

    delay: float = 1.0  # minimum seconds between two requests to one host
    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # per read, including the wait for the first byte
    total_timeout: float = 120.0  # one attempt, against trickling servers (watchdog-enforced)
    fetch_timeout: float = 300.0  # one fetch: all attempts, backoff and redirect hops
    retries: int = 3  # extra attempts after the first
    backoff_factor: float = 1.0  # waits factor * 2**(n-1) seconds before retry n ...
    backoff_jitter: float = 0.5  # ... plus up to this much random jitter
    backoff_max: float = 60.0
    max_retry_after: float = 120.0  # a longer Retry-After gives up instead of stalling the host
    max_redirects: int = 5
    max_bytes: int = 50 * 1024 * 1024
    max_crawl_delay: float = 30.0  # cap on robots.txt Crawl-delay
    max_robots_bytes: int = 512 * 1024  # a bigger robots.txt is not rules but a mistake
    user_agent: str = USER_AGENT
    robots: bool = True
    verify_tls: bool = True
    tls_fallback_to_http: bool = True  # broken certificates are common on .gov.cn (portals.md §7.5)
