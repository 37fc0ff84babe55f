"""The audit site in a real headless browser: Debian's ``chromium`` driven by Playwright.

Each page is opened from disk (file://) as a reader would open a copied folder: no request may
fail, none may leave file:// (the site works offline and leaks nothing), no console error, no
dialog (a hostile snapshot's script must not run), and the index's screenshot is not blank.
No browser is downloaded (no ``playwright install``): the test uses the system's chromium and
skips, saying why, when there is none or it cannot start (``.ci/run`` installs it when it can).
"""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from test_site import site  # noqa: F401  (the module-scoped site fixture)

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        except Exception as e:  # no display libraries, sandbox refused, a broken install
            pytest.skip(f"chromium at {CHROMIUM} cannot start: {str(e).splitlines()[0]}")
        try:
            yield b
        finally:
            b.close()


def visit(browser, path, screenshot: bool = False) -> tuple[list[str], bytes | None]:
    """Open ``path`` as file://; return what went wrong (and a screenshot)."""
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    page.on(
        "request",
        lambda r: r.url.startswith("file://") or problems.append(f"not file://: {r.url}"),
    )
    try:
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_timeout(200)  # late console messages and image loads
        shot = page.screenshot(full_page=False) if screenshot else None
        broken = page.evaluate(
            "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
            ".map(i => i.src)"
        )
        problems += [f"image not shown: {src}" for src in broken]
    finally:
        page.close()
    return problems, shot


def test_index_loads_offline_and_is_not_blank(browser, site):  # noqa: F811
    problems, shot = visit(browser, site["out"] / "index.html", screenshot=True)
    assert problems == []
    from PIL import Image

    im = Image.open(io.BytesIO(shot)).convert("RGB")
    small = im.resize((im.width // 4, im.height // 4))
    pixels = np.asarray(small).reshape(-1, 3)
    non_white = float((pixels.min(axis=1) < 235).mean())
    colours = len(np.unique(pixels, axis=0))
    assert non_white > 0.05, f"index screenshot nearly blank ({non_white:.1%} non-white)"
    assert colours > 50, f"index screenshot has only {colours} colours"


@pytest.mark.parametrize("name", ["html", "pdf", "failing", "hostile", "local"])
def test_audit_pages_load_offline(browser, site, name):  # noqa: F811
    problems, _ = visit(browser, site["out"] / "report" / f"{site['ids'][name]}.html")
    assert problems == []


def test_agency_and_listing_pages_load_offline(browser, site):  # noqa: F811
    out = site["out"]
    pages = [
        out / "agencies-1.html",
        out / "failures-1.html",
        *sorted(out.glob("agency/*.html"))[:3],
    ]
    for path in pages:
        problems, _ = visit(browser, path)
        assert problems == [], path


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory, prefect_server):
    """The site of a demo warehouse: one night of the nightly flow against the demo portal
    with its faults on (what ``nianbao demo`` runs), then ``build_site``."""
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    from nianbao.demo.portal import start_portal
    from nianbao.flows.nightly import nightly
    from nianbao.flows.site import build_site

    tmp = tmp_path_factory.mktemp("demo-site")
    data = tmp / "data"
    with start_portal(seed=0, faults=True, stall_seconds=1.0) as portal:
        registry = portal.write_registry(tmp / "registry.csv")
        nightly(registry=str(registry), data=str(data), delay=0.01)
    return build_site(data / "site", data)


def test_every_page_of_the_demo_warehouse_site_opens_offline(browser, demo_site):
    pages = sorted(demo_site.path.rglob("*.html"))
    assert len(pages) == demo_site.pages > 100
    assert demo_site.reports > 100 and demo_site.agencies > 30
    problems = {}
    for path in pages:
        found, _ = visit(browser, path)
        if found:
            problems[str(path.relative_to(demo_site.path))] = found
    assert problems == {}
