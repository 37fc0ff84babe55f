"""Stage 3, the allow-list: only hosts the registry names are fetched.

Mirrors, spam domains a hacked portal links to, and internal addresses behind a registered
name are refused before anything is sent; the redirect stage sends every hop through here
again, so a redirect cannot lead the crawler off the registry either.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from .chain import Handler, Reply, Request
from .config import REFUSED


def host_key(url: str) -> str:
    """The politeness unit: host name plus explicit non-default port (http/https share it)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is None or port in (80, 443):
        return host
    return f"{host}:{port}"


def origin(url: str) -> str:
    """scheme://host[:port], the unit robots.txt applies to."""
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


class AllowListStage:
    """Refuses (outcome ``refused``) a URL the allow-list does not admit; ``None``: admit all."""

    def __init__(self, allow: AllowList | None) -> None:
        self.allow = allow

    def __call__(self, request: Request, next_stage: Handler) -> Reply:
        reason = self.allow.check(request.url) if self.allow is not None else None
        if reason:
            return Reply.stopped(request.url, REFUSED, reason)
        return next_stage(request)
