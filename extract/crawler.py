"""The crawl engine: registry → discovery → report pages → attachments, logged and stored.

Design for a nightly crawl of unreliable sites:

* **Incremental.** Every document is fetched with the validators (ETag/Last-Modified) of its
  last stored body; a 304 costs no body and the stored bytes stand in for it (listings are still
  parsed, attachments still checked).
* **Resumable.** Bodies go to the content-addressed raw store *before* their row is logged, and
  log parts are written atomically; a crawl killed at any point and started again re-walks the
  registry with conditional requests and ends with the same documents, none lost, none twice.
* **Honest.** Every fetch is a row with its outcome (new, changed, unchanged, removed,
  not_found, blocked, disallowed, refused, failed).  A report that disappears (404, soft 404) is
  marked removed and its snapshot kept; a blocked or failing column never turns into "no
  reports", and reports it listed before are re-checked, not dropped.
* **Polite and parallel.** Portals are grouped by host and the groups run in parallel threads;
  the shared :class:`~nianbao.extract.http.HttpClient` keeps one request per host in flight.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Unpack
from urllib.parse import unquote, urlencode, urlsplit

from nianbao.core import delta_log
from nianbao.core.vocabulary import report_year

from . import charset
from . import documents_log as dlog
from .discovery import Entry, Page, discover
from .discovery.base import (
    IMAGE_EXTS,
    FetchOptions,
    absolute,
    clean_text,
    file_ext,
    is_report_title,
    parse_html,
)
from .expansion import Proposal, expand_platform, propose_from_aggregator
from .html import container_tier, gkmlpt_body, in_hidden
from .http import (
    BLOCKED,
    NOT_FOUND,
    NOT_MODIFIED,
    OK,
    AllowList,
    FetchResult,
    HttpClient,
    HttpConfig,
    host_key,
)
from .probe import may_visit_home
from .rawstore import RawStore
from .registry import Portal
from .registry_growth import save_derived, save_proposals

BODY_OUTCOMES = ("new", "changed", "unchanged")
COUNTED = (
    "new",
    "changed",
    "unchanged",
    "removed",
    "not_found",
    "blocked",
    "failed",
    "refused",
    "disallowed",
)

Progress = Callable[..., None]


class CrawlLocked(RuntimeError):
    """Another crawl holds the data directory."""


@dataclass(slots=True)
class CrawlConfig:
    http: HttpConfig = field(default_factory=HttpConfig)
    workers: int = 8  # host groups crawled in parallel
    max_pages: int = 300  # listing requests per portal
    recheck_unlisted: bool = True  # re-check known reports the listing no longer shows
    flush_rows: int = 500  # a documents-log flush is one Delta commit: at most one per 5 s
    flush_s: float = 5.0
    # A stored file (attachment, or a report that is a file) whose server gave no ETag or
    # Last-Modified is not downloaded again until its copy is this old: file URLs are in
    # practice immutable, and gateway URLs expire anyway (portals.md §3.3).
    file_max_age_days: float = 30.0
    # When the crawl's end also compacts the documents log (core.delta_log.Policy: > 64 small
    # files, or weekly), and how long replaced files stay (30 days).
    log_policy: delta_log.Policy = delta_log.POLICY


@dataclass(slots=True)
class PortalSummary:
    """Counts for one portal; report/attachment documents for new…removed, all fetches else."""

    portal_id: str
    status: str = "pending"  # discovery status: ok | empty | blocked | failed | … | error
    adapter: str = ""
    listed: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    not_found: int = 0
    blocked: int = 0
    failed: int = 0
    refused: int = 0
    disallowed: int = 0
    requests: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    parent: str = ""  # a derived row: the platform it was expanded from
    derived: int = 0  # a platform: agency columns it expanded to tonight
    proposed: int = 0  # an aggregator/platform: columns on unregistered hosts it proposed
    # the registry row's agency, so the warehouse knows agencies that published nothing
    agency: str = ""
    level: str = ""
    region_code: str = ""
    kind: str = ""

    @classmethod
    def of(cls, portal: Portal) -> PortalSummary:
        return cls(
            portal.portal_id,
            agency=portal.agency,
            level=portal.level,
            region_code=portal.region_code,
            kind=portal.kind,
        )


@dataclass(slots=True)
class CrawlSummary:
    run_id: str
    data_dir: Path
    portals: list[PortalSummary]
    started: datetime
    finished: datetime | None = None
    log_note: str | None = None  # documents-log maintenance failed (the crawl's rows stand)

    def totals(self) -> dict[str, int]:
        keys = ("listed", *COUNTED)
        return {k: sum(getattr(p, k) for p in self.portals) for k in keys}


# --------------------------------------------------------------------------- attachments


def find_attachments(text: str, base: str) -> list[tuple[str, str]]:
    """Files a report page links to (pdf/doc/docx/wps/xls/xlsx/ofd…) and images of its body.

    Links inside hidden blocks (暗链, portals.md §7.9) are ignored; the gkmlpt body, which is
    JSON-escaped inside ``_CONFIG.DETAIL``, is decoded first.
    """
    out: dict[str, str] = {}
    htmls = [text]
    body = gkmlpt_body(text)
    if body:
        htmls.append(body)
    for html in htmls:
        root = parse_html(html, base)
        if root is None:
            continue
        for a in root.iter("a"):
            url = absolute(base, a.get("href"))
            if url and file_ext(url) and not in_hidden(a):
                out.setdefault(url, clean_text(a.text_content()) or _name(url))
        for container in root.iter():
            if not isinstance(container.tag, str) or not container_tier(container):
                continue
            for img in container.iter("img"):
                url = absolute(base, img.get("src"))
                if url and file_ext(url) in IMAGE_EXTS and not in_hidden(img):
                    out.setdefault(url, clean_text(img.get("alt")) or _name(url))
    return list(out.items())


def _name(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def page_title(text: str) -> str:
    """The report title a detail page states (ArticleTitle meta, h1, else <title>)."""
    root = parse_html(text, "http://x/")
    if root is None:
        return ""
    for xp in ('//meta[@name="ArticleTitle"]/@content', "//h1", "//title"):
        for node in root.xpath(xp):
            value = clean_text(node if isinstance(node, str) else node.text_content())
            if value and value.lower() not in ("null", "none"):
                return value
    return ""


# --------------------------------------------------------------------------- the crawler


class Crawler:
    """One crawl run over a list of portals into a data directory."""

    def __init__(
        self,
        portals: Iterable[Portal],
        data_dir: str | os.PathLike[str],
        config: CrawlConfig | None = None,
        progress: Progress | None = None,
        allow_urls: Iterable[str] | None = None,
    ) -> None:
        self.portals = list(portals)
        self.data_dir = Path(data_dir)
        self.config = config or CrawlConfig()
        self._progress = progress
        urls = list(allow_urls) if allow_urls is not None else [p.list_url for p in self.portals]
        self.allow = AllowList(urls)
        self.store = RawStore(self.data_dir)
        self.run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
        self._claimed: dict[str, str] = {}
        self._seeded: set[str] = set()
        self._claim_lock = threading.Lock()
        self.client: HttpClient | None = None
        self.log: dlog.DocumentsLog | None = None
        self.known: dict[str, dlog.Known] = {}
        self.derived: dict[str, list[Portal]] = {}  # platform id → tonight's agency columns
        self.proposals: list[Proposal] = []

    # -- running --------------------------------------------------------------------------

    def run(self, portal_ids: Iterable[str] | None = None) -> CrawlSummary:
        with self.session(portal_ids) as groups:
            workers = max(1, min(self.config.workers, len(groups) or 1))
            with ThreadPoolExecutor(workers, thread_name_prefix="crawl") as pool:
                futures = [pool.submit(self._crawl_group, g, self.summaries) for g in groups]
                for f in futures:
                    f.result()
        return self.finish()

    @contextmanager
    def session(self, portal_ids: Iterable[str] | None = None) -> Iterator[list[list[Portal]]]:
        """Hold the data-dir lock, the HTTP client and the documents log for one run; yields the
        portals grouped by host (a group must be crawled by one worker, in order).  Lets an
        orchestrator (the Prefect flow) schedule the groups itself."""
        wanted = set(portal_ids) if portal_ids else None
        portals = [p for p in self.portals if wanted is None or p.portal_id in wanted]
        if wanted:
            missing = wanted - {p.portal_id for p in portals}
            if missing:
                raise KeyError(f"unknown portal id(s): {', '.join(sorted(missing))}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.summary = CrawlSummary(
            self.run_id, self.data_dir, [PortalSummary.of(p) for p in portals], _now()
        )
        self.summaries = {s.portal_id: s for s in self.summary.portals}
        with DataLock(self.data_dir):
            self.store.sweep_temp()
            self.known = dlog.known_documents(self.data_dir)
            groups: dict[str, list[Portal]] = defaultdict(list)
            for p in portals:
                groups[host_key(p.list_url)].append(p)
            self.progress("start", run_id=self.run_id, portals=len(portals), hosts=len(groups))
            with (
                HttpClient(self.allow, self.config.http) as client,
                dlog.DocumentsLog(
                    self.data_dir, self.config.flush_rows, self.config.flush_s
                ) as log,
            ):
                self.client, self.log = client, log
                try:
                    yield list(groups.values())
                finally:
                    self.client = self.log = None
            self._save_growth()
            self._maintain_log()  # the log is flushed; the lock is still ours

    def _save_growth(self) -> None:
        """Write tonight's derived rows and proposals (under the crawl lock, like the log)."""
        if self.derived:
            rows = [d for ds in self.derived.values() for d in ds]
            save_derived(self.data_dir, self.derived, rows)
        if self.proposals:
            registered = {host_key(p.list_url) for p in self.portals}
            save_proposals(self.data_dir, self.proposals, registered)

    def add_derived(self, platform: Portal, rows: list[Portal]) -> list[PortalSummary]:
        """Register a platform's agency columns for tonight: a summary each (thread-safe)."""
        with self._claim_lock:
            self.derived[platform.portal_id] = rows
            out = []
            for row in rows:
                s = self.summaries.get(row.portal_id)
                if s is None:
                    s = self.summaries[row.portal_id] = PortalSummary.of(row)
                    self.summary.portals.append(s)
                s.parent = platform.portal_id
                out.append(s)
            return out

    def add_proposals(self, proposals: list[Proposal]) -> None:
        with self._claim_lock:
            self.proposals.extend(proposals)

    def _maintain_log(self) -> None:
        """Fold tonight's rows into the documents state and compact the log when due, under
        the crawl lock (so never beside another writer), so the next crawl starts from a
        small state instead of every row ever written.  A failure costs the next start some
        time, never this crawl: it is noted, not raised."""
        try:
            done = dlog.maintain(self.data_dir, self.config.log_policy)
        except Exception as e:  # noqa: BLE001 - the night's rows are committed already
            self.summary.log_note = f"documents log maintenance failed: {type(e).__name__}: {e}"
            self.progress("log_maintained", error=self.summary.log_note)
        else:
            self.progress("log_maintained", maintenance=done)

    def finish(self) -> CrawlSummary:
        """Close the run's summary (after ``session`` has ended)."""
        self.summary.finished = _now()
        self.progress("finish", summary=self.summary)
        return self.summary

    def _crawl_group(self, portals: list[Portal], by_id: dict[str, PortalSummary]) -> None:
        for portal in portals:
            s = by_id[portal.portal_id]
            self.progress("portal_start", portal_id=portal.portal_id, url=portal.list_url)
            try:
                PortalCrawl(self, portal, s).run()
            except Exception as e:  # one broken portal must not stop the night
                s.status, s.error = "error", f"{type(e).__name__}: {e}"
            self.progress("portal_done", portal_id=portal.portal_id, summary=s)

    def progress(self, event: str, **info: object) -> None:
        """Tell the display; a display error must never break the crawl."""
        if self._progress is not None:
            try:
                self._progress(event, **info)
            except Exception:  # noqa: BLE001 - cosmetic only
                pass

    def seed_once(self, host: str) -> bool:
        """True the first time a host asks for a home-page cookie visit in this run."""
        with self._claim_lock:
            if host in self._seeded:
                return False
            self._seeded.add(host)
            return True

    def claim(self, url: str, portal_id: str) -> bool:
        """First portal to reach a URL in this run fetches it; later sightings only count."""
        with self._claim_lock:
            if url in self._claimed:
                return False
            self._claimed[url] = portal_id
            return True


