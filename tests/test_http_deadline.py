"""The total deadline of one request, against servers on 127.0.0.1 that trickle.

A server that sends a byte every second never trips a 2 s read timeout; only the total
deadline stops it.  These tests show that the client gives up on such a server at the deadline
(not when the server stops), records it as a timeout, does not retry it, keeps retries within
the fetch budget, and that one trickling host does not hold up the other hosts of a crawl.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from nianbao.extract import documents_log as dlog
from nianbao.extract.crawler import CrawlConfig, Crawler
from nianbao.extract.http import FAILED, OK, AllowList, HttpClient, HttpConfig
from nianbao.extract.registry import Portal

TOTAL = 3.0  # the total deadline of the test client
INTERVAL = 1.0  # the trickle: one byte per second, well inside the read timeout
MARGIN = 2.0  # watchdog wake-up, socket shutdown, thread scheduling on a busy machine
TRICKLE_FOR = 40.0  # a trickling handler gives up by itself after this long


def http_config(**overrides: object) -> HttpConfig:
    """Short times; the read timeout is longer than the trickle interval on purpose."""
    values: dict[str, object] = dict(
        delay=0.05,
        connect_timeout=1.0,
        read_timeout=2.0,
        total_timeout=TOTAL,
        retries=2,
        backoff_factor=0.05,
        backoff_jitter=0.02,
    )
    return HttpConfig(**{**values, **overrides})  # type: ignore[arg-type]


# --------------------------------------------------------------------------- servers


@dataclass
class Trickle:
    """A raw-socket HTTP server: robots.txt gets a quick 404, every other path a trickle.

    ``mode`` says what trickles: ``body`` (status and headers at once, Content-Length, then the
    body one byte per interval), ``body-no-length`` (the same without Content-Length, so that
    a cut connection looks like the end of the body) or ``headers`` (the status line, then the
    header bytes one by one).  Every thread ends by itself: the accept loop when ``stop`` is
    set, a handler when the client goes away, ``stop`` is set or ``TRICKLE_FOR`` has passed.
    """

    mode: str = "body"
    interval: float = INTERVAL
    stop: threading.Event = field(default_factory=threading.Event)
    requests: list[str] = field(default_factory=list)
    base: str = ""

    def start(self) -> Trickle:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def close(self) -> None:
        self.stop.set()

    def _accept(self) -> None:
        with self.sock:
            while not self.stop.is_set():
                try:
                    conn, _ = self.sock.accept()
                except TimeoutError:
                    continue
                threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5.0)
            try:
                path = _request_path(conn)
                if path == "/robots.txt":
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    return
                self.requests.append(path)
                head, drip = self._parts()
                conn.sendall(head)
                self._drip(conn, drip)
            except OSError:
                return  # the client hung up: that is the point

    def _parts(self) -> tuple[bytes, bytes]:
        """What is sent at once, and what is sent a byte at a time."""
        status = b"HTTP/1.1 200 OK\r\n"
        if self.mode == "headers":
            return status, b"X-Slow: " + b"a" * 1000 + b"\r\n\r\n"
        html = b"Content-Type: text/html; charset=utf-8\r\n"
        length = b"Content-Length: 100000\r\n" if self.mode == "body" else b"Connection: close\r\n"
        return status + html + length + b"\r\n", b"<html>" + b"x" * 99994

    def _drip(self, conn: socket.socket, data: bytes) -> None:
        ends = time.monotonic() + TRICKLE_FOR
        for i in range(len(data)):
            if self.stop.is_set() or time.monotonic() > ends:
                return
            conn.sendall(data[i : i + 1])
            self.stop.wait(self.interval)


def _request_path(conn: socket.socket) -> str:
    """The path of the request line; the rest of the request is read and ignored."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    parts = data.split(b" ", 2)
    return parts[1].decode("latin-1") if len(parts) > 1 else "/"


