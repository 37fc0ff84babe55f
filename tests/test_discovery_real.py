"""Discovery on real captured listing pages (tests/fixtures/real/listings/, README.md there).

The canned pages of test_discovery.py were written from the same notes as the adapters, so a
shared misunderstanding cannot show there.  Here each page is one a government site really
served, captured by others and brought by ``tests/fixtures/real/get.py`` (never committed); its
report links, titles and dates were typed by hand from the HTML.  The page is served at its
address by a fetch stub, further pages are absent, and discovery must find exactly the typed
reports and ask for exactly the typed further pages.  A page whose file is absent is skipped,
naming the repository to clone.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from nianbao.extract.discovery import detect_adapter, discover
from nianbao.extract.discovery.base import Ctx, Link, Page

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "real"))

from real_pages import FAMILIES, Captured, Listing, load_homepages, load_listings  # noqa: E402

LISTINGS = load_listings()
HOMEPAGES = load_homepages()


@dataclass
class Web:
    """URL → body; anything else is a 404.  Records every request in order."""

    pages: dict[str, str]
    asked: list[str] = field(default_factory=list)

    def __call__(self, url, *, method="GET", data=None, json=None, referer=None, headers=None):
        self.asked.append(url)
        body = self.pages.get(url)
        if body is None:
            return Page(url, url, 404, "not_found", "", None, "HTTP 404")
        return Page(url, url, 200, "ok", body, "text/html", None)


def _need(item: Captured) -> None:
    if not item.present():
        pytest.skip(
            f"files/{item.kind}s/{item.file} absent: clone {item.source.repository} and run "
            "tests/fixtures/real/get.py --from <folder of clones>"
        )


def test_corpus_is_well_formed() -> None:
    """Every TOML parsed (the loaders raised otherwise); ids, files and typed URLs unique."""
    items: list[Captured] = [*LISTINGS, *HOMEPAGES]
    assert len({i.id for i in items}) == len(items)
    assert len({i.sha256 for i in items}) == len(items), "the same page twice"
    for listing in LISTINGS:
        assert listing.family in FAMILIES
        urls = [e.url for e in listing.entries]
        assert len(set(urls)) == len(urls), listing.id
        if listing.annual_report_column:
            assert listing.reports, f"{listing.id}: a 年报 column without a typed report"


@pytest.mark.parametrize("listing", LISTINGS, ids=[x.id for x in LISTINGS])
def test_discovery_finds_the_typed_reports(listing: Listing) -> None:
    _need(listing)
    web = Web({listing.address: listing.html()})
    found = discover(web, listing.address)
    assert found.status == "ok", found.error
    assert found.adapters[0] == listing.family
    got = sorted((e.url, e.title, e.list_date) for e in found.entries)
    want = sorted((r.url, r.title, r.date) for r in listing.reports)
    assert got == want
    assert all(not e.verify for e in found.entries)  # full titles: nothing left to confirm
    assert web.asked[0] == listing.address
    assert web.asked[1:] == listing.asks  # the further pages, all absent


@pytest.mark.parametrize("listing", LISTINGS, ids=[x.id for x in LISTINGS])
def test_adapter_reads_every_typed_entry(listing: Listing) -> None:
    """Every list item of the page (reports or not) comes out of the adapter with the title
    and date the page shows: the title filter is not what hides a misread row."""
    _need(listing)
    page = Page(listing.address, listing.address, 200, "ok", listing.html(), "text/html")
    adapter = detect_adapter(page)
    ctx = Ctx(Web({}), listing.address, max_pages=0)  # this page only
    links = {x.url: x for x in adapter.walk(ctx, page) if isinstance(x, Link)}
    for entry in listing.entries:
        assert entry.url in links, entry.title
        assert (links[entry.url].title, links[entry.url].date) == (entry.title, entry.date)


# --------------------------------------------------------------------------- home pages


@pytest.mark.parametrize("home", HOMEPAGES, ids=lambda h: h.id)
def test_home_page_leads_to_its_typed_annual_report_column(home) -> None:
    """`nianbao registry discover`'s first step on a real page: the best same-host column link
    is the typed 年报 link; a page without one offers the typed 信息公开 link to follow."""
    from nianbao.extract.columns import column_links, disclosure_links

    _need(home)
    page = Page(home.address, home.address, 200, "ok", home.html(), "text/html", None)
    found = column_links(page)
    if home.nianbao:
        assert found, "no column link found"
        assert found[0].url in {link.url for link in home.nianbao}
        assert found[0].text in {link.title for link in home.nianbao}
    else:
        assert {link.url for link in home.follow} & set(disclosure_links(page))
