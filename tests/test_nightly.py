"""The nightly Prefect flow end to end against the local test portal (on the test run's one
Prefect server: the ``prefect_server`` fixture in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from nianbao.demo.portal import start_portal
from nianbao.flows.nightly import nightly
from nianbao.flows.warehouse import connect

LOADABLE = ("html", "json-html")  # report pages whose own body carries the tables


def portal_ids_of(portal, site: str) -> set[str]:
    base = portal.site(site).base_url
    return {r["portal_id"] for r in portal.registry_rows() if r["list_url"].startswith(base + "/")}


def query(data: Path, sql: str, params: tuple = ()) -> list[tuple]:
    con = connect(data)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def table_url(e) -> str:
    """Where a report's tables are: its page, or for an image-only report (H3) the image."""
    return e.attachment_url if e.content == "images" else e.url


@pytest.fixture(scope="module")
def nights(tmp_path_factory, prefect_server):
    """Three nights: a first crawl, an unchanged night, a night with one portal down and one
    listing emptied.  Returns the portal's ground truth and each night's result."""
    tmp = tmp_path_factory.mktemp("nightly")
    data = tmp / "data"
    with start_portal(seed=0, faults=False) as portal:
        registry = portal.write_registry(tmp / "registry.csv")
        expected = [
            e
            for e in portal.expected_reports(reachable_only=True)
            if e.content in LOADABLE and e.format in ("2019", "2021")
        ]
        images = [e for e in portal.expected_reports(reachable_only=True) if e.content == "images"]
        failing, emptied = portal_ids_of(portal, "vsb"), portal_ids_of(portal, "cicro")
        run = {"registry": str(registry), "data": str(data), "delay": 0.01}
        first = nightly(**run)
        after_first = query(data, "SELECT count(*), sum(n_facts) FROM reports")[0]
        second = nightly(**run)
        after_second = query(data, "SELECT count(*), sum(n_facts) FROM reports")[0]
        portal.fail_site("vsb")
        portal.empty_listing("cicro")
        third = nightly(**run)
    return {
        "data": data,
        "expected": expected,
        "images": images,
        "failing": failing,
        "emptied": emptied,
        "runs": (first, second, third),
        "counts": (after_first, after_second),
    }


def test_every_report_lands_once(nights):
    data, expected = nights["data"], nights["expected"]
    first = nights["runs"][0]["run"]
    rows = query(data, "SELECT source_url, report_id, n_facts, format, errors FROM reports")
    urls = [r[0] for r in rows]
    assert len(urls) == len(set(urls)) == len({r[1] for r in rows})
    assert {e.url for e in expected} <= set(urls)
    assert first["status"] == "ok"
    assert first["extracted"] == len(rows)
    # every report complete, or saying which rows it could not read
    assert all(r[2] in (198, 200) or r[4] for r in rows)
    assert sum(r[2] in (198, 200) for r in rows) >= len(rows) - 3
    facts = query(data, "SELECT count(*) FROM facts")[0][0]
    assert facts == sum(r[2] for r in rows) == first["facts_loaded"]
    assert first["warehouse_version"] is not None  # the version its load wrote


def test_values_match_the_portal_ground_truth(nights):
    data, expected = nights["data"], nights["expected"]
    got = {
        (u, code): raw
        for u, code, raw in query(
            data, "SELECT r.source_url, f.code, f.raw FROM facts f JOIN reports r USING (report_id)"
        )
    }
    errors = dict(query(data, "SELECT source_url, errors FROM reports"))
    checked = missing = 0
    for e in expected:
        for code, printed in (e.values or {}).items():
            if (e.url, code) in got:
                assert got[(e.url, code)] == printed.strip(), (e.url, code)
                checked += 1
            else:  # a cell the page does not print (row cut short): said, not guessed
                table, item, _ = code.split(".")
                assert any(m.startswith(f"{table}.{item}:") for m in errors[e.url]), (e.url, code)
                missing += 1
    assert checked > 10_000 and missing < checked / 100


