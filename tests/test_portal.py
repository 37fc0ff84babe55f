"""The fixture portal (nianbao.demo.portal): family shapes, paging, ground truth, faults, logs."""

from __future__ import annotations

import csv
import html as htmlmod
import json
import re
import time
from collections.abc import Iterator
from importlib import resources
from urllib.parse import urljoin

import pytest
import requests
from nianbao.demo.portal import REGISTRY_COLUMNS, Portal, start_portal
from nianbao.demo.portal.reports import load_seed_reports

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 nianbao-test"
PROXY = "/module/web/jpage/dataproxy.jsp"
JPAAS_API = "/api-gateway/jpaas-publish-server/front/page/build/unit"
EWB_API = "/EWB-FRONT/rest/lightfrontaction/getgovinfolist"


@pytest.fixture(scope="module")
def clean() -> Iterator[Portal]:
    """A portal without injected hazards (shapes and ground truth)."""
    with start_portal(seed=0, faults=False) as p:
        yield p


@pytest.fixture
def faulty() -> Iterator[Portal]:
    """A fresh portal with every hazard armed (first-attempt faults not yet consumed)."""
    with start_portal(seed=0, faults=True, stall_seconds=1.0) as p:
        yield p


def sess() -> requests.Session:
    s = requests.Session()
    s.headers["User-Agent"] = UA
    return s


def base(p: Portal, name: str) -> str:
    return p.site(name).base_url


def column(p: Portal, portal_id: str):  # noqa: ANN201 - Column
    return next(c for c in p.columns() if c.portal_id == portal_id)


def item_urls(p: Portal, portal_id: str) -> set[str]:
    return {i.url for i in column(p, portal_id).items}


def hrefs(text: str, page_url: str) -> set[str]:
    return {
        urljoin(page_url, htmlmod.unescape(h))
        for h in re.findall(r"""<a [^>]*href=["']([^"']+)["']""", text)
    }


# ------------------------------------------------------------------ lifecycle and ground truth


def test_sites_ports_and_shutdown() -> None:
    p = start_portal(seed=1, faults=False)
    keep = sess()
    try:
        assert (
            keep.get(p.sites[0].base_url + "/", timeout=5).status_code == 200
        )  # pooled connection
        ports = [s.port for s in p.sites]
        assert len(ports) == len(set(ports)) >= 15
        assert all(s.base_url.startswith("http://127.0.0.1:") for s in p.sites)
        assert {s.variant for s in p.sites if s.in_registry} >= set(range(1, 11))
        s = sess()
        for site in p.sites:
            assert s.get(site.base_url + "/", timeout=5).status_code == 200
    finally:
        p.stop()
    p.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):
        requests.get(p.sites[0].base_url + "/", timeout=2)
    with pytest.raises(requests.ConnectionError):  # kept-alive connections are closed too
        keep.get(p.sites[0].base_url + "/", timeout=2)


def test_registry_rows_and_csv(clean: Portal, tmp_path) -> None:  # noqa: ANN001
    rows = clean.registry_rows()
    assert [list(r) for r in rows] == [REGISTRY_COLUMNS] * len(rows)
    assert len({r["portal_id"] for r in rows}) == len(rows)
    assert all(r["adapter"] == "" for r in rows)
    assert {r["adapter"] for r in clean.registry_rows(adapters=True)} >= {
        "trs",
        "hanweb",
        "jpaas",
        "gkmlpt",
        "vsb",
    }
    registry_hosts = {s.base_url for s in clean.sites if s.in_registry}
    assert all(any(r["list_url"].startswith(h) for h in registry_hosts) for r in rows)
    path = clean.write_registry(tmp_path / "portals.csv")
    with path.open(encoding="utf-8") as fh:
        read = list(csv.DictReader(fh))
    assert read == rows


def test_ground_truth_covers_families_years_and_formats(clean: Portal) -> None:
    reports = clean.expected_reports()
    assert {r.format for r in reports} == {"2021", "2019", "pre2019"}
    assert {"html", "pdf", "doc", "docx", "images", "json-html", "wps"} <= {
        r.content for r in reports
    }
    assert all(r.reachable for r in reports)  # faults off: everything is reachable
    for site in clean.sites:
        if not site.in_registry:
            continue
        mine = [r for r in reports if r.site == site.name]
        assert len({r.year for r in mine}) >= 3, site.name
        kinds = {i.kind for c in clean.columns() if c.site == site.name for i in c.items}
        assert {"report", "guide", "companion"} <= kinds, site.name
    assert any(r.source.startswith("seed:") for r in reports)
    assert any(r.detail_url is None and r.attachment_url for r in reports)  # H1
    dup = [r.report_id for r in reports]
    assert len(dup) > len(set(dup))  # H14: one report posted in two places


