"""Each stage of the HTTP client alone: a real stage, a fake next stage, real values asserted.

The whole chain against local servers is tests/test_http.py; here nothing touches the network,
so each concern (redirects, budget, allow-list, robots.txt, outcome, retry, challenge, TLS
downgrade, politeness) shows its own rules and defaults.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests
from nianbao.extract.http import (
    BLOCKED,
    DISALLOWED,
    FAILED,
    NOT_FOUND,
    NOT_MODIFIED,
    OK,
    REFUSED,
    AllowList,
    FetchResult,
    HttpConfig,
)
from nianbao.extract.http.allowlist import AllowListStage
from nianbao.extract.http.budget import BudgetStage
from nianbao.extract.http.chain import Exchange, Reply, Request, compose
from nianbao.extract.http.challenge import ChallengeStage
from nianbao.extract.http.outcome import OutcomeStage
from nianbao.extract.http.politeness import HostGates, PolitenessStage
from nianbao.extract.http.redirects import RedirectStage
from nianbao.extract.http.retry import RetryStage
from nianbao.extract.http.robots import RobotsStage
from nianbao.extract.http.tls import TlsDowngradeStage
from nianbao.extract.http.transport import TooLarge, read_body, short_error
from requests.structures import CaseInsensitiveDict

BASE = "http://www.example.gov.cn"


class Fake:
    """A next stage that answers from a script (one reply or a function per call) and keeps
    the requests it saw, with their URL and method at the time."""

    def __init__(self, *script: Reply | Callable[[Request], Reply]) -> None:
        self.script = list(script)
        self.seen: list[tuple[str, str]] = []

    def __call__(self, request: Request) -> Reply:
        self.seen.append((request.method, request.url))
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return step(request) if callable(step) else step

    @property
    def urls(self) -> list[str]:
        return [url for _, url in self.seen]


def response(
    url: str, status: int = 200, body: bytes = b"<p>ok</p>", **headers: str
) -> Callable[[Request], Reply]:
    """A fresh reply per call (stages judge replies in place)."""
    hdrs = CaseInsensitiveDict({k.replace("_", "-"): v for k, v in headers.items()})
    return lambda request: Reply(url=url, status=status, headers=hdrs, body=body)


def config(**overrides: object) -> HttpConfig:
    return HttpConfig(**{"delay": 0.0, "backoff_factor": 0.0, "backoff_jitter": 0.0, **overrides})  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the chain


def test_compose_runs_stages_outermost_first() -> None:
    order: list[str] = []

    def stage(name: str):
        def handle(request: Request, next_stage):
            order.append(name)
            return next_stage(request)

        return handle

    chain = compose([stage("a"), stage("b")], lambda r: Reply(r.url, status=204))
    assert chain(Request(BASE)).status == 204
    assert order == ["a", "b"]


def test_budget_starts_once() -> None:
    exchange = Exchange()
    assert exchange.start_budget(100.0, 300.0) == 400.0
    assert exchange.start_budget(200.0, 300.0) == 400.0  # later hops keep the first end


# --------------------------------------------------------------------------- 1 redirects


def test_redirects_follow_hops_and_record_them() -> None:
    fake = Fake(
        response(BASE + "/a", 301, b"", Location="/b"),
        response(BASE + "/b", 302, b"", Location=BASE + "/c#top"),
        response(BASE + "/c"),
    )
    request = Request(BASE + "/a")
    reply = RedirectStage(config())(request, fake)
    assert (reply.status, reply.url) == (200, BASE + "/c")
    assert fake.urls == [BASE + "/a", BASE + "/b", BASE + "/c#top"]
    assert request.exchange.redirects == [BASE + "/b", BASE + "/c#top"]


def test_redirected_post_becomes_get_without_body() -> None:
    fake = Fake(response(BASE + "/form", 303, b"", Location="/done"), response(BASE + "/done"))
    request = Request(BASE + "/form", method="POST", data={"q": "年报"})
    RedirectStage(config())(request, fake)
    assert fake.seen == [("POST", BASE + "/form"), ("GET", BASE + "/done")]


def test_redirect_loop_and_hop_limit_fail() -> None:
    loop = Fake(
        response(BASE + "/a", 302, b"", Location="/b"),
        response(BASE + "/b", 302, b"", Location="/a"),
    )
    reply = RedirectStage(config())(Request(BASE + "/a"), loop)
    assert (reply.outcome, reply.reason) == (FAILED, f"redirect loop at {BASE}/a")

    def onward(request: Request) -> Reply:
        n = int(request.url.rsplit("/n", 1)[1])
        return response(request.url, 302, b"", Location=f"/n{n + 1}")(request)

    reply = RedirectStage(config(max_redirects=2))(Request(BASE + "/n0"), Fake(onward))
    assert (reply.outcome, reply.reason) == (FAILED, "more than 2 redirects")
    assert reply.url == BASE + "/n2"


def test_cookie_setting_self_redirect_is_followed_once_then_blocked() -> None:
    def bounce(request: Request) -> Reply:
        reply = response(BASE + "/p", 302, b"", Location="/p")(request)
        reply.cookies = ["waf_id"]
        return reply

    once = Fake(bounce, response(BASE + "/p"))
    request = Request(BASE + "/p")
    assert RedirectStage(config())(request, once).outcome is None  # the page, for the next stage
    assert once.urls == [BASE + "/p", BASE + "/p"] and request.exchange.redirects == [BASE + "/p"]

    reply = RedirectStage(config())(Request(BASE + "/p"), Fake(bounce))
    assert (reply.outcome, reply.reason) == (BLOCKED, "302-to-self cookie setter (waf_id)")


def test_a_hop_stopped_before_sending_reports_the_last_response() -> None:
    fake = Fake(
        response(BASE + "/go", 302, b"", Location="http://spam.example.com/x"),
        Reply.stopped(
            "http://spam.example.com/x", REFUSED, "host spam.example.com is not in the registry"
        ),
    )
    request = Request(BASE + "/go")
    reply = RedirectStage(config())(request, fake)
    assert (reply.outcome, reply.status, reply.url) == (REFUSED, 302, BASE + "/go")
    assert request.exchange.redirects == ["http://spam.example.com/x"]


# --------------------------------------------------------------------------- 2 budget


def test_budget_stops_a_hop_after_it_is_spent() -> None:
    fake = Fake(response(BASE + "/"))
    request = Request(BASE + "/")
    assert BudgetStage(config())(request, fake).status == 200  # not started: passes
    request.exchange.deadline = time.monotonic() - 0.01
    reply = BudgetStage(config(fetch_timeout=5))(request, fake)
    assert (reply.outcome, reply.reason) == (FAILED, "timeout (fetch budget of 5s spent)")
    assert len(fake.seen) == 1 and not reply.sent


# --------------------------------------------------------------------------- 3 allow-list


def test_allow_list_refuses_unregistered_hosts_without_asking_on() -> None:
    fake = Fake(response(BASE + "/"))
    stage = AllowListStage(AllowList([BASE + "/col/"]))
    assert stage(Request("https://www.example.gov.cn/x"), fake).status == 200
    reply = stage(Request("http://mirror.example.com/x"), fake)
    assert (reply.outcome, reply.reason) == (
        REFUSED,
        "host mirror.example.com is not in the registry",
    )
    reply = stage(Request("ftp://www.example.gov.cn/x"), fake)
    assert (reply.outcome, reply.reason) == (REFUSED, "scheme ftp not fetched")
    assert fake.urls == ["https://www.example.gov.cn/x"]
    assert AllowListStage(None)(Request("http://any.where/"), fake).status == 200


# --------------------------------------------------------------------------- 4 robots.txt


def robots_fetch(outcome: str, status: int, text: str = "") -> Callable[[Request], FetchResult]:
    calls: list[str] = []

    def fetch(request: Request) -> FetchResult:
        calls.append(request.url)
        headers = CaseInsensitiveDict({"Content-Type": "text/plain; charset=utf-8"})
        return FetchResult(
            request.url, status=status, outcome=outcome, body=text.encode(), headers=headers
        )

    fetch.calls = calls  # type: ignore[attr-defined]
    return fetch


def test_robots_disallows_once_per_origin_and_raises_the_delay() -> None:
    fetch = robots_fetch(OK, 200, "User-agent: *\nDisallow: /module/\nCrawl-delay: 90\n")
    gates = HostGates(1.0)
    stage = RobotsStage(config(max_crawl_delay=30.0), gates, fetch)
    fake = Fake(response(BASE + "/col/"))
    assert stage(Request(BASE + "/col/"), fake).status == 200
    reply = stage(Request(BASE + "/module/jpage.jsp"), fake)
    assert (reply.outcome, reply.reason) == (DISALLOWED, "disallowed by robots.txt")
    assert fetch.calls == [BASE + "/robots.txt"]  # type: ignore[attr-defined]
    assert gates.get(BASE + "/").delay == 30.0  # Crawl-delay 90 capped at max_crawl_delay


@pytest.mark.parametrize(
    ("outcome", "status", "expected"),
    [
        (NOT_FOUND, 404, None),  # RFC 9309: no robots.txt, everything allowed
        (REFUSED, 302, None),  # redirected off the registry: treated as absent
        (FAILED, 503, "robots.txt unavailable (HTTP 503)"),
    ],
)
def test_robots_missing_or_unreadable(outcome: str, status: int, expected: str | None) -> None:
    fetch = robots_fetch(outcome, status)
    if outcome == FAILED:
        fetch = _with_error(fetch, f"HTTP {status}")
    stage = RobotsStage(config(), HostGates(1.0), fetch)
    assert stage.allows(BASE + "/p") == expected


def _with_error(fetch: Callable[[Request], FetchResult], error: str):
    def with_error(request: Request) -> FetchResult:
        res = fetch(request)
        res.error = error
        return res

    return with_error


def test_robots_off_fetches_no_robots_txt() -> None:
    fetch = robots_fetch(OK, 200, "User-agent: *\nDisallow: /\n")
    stage = RobotsStage(config(robots=False), HostGates(1.0), fetch)
    assert stage(Request(BASE + "/p"), Fake(response(BASE + "/p"))).status == 200
    assert fetch.calls == []  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- 5 outcome


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (200, b"<p>report</p>", {}, (OK, None)),
        (304, b"", {}, (NOT_MODIFIED, None)),
        (410, b"gone", {}, (NOT_FOUND, "HTTP 410")),
        (403, b"no", {}, (FAILED, "HTTP 403")),
        (302, b"", {}, (FAILED, "HTTP 302")),  # a redirect without a Location
        (200, "<html><body>对不起，页面不存在</body></html>".encode(), {}, (NOT_FOUND, "soft 404")),
        (200, "<p>页面不存在</p>".encode() + b" " * 9000, {}, (OK, None)),  # too big to be one
        (200, "页面不存在".encode(), {"Content-Type": "application/pdf"}, (OK, None)),
    ],
)
def test_outcome_of_a_final_response(status, body, headers, expected) -> None:
    fake = Fake(
        lambda r: Reply(r.url, status=status, body=body, headers=CaseInsensitiveDict(headers))
    )
    reply = OutcomeStage()(Request(BASE + "/r"), fake)
    assert (reply.outcome, reply.reason) == expected


def test_outcome_leaves_redirects_and_judged_replies_alone() -> None:
    redirect = OutcomeStage()(
        Request(BASE + "/a"), Fake(response(BASE + "/a", 302, b"", Location="/b"))
    )
    assert redirect.outcome is None and redirect.location == "/b"
    judged = Fake(lambda r: Reply(r.url, status=404).judge(BLOCKED, "challenge"))
    assert OutcomeStage()(Request(BASE + "/a"), judged).reason == "challenge"


# --------------------------------------------------------------------------- 6 retry


def counted(*script: Reply | Callable[[Request], Reply]) -> Fake:
    """A fake next stage that counts attempts as the politeness stage would."""

    def attempt(step):
        def run(request: Request) -> Reply:
            request.exchange.attempts += 1
            return step(request) if callable(step) else step

        return run

    return Fake(*[attempt(s) for s in script])


def test_retry_5xx_until_success() -> None:
    fake = counted(response(BASE, 503), response(BASE, 502), response(BASE, 200))
    reply = RetryStage(config(), HostGates(0.0))(Request(BASE), fake)
    assert (reply.status, reply.outcome, len(fake.seen)) == (200, None, 3)


def test_retry_gives_up_after_the_configured_retries() -> None:
    fake = counted(response(BASE, 500))
    reply = RetryStage(config(retries=1), HostGates(0.0))(Request(BASE), fake)
    assert (reply.outcome, reply.reason) == (FAILED, "HTTP 500 after 2 attempts")


def test_retry_waits_retry_after_at_the_host_gate() -> None:
    gates = HostGates(0.0)
    fake = counted(response(BASE, 429, Retry_After="2"), response(BASE, 200))
    before = time.monotonic()
    reply = RetryStage(config(), gates)(Request(BASE), fake)
    assert reply.status == 200
    assert gates.get(BASE).next_at >= before + 2  # the gate (not this stage) does the waiting


def test_retry_after_beyond_the_cap_gives_up() -> None:
    fake = counted(response(BASE, 503, Retry_After="3600"))
    reply = RetryStage(config(max_retry_after=120), HostGates(0.0))(Request(BASE), fake)
    assert (reply.outcome, reply.reason) == (FAILED, "HTTP 503, Retry-After 3600s too long")
    assert len(fake.seen) == 1


def test_retry_transport_errors_then_give_up_with_a_short_reason() -> None:
    error = requests.exceptions.ConnectionError("Connection refused")
    fake = counted(lambda r: Reply(r.url, error=error))
    reply = RetryStage(config(retries=2), HostGates(0.0))(Request(BASE), fake)
    assert (reply.outcome, reply.reason, reply.status) == (FAILED, "connection refused", None)
    assert len(fake.seen) == 3


def test_retry_never_starts_after_the_budget() -> None:
    fake = counted(response(BASE, 503))
    stage = RetryStage(config(fetch_timeout=0.5, backoff_factor=5.0), HostGates(0.0))
    reply = stage(Request(BASE), fake)
    assert (reply.outcome, reply.reason) == (
        FAILED,
        "HTTP 503, no retry within the 0.5s fetch budget",
    )
    assert len(fake.seen) == 1


def test_judged_replies_are_not_retried() -> None:
    fake = counted(lambda r: Reply(r.url, status=521).judge(BLOCKED, "tiny JS shell"))
    reply = RetryStage(config(), HostGates(0.0))(Request(BASE), fake)
    assert (reply.outcome, len(fake.seen)) == (BLOCKED, 1)


# --------------------------------------------------------------------------- 7 challenge


def test_challenge_pages_are_blocked_with_their_body() -> None:
    body = b"<html><script>var $_ts=window['$_ts'];</script></html>"
    reply = ChallengeStage()(Request(BASE), Fake(response(BASE, 412, body)))
    assert (reply.outcome, reply.reason, reply.body) == (
        BLOCKED,
        "HTTP 412 challenge (瑞数 $_ts)",
        body,
    )
    page = ChallengeStage()(Request(BASE), Fake(response(BASE, 200, b"<a href='/x'>report</a>")))
    assert page.outcome is None


def test_challenge_cookie_only_without_links() -> None:
    def with_cookie(body: bytes) -> Fake:
        return Fake(
            lambda r: Reply(r.url, status=200, body=body, cookies=["yunsuo_session_verify"])
        )

    blocked = ChallengeStage()(Request(BASE), with_cookie(b"<html></html>"))
    assert blocked.reason == "challenge cookie (yunsuo_session_verify)"
    page = ChallengeStage()(Request(BASE), with_cookie(b"<a href='/nb/2023.html'>2023</a>"))
    assert page.outcome is None


# --------------------------------------------------------------------------- 8 TLS downgrade


def tls_broken(request: Request) -> Reply:
    if request.url.startswith("https://"):
        return Reply(request.url, error=requests.exceptions.SSLError("certificate verify failed"))
    return Reply(request.url, status=200, body=b"<p>ok</p>")


def test_tls_error_retried_over_http_and_kept_for_later_tries() -> None:
    fake = Fake(tls_broken)
    request = Request("https://www.example.gov.cn/nb.html")
    reply = TlsDowngradeStage(config(), AllowList([BASE]))(request, fake)
    assert (reply.status, reply.url) == (200, BASE + "/nb.html")
    assert fake.urls == ["https://www.example.gov.cn/nb.html", BASE + "/nb.html"]
    assert request.url == BASE + "/nb.html"


def test_tls_downgrade_off_or_not_allowed_keeps_the_error() -> None:
    off = TlsDowngradeStage(config(tls_fallback_to_http=False), None)
    reply = off(Request("https://www.example.gov.cn/"), Fake(tls_broken))
    assert isinstance(reply.error, requests.exceptions.SSLError)

    class NoPlainHttp:
        def check(self, url: str) -> str | None:
            return "plain http refused" if url.startswith("http://") else None

    stage = TlsDowngradeStage(config(), NoPlainHttp())  # type: ignore[arg-type]
    fake = Fake(tls_broken)
    assert stage(Request("https://www.example.gov.cn/"), fake).error is not None
    assert len(fake.seen) == 1


# --------------------------------------------------------------------------- 9 politeness


def test_politeness_spaces_one_host_and_counts_attempts() -> None:
    gates = HostGates(0.2)
    stage = PolitenessStage(gates)
    starts: list[float] = []

    def record(request: Request) -> Reply:
        starts.append(time.monotonic())
        return Reply(request.url, status=200)

    request = Request(BASE + "/a")
    for url in (BASE + "/a", BASE + "/b", "http://other.gov.cn/"):
        request.url = url
        stage(request, record)
    assert starts[1] - starts[0] >= 0.2  # same host: the delay between end and next start
    assert starts[2] - starts[1] < 0.15  # another host: no wait
    assert request.exchange.attempts == 3


# --------------------------------------------------------------------------- transport helpers


class _Body:
    """Just enough of a requests.Response for read_body."""

    def __init__(self, headers: dict[str, str], chunks: list[bytes]) -> None:
        self.headers = headers
        self._chunks = chunks

    def iter_content(self, size: int):
        return iter(self._chunks)


def test_read_body_enforces_the_byte_limit() -> None:
    assert read_body(_Body({}, [b"ab", b"cd"]), 4) == b"abcd"  # type: ignore[arg-type]
    with pytest.raises(TooLarge, match="body too large: 10 > 4 bytes"):
        read_body(_Body({"Content-Length": "10"}, []), 4)  # type: ignore[arg-type]
    with pytest.raises(TooLarge, match="body too large: > 4 bytes"):
        read_body(_Body({}, [b"abc", b"de"]), 4)  # type: ignore[arg-type]


def test_short_error_names_the_trouble_in_one_line() -> None:
    assert short_error(requests.exceptions.ReadTimeout("read timed out")) == "timeout (ReadTimeout)"
    assert (
        short_error(requests.exceptions.ConnectionError("Connection reset by peer"))
        == "connection reset"
    )
    broken = requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead(3 bytes)")
    assert short_error(broken) == "truncated body (connection broken)"