class PortalCrawl:
    """The work for one registry column within a run."""

    def __init__(self, crawler: Crawler, portal: Portal, summary: PortalSummary) -> None:
        self.c = crawler
        self.portal = portal
        self.s = summary

    def run(self) -> None:
        if self.portal.kind == "platform":
            self.expand()
        elif self.portal.kind == "aggregator":
            self.propose()
        else:
            self.column()

    def expand(self) -> None:
        """A platform: find its agencies' columns, then crawl each as a row of its own."""
        exp = expand_platform(self.listing_fetch, self.portal)
        self.s.status, self.s.error, self.s.adapter = exp.status, exp.error, "platform"
        self.s.notes.extend(exp.notes)
        self.s.derived, self.s.proposed = len(exp.derived), len(exp.proposed)
        self.c.add_proposals(exp.proposed)
        if exp.status not in ("ok", "empty"):
            return  # keep last night's derived rows: tonight says nothing about them
        summaries = self.c.add_derived(self.portal, exp.derived)
        for row, s in zip(exp.derived, summaries, strict=True):
            self.c.progress("portal_start", portal_id=row.portal_id, url=row.list_url)
            try:
                PortalCrawl(self.c, row, s).run()
            except Exception as e:  # one agency's column must not stop the platform
                s.status, s.error = "error", f"{type(e).__name__}: {e}"
            self.c.progress("portal_done", portal_id=row.portal_id, summary=s)
        self.s.listed = sum(s.listed for s in summaries)

    def propose(self) -> None:
        """An aggregator: its links to unregistered hosts become proposed rows; reports on
        registered hosts are their own columns' to fetch."""
        registered = {host_key(p.list_url) for p in self.c.portals}
        exp = propose_from_aggregator(self.listing_fetch, self.portal, registered)
        self.s.status, self.s.error, self.s.adapter = exp.status, exp.error, "aggregator"
        self.s.notes.extend(exp.notes)
        self.s.listed, self.s.proposed = len(exp.linked), len(exp.proposed)
        self.c.add_proposals(exp.proposed)

    def column(self) -> None:
        found = discover(
            self.listing_fetch,
            self.portal.list_url,
            self.portal.adapter,
            max_pages=self.c.config.max_pages,
        )
        self.s.status, self.s.error = found.status, found.error
        self.s.adapter = ",".join(found.adapters)
        self.s.notes.extend(found.notes)
        self.s.listed = len(found.entries)
        listed = set()
        for entry in found.entries:
            listed.add(entry.url)
            if self.c.claim(entry.url, self.portal.portal_id):
                self.report(entry)
        # A listing that failed or was blocked says nothing about its reports: leave them be
        # rather than hammer a site that is down; an empty listing is worth checking behind.
        if self.c.config.recheck_unlisted and found.status in ("ok", "empty"):
            self.recheck(listed)

    # -- fetching ---------------------------------------------------------------------------

    def fetch(
        self,
        url: str,
        kind: str,
        *,
        extra: dict[str, object] | None = None,
        **options: Unpack[FetchOptions],
    ) -> tuple[dict, bytes]:
        """Fetch conditionally, store the body, return the log row (not yet logged) and body."""
        client, store = self.c.client, self.c.store
        assert client is not None
        method = options.get("method") or "GET"
        post = _post_data(options.get("data"), options.get("json"))
        key = dlog.doc_key(url, method, post)
        known = self.c.known.get(key)
        cond = known if (known and known.sha256 and store.has(known.sha256)) else None
        use_cond = cond is not None and method == "GET"
        if use_cond and kind != "listing" and self._still_fresh_file(cond):
            return self._kept(url, cond, kind, extra), store.get(cond.sha256)  # type: ignore[arg-type]
        res: FetchResult = client.fetch(
            url,
            **options,
            etag=cond.etag if use_cond else None,
            last_modified=cond.last_modified if use_cond else None,
        )
        self.s.requests += res.attempts
        outcome, sha, body, ctype, cset, etag, modified = self._received(res, known, cond)
        row = dlog.DocumentFetch(
            url=url,
            final_url=res.final_url,
            portal_id=self.portal.portal_id,
            method=method,
            post_data=post,
            status=res.status,
            outcome=outcome,
            content_type=ctype,
            charset=cset,
            sha256=sha,
            bytes=len(body) if sha else None,
            transferred=len(res.body) if res.outcome == OK else 0,
            etag=etag if sha else None,
            last_modified=modified if sha else None,
            fetched_at=_now(),
            error=res.error,
            attempts=res.attempts,
            kind=kind,
            adapter=self.s.adapter or self.portal.adapter or None,
            run_id=self.c.run_id,
            **(extra or {}),
        ).row()
        if sha:  # a second fetch of it in this run (a platform's agency page that is also
            # that agency's column) is then conditional, and not a second "new"
            self.c.known[key] = dlog.Known(etag, modified, sha, outcome, row, row)
        return row, body

    def _received(
        self, res: FetchResult, known: dlog.Known | None, cond: dlog.Known | None
    ) -> tuple[str, str | None, bytes, str | None, str | None, str | None, str | None]:
        """What a fetch brought: (outcome, sha256, body, content type, charset, ETag,
        Last-Modified) — a new body stored, a 304 answered from the stored one, or none."""
        store = self.c.store
        ctype, cset = res.content_type, res.declared_charset
        etag, modified = res.etag, res.last_modified
        if res.outcome == OK:
            sha = store.put(res.body)
            prev = known.sha256 if known else None
            outcome = "new" if prev is None else ("unchanged" if sha == prev else "changed")
            return outcome, sha, res.body, ctype, cset, etag, modified
        if res.outcome == NOT_MODIFIED and cond is not None:
            prev_row = cond.body_row or {}
            return (
                "unchanged",
                cond.sha256,
                store.get(cond.sha256),  # type: ignore[arg-type]
                prev_row.get("content_type") or ctype,
                prev_row.get("charset") or cset,
                etag or cond.etag,
                modified or cond.last_modified,
            )
        outcome = res.outcome
        if res.outcome == NOT_MODIFIED:
            outcome, res.error = "failed", "304 without a stored body"
        elif res.outcome == NOT_FOUND:
            outcome = "removed" if known and known.sha256 else "not_found"
        return outcome, None, b"", ctype, cset, etag, modified

    def _still_fresh_file(self, known: dlog.Known) -> bool:
        body = known.body_row or {}
        if known.etag or known.last_modified or _is_html(body.get("content_type"), b""):
            return False
        fetched = body.get("fetched_at")
        age = (_now() - fetched).total_seconds() / 86400 if fetched else None
        return age is not None and age < self.c.config.file_max_age_days

    def _kept(self, url: str, known: dlog.Known, kind: str, extra: dict | None) -> dict:
        """The row for a stored file taken as unchanged without a request."""
        body = known.body_row or {}
        return dlog.DocumentFetch(
            url=url,
            final_url=body.get("final_url") or url,
            portal_id=self.portal.portal_id,
            method="GET",
            status=None,
            outcome="unchanged",
            content_type=body.get("content_type"),
            charset=body.get("charset"),
            sha256=known.sha256,
            bytes=body.get("bytes"),
            transferred=0,
            fetched_at=_now(),
            error=None,
            attempts=0,  # with status None: no request was made
            kind=kind,
            adapter=self.s.adapter or self.portal.adapter or None,
            run_id=self.c.run_id,
            **(extra or {}),
        ).row()

    def record(self, row: dict) -> None:
        assert self.c.log is not None
        self.c.log.append(row)
        outcome = row["outcome"]
        if row["kind"] == "listing" and outcome in BODY_OUTCOMES + ("removed", "not_found"):
            pass  # listing pages are plumbing; their failures still count below
        elif outcome in COUNTED:
            setattr(self.s, outcome, getattr(self.s, outcome) + 1)
        self.c.progress(
            "fetch",
            portal_id=self.portal.portal_id,
            url=row["url"],
            doc_kind=row["kind"],
            outcome=outcome,
        )

    def listing_fetch(self, url: str, **options: Unpack[FetchOptions]) -> Page:
        """Discovery's fetch: logged as kind "listing"; a 304 hands back the stored body.

        A column blocked by a WAF cookie check is tried once more after visiting the site's
        home page, which hands such cookies out to every visitor (the 网站卫士 ``wzws_`` case,
        portals.md §3.5); challenges that need JS or a 412 stay blocked.
        """
        row, body = self._listing_once(url, options)
        if row["outcome"] == BLOCKED and self._may_seed(url, row):
            home = "{0.scheme}://{0.netloc}/".format(urlsplit(url))
            home_row, _ = self.fetch(home, "listing", extra={"listing_url": self.portal.list_url})
            self.record(home_row)
            if home_row["outcome"] in BODY_OUTCOMES:
                row, body = self._listing_once(url, options)
        ok = row["outcome"] in BODY_OUTCOMES
        text = ""
        if ok:
            ctype = row["content_type"] or ""
            text, _ = charset.decode(body, row["charset"], html="html" in ctype or not ctype)
        outcome = "ok" if ok else ("not_found" if row["outcome"] == "removed" else row["outcome"])
        return Page(
            url,
            row["final_url"] or url,
            row["status"],
            outcome,
            text,
            row["content_type"],
            row["error"],
        )

    def _may_seed(self, url: str, row: dict) -> bool:
        return may_visit_home(row["error"]) and self.c.seed_once(host_key(url))

    def _listing_once(self, url: str, options: FetchOptions) -> tuple[dict, bytes]:
        row, body = self.fetch(
            url,
            "listing",
            extra={"listing_url": self.portal.list_url, "parent_url": options.get("referer")},
            **options,
        )
        self.record(row)
        return row, body

    # -- reports ----------------------------------------------------------------------------

    def report(self, entry: Entry) -> None:
        extra = {
            "title": entry.title,
            "list_date": entry.list_date,
            "year": entry.year,
            "listing_url": entry.listing_url,
        }
        row, body = self.fetch(entry.url, "report", referer=entry.listing_url, extra=extra)
        html = row["outcome"] in BODY_OUTCOMES and _is_html(row["content_type"], body)
        text = ""
        if html:
            text, _ = charset.decode(body, row["charset"], html=True)
            if entry.verify:
                title = page_title(text)
                if is_report_title(title):
                    row["title"], row["year"] = title, report_year(title)
                else:
                    row["kind"] = "other"  # a truncated list title that was not a report
        self.record(row)
        if html and row["kind"] == "report":
            self.attachments(entry.url, text, row)

    def attachments(self, parent: str, text: str, parent_row: dict) -> None:
        for url, name in find_attachments(text, parent_row["final_url"] or parent):
            if url.split("#")[0] == parent.split("#")[0]:
                continue
            if not self.c.claim(url, self.portal.portal_id):
                continue
            extra = {
                "parent_url": parent,
                "title": name,
                "year": parent_row.get("year"),
                "listing_url": parent_row.get("listing_url"),
            }
            row, _ = self.fetch(url, "attachment", referer=parent, extra=extra)
            self.record(row)

    def recheck(self, listed: set[str]) -> None:
        """Known reports of this portal that the listings no longer show: still there?"""
        for known in list(self.c.known.values()):
            row = known.row
            if (
                row["kind"] != "report"
                or row["portal_id"] != self.portal.portal_id
                or row["url"] in listed
                or not known.sha256
            ):
                continue
            if not self.c.claim(row["url"], self.portal.portal_id):
                continue
            entry = Entry(
                row["url"],
                row["title"] or "",
                row["list_date"],
                row["year"],
                row["listing_url"] or self.portal.list_url,
                attachment=not _is_html(row["content_type"], b""),
            )
            self.report(entry)