def test_values_follow_catalogue_and_identities(clean: Portal) -> None:
    cats = {}
    for fmt in ("2019", "2021"):
        text = (resources.files("nianbao.transform") / "data" / f"cells-{fmt}.csv").read_text(
            encoding="utf-8"
        )
        cats[fmt] = {
            ".".join((r["table"], r["item"], r["column"]))
            for r in csv.DictReader(text.splitlines())
        }
    for r in clean.expected_reports():
        if r.format == "pre2019":
            assert not r.values
            continue
        assert set(r.values) == cats[r.format], r.title
        v = r.values
        if any(x == "" for x in v.values()) or r.source != "synth":
            continue
        n = {k: float(x) for k, x in v.items()}
        for c in (
            "natural",
            "commercial",
            "research",
            "ngo",
            "legal_service",
            "other_org",
            "total",
        ):
            lhs = n[f"requests.new.{c}"] + n[f"requests.carried_over.{c}"]
            assert lhs == n[f"requests.result_total.{c}"] + n[f"requests.carried_forward.{c}"]
        for it in ("review", "suit_direct", "suit_after_review"):
            parts = sum(n[f"appeals.{it}.{c}"] for c in ("upheld", "corrected", "other", "pending"))
            assert n[f"appeals.{it}.total"] == parts


def test_seed_reports_parse() -> None:
    seeds = load_seed_reports()
    assert len(seeds) == 5
    s3 = next(d for d in seeds if d.source == "seed:003")
    assert s3.values["active.fees.amount"] == "1560"
    assert s3.values["requests.new.natural"] == "3"
    assert all(len(d.values) == 200 for d in seeds)


def test_every_report_is_fetchable_when_clean(clean: Portal) -> None:
    s = sess()
    magic = {"pdf": b"%PDF", "docx": b"PK", "doc": b"\xd0\xcf\x11\xe0", "wps": b"\xd0\xcf\x11\xe0"}
    for r in clean.expected_reports():
        resp = s.get(r.url, timeout=5)
        assert resp.status_code == 200, r.url
        if r.detail_url:
            cs = re.search(r"charset=([\w-]+)", resp.headers["Content-Type"]) or re.search(
                rb"charset=([\w-]+)", resp.content[:400]
            )
            name = cs.group(1) if cs else "gbk"
            text = resp.content.decode(name if isinstance(name, str) else name.decode(), "replace")
            assert r.title in text or r.title.encode("unicode_escape").decode() in text, r.url
        if r.attachment_url and r.content in magic:
            a = s.get(r.attachment_url, timeout=5)
            assert a.status_code == 200 and a.content.startswith(magic[r.content]), r.attachment_url


def test_same_seed_same_content() -> None:
    with start_portal(seed=3, faults=False) as a, start_portal(seed=3, faults=False) as b:

        def key(p: Portal) -> list[tuple]:
            return [
                (r.title, r.url.split("/", 3)[3], r.values.get("requests.new.total"))
                for r in p.expected_reports()
            ]

        assert key(a) == key(b)


# ------------------------------------------------------------------ families


def test_trs_static_paging_and_detail(clean: Portal) -> None:
    s, b = sess(), base(clean, "trs")
    col = column(clean, "demo-trs-szf")
    first = s.get(col.list_url, timeout=5).text
    n = int(re.search(r"createPageHTML\((\d+), 0, \"index\", \"html\"\)", first).group(1))
    assert n >= 2
    found = hrefs(first, col.list_url)
    for k in range(1, n):
        found |= hrefs(
            s.get(f"{b}/zwgk/zfxxgk/zfxxgknb/szf/index_{k}.html", timeout=5).text, col.list_url
        )
    assert item_urls(clean, "demo-trs-szf") <= found
    stub = s.get(f"{b}/zwgk/zfxxgk/zfxxgknb/szf/index_{n + 3}.html", timeout=5)
    assert stub.status_code == 200 and len(stub.content) < 400
    # var countPage + .shtml + td.huise rows; bare-dir column starting at index_2
    page1 = s.get(column(clean, "demo-trs-fgw").list_url, timeout=5).text
    assert "var countPage" in page1 and 'class="huise"' in page1
    assert s.get(f"{b}/zwgk/zfxxgk/zfxxgknb/jyj/index_1.html", timeout=5).status_code == 404
    assert s.get(f"{b}/zwgk/zfxxgk/zfxxgknb/jyj/index_2.html", timeout=5).status_code == 200
    rep = next(
        r for r in clean.expected_reports() if r.portal_id == "demo-trs-szf" and r.format == "2021"
    )
    detail = s.get(rep.url, timeout=5).text
    for marker in (
        'class="TRS_Editor"',
        ".TRS_Editor P{",
        "MsoNormalTable",
        "<o:p></o:p>",
        "rowspan=",
        "索引号",
        'name="PubDate"',
    ):
        assert marker in detail
    assert "…" in first  # truncated list titles, full title in a[title]


