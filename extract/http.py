"""The one HTTP client of nianbao: polite, bounded, and honest about what it got.

Government portals are slow, flaky and guarded; a crawler that hammers them gets blocked and a
crawler that trusts them records challenge pages as "no reports".  Every request of the project
goes through :class:`HttpClient`, which

* fetches only hosts on the registry allow-list, never a private/loopback address unless the
  registry names that address (or ``localhost``) itself, and re-checks every redirect target;
* honours robots.txt (``protego``, cached per origin, ``Crawl-delay`` raises the host delay);
* keeps one request in flight per host and a minimum delay between the end of one request and
  the start of the next, while different hosts proceed in parallel from different threads;
* retries connection errors, truncated bodies, 429 and 5xx with exponential backoff and jitter
  (a urllib3 ``Retry`` is the policy), honouring ``Retry-After`` and never retrying sooner than
  the host delay;
* bounds time and body size (see :class:`HttpConfig` for the time limits and their bound),
  decodes text via :mod:`.charset`;
* sends conditional requests (ETag / Last-Modified) when told what was seen before;
* recognises anti-bot challenge pages and reports them as ``blocked``.

It never raises for network trouble: :meth:`HttpClient.fetch` returns a :class:`FetchResult`
whose ``outcome`` says what happened.
"""

from __future__ import annotations

import ipaddress
import math
import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from protego import Protego
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import MaxRetryError
from urllib3.response import HTTPResponse
from urllib3.util.retry import Retry

from . import charset

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
    user_agent: str = USER_AGENT
    robots: bool = True
    verify_tls: bool = True
    tls_fallback_to_http: bool = True  # broken certificates are common on .gov.cn (portals.md §7.5)


@dataclass(slots=True)
class FetchResult:
    """What one fetch produced; ``body`` is empty unless the outcome is ok/blocked/not_found."""

    url: str
    method: str = "GET"
    final_url: str = ""
    status: int | None = None
    outcome: str = FAILED
    body: bytes = b""
    headers: CaseInsensitiveDict = field(default_factory=CaseInsensitiveDict)
    error: str | None = None
    attempts: int = 0
    redirects: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    _text: str | None = None
    _cookies: list[str] = field(default_factory=list)  # Set-Cookie names of the last response

    @property
    def ok(self) -> bool:
        return self.outcome == OK

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("Content-Type")
        return value.split(";")[0].strip().lower() if value else None

    @property
    def declared_charset(self) -> str | None:
        m = re.search(r"charset\s*=\s*([\w.:-]+)", self.headers.get("Content-Type", ""), re.I)
        return m.group(1) if m else None

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("Last-Modified")

    @property
    def is_html(self) -> bool:
        ct = self.content_type or ""
        return "html" in ct or (not ct and b"<" in self.body[:512])

    @property
    def text(self) -> str:
        """The body decoded: header charset, then <meta>, then detection (GBK without headers)."""
        if self._text is None:
            self._text, _ = charset.decode(self.body, self.declared_charset, html=self.is_html)
        return self._text


# --------------------------------------------------------------------------- allow-list


def host_key(url: str) -> str:
    """The politeness unit: host name plus explicit non-default port (http/https share it)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is None or port in (80, 443):
        return host
    return f"{host}:{port}"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), "", "", ""))


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_private(addr: str) -> bool:
    ip = ipaddress.ip_address(addr.split("%")[0])
    return not ip.is_global or ip.is_multicast


class AllowList:
    """Hosts the registry names; a URL is fetchable only if its host:port is one of them.

    A registry URL with a default port admits that host name on both 80 and 443 (http→https
    upgrades); one with an explicit port admits exactly that port.  Registry hosts that are IP
    literals or ``localhost`` may be private/loopback; any other name that resolves to a
    private address is refused (a registered name must not be used to reach an internal net).
    """

    def __init__(self, urls: Iterable[str]) -> None:
        self._hosts: set[str] = set()
        for url in urls:
            key = host_key(url)
            if key:
                self._hosts.add(key)
        self._resolved: dict[str, bool] = {}
        self._lock = threading.Lock()

    @property
    def hosts(self) -> frozenset[str]:
        return frozenset(self._hosts)

    def check(self, url: str) -> str | None:
        """None when ``url`` may be fetched, else the reason it may not."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            return f"scheme {parts.scheme or '(none)'} not fetched"
        try:
            key = host_key(url)
        except ValueError:
            return "malformed URL"
        if not key:
            return "no host"
        if key not in self._hosts:
            return f"host {key} is not in the registry"
        host = (parts.hostname or "").lower()
        if _is_ip_literal(host) or host == "localhost":
            return None  # the registry itself names this address
        if self._resolves_private(host):
            return f"host {host} resolves to a private address"
        return None

    def _resolves_private(self, host: str) -> bool:
        with self._lock:
            if host in self._resolved:
                return self._resolved[host]
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
            private = any(_is_private(info[4][0]) for info in infos)
        except (OSError, ValueError):
            private = False  # unresolvable: the request itself will fail and say so
        with self._lock:
            self._resolved[host] = private
        return private


