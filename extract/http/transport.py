"""The innermost handler: send one attempt with requests and read its body within limits.

Redirects, retries and adapters' own retries are all off here (``allow_redirects=False``,
``max_retries=0``): the stages decide those, so that every hop and retry passes the allow-list,
robots.txt and the host gate.  It never raises for network trouble; the reply says what went
wrong, and an attempt cut at its deadline or over ``max_bytes`` comes back already judged.
"""

from __future__ import annotations

import re
import threading
import time

import requests

from .allowlist import host_key
from .budget import budget_spent
from .chain import Reply, Request
from .config import FAILED, HttpConfig
from .watchdog import Watchdog, WatchedAdapter

ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPT_LANGUAGE = "zh-CN,zh;q=0.9,en;q=0.5"


class TooLarge(Exception):
    """The body is over the byte limit: a verdict, not trouble worth a retry."""


class Transport:
    """Sends requests through one ``requests.Session`` per host (keep-alive, cookie jar)."""

    def __init__(self, config: HttpConfig) -> None:
        self.config = config
        self.watchdog = Watchdog()
        self._sessions: dict[str, requests.Session] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        """One attempt, cut by the watchdog at the earlier of ``total_timeout`` from now and
        the fetch budget."""
        now = time.monotonic()
        budget = request.exchange.deadline
        deadline = now + self.config.total_timeout
        if budget is not None:
            deadline = min(deadline, budget)
        if deadline <= now:  # the wait for the host used up the budget
            return Reply.stopped(request.url, FAILED, budget_spent(self.config))
        with self.watchdog.guard(deadline) as attempt:
            reply = self._send(request, deadline - now)
        if isinstance(reply.error, TooLarge):  # a size verdict stands even after the deadline
            return reply.judge(FAILED, str(reply.error))
        if attempt.overran:  # also when the cut looked like a clean end of the body
            why = budget_spent(self.config) if deadline == budget else self._total_exceeded()
            reply.body, reply.error = b"", None  # not retried: it would only trickle again
            return reply.judge(FAILED, why)
        return reply

    def _send(self, request: Request, remaining: float) -> Reply:
        reply = Reply(request.url)
        response: requests.Response | None = None
        try:
            response = self.session(request.url).request(
                request.method,
                request.url,
                data=request.data,
                json=request.json,
                headers=request.headers,
                allow_redirects=False,
                stream=True,
                timeout=self._timeouts(remaining),
                verify=self.config.verify_tls,
            )
            reply.status, reply.headers = response.status_code, response.headers
            reply.raw = response.raw
            reply.cookies = set_cookie_names(response)
            reply.body = read_body(response, request.max_bytes or self.config.max_bytes)
        except TooLarge as e:
            reply.error = e
        except (requests.exceptions.RequestException, OSError) as e:
            reply.error = e
        finally:
            if response is not None:
                response.close()
        return reply

    def _timeouts(self, remaining: float) -> tuple[float, float]:
        """(connect, read) socket timeouts; neither may outlast the attempt's deadline."""
        c = self.config
        return min(c.connect_timeout, remaining), min(c.read_timeout, remaining)

    def _total_exceeded(self) -> str:
        return f"timeout (no complete response within {self.config.total_timeout:g}s)"

    def session(self, url: str) -> requests.Session:
        """The host's session, created on first use without the environment's proxies."""
        key = host_key(url)
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = self._sessions[key] = self._new_session()
            return session

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # no proxies or netrc from the environment
        adapter = WatchedAdapter(max_retries=0, pool_connections=1, pool_maxsize=2)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers.update(
            {
                "User-Agent": self.config.user_agent,
                "Accept": ACCEPT,
                "Accept-Language": ACCEPT_LANGUAGE,
            }
        )
        return session

    def close(self) -> None:
        """Close every session and let the watchdog thread end."""
        with self._lock:
            for s in self._sessions.values():
                s.close()
            self._sessions.clear()
        self.watchdog.wake()


def read_body(response: requests.Response, limit: int) -> bytes:
    """The whole body, within ``limit`` bytes; the watchdog bounds its time."""
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > limit:
        raise TooLarge(f"body too large: {length} > {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(65536):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"body too large: > {limit} bytes")
    return b"".join(chunks)


def set_cookie_names(response: requests.Response) -> list[str]:
    """The lower-cased names of every Set-Cookie header (requests folds them into one)."""
    raw = getattr(response.raw, "headers", None)
    cookies = list(raw.getlist("Set-Cookie")) if raw is not None and hasattr(raw, "getlist") else []
    names = [c.split("=", 1)[0].strip().lower() for c in cookies]
    if not names and response.headers.get("Set-Cookie"):
        names = [response.headers["Set-Cookie"].split("=", 1)[0].strip().lower()]
    return names


def short_error(error: BaseException) -> str:
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