def test_hanweb_datastore_and_dataproxy(clean: Portal) -> None:
    s, b = sess(), base(clean, "hanweb")
    col = column(clean, "demo-hanweb-gxt")
    page = s.get(col.list_url, timeout=5).text
    assert '<script type="text/xml"><datastore>' in page and "<![CDATA[" in page
    cdata = set(re.findall(r"href='([^']+)'", page))
    ref = {"Referer": col.list_url}
    got_get, got_post = set(cdata), set(cdata)
    for pg in range(2, 10):
        xml = s.get(
            f"{b}{PROXY}?page={pg}&appid=1&webid=3&path=/&columnid=77278&unitid=301245&permissiontype=0",
            headers=ref,
            timeout=5,
        ).text
        if "<record>" not in xml:
            assert len(xml) < 60  # small empty datastore past the end
            break
        assert "<totalrecord>" in xml
        got_get |= set(re.findall(r"href='([^']+)'", xml))
    form = {
        "col": "1",
        "appid": "1",
        "webid": "3",
        "path": "/",
        "columnid": "77278",
        "unitid": "301245",
        "permissiontype": "0",
    }
    xml = s.post(
        f"{b}{PROXY}?startrecord=1&endrecord=60&perpage=20", data=form, headers=ref, timeout=5
    ).text
    got_post |= set(re.findall(r"href='([^']+)'", xml))
    want = {u.removeprefix(b) for u in item_urls(clean, "demo-hanweb-gxt")}
    assert want == got_get == got_post
    # two jpage units on one page; encrypted nextgroup parameters
    two = s.get(column(clean, "demo-hanweb-tjj").list_url, timeout=5).text
    assert two.count("<datastore>") == 2
    enc = s.get(column(clean, "demo-hanweb-sjj").list_url, timeout=5).text
    blob = re.search(r"columnid=([^&]+)&unitid", enc).group(1)
    assert not blob.isdigit()
    xml = s.get(f"{b}{PROXY}?page=2&columnid={blob}", headers={"Referer": b + "/"}, timeout=5).text
    assert "<record>" in xml
    legacy = next(r for r in clean.expected_reports() if "legacy_markup" in r.hazards)
    assert "<DIV id=zoom>" in s.get(legacy.url, timeout=5).text
    att = next(r for r in clean.expected_reports() if r.site == "hanweb" and r.attachment_url)
    resp = s.get(att.attachment_url, timeout=5)
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"] and resp.content.startswith(
        b"%PDF"
    )


def test_jpaas_unit_api(clean: Portal) -> None:
    s, b = sess(), base(clean, "jpaas")
    col = column(clean, "demo-jpaas-scjg")
    shell = s.get(col.list_url, timeout=5).text
    assert "unitbuild.js" in shell and "queryData=\"{'webId'" in shell
    seen: set[str] = set()
    for n in range(1, 10):
        pj = json.dumps({"pageNo": n, "pageSize": "15"})
        frag = s.get(
            f"{b}{JPAAS_API}",
            params={"parseType": "bulidstatic", "pageType": "column", "paramJson": pj},
            timeout=5,
        ).json()
        if not frag["data"]["html"]:
            break
        seen |= hrefs(frag["data"]["html"], b + "/")
    assert seen == item_urls(clean, "demo-jpaas-scjg") and n >= 3
    a = s.get(
        f"{b}{JPAAS_API}", params={"paramJson": json.dumps({"pageNo": 1}), "pageNo": 2}, timeout=5
    ).json()
    c = s.get(f"{b}{JPAAS_API}", params={"paramJson": json.dumps({"pageNo": 1})}, timeout=5).json()
    assert a == c  # bare pageNo is ignored
    assert any("/col/col1229100/art/" in u for u in seen) and any(
        re.search(r"/art/\d{4}/\d+/\d+/art_", u) for u in seen
    )