# --------------------------------------------------------------------------- politeness


class HostGate:
    """One request at a time per host, ``delay`` seconds from one's end to the next's start."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.next_at = 0.0
        self.requests = 0

    def defer(self, seconds: float) -> None:
        """Push the next request at least ``seconds`` from now (Retry-After, backoff)."""
        self.next_at = max(self.next_at, time.monotonic() + seconds)

    def __enter__(self) -> HostGate:
        self.lock.acquire()
        wait = self.next_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.requests += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self.next_at = max(self.next_at, time.monotonic() + self.delay)
        self.lock.release()


class PoliteRetry(Retry):
    """urllib3's retry policy with backoff from the first retry (urllib3 waits 0 first)."""

    def get_backoff_time(self) -> float:
        n = len(self.history)
        if n == 0:
            return 0.0
        value = self.backoff_factor * (2 ** (n - 1))
        if self.backoff_jitter:
            import random

            value += random.random() * self.backoff_jitter
        return float(max(0.0, min(self.backoff_max, value)))


# --------------------------------------------------------------------------- anti-bot

_JS_REDIRECT = re.compile(
    r"""(?:location\.(?:replace|assign)\s*\(\s*|location(?:\.href)?\s*=\s*)["']([^"']+)["']""",
    re.I,
)
_META_REFRESH = re.compile(
    r"""<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*content\s*=\s*["']?\s*\d*\s*;?\s*url\s*=\s*([^"'>\s]+)""",
    re.I,
)
_IFRAME = re.compile(r"""<i?frame[^>]+src\s*=\s*["']?([^"'>\s]+)""", re.I)
_TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.I | re.S)
_COOKIE_MARKERS = ("yunsuo_", "security_session", "__jsl_clearance", "acw_sc__v2", "wzws")
_BODY_MARKERS = (
    ("$_ts", "瑞数 challenge ($_ts)"),
    ("security_verify_data", "云锁 challenge (security_verify_data)"),
    ("__jsl_clearance", "加速乐 challenge (__jsl_clearance)"),
    ("acw_sc__v2", "Aliyun challenge (acw_sc__v2)"),
    ("wzws_cid", "网站卫士 challenge (wzws)"),
    ("wzwschallenge", "网站卫士 challenge (wzws)"),
    ("WZWS_CONFIRM", "网站卫士 challenge (wzws)"),
)
# What the script of a tiny anti-bot shell does: set a cookie and reload, usually obfuscated.
_SHELL_JS = re.compile(
    r"document\.cookie|location\.reload|\beval\(|fromCharCode|\batob\(|location(?:\.href)?\s*=\s*[^\s\"';]"
    r"|_\$\w+|challenge",
    re.I,
)
SOFT_404_MARKERS = (
    "页面不存在",
    "找不到",
    "页面未找到",
    "404 Not Found",
    "网页不存在",
    "文章不存在",
)


def shell_target(text: str, base: str) -> str | None:
    """The target of a redirect shell (meta refresh, literal location.* assignment), if any."""
    m = _META_REFRESH.search(text) or _JS_REDIRECT.search(text)
    if not m:
        return None
    target = m.group(1).strip()
    if target.lower().startswith(("javascript:", "#")):
        return None
    return urljoin(base, target)


