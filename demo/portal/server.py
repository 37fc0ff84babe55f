"""The running portal: one ThreadingHTTPServer per simulated host, the request log, fault
injection, conditional GET and the runtime switches (remove, empty_listing, fail_site)."""

from __future__ import annotations

import csv
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TextIO

from .model import Column, ExpectedReport, Fault, Item, LogEntry, Request, Response, html
from .site import SOFT_404, BuildContext, FaultRule, ReportFactory, SiteApp

REGISTRY_COLUMNS = [
    "portal_id", "agency", "level", "region_code", "list_url", "adapter", "kind", "notes"
]  # fmt: skip


@dataclass(frozen=True)
class Site:
    """A simulated host as seen from outside."""

    name: str
    family: str
    variant: int  # portals.md §9 variant number (0 = helper host)
    label: str
    base_url: str  # http://127.0.0.1:PORT
    in_registry: bool

    @property
    def host(self) -> str:
        return self.base_url.split("//", 1)[1]

    @property
    def port(self) -> int:
        return int(self.host.rsplit(":", 1)[1])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, portal: Portal) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.portal = portal
        self.app: SiteApp | None = None
        self.open_sockets: set[socket.socket] = set()

    def process_request(self, request, client_address) -> None:  # noqa: ANN001 - stdlib signature
        self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:  # noqa: ANN001 - stdlib signature
        self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        """Drop kept-alive connections so no handler thread outlives the portal."""
        for sock in list(self.open_sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "nginx"
    sys_version = ""
    timeout = 15

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def version_string(self) -> str:
        return "nginx"

    def _handle(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        server: _Server = self.server  # type: ignore[assignment]
        server.portal._serve(self, server, body)

    do_GET = do_POST = do_HEAD = do_PUT = do_OPTIONS = _handle


class Portal:
    """Handle on a running fixture portal (see :func:`nianbao.demo.portal.start_portal`)."""

    def __init__(
        self,
        seed: int = 0,
        faults: bool = True,
        stall_seconds: float = 3.0,
        report_factory: ReportFactory | None = None,
    ) -> None:
        self.seed = seed
        self.report_factory = report_factory
        self.faults_enabled = faults
        self.stall_seconds = stall_seconds
        self.sites: list[Site] = []
        self._apps: dict[str, SiteApp] = {}
        self._servers: dict[str, _Server] = {}
        self._threads: list[threading.Thread] = []
        self._log: list[LogEntry] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._removed: dict[str, bool] = {}  # url -> soft
        self._empty: set[str] = set()
        self._failed: dict[str, str] = {}
        self._rules: dict[str, FaultRule] = {}
        self._faults: list[Fault] = []
        self._dynamic_faults: list[Fault] = []
        self._reports: list[ExpectedReport] = []
        self._columns: list[Column] = []
        self._proposals: list[Column] = []
        self._started = False

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Portal:
        from .families import SITE_NAMES, build_all

        for name in SITE_NAMES:
            self._servers[name] = _Server(self)
        bases = {n: f"http://127.0.0.1:{s.server_address[1]}" for n, s in self._servers.items()}
        ctx = BuildContext(self.seed, self.faults_enabled, bases, self.report_factory)
        apps = build_all(ctx)
        for app in apps:
            app.base = bases[app.name]
            app.portal = self
            self._apps[app.name] = app
            self._servers[app.name].app = app
            self.sites.append(
                Site(app.name, app.family, app.variant, app.label, app.base, app.in_registry)
            )
        self._reports, self._columns, self._faults, self._rules = (
            ctx.reports,
            ctx.columns,
            ctx.faults,
            ctx.rules,
        )
        self._proposals = ctx.proposals
        for f in self._faults:
            f.portal_id = f.portal_id or self._portal_of(f.url, f.site)
        for name, srv in self._servers.items():
            t = threading.Thread(
                target=srv.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"portal-{name}",
                daemon=True,
            )
            t.start()
            self._threads.append(t)
        self._started = True
        return self

    def stop(self) -> None:
        """Shut every server down and release the ports (idempotent)."""
        if not self._started:
            return
        self._started = False
        self._stop.set()
        stoppers = [
            threading.Thread(target=srv.shutdown, daemon=True) for srv in self._servers.values()
        ]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join(timeout=5)
        for srv in self._servers.values():
            srv.server_close()
            srv.close_all()
        for t in self._threads:
            t.join(timeout=2)

    def __enter__(self) -> Portal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Block until interrupted (for the demo command)."""
        try:
            while not self._stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # ------------------------------------------------------------ ground truth

    def site(self, name: str) -> Site:
        for s in self.sites:
            if s.name == name:
                return s
        raise KeyError(name)

    def columns(self) -> list[Column]:
        """Every column with its listing items: registry rows and the agency columns behind
        platform rows (``parent`` set)."""
        return list(self._columns)

    def registry_rows(self, adapters: bool = False) -> list[dict[str, str]]:
        """Rows for the registry CSV; ``adapters=True`` fills ``adapter`` with the family name."""
        return [c.registry_row(adapters) for c in self._columns if c.in_registry]

    def expected_derived(self, parent: str | None = None) -> list[Column]:
        """The agency columns platform rows must expand to (``parent`` = the platform row)."""
        return [c for c in self._columns if c.parent and parent in (None, c.parent)]

    def expected_proposals(self) -> list[Column]:
        """Columns on hosts the registry lacks that aggregator rows must propose (by
        ``list_url``; ``portal_id`` is the aggregator row that links them)."""
        return list(self._proposals)

    def write_registry(self, path: str | Path, adapters: bool = False) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=REGISTRY_COLUMNS)
            w.writeheader()
            w.writerows(self.registry_rows(adapters))
        return path

    def expected_reports(self, reachable_only: bool = False) -> list[ExpectedReport]:
        """Every annual report published on the portal (one entry per place it is listed)."""
        return [r for r in self._reports if r.reachable or not reachable_only]

    def expected_items(self, portal_id: str | None = None) -> list[Item]:
        """Listing entries (reports, guides, companions, links not to follow)."""
        return [i for c in self._columns if portal_id in (None, c.portal_id) for i in c.items]

    def expected_faults(self) -> list[Fault]:
        """Every injected hazard (built-in ones and those added by runtime switches)."""
        return list(self._faults) + list(self._dynamic_faults)

    def request_log(self, site: str | None = None) -> list[LogEntry]:
        with self._lock:
            return [e for e in self._log if site in (None, e.site)]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # ------------------------------------------------------------ runtime switches

    def _site_of(self, url: str) -> str:
        for s in self.sites:
            if url.startswith(s.base_url):
                return s.name
        raise KeyError(url)

    def _portal_of(self, url: str, site: str) -> str:
        """The registry row a URL belongs to ("" when it is host-wide or ambiguous)."""
        for c in self._columns:
            urls = {c.list_url} | {i.url for i in c.items}
            urls |= {i.report.attachment_url or "" for i in c.items if i.report}
            if url in urls:
                return c.portal_id
        root = len("/".join(url.split("/", 3)[:3])) + 1  # "http://host:port/"
        dirs = [
            (len(d), c.portal_id)
            for c in self._columns
            if url.startswith(d := c.list_url.rsplit("/", 1)[0] + "/")
        ]
        dirs = [d for d in dirs if d[0] > root]  # the column directory holding the URL
        if dirs:
            return max(dirs)[1]
        mine = [c.portal_id for c in self._columns if c.site == site]
        return mine[0] if len(mine) == 1 else ""

    def _runtime_fault(self, kind: str, site: str, url: str, expect: str, detail: str) -> None:
        fid = f"D{len(self._dynamic_faults) + 1:02d}-{kind}"
        portal_id = self._portal_of(url, site)
        self._dynamic_faults.append(Fault(fid, kind, site, url, 0, expect, detail, portal_id))

    def remove(self, url: str, soft: bool = False) -> None:
        """From now on ``url`` answers 404 (or, with ``soft``, a 200 "页面不存在" page)."""
        self._removed[url] = soft
        kind = "soft404" if soft else "removed"
        self._runtime_fault(kind, self._site_of(url), url, kind, "runtime switch")

    def restore(self, url: str) -> None:
        """Undo :meth:`remove`."""
        self._removed.pop(url, None)

    def empty_listing(self, site: str, empty: bool = True) -> None:
        """Listings and list APIs of ``site`` show no entries (details stay reachable)."""
        (self._empty.add if empty else self._empty.discard)(site)
        if empty:
            self._runtime_fault(
                "empty_listing", site, self.site(site).base_url, "listing_empty", "runtime switch"
            )

    def fail_site(self, site: str, mode: str = "error") -> None:
        """Every request to ``site`` fails: ``mode`` "error" (503) or "reset" (connection reset)."""
        if mode not in ("error", "reset"):
            raise ValueError(mode)
        self._failed[site] = mode
        self._runtime_fault(
            "site_down", site, self.site(site).base_url, "site_failed", f"runtime switch ({mode})"
        )

    def restore_site(self, site: str) -> None:
        self._failed.pop(site, None)

    def add_report(self, site: str) -> ExpectedReport:
        """Publish a new report on ``site`` (supported: "vsb"; items shift between pages)."""
        grow = getattr(self._apps[site], "grow", None)
        if grow is None:
            raise ValueError(f"{site} cannot grow")
        item = grow()
        assert item.report is not None
        return item.report

    def reset_faults(self) -> None:
        """Re-arm the first-attempt faults (for a second crawl run)."""
        for r in self._rules.values():
            r.hits = 0

    # ------------------------------------------------------------ serving

    def _serve(self, h: BaseHTTPRequestHandler, server: _Server, body: bytes) -> None:
        app = server.app
        assert app is not None
        req = Request(h.command, h.path, h.headers, body)
        entry = LogEntry(
            time.monotonic(),
            f"127.0.0.1:{server.server_address[1]}",
            app.name,
            h.command,
            h.path,
            {k: v for k, v in h.headers.items()},
            body=body,
        )
        with self._lock:
            self._log.append(entry)
        action, resp = self._respond(app, req)
        entry.status = resp.status if resp else 0
        entry.fault = action
        self._send(h, req, resp, action)

    def _respond(self, app: SiteApp, req: Request) -> tuple[str, Response | None]:
        mode = self._failed.get(app.name)
        if mode == "reset":
            return "site_down", None
        if mode:
            return "site_down", html(
                "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>", 503
            )
        url = app.base + req.target
        if url in self._removed:
            if self._removed[url]:
                return "soft404", html(SOFT_404)
            return "removed", app.not_found()
        if self.faults_enabled and app.guard is not None:
            g = app.guard(req)
            if g is not None:
                return g
        rule = self._rules.get(url) or self._rules.get(app.base + req.path)
        action = ""
        if rule is not None:
            with self._lock:
                rule.hits += 1
                hit = rule.fault.times == 0 or rule.hits <= rule.fault.times
            if hit:
                action = rule.fault.kind
                if rule.action == "status":
                    txt = f"<html><head><title>{rule.status}</title></head><body><h1>{rule.status}</h1></body></html>"
                    return action, html(txt, rule.status, headers=rule.headers)
                if rule.action == "redirect":
                    return action, Response(rule.status, b"", "text/html", list(rule.headers))
                action = rule.action
        resp = app.dispatch(req) or app.not_found()
        if resp.last_modified is not None and resp.status == 200 and req.method in ("GET", "HEAD"):
            inm = req.headers.get("If-None-Match")
            ims = req.headers.get("If-Modified-Since")
            fresh = False
            if inm:
                fresh = resp.etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
            elif ims:
                try:
                    fresh = parsedate_to_datetime(ims).timestamp() >= int(resp.last_modified)
                except (TypeError, ValueError):
                    fresh = False
            if fresh:
                return action or "", Response(304, b"", resp.content_type, [], resp.last_modified)
        return action, resp

    def _send(
        self, h: BaseHTTPRequestHandler, req: Request, resp: Response | None, action: str
    ) -> None:
        sock = h.connection
        if resp is None:  # reset before any byte
            _rst(sock)
            h.close_connection = True
            return
        if action == "stall":
            self._stop.wait(self.stall_seconds)
        body = resp.body if resp.status not in (204, 304) else b""
        h.send_response(resp.status)
        h.send_header("Content-Type", resp.content_type)
        if resp.last_modified is not None:
            h.send_header("Last-Modified", formatdate(resp.last_modified, usegmt=True))
            h.send_header("ETag", resp.etag)
        for k, v in resp.headers:
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        if action in ("reset", "truncate"):
            h.send_header("Connection", "close")
        h.end_headers()
        if req.method == "HEAD":
            return
        try:
            if action in ("reset", "truncate"):
                h.wfile.write(body[: max(1, len(body) // 2)])
                h.wfile.flush()
                h.close_connection = True
                if action == "reset":
                    time.sleep(0.05)
                    _rst(sock)
                return
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True


def _rst(sock: socket.socket) -> None:
    """Abort the connection with a TCP RST."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def start_portal(
    seed: int = 0,
    faults: bool = True,
    stall_seconds: float = 3.0,
    report_factory: ReportFactory | None = None,
) -> Portal:
    """Build and start the fixture portal on 127.0.0.1 (one port per simulated host).

    ``seed`` fixes all content; ``faults=False`` serves a clean portal (no hazards, every report
    reachable); ``stall_seconds`` is how long the stall fault waits; ``report_factory`` replaces
    the generator of synthetic reports (signature of :func:`reports.synth_report`).
    Use as a context manager: ``with start_portal(seed=0, faults=True) as portal: ...``.
    """
    return Portal(seed, faults, stall_seconds, report_factory).start()


def serve_forever(
    seed: int = 0,
    faults: bool = True,
    registry: str | Path | None = None,
    out: TextIO | None = None,
    ready: Callable[[Portal], None] | None = None,
) -> None:
    """Start a portal, print its sites (and write the registry), serve until Ctrl-C or SIGTERM."""
    out = out or sys.stdout
    portal = start_portal(seed=seed, faults=faults)
    print(sites_table(portal.sites), file=out, flush=True)
    if registry:
        print(f"registry: {portal.write_registry(registry)}", file=out, flush=True)
    n = len(portal.expected_reports())
    print(f"{n} reports on {len(portal.sites)} hosts; Ctrl-C to stop", file=out, flush=True)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: portal._stop.set())
    if ready:
        ready(portal)
    portal.serve_forever()


def sites_table(sites: Iterable[Site]) -> str:
    """A human-readable list of the sites (for the demo entry point)."""
    return "\n".join(
        f"{s.name:10} {s.family:12} v{s.variant:<2} {s.base_url}  {s.label}" for s in sites
    )