def test_gd_portal_and_gkmlpt(clean: Portal) -> None:
    s, b = sess(), base(clean, "gd")
    idx = s.get(b + "/gkmlpt/index", timeout=5).text
    assert "SID: '755031'" in idx
    arts = []
    for pg in range(1, 10):
        data = s.get(
            f"{b}/gkmlpt/api/all/2811", params={"page": pg, "sid": "755031"}, timeout=5
        ).json()
        if not data["articles"]:
            break
        arts += data["articles"]
    assert data["classify"]["post_count"] == len(arts) == len(column(clean, "demo-gd-gkmlpt").items)
    assert (
        s.get(f"{b}/gkmlpt/api/all/2811?page=0&sid=755031", timeout=5).json()["articles"][0]
        == arts[0]
    )
    detail = s.get(arts[0]["url"], timeout=5).text
    assert "_CONFIG" in detail and "\\u003C" in detail and "<table" not in detail
    col = column(clean, "demo-gd-portal")
    p1 = s.get(col.list_url, timeout=5).text
    p2 = s.get(col.list_url.replace("index.html", "index_1.html"), timeout=5).text
    assert item_urls(clean, "demo-gd-portal") <= hrefs(p1, col.list_url) | hrefs(p2, col.list_url)
    assert (
        "article-content" in s.get(next(iter(item_urls(clean, "demo-gd-portal"))), timeout=5).text
    )


def test_anhui_departments_and_year_tabs(clean: Portal) -> None:
    s = sess()
    col = column(clean, "demo-anhui")
    rel = s.get(col.list_url, timeout=5).text
    depts = [u for u in hrefs(rel, col.list_url) if "action=list" in u]
    assert len(depts) == 3
    found: set[str] = set()
    for d in depts:
        page = s.get(d, timeout=5).text
        assert 'id="timeFrame"' in page and 'id="page_public_info"' in page
        for tab in [u for u in hrefs(page, d) if "year=" in u]:
            for pg in range(1, 6):
                t = s.get(tab + f"&page={pg}", timeout=5).text
                links = {u for u in hrefs(t, tab) if "/public/" in u and "/column/" not in u}
                if not links:
                    break
                found |= links
    assert found == item_urls(clean, "demo-anhui")
    frag = s.get(depts[0], headers={"X-Requested-With": "XMLHttpRequest"}, timeout=5).text
    assert frag.startswith("<ul")


def test_vsb_count_down_pages_and_growth() -> None:
    with start_portal(seed=0, faults=False) as p:
        s, b = sess(), base(p, "vsb")

        def crawl() -> tuple[dict[str, set[str]], set[str]]:
            pages, url = {}, p.site("vsb").base_url + "/xxgk/xxgknb.htm"
            while url:
                t = s.get(url, timeout=5).text
                pages[url] = {u for u in hrefs(t, url) if "/info/" in u}
                nxt = re.search(r'<a href="([^"]+)">下页</a>', t)
                url = urljoin(url, nxt.group(1)) if nxt else ""
            return pages, set().union(*pages.values())

        before, urls = crawl()
        assert urls == item_urls(p, "demo-vsb") and len(before) >= 2
        assert b + "/xxgk/xxgknb/1.htm" in before  # numbers count down to 1
        assert "v_news_content" in s.get(next(iter(urls)), timeout=5).text
        new = p.add_report("vsb")
        after, urls2 = crawl()
        assert new.url in urls2 and urls <= urls2
        assert before[b + "/xxgk/xxgknb/1.htm"] != after[b + "/xxgk/xxgknb/1.htm"] or len(
            after
        ) > len(before)


def test_cicro_gb2312_paging(clean: Portal) -> None:
    s, b = sess(), base(clean, "cicro")
    col = column(clean, "demo-cicro")
    r1 = s.get(col.list_url, timeout=5)
    assert r1.headers["Content-Type"].endswith("gb2312") and r1.content.decode("gb18030")
    nxt = re.search(r'<a href="([^"]+)">下一页</a>', r1.text).group(1)
    assert nxt.startswith("/info/?")  # the broken href
    assert s.get(b + htmlmod.unescape(nxt), timeout=5).status_code == 404
    r2 = s.get(
        f"{b}/info/iList.jsp?cur_page=2&tm_id=41&cat_id=10111", timeout=5
    )  # any parameter order
    rows1 = re.findall(r"<tr><td>\d+</td>", r1.text)
    assert len(rows1) == 15
    found = hrefs(r1.text, col.list_url) | hrefs(r2.text, col.list_url)
    assert item_urls(clean, "demo-cicro") <= found


