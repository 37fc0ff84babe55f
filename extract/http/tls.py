"""Stage 8, the TLS downgrade: retry over plain http when an https certificate is broken.

Expired, self-signed and wrong-host certificates are common on .gov.cn (portals.md §7.5)
while the same page is served over http; the reports are public, so a broken certificate
costs nothing but the encryption.  Only when ``HttpConfig.tls_fallback_to_http`` is on and the
http URL is on the allow-list; the request keeps the http URL for its later retries.
"""

from __future__ import annotations

import requests

from .allowlist import AllowList
from .chain import Handler, Reply, Request
from .config import HttpConfig


class TlsDowngradeStage:
    """On a TLS error, asks the next stage once more with the plain-http twin of the URL."""

    def __init__(self, config: HttpConfig, allow: AllowList | None) -> None:
        self.enabled = config.tls_fallback_to_http
        self.allow = allow

    def __call__(self, request: Request, next_stage: Handler) -> Reply:
        reply = next_stage(request)
        if reply.outcome is not None or not isinstance(reply.error, requests.exceptions.SSLError):
            return reply
        fallback = self.fallback(request.url)
        if fallback is None:
            return reply
        request.url = fallback
        return next_stage(request)

    def fallback(self, url: str) -> str | None:
        """The plain-http twin of an https URL, when allowed."""
        if not (self.enabled and url.startswith("https://")):
            return None
        fallback = "http://" + url[len("https://") :]
        if self.allow is not None and self.allow.check(fallback):
            return None
        return fallback