def _set_cookie_names(headers: CaseInsensitiveDict, raw_cookies: Iterable[str]) -> list[str]:
    names = [c.split("=", 1)[0].strip().lower() for c in raw_cookies]
    if not names and headers.get("Set-Cookie"):
        names = [headers["Set-Cookie"].split("=", 1)[0].strip().lower()]
    return names


def detect_challenge(
    status: int,
    body: bytes,
    *,
    url: str = "",
    cookie_names: Iterable[str] = (),
) -> str | None:
    """Why a response is an anti-bot challenge rather than content, or None (portals.md §7.1).

    Detection only: challenges are recorded as ``blocked`` and never solved.  (A redirect to
    itself that sets a cookie is handled by the client: followed once with the cookie, blocked
    if it repeats.)
    """
    head = body[:65536].decode("latin-1")
    cookies = [c.lower() for c in cookie_names]
    if status == 412:
        return "HTTP 412 challenge" + (" (瑞数 $_ts)" if "$_ts" in head else "")
    for marker, reason in _BODY_MARKERS:
        if marker in head and len(body) < 100_000:
            return reason
    if (
        any(m in c for c in cookies for m in _COOKIE_MARKERS)
        and len(body) < 20_000
        and not re.search(r"<a\s[^>]*href", head, re.I)
    ):  # a WAF cookie handed out with a page of links is just a cookie
        return f"challenge cookie ({', '.join(cookies)})"
    if (status == 200 or status >= 500) and len(body) < 2048 and b"<script" in body.lower():
        text = head
        if (
            not re.search(r"<a\s", text, re.I)
            and not shell_target(text, url or "http://x/")
            and not _IFRAME.search(text)
            and len(_TAGS.sub("", text).strip()) < 40
            and _SHELL_JS.search(text)
        ):
            return f"tiny JS shell ({len(body)} bytes)"
    return None


def is_soft_404(status: int, text: str) -> bool:
    """A small 200 page that says the page does not exist (portals.md §7.8)."""
    if status != 200 or len(text) > 4096:
        return False
    visible = _TAGS.sub(" ", text)
    return any(m in visible for m in SOFT_404_MARKERS)


# --------------------------------------------------------------------------- robots


@dataclass(slots=True)
class _Robots:
    parser: Protego | None  # None: allow all
    error: str | None = None  # robots.txt could not be read: fetch nothing from the origin


# --------------------------------------------------------------------------- deadlines

# The attempt the calling thread is running: its connection hands it the socket to watch.
_current = threading.local()


