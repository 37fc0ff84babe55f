"""Stage 1, redirects and cookies: follow Location hops through the whole chain again.

requests' own redirect handling is off so that every hop passes the allow-list (a portal must
not redirect the crawler to a mirror or spam site), robots.txt, the budget and the host gate.
At most ``HttpConfig.max_redirects`` hops, no loops; a POST answered with 301/302/303 goes on
as a GET.  Cookies live in the per-host session's jar, so an openresty-style 302-to-self that
sets an ordinary cookie (portals.md §7.1, no JavaScript) is followed once with it; a second
bounce means the cookie is refused, and the page is judged ``blocked``.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urljoin

from .chain import Handler, Reply, Request
from .config import BLOCKED, FAILED, HttpConfig


def _key(url: str) -> str:
    return url.split("#")[0]


class RedirectStage:
    """Asks the next stage once per hop until a reply is judged or the hops run out."""

    def __init__(self, config: HttpConfig) -> None:
        self.max_redirects = config.max_redirects

    def __call__(self, request: Request, next_stage: Handler) -> Reply:
        seen, bounced = {_key(request.url)}, False
        previous: Reply | None = None
        for _hop in range(self.max_redirects + 1):
            reply = _after(next_stage(request), previous)
            if reply.outcome is not None or not reply.location:
                return reply
            target = urljoin(reply.url, reply.location)
            if _key(target) == _key(reply.url) and reply.cookies:
                if bounced:
                    why = f"302-to-self cookie setter ({', '.join(reply.cookies)})"
                    return reply.judge(BLOCKED, why)
                bounced = True
            elif _key(target) in seen:
                return reply.judge(FAILED, f"redirect loop at {target}")
            else:
                seen.add(_key(target))
                request = _next_hop(request, reply.status, target)
            request.exchange.redirects.append(target)
            previous = reply
        return reply.judge(FAILED, f"more than {self.max_redirects} redirects")


def _next_hop(request: Request, status: int | None, target: str) -> Request:
    """The request for ``target``: a POST answered 301/302/303 becomes a GET without a body."""
    if request.method == "POST" and status in (301, 302, 303):
        return replace(request, url=target, method="GET", data=None, json=None)
    return replace(request, url=target)


def _after(reply: Reply, previous: Reply | None) -> Reply:
    """A hop stopped before sending reports the last response actually received."""
    if previous is not None and not reply.sent:
        reply.url, reply.status, reply.headers = previous.url, previous.status, previous.headers
    return reply