def test_ewb_json_post(clean: Portal) -> None:
    s, b = sess(), base(clean, "ewb")
    col = column(clean, "demo-ewb")
    js = s.get(b + "/js/webBuilderCommon.js", timeout=5).text
    guid = re.search(r"siteGuid: '([^']+)'", js).group(1)
    body = {"siteGuid": guid, "categorynum": "001005003", "pageIndex": 0, "pageSize": 5}
    assert s.post(b + EWB_API, json=body, timeout=5).status_code == 404  # no Referer
    ref = {"Referer": col.list_url}
    seen = set()
    for i in range(5):
        data = s.post(b + EWB_API, json={**body, "pageIndex": i}, headers=ref, timeout=5).json()[
            "custom"
        ]["data"]
        if not data:
            break
        seen |= {b + d["infourl"] for d in data}
    assert seen == item_urls(clean, "demo-ewb")
    assert (
        s.post(b + EWB_API, json={**body, "pageSize": 80}, headers=ref, timeout=5).json()["custom"][
            "data"
        ]
        == []
    )
    assert (
        s.post(b + EWB_API, json={**body, "pageSize": 200}, headers=ref, timeout=5).status_code
        == 404
    )


def test_govcn_home_pages_and_json(clean: Portal) -> None:
    s, b = sess(), base(clean, "govcn")
    col = column(clean, "demo-govcn-xxgknb")
    found, k = set(), 0
    while True:
        url = col.list_url if k == 0 else col.list_url.replace("home.htm", f"home_{k}.htm")
        r = s.get(url, timeout=5)
        if r.status_code != 200:
            break
        found |= {u for u in hrefs(r.text, url) if "content_" in u}
        k += 1
    assert found == item_urls(clean, "demo-govcn-xxgknb") and k >= 2
    detail = s.get(next(iter(found)), timeout=5).text
    assert 'id="UCAP-CONTENT"' in detail and 'id="ti"' in detail and "pages-date" in detail
    shell = s.get(column(clean, "demo-govcn-bmnb").list_url, timeout=5).text
    assert "content_" not in shell and "search-gov/data" in shell
    data = s.get(
        b + "/search-gov/data", params={"t": "zhengcelibrary_bm", "p": 1, "n": 20}, timeout=5
    ).json()
    assert {d["url"] for d in data["searchVO"]["listVO"]} == item_urls(clean, "demo-govcn-bmnb")


def test_legacy_shells_frames_and_gbk(clean: Portal) -> None:
    s, b = sess(), base(clean, "legacy")
    shell = s.get(column(clean, "demo-legacy").list_url, timeout=5)
    assert len(shell.content) < 200 and 'location.replace("/xxgk/nb/index.htm")' in shell.text
    page = s.get(b + "/xxgk/nb/index.htm", timeout=5)
    assert page.headers["Content-Type"] == "text/html" and b"charset=gb2312" in page.content
    text = page.content.decode("gb18030")
    assert 'id="in_list"' in text and 'id="in_zfnb"' in text and 'width="1003"' in text
    meta = s.get(column(clean, "demo-legacy-jyj").list_url, timeout=5).text
    assert 'http-equiv="refresh"' in meta
    frame = s.get(b + "/zfxxgk/frame.htm", timeout=5).content.decode("gbk")
    assert "<iframe" in frame
    lst = s.get(b + "/zfxxgk/list_frame.htm", timeout=5).content.decode("gbk")
    assert hrefs(lst, b + "/zfxxgk/list_frame.htm") == item_urls(clean, "demo-legacy-jyj")
    pre = [r for r in clean.expected_reports() if r.site == "legacy" and r.format == "pre2019"]
    assert pre and "概述" in s.get(pre[0].url, timeout=5).content.decode("gbk")
    assert s.get(b + "/nope.htm", timeout=5).headers["Content-Type"].endswith("iso-8859-1")


# ------------------------------------------------------------------ faults