def test_second_night_is_incremental(nights):
    first, second, _ = (n["run"] for n in nights["runs"])
    assert second["new"] == 0
    assert second["extracted"] == 0 and second["facts_loaded"] == 0
    assert second["unchanged"] > 0
    assert nights["counts"][0] == nights["counts"][1]
    assert second["status"] == "ok"


def test_failing_portal_and_emptied_listing_are_unhealthy(nights):
    third = nights["runs"][2]
    health = {p["portal_id"]: p for p in third["portals"]}
    for pid in nights["failing"]:
        assert health[pid]["health"] == "unhealthy", health[pid]
        assert health[pid]["reason"].startswith("portal failed"), health[pid]
    for pid in nights["emptied"]:
        assert health[pid]["health"] == "unhealthy"
        assert "listing returned nothing after listing" in health[pid]["reason"]
    others = set(health) - nights["failing"] - nights["emptied"]
    assert all(health[p]["health"] == "ok" for p in others)
    assert third["run"]["status"] == "degraded"
    assert third["run"]["unhealthy"] == len(nights["failing"]) + len(nights["emptied"])
    # snapshots of the failing portal stay in the warehouse
    assert (
        query(nights["data"], "SELECT count(*), sum(n_facts) FROM reports")[0]
        == nights["counts"][0]
    )


def test_runs_and_portal_health_views(nights):
    data = nights["data"]
    runs = query(data, "SELECT status, extracted FROM runs ORDER BY started_at")
    assert [r[0] for r in runs] == ["ok", "ok", "degraded"]
    # a run that loaded something names the warehouse version it wrote; the others loaded nothing
    versions = [v for (v,) in query(data, "SELECT warehouse_version FROM runs ORDER BY started_at")]
    assert versions == [nights["runs"][0]["run"]["warehouse_version"], None, None]
    unhealthy = query(
        data, "SELECT portal_id, reason FROM portal_health WHERE health = 'unhealthy' ORDER BY 1"
    )
    assert {p for p, _ in unhealthy} == nights["failing"] | nights["emptied"]


def test_reposted_report_is_marked_as_a_duplicate(nights):
    """The portal re-posts reports in a second column (H14), one of them as a screenshot of
    its title and tables (H3): two URLs, one report."""
    reposted: dict[str, list[str]] = {}
    for e in nights["expected"] + nights["images"]:
        reposted.setdefault(e.report_id, []).append(table_url(e))
    copies = [sorted(urls) for urls in reposted.values() if len(urls) > 1]
    assert copies, "the test portal re-posts at least one report"
    dups = query(
        nights["data"],
        "SELECT d.source_url, r.source_url FROM report_duplicates d "
        "JOIN reports r ON r.report_id = d.duplicate_of",
    )
    found = [sorted(pair) for pair in dups]
    assert all(pair in found for pair in copies)
    # other duplicates are a report page and its own attachment carrying the same tables
    for pair in found:
        assert (
            pair in copies
            or pair[0].rsplit("/", 3)[0] == pair[1].rsplit("/", 3)[0]
            or any("download" in u or "attach" in u for u in pair)
        )


def test_image_only_report_is_read_by_ocr(nights):
    """A report posted only as a screenshot of its tables (H3) is loaded with every cell of its
    ground truth, and with the agency and year its title line states: OCR runs inside the
    flow's extraction workers."""
    images = nights["images"]
    assert images, "the test portal posts at least one report as an image"
    facts: dict[str, dict[str, str]] = {}
    for url, code, raw in query(
        nights["data"],
        "SELECT r.source_url, f.code, f.raw FROM facts f JOIN reports r USING (report_id)",
    ):
        facts.setdefault(url, {})[code] = raw
    for e in images:
        assert e.attachment_url.endswith((".png", ".jpg")) and e.values
        expected = {code: printed.strip() for code, printed in e.values.items()}
        assert facts.get(e.attachment_url) == expected, e.attachment_url
        meta = query(
            nights["data"],
            "SELECT agency, year FROM reports WHERE source_url = ?",
            (e.attachment_url,),
        )
        assert meta == [(e.agency, e.year)]
    assert "reading failed" not in (nights["runs"][0]["run"]["detail"] or "")
