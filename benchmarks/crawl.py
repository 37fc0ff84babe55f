"""Crawler throughput against the local test portal (nothing leaves 127.0.0.1).

1. Politeness off: the same URL list (every page, API answer and file a crawl of the test
   portal fetched) fetched by nianbao's HttpClient (delay 0, one request in flight per host,
   hosts in parallel) and by a minimal Scrapy spider at full concurrency; pages/s and the ratio.
2. Politeness on: a full ``Crawler`` run (discovery, storage, log) over many hosts with a
   delay; wall time against the bound the busiest host imposes, (requests − 1) × delay.

Scrapy is only needed for part 1's comparison; install it into the project venv with

    /work/venv/bin/pip install scrapy        # (or: pip install scrapy)

Run:  python benchmarks/crawl.py [--rounds 3] [--delay 0.2] [--portals 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from nianbao.demo.portal import REGISTRY_COLUMNS, start_portal
from nianbao.extract import documents_log as dlog
from nianbao.extract.crawler import CrawlConfig, Crawler
from nianbao.extract.http import AllowList, HttpClient, HttpConfig, host_key
from nianbao.extract.registry import load_registry

SCRAPY_SPIDER = textwrap.dedent(
    """
    import json, sys, time
    import scrapy
    import scrapy.downloadermiddlewares.cookies as cookies_mw
    from scrapy.crawler import CrawlerProcess
    from tldextract import TLDExtract

    # never fetch the public-suffix list from the internet (cookies are off anyway)
    cookies_mw._split_domain = TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)
    urls = json.load(open(sys.argv[1]))
    got = []

    class Fetch(scrapy.Spider):
        name = "fetch"

        async def start(self):  # Scrapy >= 2.13
            for u in urls:
                yield scrapy.Request(u, dont_filter=True, callback=self.parse)

        def start_requests(self):  # older Scrapy
            for u in urls:
                yield scrapy.Request(u, dont_filter=True, callback=self.parse)

        def parse(self, response):
            got.append(len(response.body))

    process = CrawlerProcess(settings={
        "LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": False, "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False, "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "RETRY_ENABLED": False, "HTTPCACHE_ENABLED": False,
        "USER_AGENT": "nianbao-benchmark (scrapy)",
    })
    process.crawl(Fetch)
    t = time.perf_counter()
    process.start()
    print(json.dumps({"seconds": time.perf_counter() - t, "pages": len(got)}))
    """
)


def combined_registry(portals: list, path: Path) -> Path:
    """One registry over several portal instances (portal ids made unique per instance)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=REGISTRY_COLUMNS)
        w.writeheader()
        for n, portal in enumerate(portals):
            for row in portal.registry_rows():
                w.writerow({**row, "portal_id": f"p{n}-{row['portal_id']}"})
    return path


def url_list(portal, work: Path) -> list[str]:
    """Every GET URL a politeness-off crawl fetched with a 200 body."""
    registry = load_registry(combined_registry([portal], work / "one.csv"))
    cfg = CrawlConfig(http=HttpConfig(delay=0.0, retries=1), workers=32)
    summary = Crawler(registry, work / "urls", cfg).run()
    rows = dlog.read_log(work / "urls").to_pylist()
    return sorted(
        {
            r["url"].split("#")[0]
            for r in rows
            if r["run_id"] == summary.run_id and r["method"] == "GET" and r["status"] == 200
        }
    )


def nianbao_fetch(urls: list[str]) -> tuple[float, int]:
    """Our client, politeness off: delay 0, still one request in flight per host."""
    client = HttpClient(AllowList(urls), HttpConfig(delay=0.0, robots=False, retries=0))
    by_host: dict[str, list[str]] = defaultdict(list)
    for u in urls:
        by_host[host_key(u)].append(u)

    def run(host_urls: list[str]) -> int:
        return sum(1 for u in host_urls if client.fetch(u).ok)

    started = time.perf_counter()
    with ThreadPoolExecutor(max(1, len(by_host))) as pool:
        ok = sum(pool.map(run, by_host.values()))
    seconds = time.perf_counter() - started
    client.close()
    return seconds, ok


def scrapy_fetch(urls: list[str], work: Path) -> tuple[float, int] | None:
    try:
        import scrapy  # noqa: F401
    except ImportError:
        return None
    (work / "urls.json").write_text(json.dumps(urls))
    (work / "spider.py").write_text(SCRAPY_SPIDER)
    out = subprocess.run(
        [sys.executable, str(work / "spider.py"), str(work / "urls.json")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    line = [x for x in out.stdout.splitlines() if x.startswith("{")]
    if not line:
        print(out.stderr[-2000:], file=sys.stderr)
        return None
    data = json.loads(line[-1])
    return data["seconds"], data["pages"]


def politeness_on(portals: list, work: Path, delay: float) -> None:
    registry = load_registry(combined_registry(portals, work / "many.csv"))
    for p in portals:
        p.clear_log()
    cfg = CrawlConfig(http=HttpConfig(delay=delay, retries=1), workers=64)
    started = time.perf_counter()
    Crawler(registry, work / "polite", cfg).run()
    wall = time.perf_counter() - started
    per_host = Counter(e.host for p in portals for e in p.request_log())
    bounds = {h: (n - 1) * delay for h, n in per_host.items()}
    busiest = max(bounds, key=bounds.get)  # type: ignore[arg-type]
    serial = sum(bounds.values())
    print(
        f"\npoliteness on: delay {delay:.2f} s, {len(per_host)} hosts, {sum(per_host.values())} requests"
    )
    print(f"  busiest host {busiest}: {per_host[busiest]} requests → bound {bounds[busiest]:.2f} s")
    print(f"  wall time {wall:.2f} s = {wall / bounds[busiest]:.2f} × the busiest host's bound")
    print(
        f"  (all hosts one after another would need ≥ {serial:.1f} s: {serial / wall:.1f}× slower)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=3, help="passes over the URL list (part 1)")
    ap.add_argument("--delay", type=float, default=0.2, help="per-host delay for part 2")
    ap.add_argument(
        "--portals", type=int, default=2, help="portal instances for part 2 (×16 hosts)"
    )
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        portals = [
            stack.enter_context(start_portal(seed=n, faults=False)) for n in range(args.portals)
        ]
        urls = url_list(portals[0], work) * args.rounds
        hosts = len({host_key(u) for u in urls})
        print(
            f"politeness off: {len(urls)} fetches of {len(urls) // args.rounds} URLs on {hosts} hosts"
        )
        ours_s, ours_n = nianbao_fetch(urls)
        print(
            f"  nianbao HttpClient : {ours_n / ours_s:8.1f} pages/s  ({ours_n} pages in {ours_s:.2f} s)"
        )
        theirs = scrapy_fetch(urls, work)
        if theirs is None:
            print("  scrapy             : not installed — /work/venv/bin/pip install scrapy")
        else:
            s, n = theirs
            print(f"  scrapy (16 conc.)  : {n / s:8.1f} pages/s  ({n} pages in {s:.2f} s)")
            if n:
                print(f"  ratio nianbao/scrapy = {(ours_n / ours_s) / (n / s):.2f}")
        politeness_on(portals, work, args.delay)
    return 0


if __name__ == "__main__":
    sys.exit(main())