def test_fault_list_is_complete(faulty: Portal) -> None:
    kinds = {f.kind for f in faulty.expected_faults()}
    want = {
        "http_500", "http_503", "http_429", "http_429_retry_after", "stall", "reset", "truncated",
        "redirect_chain", "redirect_loop", "redirect_to_404", "gbk_no_charset_header", "wrong_charset",
        "challenge_412", "yunsuo", "robots_disallow_all", "robots_disallow_module", "offsite_link",
        "private_link", "conditional_get", "stub_past_end", "empty_past_end", "referer_required",
        "ua_reset", "waf_cookie", "cookie_302_self", "expiring_url", "error_iso_8859_1", "gbk_no_meta",
        "antibot_shell",
    }  # fmt: skip
    assert want <= kinds
    assert len({f.id for f in faulty.expected_faults()}) == len(faulty.expected_faults())
    blocked = [r for r in faulty.expected_reports() if not r.reachable]
    assert {r.site for r in blocked} >= {"trs-rs", "yunsuo", "closed", "hanweb-b"}
    with start_portal(seed=0, faults=False) as p:
        assert p.expected_faults() == []


def test_status_faults_then_ok(faulty: Portal) -> None:
    s = sess()
    for f in faulty.expected_faults():
        if not f.kind.startswith("http_") or f.times == 0:
            continue
        code = int(f.kind.split("_")[1])
        ref = {"Referer": f.url}
        for _ in range(f.times):
            r = s.get(f.url, headers=ref, timeout=5)
            assert r.status_code == code, f
            assert ("Retry-After" in r.headers) == f.kind.endswith("retry_after")
        assert s.get(f.url, headers=ref, timeout=5).status_code != code
    faulty.reset_faults()
    f500 = next(f for f in faulty.expected_faults() if f.kind == "http_500")
    assert s.get(f500.url, timeout=5).status_code == 500


def test_network_faults(faulty: Portal) -> None:
    s = sess()
    by = {f.kind: f for f in faulty.expected_faults()}
    t0 = time.monotonic()
    with pytest.raises(requests.Timeout):
        s.get(by["stall"].url, timeout=0.3)
    assert s.get(by["stall"].url, timeout=5).status_code == 200
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.get(by["reset"].url, headers={"User-Agent": UA}, cookies={"CT6T": "1"}, timeout=5)
    assert s.get(by["reset"].url, timeout=5).status_code == 200
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.get(by["truncated"].url, timeout=5)
    assert s.get(by["truncated"].url, timeout=5).status_code == 200
    assert time.monotonic() - t0 < 5
    with pytest.raises(requests.ConnectionError):  # non-browser UA on the Guangdong host
        requests.get(
            base(faulty, "gd") + "/", headers={"User-Agent": "python-requests/2"}, timeout=5
        )


def test_redirects(faulty: Portal) -> None:
    s = sess()
    by = {f.kind: f for f in faulty.expected_faults()}
    r = s.get(by["redirect_chain"].url, timeout=5)
    assert r.status_code == 200 and [h.status_code for h in r.history] == [301, 302]
    assert 'http-equiv="refresh"' in r.text
    assert s.get(by["redirect_to_404"].url, timeout=5).status_code == 404
    with pytest.raises(requests.TooManyRedirects):
        s.get(by["redirect_loop"].url, timeout=5)


def test_anti_bot_robots_and_cookies(faulty: Portal) -> None:
    s = sess()
    jsl = s.get(column(faulty, "demo-trs-jsl").list_url, timeout=5)
    assert jsl.status_code == 521 and len(jsl.content) == 109 and "__jsl_clearance" in jsl.text
    rs = s.get(column(faulty, "demo-trs-rs").list_url, timeout=5)
    assert rs.status_code == 412 and "$_ts" in rs.text and 'r="m"' in rs.text
    ys = requests.get(column(faulty, "demo-yunsuo").list_url, timeout=5)
    assert (
        ys.status_code == 200
        and "security_verify_data" in ys.text
        and "yunsuo_session_verify" in ys.cookies
    )
    assert s.get(base(faulty, "closed") + "/robots.txt", timeout=5).text.endswith("Disallow: /\n")
    assert "Disallow: /module/" in s.get(base(faulty, "hanweb-b") + "/robots.txt", timeout=5).text
    anhui = column(faulty, "demo-anhui").list_url
    assert "wzwschallenge" in sess().get(anhui, timeout=5).text
    s2 = sess()
    s2.get(base(faulty, "anhui") + "/", timeout=5)
    assert (
        "timeFrame" not in s2.get(anhui, timeout=5).text
        and 'ul class="clearfix"' in s2.get(anhui, timeout=5).text
    )
    r = sess().get(column(faulty, "demo-cicro").list_url, timeout=5)
    assert (
        r.status_code == 200
        and [h.status_code for h in r.history] == [302]
        and "info-list" in r.text
    )
    assert s.post(
        base(faulty, "hanweb") + PROXY + "?startrecord=1&endrecord=9&perpage=3",
        data={"columnid": "77278"},
        timeout=5,
    ).status_code in (403, 429)