# --------------------------------------------------------------------------- helpers


class DataLock:
    """An exclusive flock on ``<data>/.crawl.lock``; the kernel drops it if we are killed.

    Held by a crawl for its whole run, and by anything else that writes the documents log
    (``maintain_documents_log``): the log has one writer at a time."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / ".crawl.lock"
        self.fd: int | None = None

    def __enter__(self) -> DataLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise CrawlLocked(f"another crawl is running on {self.path.parent}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)


_DataLock = DataLock  # the name the tests know


def maintain_documents_log(
    data_dir: str | os.PathLike[str], policy: delta_log.Policy = delta_log.POLICY
) -> dlog.LogMaintenance | None:
    """Compact the documents log now (``nianbao optimize``), under the crawl lock; None if a
    crawl holds it (that crawl maintains the log when it ends)."""
    try:
        with DataLock(Path(data_dir)):
            return dlog.maintain(data_dir, policy, force=True)
    except CrawlLocked:
        return None


def _post_data(data: dict[str, str] | None, json_body: object | None) -> str | None:
    if data is not None:
        return urlencode(sorted(data.items()))
    if json_body is not None:
        return json.dumps(json_body, sort_keys=True, ensure_ascii=False)
    return None


def _is_html(content_type: str | None, body: bytes) -> bool:
    if content_type:
        return "html" in content_type or "xml" in content_type and b"<html" in body[:2048].lower()
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


def _now() -> datetime:
    return datetime.now(UTC)


current_documents = dlog.current_documents  # the report documents a data dir holds now

__all__ = [
    "BLOCKED",
    "CrawlConfig",
    "CrawlLocked",
    "CrawlSummary",
    "Crawler",
    "DataLock",
    "PortalSummary",
    "current_documents",
    "find_attachments",
    "maintain_documents_log",
    "page_title",
]
