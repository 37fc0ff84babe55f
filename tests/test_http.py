"""The HTTP client against small local servers: politeness, retries, limits, safety, charsets,
conditional GET and anti-bot detection.  Everything stays on 127.0.0.1."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from nianbao.extract.http import (
    BLOCKED,
    DISALLOWED,
    FAILED,
    HOMEPAGE,
    NOT_FOUND,
    NOT_MODIFIED,
    OK,
    REFUSED,
    USER_AGENT,
    AllowList,
    HttpClient,
    HttpConfig,
    detect_challenge,
    host_key,
    shell_target,
)

# A route answers (status, headers, body), or an action string: "reset", "truncate", "stall".
Reply = tuple[int, list[tuple[str, str]], bytes]
Route = Callable[["Req"], Reply | str]


@dataclass
class Req:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    n: int  # how many times this path was requested so far (1 = first)


@dataclass
class LocalServer:
    routes: dict[str, Route]
    log: list[tuple[float, str, str, dict[str, str]]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    base: str = ""

    def start(self) -> LocalServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: object) -> None:
                pass

            def handle_one(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                outer.log.append((time.monotonic(), self.command, self.path, dict(self.headers)))
                outer.counts[self.path] = outer.counts.get(self.path, 0) + 1
                route = outer.routes.get(self.path) or outer.routes.get(self.path.split("?")[0])
                if route is None:
                    reply: Reply | str = (404, [], b"<html><body>404 Not Found</body></html>")
                else:
                    reply = route(
                        Req(
                            self.command,
                            self.path,
                            dict(self.headers),
                            body,
                            outer.counts[self.path],
                        )
                    )
                if reply == "reset":
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                    return
                if reply == "stall":
                    time.sleep(1.0)
                    reply = (200, [], b"late")
                if reply == "truncate":
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(b"x" * 100)
                    self.close_connection = True
                    return
                status, headers, data = reply  # type: ignore[misc]
                self.send_response(status)
                names = {k.lower() for k, _ in headers}
                for k, v in headers:
                    self.send_header(k, v)
                if "content-type" not in names:
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                if "content-length" not in names and "transfer-encoding" not in names:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if "transfer-encoding" in names:
                    for i in range(0, len(data), 4096):
                        chunk = data[i : i + 4096]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.wfile.write(data)

            do_GET = do_POST = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def paths(self) -> list[str]:
        return [p for _, _, p, _ in self.log]


def page(html: str, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Route:
    return lambda req: (status, list(headers or []), html.encode("utf-8"))


@pytest.fixture
def serve():
    servers: list[LocalServer] = []

    def start(routes: dict[str, Route]) -> LocalServer:
        s = LocalServer(dict(routes)).start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


FAST = dict(
    delay=0.0,
    connect_timeout=1.0,
    read_timeout=0.4,
    retries=2,
    backoff_factor=0.05,
    backoff_jitter=0.02,
)


def client_for(*servers: LocalServer, **overrides: object) -> HttpClient:
    config = HttpConfig(**{**FAST, **overrides})  # type: ignore[arg-type]
    return HttpClient(AllowList(s.base + "/" for s in servers), config)


# --------------------------------------------------------------------------- identity


def test_user_agent_names_project_and_homepage(serve) -> None:
    s = serve({"/": page("<html><body><a href='/x'>x</a></body></html>")})
    res = client_for(s).fetch(s.base + "/", referer=s.base + "/col/")
    assert res.outcome == OK
    sent = s.log[-1][3]
    assert sent["User-Agent"] == USER_AGENT
    assert "nianbao/" in USER_AGENT and HOMEPAGE in USER_AGENT
    assert sent["Referer"] == s.base + "/col/"


# --------------------------------------------------------------------------- politeness


def test_per_host_delay_and_parallel_hosts(serve) -> None:
    a = serve({"/p": page("<p>a</p>")})
    b = serve({"/p": page("<p>b</p>")})
    client = client_for(a, b, delay=0.15)

    def burst(server: LocalServer) -> None:
        for _ in range(4):
            assert client.fetch(server.base + "/p").ok

    started = time.monotonic()
    threads = [threading.Thread(target=burst, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    for server in (a, b):
        times = [t for t, _, p, _ in server.log if p == "/p"]
        gaps = [y - x for x, y in zip(times, times[1:], strict=False)]
        assert len(times) == 4 and min(gaps) >= 0.15
    # the two hosts ran side by side: about one host's 3 delays, not both hosts' 6
    assert wall < 6 * 0.15


def test_one_request_in_flight_per_host(serve) -> None:
    active, peak = [0], [0]
    lock = threading.Lock()

    def slow(req: Req) -> Reply:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return 200, [], b"<p>ok</p>"

    s = serve({"/slow": slow})
    client = client_for(s)
    threads = [threading.Thread(target=client.fetch, args=(s.base + "/slow",)) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 1 and len(s.log) == 6  # robots.txt + 5


# --------------------------------------------------------------------------- retries


def test_retries_5xx_then_succeeds(serve) -> None:
    s = serve({"/r": lambda req: (503, [], b"busy") if req.n <= 2 else (200, [], b"<p>ok</p>")})
    res = client_for(s).fetch(s.base + "/r")
    assert res.outcome == OK and res.attempts == 3 and res.body == b"<p>ok</p>"


def test_gives_up_after_retries(serve) -> None:
    s = serve({"/r": lambda req: (500, [], b"boom")})
    res = client_for(s).fetch(s.base + "/r")
    assert res.outcome == FAILED and res.status == 500 and res.attempts == 3
    assert s.paths().count("/r") == 3


def test_429_honours_retry_after(serve) -> None:
    s = serve(
        {"/r": lambda req: (429, [("Retry-After", "1")], b"") if req.n == 1 else (200, [], b"ok")}
    )
    res = client_for(s).fetch(s.base + "/r")
    times = [t for t, _, p, _ in s.log if p == "/r"]
    assert res.outcome == OK and times[1] - times[0] >= 1.0


def test_429_without_retry_after_backs_off(serve) -> None:
    s = serve({"/r": lambda req: (429, [], b"") if req.n == 1 else (200, [], b"ok")})
    res = client_for(s, backoff_factor=0.2, backoff_jitter=0.0).fetch(s.base + "/r")
    times = [t for t, _, p, _ in s.log if p == "/r"]
    assert res.outcome == OK and times[1] - times[0] >= 0.2


def test_too_long_retry_after_is_not_waited(serve) -> None:
    s = serve({"/r": lambda req: (503, [("Retry-After", "3600")], b"")})
    started = time.monotonic()
    res = client_for(s, max_retry_after=5).fetch(s.base + "/r")
    assert res.outcome == FAILED and "Retry-After" in (res.error or "")
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("fault", ["reset", "truncate", "stall"])
def test_network_faults_are_retried(serve, fault: str) -> None:
    s = serve({"/f": lambda req: fault if req.n == 1 else (200, [], b"<p>fine</p>")})
    res = client_for(s).fetch(s.base + "/f")
    assert res.outcome == OK and res.body == b"<p>fine</p>" and res.attempts == 2


def test_persistent_timeout_fails(serve) -> None:
    s = serve({"/f": lambda req: "stall"})
    res = client_for(s, retries=1).fetch(s.base + "/f")
    assert res.outcome == FAILED and "timeout" in (res.error or "")


# --------------------------------------------------------------------------- limits


def test_redirect_chain_is_followed(serve) -> None:
    s = serve(
        {
            "/a": page("", 301, [("Location", "/b")]),
            "/b": page("", 302, [("Location", "/c")]),
            "/c": page("<p>end</p>"),
        }
    )
    res = client_for(s).fetch(s.base + "/a")
    assert res.outcome == OK and res.final_url == s.base + "/c" and len(res.redirects) == 2


def test_redirect_loop_and_limit(serve) -> None:
    routes = {"/a": page("", 302, [("Location", "/b")]), "/b": page("", 302, [("Location", "/a")])}
    routes.update({f"/n{i}": page("", 302, [("Location", f"/n{i + 1}")]) for i in range(10)})
    s = serve(routes)
    client = client_for(s, max_redirects=3)
    loop = client.fetch(s.base + "/a")
    assert loop.outcome == FAILED and "loop" in (loop.error or "")
    chain = client.fetch(s.base + "/n0")
    assert chain.outcome == FAILED and "more than 3 redirects" in (chain.error or "")


def test_redirect_off_registry_is_refused_without_request(serve) -> None:
    foreign = serve({"/x": page("<p>spam</p>")})
    s = serve({"/go": page("", 302, [("Location", foreign.base + "/x")])})
    res = client_for(s).fetch(s.base + "/go")
    assert res.outcome == REFUSED and foreign.log == []


def test_max_body_size(serve) -> None:
    big = b"x" * 5000
    s = serve(
        {
            "/len": lambda req: (200, [], big),
            "/chunked": lambda req: (200, [("Transfer-Encoding", "chunked")], big * 4),
        }
    )
    client = client_for(s, max_bytes=4096)
    for path in ("/len", "/chunked"):
        res = client.fetch(s.base + path)
        assert res.outcome == FAILED and "too large" in (res.error or "") and res.body == b""


# --------------------------------------------------------------------------- robots, hosts


def test_robots_disallow_is_honoured(serve) -> None:
    s = serve(
        {
            "/robots.txt": page(
                "User-agent: *\nDisallow: /module/\n", headers=[("Content-Type", "text/plain")]
            ),
            "/col/index.html": page("<p>col</p>"),
        }
    )
    client = client_for(s)
    assert client.fetch(s.base + "/col/index.html").outcome == OK
    res = client.fetch(s.base + "/module/web/jpage/dataproxy.jsp?page=2")
    assert res.outcome == DISALLOWED
    assert not any(p.startswith("/module/") for p in s.paths())
    assert s.paths().count("/robots.txt") == 1  # cached per host


def test_robots_crawl_delay_raises_host_delay(serve) -> None:
    s = serve(
        {
            "/robots.txt": page(
                "User-agent: *\nCrawl-delay: 0.3\n", headers=[("Content-Type", "text/plain")]
            ),
            "/p": page("<p>x</p>"),
        }
    )
    client = client_for(s, delay=0.0)
    client.fetch(s.base + "/p")
    client.fetch(s.base + "/p")
    times = [t for t, _, p, _ in s.log if p == "/p"]
    assert times[1] - times[0] >= 0.3


def test_robots_unavailable_fetches_nothing(serve) -> None:
    s = serve({"/robots.txt": lambda req: (503, [], b""), "/p": page("<p>x</p>")})
    res = client_for(s, retries=1).fetch(s.base + "/p")
    assert res.outcome == FAILED and "robots.txt" in (res.error or "")
    assert "/p" not in s.paths()


def test_allow_list_rules(monkeypatch) -> None:
    allow = AllowList(
        ["http://www.example.gov.cn/zwgk/", "http://127.0.0.1:8080/pub/", "http://intranet.gov.cn/"]
    )
    assert allow.check("https://www.example.gov.cn/x") is None  # http→https upgrade
    assert allow.check("http://127.0.0.1:8080/other") is None  # named by the registry itself
    assert "not in the registry" in (allow.check("http://127.0.0.1:9090/") or "")
    assert "not in the registry" in (allow.check("http://10.0.0.1:8080/pub/x") or "")
    assert "not in the registry" in (allow.check("http://casino.invalid/") or "")
    assert allow.check("ftp://www.example.gov.cn/x") is not None

    def fake_getaddrinfo(host, *a, **k):  # a registered name that resolves into a private net
        assert host == "intranet.gov.cn"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 0))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    assert "private" in (allow.check("http://intranet.gov.cn/a") or "")


def test_host_key() -> None:
    assert host_key("http://a.gov.cn/x") == host_key("https://a.gov.cn:443/y") == "a.gov.cn"
    assert host_key("http://127.0.0.1:8080/") == "127.0.0.1:8080"


# --------------------------------------------------------------------------- content


def test_gbk_without_header_charset(serve) -> None:
    title = "黔示县人民政府2023年政府信息公开工作年度报告"
    with_meta = (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
        f"<title>{title}</title></head><body>正文</body></html>"
    ).encode("gbk")
    no_meta = f"<html><head><title>{title}</title></head><body>{'公开' * 80}</body></html>".encode(
        "gbk"
    )
    s = serve(
        {
            "/meta": lambda req: (200, [("Content-Type", "text/html")], with_meta),
            "/none": lambda req: (200, [("Content-Type", "text/html")], no_meta),
        }
    )
    client = client_for(s)
    assert title in client.fetch(s.base + "/meta").text
    assert title in client.fetch(s.base + "/none").text


def test_conditional_get(serve) -> None:
    def etagged(req: Req) -> Reply:
        if req.headers.get("If-None-Match") == '"v1"':
            return 304, [("ETag", '"v1"')], b""
        return (
            200,
            [("ETag", '"v1"'), ("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")],
            b"<p>v1</p>",
        )

    s = serve({"/d": etagged})
    client = client_for(s)
    first = client.fetch(s.base + "/d")
    assert first.etag == '"v1"' and first.last_modified
    again = client.fetch(s.base + "/d", etag=first.etag, last_modified=first.last_modified)
    assert again.outcome == NOT_MODIFIED and again.body == b""
    assert s.log[-1][3]["If-None-Match"] == '"v1"'


def test_not_found_and_soft_404(serve) -> None:
    s = serve(
        {
            "/soft": page(
                "<html><title>页面不存在</title><body>抱歉，您访问的页面不存在！</body></html>"
            )
        }
    )
    client = client_for(s)
    assert client.fetch(s.base + "/gone").outcome == NOT_FOUND
    soft = client.fetch(s.base + "/soft")
    assert soft.outcome == NOT_FOUND and soft.error == "soft 404"


# --------------------------------------------------------------------------- anti-bot

RS_412 = (
    '<html><head><meta id="9Dhe" content="ZxGR" r="m"><script r="m">$_ts=window[\'$_ts\'];'
    'if(!$_ts)$_ts={};$_ts.nsd=84893;</script><script src="/4QbV/d.js" r="m"></script></head></html>'
)
YUNSUO = (
    '<html><body><script>function YunSuoAutoJump(){self.location="?security_verify_data="'
    "+stringToHex(screendate);}</script></body></html>"
)


def test_challenges_are_blocked(serve) -> None:
    s = serve(
        {
            "/rs": page(RS_412, 412, [("Set-Cookie", "FSSBBIl1UgzbN7N80S=8k; Path=/")]),
            "/ys": page(YUNSUO, 200, [("Set-Cookie", "yunsuo_session_verify=2a87; path=/")]),
            "/tiny": page('<html><script>document.cookie="c=1";location.reload()</script></html>'),
            "/loop302": page("", 302, [("Location", "/loop302"), ("Set-Cookie", "CT6T=1")]),
        }
    )
    client = client_for(s)
    for path, why in (
        ("/rs", "412"),
        ("/ys", "云锁"),
        ("/tiny", "tiny JS shell"),
        ("/loop302", "302-to-self"),
    ):
        res = client.fetch(s.base + path)
        assert res.outcome == BLOCKED and why in (res.error or ""), (path, res.error)


def test_cookie_setting_self_redirect_is_followed_once(serve) -> None:
    def openresty(req: Req) -> Reply:
        if "CT6T=" in req.headers.get("Cookie", ""):
            return 200, [], b"<html><body><a href='/a'>list</a></body></html>"
        return 302, [("Location", req.path), ("Set-Cookie", "CT6T=312900; Path=/")], b""

    s = serve({"/list": openresty})
    res = client_for(s).fetch(s.base + "/list")
    assert res.outcome == OK and res.status == 200


def test_redirect_shells_are_not_challenges() -> None:
    shell = b'<html><head><script>location.replace("/xxgk/nb/index.htm");</script></head></html>'
    assert detect_challenge(200, shell, url="http://h/xxgk/") is None
    assert shell_target(shell.decode(), "http://h/xxgk/") == "http://h/xxgk/nb/index.htm"
    meta = '<meta http-equiv="refresh" content="0;url=/zfxxgk/frame.htm">'
    assert shell_target(meta, "http://h/zfxxgk/") == "http://h/zfxxgk/frame.htm"
    json_page = b"<div id=list></div><script>$.getJSON('/search-gov/data?p=1', f);</script>"
    assert detect_challenge(200, json_page) is None