def test_never_fetch_links_are_listed(faulty: Portal) -> None:
    items = faulty.expected_items("demo-legacy")
    private = [i.url for i in items if i.kind == "private"]
    assert {u.split("/")[2].split(":")[0] for u in private} == {"10.0.0.1", "192.168.1.1"}
    off = next(i for i in items if i.kind == "offsite")
    assert off.url.startswith(base(faulty, "mirror")) and not faulty.site("mirror").in_registry
    pages = "".join(
        sess()
        .get(f"{base(faulty, 'legacy')}/xxgk/nb/index_{k}.htm", timeout=5)
        .content.decode("gbk")
        for k in (1, 2, 3, 4)
    )
    assert all(u in pages for u in private) and off.url in pages


def test_conditional_get(faulty: Portal) -> None:
    s = sess()
    url = next(r.url for r in faulty.expected_reports() if r.site == "trs" and r.detail_url)
    r = s.get(url, timeout=5)
    etag, lm = r.headers["ETag"], r.headers["Last-Modified"]
    assert s.get(url, headers={"If-None-Match": etag}, timeout=5).status_code == 304
    assert s.get(url, headers={"If-Modified-Since": lm}, timeout=5).status_code == 304
    assert s.get(url, headers={"If-None-Match": '"other"'}, timeout=5).status_code == 200


def test_runtime_switches(faulty: Portal) -> None:
    s = sess()
    reps = [r for r in faulty.expected_reports() if r.site == "govcn" and r.detail_url]
    faulty.remove(reps[0].url)
    faulty.remove(reps[1].url, soft=True)
    assert s.get(reps[0].url, timeout=5).status_code == 404
    soft = s.get(reps[1].url, timeout=5)
    assert soft.status_code == 200 and "页面不存在" in soft.text and len(soft.content) < 2048
    faulty.restore(reps[0].url)
    assert s.get(reps[0].url, timeout=5).status_code == 200
    col = column(faulty, "demo-trs-szf")
    faulty.empty_listing("trs")
    assert "t20" not in s.get(col.list_url, timeout=5).text
    faulty.empty_listing("trs", False)
    faulty.fail_site("ewb")
    assert s.get(base(faulty, "ewb") + "/", timeout=5).status_code == 503
    faulty.fail_site("ewb", mode="reset")
    with pytest.raises(requests.ConnectionError):
        s.get(base(faulty, "ewb") + "/", timeout=5)
    faulty.restore_site("ewb")
    assert sess().get(base(faulty, "ewb") + "/", timeout=5).status_code == 200
    kinds = [f.kind for f in faulty.expected_faults()]
    assert {"removed", "soft404", "empty_listing", "site_down"} <= set(kinds)


def test_request_log(faulty: Portal) -> None:
    faulty.clear_log()
    s = sess()
    b = base(faulty, "hanweb")
    s.get(b + "/", timeout=5)
    s.post(
        b + PROXY + "?startrecord=1&endrecord=3&perpage=3",
        data={"columnid": "77278"},
        headers={"Referer": b + "/"},
        timeout=5,
    )
    log = faulty.request_log("hanweb")
    assert [e.method for e in log] == ["GET", "POST"]
    assert log[0].host == f"127.0.0.1:{faulty.site('hanweb').port}" and log[0].status == 200
    assert log[0].headers["User-Agent"] == UA and log[0].t <= log[1].t
    assert (
        log[1].body == b"columnid=77278"
        and log[1].fault == "http_429_retry_after"
        and log[1].status == 429
    )
    assert faulty.request_log() and all(e.site for e in faulty.request_log())


