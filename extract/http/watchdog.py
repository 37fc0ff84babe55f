"""The attempt deadline (``HttpConfig.total_timeout``): a watchdog that cuts trickling sockets.

Socket timeouts bound each read, not their sum: a server that sends a byte just before every
read timeout would hold a host's gate for ever.  So the transport arms an :class:`Attempt` with
its deadline, the connection hands over its socket before reading the response, and one
watchdog thread per client shuts that socket down when the deadline passes.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.response import HTTPResponse

# The attempt the calling thread is running: its connection hands it the socket to watch.
_current = threading.local()


class Attempt:
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


class Watchdog:
    """One thread per client cutting attempts at their deadlines (not a timer per request).

    It sleeps until the nearest deadline and is woken only by an attempt due sooner, so that
    thousands of quick requests cost it nothing; it ends by itself once it wakes with nothing
    armed (at the latest ``total_timeout`` after the last request, at once on ``wake``).
    """

    def __init__(self) -> None:
        self._armed: set[Attempt] = set()
        self._cond = threading.Condition()
        self._running = False
        self._wake_at = math.inf

    def arm(self, attempt: Attempt) -> None:
        with self._cond:
            self._armed.add(attempt)
            if not self._running:
                self._running = True
                threading.Thread(
                    target=self._run, name="nianbao-http-watchdog", daemon=True
                ).start()
            elif attempt.deadline < self._wake_at:
                self._cond.notify()

    def disarm(self, attempt: Attempt) -> None:
        with self._cond:
            self._armed.discard(attempt)

    @contextmanager
    def guard(self, deadline: float) -> Iterator[Attempt]:
        """Arm the watchdog for one attempt run by the calling thread."""
        attempt = Attempt(deadline)
        previous = getattr(_current, "attempt", None)
        _current.attempt = attempt
        self.arm(attempt)
        try:
            yield attempt
        finally:
            self.disarm(attempt)
            _current.attempt = previous

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


class WatchedAdapter(HTTPAdapter):
    """requests' adapter whose connections let the watchdog cut them."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }
