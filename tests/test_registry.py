"""The registry file, `nianbao registry check`, platform expansion and aggregator proposals,
`nianbao registry discover` — against the demo portal (HTTP only on 127.0.0.1)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from nianbao.demo import portal as portal_mod
from nianbao.extract import documents_log as dlog
from nianbao.extract.crawler import CrawlConfig, Crawler
from nianbao.extract.expansion import agency_of_title, column_of_report
from nianbao.extract.http import HttpConfig
from nianbao.extract.registry import (
    RegistryError,
    load_registry,
    parse_registry,
    write_registry,
)
from nianbao.extract.registry_growth import PROPOSED_FILE, load_derived
from nianbao.flows.cli import main

FAST = ["--delay", "0", "--timeout", "1", "--retries", "1"]


@pytest.fixture(scope="module")
def portal():
    with portal_mod.start_portal(seed=0, faults=True, stall_seconds=0.5) as p:
        yield p


# --------------------------------------------------------------------------- the file


def test_kinds_verified_at_and_old_files() -> None:
    old = "portal_id,agency,level,region_code,list_url,adapter,notes\na,甲,city,320800,http://a.gov.cn/nb/,,x"
    (row,) = parse_registry(old.splitlines())
    assert (row.kind, row.verified_at, row.parent) == ("column", "", "")
    header = "portal_id,agency,level,region_code,list_url,adapter,kind,verified_at,notes"
    good = [
        header,
        "p,乙,county,320813,http://b.gov.cn/bmxxgk/,,platform,2026-12-01,src",
        "g,丙,province,320000,http://c.gov.cn/nb/,,aggregator,,src",
    ]
    rows = parse_registry(good)
    assert [(r.kind, r.verified_at) for r in rows] == [
        ("platform", "2026-12-01"),
        ("aggregator", ""),
    ]
    bad = [header, "q,丁,city,320800,http://d.gov.cn/,,hub,yesterday,src"]
    with pytest.raises(RegistryError) as err:
        parse_registry(bad, "portals.csv")
    assert "kind 'hub' unknown" in str(err.value) and "verified_at 'yesterday'" in str(err.value)


def test_write_registry_round_trips(tmp_path: Path) -> None:
    header = "portal_id,agency,level,region_code,list_url,adapter,kind,verified_at,notes"
    rows = parse_registry(
        [header, 'p,"乙,局",county,320813,http://b.gov.cn/x/,trs,column,,"a, ""b"""']
    )
    path = write_registry(tmp_path / "r.csv", rows)
    assert load_registry(path) == rows
    assert not list(tmp_path.glob(".r.csv*"))  # no temporary file left beside it


def test_report_addresses_give_their_columns() -> None:
    cases = {
        "http://js.changchun.gov.cn/zcbm/styjrswj/ndbg/202401/t20240115_3271106.html": "http://js.changchun.gov.cn/zcbm/styjrswj/ndbg/",
        "http://cqqj.gov.cn/zwgk_159/zfxxgknb/qzfxxgknb/202403/t20240327_13086081_wap.html": "http://cqqj.gov.cn/zwgk_159/zfxxgknb/qzfxxgknb/",
        "https://www.zhanjiang.gov.cn/zjsfw/bmdh/dfz/zwgk/xxgkndbg/content/post_1871569.html": "https://www.zhanjiang.gov.cn/zjsfw/bmdh/dfz/zwgk/xxgkndbg/",
        "http://www.sz.gov.cn/gkmlpt/content/11/11100/post_11100584.html#19236": "http://www.sz.gov.cn/gkmlpt/index",
        "http://www.nbjb.gov.cn/art/2024/1/20/art_1229214366_58923.html": "http://www.nbjb.gov.cn/col/col1229214366/index.html",
        "https://www.yuan.gov.cn/public/6596471/25874903.html": "https://www.yuan.gov.cn/public/column/6596471?type=4&action=list",
        "https://www.xyq.gov.cn/xyq/c100122/202401/c04_163476.shtml": "https://www.xyq.gov.cn/xyq/c100122/",
    }  # fmt: skip
    for report, column in cases.items():
        assert column_of_report(report) == column, report
    assert column_of_report("http://a.gov.cn/nb2023.html") is None
    assert agency_of_title("洪泽区财政局2023年政府信息公开工作年度报告") == "洪泽区财政局"
    assert agency_of_title("国家税务总局二〇二三年政府信息公开工作年度报告") == "国家税务总局"
    assert agency_of_title("2023年政府信息公开工作年度报告") == ""


# --------------------------------------------------------------------------- check


def _expected(portal) -> dict[str, tuple[int, dict[str, int]]]:
    """Per registry row: the report entries a polite crawler can list, and per year."""
    years: dict[str, Counter] = {}
    for rep in portal.expected_reports(reachable_only=True):
        years.setdefault(rep.portal_id, Counter())[str(rep.year)] += 1
    return {pid: (sum(c.values()), dict(sorted(c.items()))) for pid, c in years.items()}


def test_check_json_matches_the_demo_ground_truth(portal, tmp_path: Path, capsys) -> None:
    registry = portal.write_registry(tmp_path / "portals.csv")
    data = tmp_path / "data"
    argv = ["registry", "check", "--registry", str(registry), "--data", str(data), "--json"]
    assert main([*argv, *FAST]) == 0
    rows = {r["portal_id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert set(rows) == {r["portal_id"] for r in portal.registry_rows()}
    verdicts = {pid: r["verdict"] for pid, r in rows.items()}
    assert {pid for pid, v in verdicts.items() if v == "blocked"} == {
        "demo-trs-jsl",  # 加速乐 shell
        "demo-trs-rs",  # 瑞数 412
        "demo-yunsuo",  # 云锁
    }
    assert verdicts["demo-legacy-moved"] == "moved"  # 301 → 301 → 404
    assert verdicts["demo-closed"] == "robots" and rows["demo-closed"]["robots"] == "disallowed"
    assert verdicts["demo-legacy-loop"] == "unreachable"  # a redirect loop
    expected = _expected(portal)
    for pid, (listed, years) in expected.items():
        assert verdicts[pid] == "ok", (pid, rows[pid])
        assert (rows[pid]["listed"], rows[pid]["years"]) == (listed, years), pid
        assert rows[pid]["newest_year"] == max(int(y) for y in years)
    assert rows["demo-platform"]["agencies"] == len(portal.expected_derived("demo-platform")) == 3
    agg = rows["demo-province-sxnb"]
    assert (agg["verdict"], agg["proposed"]) == ("ok", len(portal.expected_proposals()))
    assert agg["listed"] == sum(
        1 for i in portal.expected_items("demo-province-sxnb") if i.kind == "offsite"
    )
    assert rows["demo-trs-szf"]["cms"] == "trs" and rows["demo-hanweb-gxt"]["cms"] == "hanweb"
    assert all(r["reachable"] for pid, r in rows.items() if pid != "demo-closed")
    assert portal.request_log("xinqu") == []  # proposals are never fetched
    # kept: the registry_status view shows each row's latest check
    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW c AS SELECT * FROM read_parquet('{data}/warehouse/registry_checks/*.parquet')"
    )
    assert con.execute("SELECT count(*) FROM c").fetchone()[0] == len(rows)


def test_check_marks_verified_rows_and_keeps_status(portal, tmp_path: Path, capsys) -> None:
    registry = portal.write_registry(tmp_path / "portals.csv")
    data = tmp_path / "data"
    base = ["registry", "check", "--registry", str(registry), "--data", str(data), *FAST]
    assert (
        main([*base, "--portal", "demo-trs-szf", "--portal", "demo-closed", "--mark-verified"]) == 0
    )
    capsys.readouterr()
    after = {p.portal_id: p for p in load_registry(registry)}
    assert len(after["demo-trs-szf"].verified_at) == 10  # today's date
    assert after["demo-closed"].verified_at == "" and after["demo-trs-fgw"].verified_at == ""
    assert main([*base, "--portal", "demo-trs-szf"]) == 0
    from nianbao.flows.warehouse_views import connect

    con = connect(data)
    status = con.execute(
        "SELECT portal_id, verdict FROM registry_status ORDER BY portal_id"
    ).fetchall()
    assert status == [("demo-closed", "robots"), ("demo-trs-szf", "ok")]
    assert con.execute("SELECT count(*) FROM registry_checks").fetchone()[0] == 3


def test_check_user_mistakes_are_one_line(tmp_path: Path, capsys) -> None:
    assert main(["registry", "check", "--registry", str(tmp_path / "none.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "registry file not found" in err


# --------------------------------------------------------------------------- the crawl


def _crawl(portal, registry: Path, data: Path):
    http = HttpConfig(delay=0.0, connect_timeout=1.0, read_timeout=0.5, retries=1)
    return Crawler(load_registry(registry), data, CrawlConfig(http=http)).run()


def test_crawl_expands_platforms_and_proposes_aggregated_hosts(portal, tmp_path: Path) -> None:
    ids = ["demo-platform", "demo-province-sxnb", "demo-trs-szf"]
    registry = tmp_path / "portals.csv"
    rows = [r for r in portal.registry_rows() if r["portal_id"] in ids]
    with registry.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    data = tmp_path / "data"
    summary = _crawl(portal, registry, data)
    derived = load_derived(data)
    want = {c.list_url: c.agency for c in portal.expected_derived("demo-platform")}
    assert {d.list_url: d.agency for d in derived} == want
    assert {d.parent for d in derived} == {"demo-platform"}
    assert {d.level for d in derived if "城关镇" in d.agency} == {"township"}
    by_id = {s.portal_id: s for s in summary.portals}
    assert by_id["demo-platform"].derived == 3
    for d in derived:  # each agency column was crawled as a row of its own
        got = {
            x.url
            for x in dlog.current_documents(data)
            if x.portal_id == d.portal_id and x.kind == "report"
        }
        col = next(c for c in portal.expected_derived() if c.list_url == d.list_url)
        assert got == {i.url for i in col.items if i.kind == "report"}, d.agency
        assert by_id[d.portal_id].status == "ok" and by_id[d.portal_id].parent == "demo-platform"
    assert by_id["demo-platform"].listed == sum(by_id[d.portal_id].listed for d in derived)
    with (data / PROPOSED_FILE).open(encoding="utf-8") as fh:
        proposed = list(csv.DictReader(fh))
    assert {p["list_url"] for p in proposed} == {c.list_url for c in portal.expected_proposals()}
    assert {p["agency"] for p in proposed} == {c.agency for c in portal.expected_proposals()}
    assert all(p["proposed_by"] == "demo-province-sxnb" and p["report_url"] for p in proposed)
    assert portal.request_log("xinqu") == []
    first_seen = {p["list_url"]: p["first_seen"] for p in proposed}
    # a night whose platform is unreadable keeps the agencies it had; proposals keep first_seen
    portal.fail_site("platform")
    try:
        summary = _crawl(portal, registry, data)
    finally:
        portal.restore_site("platform")
    assert {s.portal_id: s.status for s in summary.portals}["demo-platform"] == "failed"
    assert {d.list_url for d in load_derived(data)} == set(want)
    with (data / PROPOSED_FILE).open(encoding="utf-8") as fh:
        again = {p["list_url"]: p["first_seen"] for p in csv.DictReader(fh)}
    assert again == first_seen


# --------------------------------------------------------------------------- discover


@pytest.mark.parametrize(
    ("site", "column"),
    [
        ("trs", "/zwgk/zfxxgk/zfxxgknb/szf/index.html"),
        ("province", "/zwgk/zfxxgknb/szf/index.html"),
        ("yunsuo", None),  # the column is behind a 云锁 wall: nothing lists reports
    ],
)
def test_discover_prints_a_ready_row(portal, site: str, column: str | None, capsys) -> None:
    base = portal.site(site).base_url
    code = main(["registry", "discover", base + "/", *FAST])
    out = capsys.readouterr()
    if column is None:
        assert code == 1 and "no 年报 column found" in out.err
        return
    assert code == 0
    (row,) = list(csv.DictReader(out.out.splitlines()))
    assert row["list_url"] == base + column
    assert row["agency"] == portal.site(site).label and row["kind"] == "column"
    assert row["notes"].startswith("unverified; discovered by `nianbao registry discover`")
    (parsed,) = parse_registry(out.out.splitlines())  # a valid registry row as printed
    assert parsed.list_url == base + column


# --------------------------------------------------------------------------- data/portals.csv


def test_shipped_registry_covers_the_country() -> None:
    from nianbao.core.regions import region

    path = Path(__file__).resolve().parents[1] / "data" / "portals.csv"
    portals = load_registry(path)  # unique ids, known kinds and adapters, absolute URLs
    assert len(portals) >= 300
    assert len({p.list_url for p in portals}) == len(portals)
    unknown = [(p.portal_id, p.region_code) for p in portals if region(p.region_code) is None]
    assert unknown == []
    provinces = {p.region_code[:2] for p in portals if p.region_code != "100000"}
    assert len(provinces) >= 31
    assert all("source:" in p.notes for p in portals), [
        p.portal_id for p in portals if "source:" not in p.notes
    ]
    assert all(p.verified_at or p.notes.startswith("unverified") for p in portals)
    assert {"column", "platform"} <= {p.kind for p in portals}
    levels = Counter(p.level for p in portals)
    assert {"national", "province", "city", "county", "township"} <= set(levels)
    entry_points = {p.region_code[:2] for p in portals if p.kind in ("platform", "aggregator")}
    assert len(entry_points) >= 10