class Pages:
    """An ordinary host: fixed pages by path, 404 for the rest; robots.txt is a 404 too."""

    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.requests.append(self.path)
                html = outer.pages.get(self.path)
                body = (html or "<html><body>404 Not Found</body></html>").encode("utf-8")
                self.send_response(200 if html else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def trickle() -> Iterator[Callable[[str], Trickle]]:
    started: list[Trickle] = []

    def start(mode: str = "body") -> Trickle:
        t = Trickle(mode).start()
        started.append(t)
        return t

    yield start
    for t in started:
        t.close()


# --------------------------------------------------------------------------- one request


@pytest.mark.parametrize("mode", ["body", "body-no-length", "headers"])
def test_trickling_server_is_cut_at_the_total_deadline(trickle, mode: str) -> None:
    server = trickle(mode)
    with HttpClient(AllowList([server.base + "/"]), http_config()) as client:
        started = time.monotonic()
        res = client.fetch(server.base + "/list.html")
        took = time.monotonic() - started
    assert TOTAL - 0.1 <= took <= TOTAL + MARGIN, took
    assert res.outcome == FAILED and res.body == b""
    assert (res.error or "").startswith("timeout"), res.error
    assert res.attempts == 1 and server.requests == ["/list.html"]  # an overrun is not retried


def test_fetch_budget_bounds_retries(trickle) -> None:
    """Retryable read timeouts stop at the fetch budget instead of adding up per attempt."""
    server = trickle("body")
    server.interval = 30.0  # one byte, then silence: every attempt ends in a read timeout
    config = http_config(read_timeout=0.5, retries=10, fetch_timeout=2.0)
    with HttpClient(AllowList([server.base + "/"]), config) as client:
        started = time.monotonic()
        res = client.fetch(server.base + "/slow.html")
        took = time.monotonic() - started
    assert took <= 2.0 + MARGIN, took
    assert res.outcome == FAILED and (res.error or "").startswith("timeout"), res.error
    assert 2 <= res.attempts < 11


def _watchdogs_started_since(before: set[threading.Thread]) -> list[threading.Thread]:
    """Watchdog threads alive now that were not before, after a bounded wait for them to end."""
    for _ in range(50):
        new = [
            t
            for t in threading.enumerate()
            if t.name == "nianbao-http-watchdog" and t not in before
        ]
        if not new:
            break
        time.sleep(0.1)
    return new


def test_watchdog_thread_stops_by_itself(trickle) -> None:
    """After a cut with nothing else in flight, and when the client is closed."""
    server = trickle("body")
    normal = Pages({"/a.html": "<html><body><p>a</p></body></html>"})
    before = set(threading.enumerate())
    try:
        with HttpClient(AllowList([server.base + "/"]), http_config(total_timeout=1.0)) as c:
            assert (c.fetch(server.base + "/a.html").error or "").startswith("timeout")
            assert _watchdogs_started_since(before) == []  # the client is still open
        # a quick request leaves the thread waiting for its 60 s deadline; close ends it now
        with HttpClient(AllowList([normal.base + "/"]), http_config(total_timeout=60.0)) as c:
            assert c.fetch(normal.base + "/a.html").ok
    finally:
        normal.close()
    assert _watchdogs_started_since(before) == []


# --------------------------------------------------------------------------- a crawl


def _listing(years: range) -> str:
    items = "".join(
        f'<li><a href="/art/{y + 1}/1/20/art_1_{y}.html">'
        f"示范市{y}年政府信息公开工作年度报告</a><span>{y + 1}-01-20</span></li>"
        for y in years
    )
    return f"<html><head><title>信息公开年报</title></head><body><ul>{items}</ul></body></html>"


def _report(year: int) -> str:
    title = f"示范市{year}年政府信息公开工作年度报告"
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<p>一、总体情况</p><p>{'本年度依法公开政府信息。' * 20}</p></body></html>"
    )


def test_trickling_host_does_not_stall_the_crawl(trickle, tmp_path: Path) -> None:
    years = range(2019, 2024)
    pages = {"/nb/index.html": _listing(years)}
    pages.update({f"/art/{y + 1}/1/20/art_1_{y}.html": _report(y) for y in years})
    normal = Pages(pages)
    slow = trickle("body")
    portals = [
        Portal("slow", "慢站", "city", "110000", slow.base + "/nb/index.html", ""),
        Portal("normal", "示范市", "city", "120000", normal.base + "/nb/index.html", ""),
    ]
    done: dict[str, float] = {}

    def progress(event: str, **info: object) -> None:
        if event == "portal_done":
            done[str(info["portal_id"])] = time.monotonic()

    config = CrawlConfig(http=http_config(), flush_rows=20, flush_s=0.5)
    try:
        started = time.monotonic()
        summary = Crawler(portals, tmp_path / "data", config, progress).run()
    finally:
        normal.close()
    rows = [
        r for r in dlog.read_log(tmp_path / "data").to_pylist() if r["run_id"] == summary.run_id
    ]

    assert done["slow"] - started <= TOTAL + 10, done["slow"] - started
    slow_rows = [r for r in rows if r["portal_id"] == "slow"]
    assert [(r["kind"], r["outcome"]) for r in slow_rows] == [("listing", "failed")]
    assert slow_rows[0]["error"].startswith("timeout") and slow_rows[0]["attempts"] == 1
    by_id = {s.portal_id: s for s in summary.portals}
    assert by_id["slow"].status == "failed" and by_id["slow"].error.startswith("timeout")

    reports = {r["url"]: r for r in rows if r["portal_id"] == "normal" and r["kind"] == "report"}
    assert set(reports) == {normal.base + f"/art/{y + 1}/1/20/art_1_{y}.html" for y in years}
    assert all(r["outcome"] == "new" and r["status"] == 200 for r in reports.values())
    assert by_id["normal"].status == "ok" and by_id["normal"].new == len(years)
    assert done["normal"] - started <= TOTAL + 10  # not queued behind the trickling host


def test_normal_pages_still_fetch_with_the_watchdog(tmp_path: Path) -> None:
    """Keep-alive connections reused across many requests are unaffected by the deadline."""
    normal = Pages({f"/p{i}.html": f"<html><body><p>page {i}</p></body></html>" for i in range(20)})
    try:
        config = http_config(delay=0.0, total_timeout=0.5)
        with HttpClient(AllowList([normal.base + "/"]), config) as client:
            results = [client.fetch(normal.base + f"/p{i}.html") for i in range(20)]
    finally:
        normal.close()
    assert all(r.outcome == OK and r.attempts == 1 for r in results)
    assert [r.body for r in results] == [
        f"<html><body><p>page {i}</p></body></html>".encode() for i in range(20)
    ]