class _Attempt:
    """One attempt's deadline and the sockets it reads from, so that the watchdog can cut them.

    Socket timeouts bound each read, not their sum; only cutting the socket from outside stops a
    server that trickles a byte just before every read timeout.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()

    def watch(self, sock: socket.socket | None) -> None:
        """Take the socket a response is about to be read from; cut it at once if already late."""
        if sock is None:
            return
        with self._lock:
            self._socks.append(sock)
            late = self.expired
        if late:
            _cut(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            socks = list(self._socks)
        for sock in socks:
            _cut(sock)

    @property
    def overran(self) -> bool:
        return self.expired or time.monotonic() >= self.deadline


def _cut(sock: socket.socket) -> None:
    """Make a read blocked on ``sock`` in another thread return now.

    ``shutdown`` wakes a blocked ``recv`` (``close`` does not, reliably); the plain socket
    method is used so that a TLS socket does not drop its SSL object under the reading thread.
    """
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: nothing can be blocked on it


def _watch(sock: socket.socket | None) -> None:
    attempt = getattr(_current, "attempt", None)
    if attempt is not None:
        attempt.watch(sock)


class _Watchdog:
    """One thread per client cutting attempts at their deadlines (not a timer per request).

    It sleeps until the nearest deadline and is woken only by an attempt due sooner, so that
    thousands of quick requests cost it nothing; it ends by itself once it wakes with nothing
    armed (at the latest ``total_timeout`` after the last request, at once on ``wake``).
    """

    def __init__(self) -> None:
        self._armed: set[_Attempt] = set()
        self._cond = threading.Condition()
        self._running = False
        self._wake_at = math.inf

    def arm(self, attempt: _Attempt) -> None:
        with self._cond:
            self._armed.add(attempt)
            if not self._running:
                self._running = True
                threading.Thread(
                    target=self._run, name="nianbao-http-watchdog", daemon=True
                ).start()
            elif attempt.deadline < self._wake_at:
                self._cond.notify()

    def disarm(self, attempt: _Attempt) -> None:
        with self._cond:
            self._armed.discard(attempt)

    def wake(self) -> None:
        """Let the thread look again now (it leaves if nothing is armed): on client close."""
        with self._cond:
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while self._armed:
                now = time.monotonic()
                self._wake_at = min(a.deadline for a in self._armed)
                if self._wake_at > now:
                    self._cond.wait(self._wake_at - now)
                    continue
                for attempt in [a for a in self._armed if a.deadline <= now]:
                    self._armed.discard(attempt)
                    attempt.expire()
            self._running, self._wake_at = False, math.inf


class _WatchedHTTPConnection(HTTPConnection):
    """A connection that hands its socket to the running attempt before reading the response
    (here and not at connect, because kept-alive connections are reused without connecting)."""

    def getresponse(self) -> HTTPResponse:
        _watch(self.sock)
        return super().getresponse()


class _WatchedHTTPSConnection(HTTPSConnection):
    """The TLS twin of :class:`_WatchedHTTPConnection`."""

    def getresponse(self) -> HTTPResponse:
        _watch(self.sock)
        return super().getresponse()


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter whose connections let the watchdog cut them."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


@dataclass(slots=True)
class _Sent:
    """What one attempt got: a response and its body, or the error that ended it."""

    response: requests.Response | None = None
    body: bytes = b""
    error: Exception | None = None
    overrun: str | None = None  # why the attempt was cut at its deadline, if it was


# --------------------------------------------------------------------------- the client


class HttpClient:
    """Thread-safe; share one instance across the crawl so per-host limits hold globally."""

    def __init__(self, allow: AllowList | None, config: HttpConfig | None = None) -> None:
        self.allow = allow
        self.config = config or HttpConfig()
        self._lock = threading.Lock()
        self._gates: dict[str, HostGate] = {}
        self._sessions: dict[str, requests.Session] = {}
        self._robots: dict[str, _Robots] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._watchdog = _Watchdog()

    # -- plumbing -------------------------------------------------------------------------

    def gate(self, url: str) -> HostGate:
        key = host_key(url)
        with self._lock:
            gate = self._gates.get(key)
            if gate is None:
                gate = self._gates[key] = HostGate(self.config.delay)
            return gate

    def request_counts(self) -> dict[str, int]:
        """Requests sent per host so far (attempts, robots.txt and redirects included)."""
        with self._lock:
            return {k: g.requests for k, g in self._gates.items()}

    def _session(self, url: str) -> requests.Session:
        key = host_key(url)
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = requests.Session()
                session.trust_env = False  # no proxies or netrc from the environment
                adapter = _WatchedAdapter(max_retries=0, pool_connections=1, pool_maxsize=2)
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                session.headers.update(
                    {
                        "User-Agent": self.config.user_agent,
                        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                        "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
                    }
                )
                self._sessions[key] = session
            return session

    def close(self) -> None:
        with self._lock:
            for s in self._sessions.values():
                s.close()
            self._sessions.clear()
        self._watchdog.wake()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _policy(self) -> PoliteRetry:
        c = self.config
        return PoliteRetry(
            total=c.retries,
            connect=None,
            read=None,
            status=None,
            other=None,
            redirect=None,
            allowed_methods=None,  # listing POSTs (Hanweb dataproxy) are safe to repeat
            status_forcelist=RETRY_STATUSES,
            backoff_factor=c.backoff_factor,
            backoff_jitter=c.backoff_jitter,
            backoff_max=c.backoff_max,
            respect_retry_after_header=True,
            raise_on_status=False,
        )

    # -- robots ---------------------------------------------------------------------------

    def robots_allows(self, url: str) -> str | None:
        """None when robots.txt allows ``url``, else why not."""
        if not self.config.robots:
            return None
        key = origin(url)
        with self._lock:
            lock = self._robots_locks.setdefault(key, threading.Lock())
        with lock:
            robots = self._robots.get(key)
            if robots is None:
                robots = self._robots[key] = self._load_robots(key + "/robots.txt")
        if robots.error:
            return robots.error
        if robots.parser is not None and not robots.parser.can_fetch(url, self.config.user_agent):
            return "disallowed by robots.txt"
        return None

    def _load_robots(self, robots_url: str) -> _Robots:
        res = self._fetch(robots_url, "GET", check_robots=False, max_bytes=512 * 1024)
        if res.outcome == OK:
            parser = Protego.parse(res.text)
            delay = parser.crawl_delay(self.config.user_agent)
            if delay:
                gate = self.gate(robots_url)
                gate.delay = max(gate.delay, min(float(delay), self.config.max_crawl_delay))
            return _Robots(parser)
        if res.status is not None and 400 <= res.status < 500:
            return _Robots(None)  # RFC 9309: no robots.txt means everything is allowed
        if res.outcome == REFUSED:
            return _Robots(None)  # robots.txt redirected off-registry: treat as absent
        return _Robots(None, f"robots.txt unavailable ({res.error or res.status})")

    # -- fetch ----------------------------------------------------------------------------

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
        return self._fetch(
            url, method.upper(), data=data, json=json, headers=hdrs, max_bytes=max_bytes
        )

    def _fetch(
        self,
        url: str,
        method: str,
        *,
        data: dict[str, str] | str | None = None,
        json: object | None = None,
        headers: dict[str, str] | None = None,
        check_robots: bool = True,
        max_bytes: int | None = None,
    ) -> FetchResult:
        started = time.monotonic()
        result = FetchResult(url=url, method=method, final_url=url)
        current, seen = url, {url.split("#")[0]}
        cookie_bounce = False
        deadline: float | None = None  # the fetch budget, from the first request on
        for _hop in range(self.config.max_redirects + 1):
            if deadline is not None and time.monotonic() >= deadline:
                return self._done(result, FAILED, self._budget_spent(), started)
            reason = self.allow.check(current) if self.allow is not None else None
            if reason:
                return self._done(result, REFUSED, reason, started)
            if check_robots:
                reason = self.robots_allows(current)
                if reason:
                    outcome = DISALLOWED if reason.startswith("disallowed") else FAILED
                    return self._done(result, outcome, reason, started)
            if deadline is None:
                deadline = time.monotonic() + self.config.fetch_timeout
            hop = self._attempts(current, method, data, json, headers, max_bytes, result, deadline)
            if hop is None:  # result already completed (error or final response)
                result.final_url = current
                result.elapsed = time.monotonic() - started
                return result
            # a redirect
            target = urljoin(current, hop)
            key = target.split("#")[0]
            if key == current.split("#")[0] and result._cookies:
                # openresty-style cookie setter (portals.md §7.1): an ordinary cookie, no JS.
                # Follow once with the cookie jar; a second bounce means the cookie is refused.
                if cookie_bounce:
                    reason = f"302-to-self cookie setter ({', '.join(result._cookies)})"
                    return self._done(result, BLOCKED, reason, started)
                cookie_bounce = True
                result.redirects.append(target)
                continue
            if key in seen:
                return self._done(result, FAILED, f"redirect loop at {target}", started)
            seen.add(key)
            result.redirects.append(target)
            current = target
            if method == "POST" and result.status in (301, 302, 303):
                method, data, json = "GET", None, None
        return self._done(
            result, FAILED, f"more than {self.config.max_redirects} redirects", started
        )

    @staticmethod
    def _done(result: FetchResult, outcome: str, error: str | None, started: float) -> FetchResult:
        result.outcome, result.error = outcome, error
        if outcome in (REFUSED, DISALLOWED, FAILED):
            result.body = b""
        result.elapsed = time.monotonic() - started
        return result

    def _attempts(
        self,
        url: str,
        method: str,
        data: dict[str, str] | str | None,
        json: object | None,
        headers: dict[str, str] | None,
        max_bytes: int | None,
        result: FetchResult,
        deadline: float,
    ) -> str | None:
        """Try one URL with retries until ``deadline``; fill ``result``; return a redirect
        target or None."""
        policy = self._policy()
        gate = self.gate(url)
        session = self._session(url)
        limit = max_bytes or self.config.max_bytes
        target_url = url
        while True:
            result.attempts += 1
            with gate:
                sent = self._send(session, method, target_url, data, json, headers, limit, deadline)
            response, body, error = sent.response, sent.body, sent.error
            if sent.overrun:  # never retried: a trickling server would only trickle again
                result.status = response.status_code if response is not None else None
                result.outcome, result.error, result.body = FAILED, sent.overrun, b""
                return None
            if isinstance(error, _TooLarge):
                result.status = response.status_code if response is not None else None
                result.outcome, result.error = FAILED, str(error)
                result.headers = response.headers if response is not None else result.headers
                return None
            if isinstance(error, requests.exceptions.SSLError):
                fallback = self._tls_fallback(target_url)
                if fallback:
                    target_url = fallback  # retried below as plain http
                    result.error = f"TLS error, fell back to http: {_short(error)}"
                    continue
            if error is not None:
                try:
                    policy = policy.increment(method, target_url, error=error)
                except Exception:  # MaxRetryError, or the error re-raised as not retryable
                    result.status, result.outcome = None, FAILED
                    result.error = _short(error)
                    return None
                wait = max(policy.get_backoff_time(), 0.0)
                if not self._retry_fits(gate, wait, deadline):
                    result.status, result.outcome = None, FAILED
                    result.error = f"{_short(error)}, {self._no_retry_left()}"
                    return None
                gate.defer(wait)
                continue
            assert response is not None
            status = response.status_code
            result.status, result.headers, result.body = status, response.headers, body
            if target_url != url:
                result.final_url = target_url
            cookies = _set_cookie_names(response.headers, _raw_set_cookies(response))
            result._cookies = cookies
            challenge = detect_challenge(status, body, url=target_url, cookie_names=cookies)
            if challenge:  # before any retry: a 521/503 challenge page is not "busy"
                result.outcome, result.error = BLOCKED, challenge
                return None
            if status in RETRY_STATUSES:
                wait = _retry_after(response)
                if wait is not None and wait > self.config.max_retry_after:
                    result.outcome, result.body = FAILED, b""
                    result.error = f"HTTP {status}, Retry-After {wait:.0f}s too long"
                    return None
                try:
                    policy = policy.increment(method, target_url, response=response.raw)
                except MaxRetryError:
                    result.outcome, result.body = FAILED, b""
                    result.error = f"HTTP {status} after {result.attempts} attempts"
                    return None
                wait = wait if wait is not None else policy.get_backoff_time()
                if not self._retry_fits(gate, wait, deadline):
                    result.outcome, result.body = FAILED, b""
                    result.error = f"HTTP {status}, {self._no_retry_left()}"
                    return None
                gate.defer(wait)
                continue
            location = response.headers.get("Location")
            if 300 <= status < 400 and status != 304 and location:
                return location
            if status == 304:
                result.outcome, result.body = NOT_MODIFIED, b""
            elif status in (404, 410):
                result.outcome, result.error = NOT_FOUND, f"HTTP {status}"
            elif 200 <= status < 300:
                if len(body) <= 8192 and result.is_html and is_soft_404(status, result.text):
                    result.outcome, result.error = NOT_FOUND, "soft 404"
                else:
                    result.outcome, result.error = OK, None
            else:
                result.outcome, result.error, result.body = FAILED, f"HTTP {status}", b""
            return None

    def _send(
        self,
        session: requests.Session,
        method: str,
        url: str,
        data: dict[str, str] | str | None,
        json: object | None,
        headers: dict[str, str] | None,
        limit: int,
        fetch_deadline: float,
    ) -> _Sent:
        """One attempt (inside the host gate), cut by the watchdog at the earlier of
        ``total_timeout`` from now and the fetch budget; never raises for network trouble."""
        now = time.monotonic()
        deadline = min(now + self.config.total_timeout, fetch_deadline)
        sent = _Sent()
        if deadline <= now:  # the wait for the host used up the budget
            sent.overrun = self._budget_spent()
            return sent
        with self._deadline(deadline) as attempt:
            try:
                sent.response = session.request(
                    method,
                    url,
                    data=data,
                    json=json,
                    headers=headers,
                    allow_redirects=False,
                    stream=True,
                    timeout=self._timeouts(deadline - now),
                    verify=self.config.verify_tls,
                )
                sent.body = self._read_body(sent.response, limit)
            except _TooLarge as e:
                _close(sent.response)
                sent.error = e
                return sent  # a size verdict stands even if the deadline passed meanwhile
            except (requests.exceptions.RequestException, OSError) as e:
                _close(sent.response)
                sent.error = e
        if attempt.overran:  # also when the cut looked like a clean end of the body
            budget = deadline == fetch_deadline
            sent.overrun = self._budget_spent() if budget else self._total_exceeded()
        return sent

    def _timeouts(self, remaining: float) -> tuple[float, float]:
        """(connect, read) socket timeouts; neither may outlast the attempt's deadline."""
        c = self.config
        return min(c.connect_timeout, remaining), min(c.read_timeout, remaining)

    @contextmanager
    def _deadline(self, deadline: float) -> Iterator[_Attempt]:
        """Arm the watchdog for one attempt run by the calling thread."""
        attempt = _Attempt(deadline)
        previous = getattr(_current, "attempt", None)
        _current.attempt = attempt
        self._watchdog.arm(attempt)
        try:
            yield attempt
        finally:
            self._watchdog.disarm(attempt)
            _current.attempt = previous

    def _retry_fits(self, gate: HostGate, wait: float, deadline: float) -> bool:
        """Would a retry after ``wait`` (and the host delay) still start within the budget?"""
        return max(gate.next_at, time.monotonic() + wait) < deadline

    def _tls_fallback(self, url: str) -> str | None:
        """The plain-http twin of an https URL whose certificate failed, when allowed."""
        if not (self.config.tls_fallback_to_http and url.startswith("https://")):
            return None
        fallback = "http://" + url[len("https://") :]
        if self.allow is not None and self.allow.check(fallback):
            return None
        return fallback

    def _total_exceeded(self) -> str:
        return f"timeout (no complete response within {self.config.total_timeout:g}s)"

    def _budget_spent(self) -> str:
        return f"timeout (fetch budget of {self.config.fetch_timeout:g}s spent)"

    def _no_retry_left(self) -> str:
        return f"no retry within the {self.config.fetch_timeout:g}s fetch budget"

    def _read_body(self, response: requests.Response, limit: int) -> bytes:
        """The whole body, within ``limit`` bytes; the watchdog bounds its time."""
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > limit:
            raise _TooLarge(f"body too large: {length} > {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(65536):
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise _TooLarge(f"body too large: > {limit} bytes")
        finally:
            response.close()
        return b"".join(chunks)


class _TooLarge(Exception):
    pass


def _close(response: requests.Response | None) -> None:
    if response is not None:
        response.close()


def _raw_set_cookies(response: requests.Response) -> list[str]:
    raw = getattr(response.raw, "headers", None)
    if raw is not None and hasattr(raw, "getlist"):
        return list(raw.getlist("Set-Cookie"))
    return []


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return Retry().parse_retry_after(value)
    except Exception:
        return None


def _short(error: BaseException) -> str:
    """A one-line error text without urllib3's nested reprs."""
    name = type(error).__name__
    text = str(error)
    m = re.search(r"\((?:Caused by )?([A-Za-z]+Error)\(", text)
    inner = m.group(1) if m else ""
    if "timed out" in text.lower() or "timeout" in name.lower():
        return f"timeout ({name})"
    if "IncompleteRead" in text or "ChunkedEncoding" in name or "Connection broken" in text:
        return "truncated body (connection broken)"
    if "reset" in text.lower():
        return "connection reset"
    if "refused" in text.lower():
        return "connection refused"
    return f"{name}{': ' + inner if inner else ''}"