def test_truecms_jsonp_and_item_obj(clean: Portal) -> None:
    s, b = sess(), base(clean, "truecms")
    col = column(clean, "demo-truecms")
    api = re.search(
        r"'(/messageController/getMessage\.do[^']+)'", s.get(col.list_url, timeout=5).text
    ).group(1)
    url = b + api.replace("callback=?", "callback=cb")
    assert s.get(url, timeout=5).status_code == 404  # Referer mandatory
    seen, start = set(), 1
    while True:
        u = re.sub(
            r"startrecord=\d+&endrecord=\d+&perpage=\d+",
            f"startrecord={start}&endrecord={start + 2}&perpage=3",
            url,
        )
        text = s.get(u, headers={"Referer": col.list_url}, timeout=5).text
        assert text.startswith("cb(")
        data = json.loads(text[3:-2])["data"]
        links = hrefs(data.replace('\\"', '"'), col.list_url)
        if not links:
            break
        seen |= links
        start += 3
    assert seen == item_urls(clean, "demo-truecms")
    big = s.get(
        re.sub(r"perpage=\d+", "perpage=80", url), headers={"Referer": col.list_url}, timeout=5
    ).text
    assert "<record>" not in big
    # 疾控局-style JS array list on the gov.cn host
    jcol = column(clean, "demo-govcn-jkj")
    found = set()
    for k in ("index.html", "index_1.html"):
        page_url = jcol.list_url.replace("index.html", k)
        arr = re.search(r"var itemObj = (\[.*?\]);", s.get(page_url, timeout=5).text).group(1)
        found |= {urljoin(page_url, u) for u in re.findall(r"aU:'([^']+)'", arr)}
    assert found == item_urls(clean, "demo-govcn-jkj")


def test_gateway_attachment_expires_and_rate_limits(faulty: Portal) -> None:
    s = sess()
    f = next(f for f in faulty.expected_faults() if f.kind == "expiring_url")
    assert f.portal_id == "demo-jpaas-scjg"
    r = s.get(f.url, timeout=5)
    assert (
        r.status_code == 200
        and r.content.startswith(b"%PDF")
        and "filename*=" in r.headers["Content-Disposition"]
    )
    assert s.get(f.url, timeout=5).status_code == 429  # polled too fast
    assert s.get(re.sub(r"expires=\d+", "expires=1000", f.url), timeout=5).status_code == 403


def test_fault_portal_ids_point_at_registry_rows(faulty: Portal) -> None:
    ids = {r["portal_id"] for r in faulty.registry_rows()}
    by = {f.kind: f.portal_id for f in faulty.expected_faults()}
    assert by["challenge_412"] == "demo-trs-rs" and by["redirect_loop"] == "demo-legacy-loop"
    assert by["robots_disallow_all"] == "demo-closed" and by["stall"] == "demo-vsb"
    assert {f.portal_id for f in faulty.expected_faults()} - {""} <= ids


def test_report_factory_is_swappable() -> None:
    from nianbao.demo.portal.reports import synth_report

    def factory(rng, agency, year, **kw):  # noqa: ANN001, ANN202
        doc = synth_report(rng, agency, year, **kw)
        doc.body_html = f"<p>外部生成器：{agency}{year}</p>"
        return doc

    with start_portal(seed=0, faults=False, report_factory=factory) as p:
        rep = next(
            r
            for r in p.expected_reports()
            if r.site == "trs" and r.content == "html" and r.source == "synth"
        )
        assert "外部生成器" in sess().get(rep.url, timeout=5).text


def test_serve_forever_entry(tmp_path) -> None:  # noqa: ANN001
    import io

    from nianbao.demo.portal import serve_forever

    out = io.StringIO()
    seen: list[Portal] = []
    serve_forever(
        seed=0,
        faults=False,
        registry=tmp_path / "r.csv",
        out=out,
        ready=lambda p: (seen.append(p), p.stop()),
    )
    assert "http://127.0.0.1:" in out.getvalue() and (tmp_path / "r.csv").exists()
    assert not seen[0]._started


def test_pdf_and_docx_attachments_are_well_formed(clean: Portal) -> None:
    import io
    import zipfile

    s = sess()
    pdf = next(r for r in clean.expected_reports() if r.content == "pdf" and r.detail_url is None)
    data = s.get(pdf.url, timeout=5).content
    xref = int(re.search(rb"startxref\n(\d+)", data).group(1))
    assert data[xref:].startswith(b"xref")
    offsets = [int(m) for m in re.findall(rb"(\d{10}) 00000 n", data)]
    assert offsets and all(re.match(rb"\d+ 0 obj", data[o:]) for o in offsets)
    assert b"/UniGB-UCS2-H" in data and data.rstrip().endswith(b"%%EOF")
    docx = next(r for r in clean.expected_reports() if r.content == "docx")
    with zipfile.ZipFile(io.BytesIO(s.get(docx.attachment_url, timeout=5).content)) as z:
        xml = z.read("word/document.xml").decode()
    assert "<w:tbl>" in xml and "一、本年新收政府信息公开申请数量" in xml
