"""Discovery adapters on canned listing pages (portals.md §3, §9 variants 1–10): detection,
pagination and its stop rules, title filtering, sub-columns and shells.  No network."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
from nianbao.core.vocabulary import report_year
from nianbao.extract.discovery import detect_adapter, discover
from nianbao.extract.discovery.base import (
    Page,
    file_ext,
    is_report_title,
    maybe_report_title,
)
from nianbao.extract.discovery.hanweb import parse_units
from nianbao.extract.discovery.jpaas import parse_query_data
from nianbao.extract.registry import RegistryError, parse_registry

H = "http://site.test"


@dataclass
class FakeWeb:
    """URL → body (or (outcome, body)); records every call like the crawler's fetch."""

    pages: dict[str, str | tuple[str, str]]
    calls: list[dict] = field(default_factory=list)
    handler: object = None

    def __call__(self, url, *, method="GET", data=None, json=None, referer=None, headers=None):
        self.calls.append(
            {"url": url, "method": method, "data": data, "json": json, "referer": referer}
        )
        if self.handler is not None:
            got = self.handler(url, method, data, json, referer)  # type: ignore[operator]
        else:
            got = self.pages.get(url)
        if got is None:
            return Page(url, url, 404, "not_found", "", None, "HTTP 404")
        outcome, text = got if isinstance(got, tuple) else ("ok", got)
        return Page(url, url, 200, outcome, text, "text/html", None)

    def urls(self) -> list[str]:
        return [c["url"] for c in self.calls]


def li(href: str, title: str, date: str = "2024-01-15", shown: str | None = None) -> str:
    return f'<li class="clearfix"><a href="{href}" title="{title}">{shown or title}</a><span>{date}</span></li>'


def report(year: int, who: str = "示例市人民政府") -> str:
    return f"{who}{year}年政府信息公开工作年度报告"


# --------------------------------------------------------------------------- titles


@pytest.mark.parametrize(
    "title, ok",
    [
        ("示例市人民政府2023年政府信息公开工作年度报告", True),
        ("示例局2019年度政府信息公开年报", True),
        ("二〇二二年政府信息公开工作年度报告", True),
        ("图解：示例市2023年政府信息公开工作年度报告", False),
        ("《2023年政府信息公开工作年度报告》解读", False),
        ("示例市人民政府政府信息公开指南", False),
        ("政府信息公开工作年度报告", False),  # no year: a column, not a report
        ("关于开展2023年度企业年报公示工作的通知", False),
    ],
)
def test_report_titles(title: str, ok: bool) -> None:
    assert is_report_title(title) is ok


def test_report_year_comes_from_title() -> None:
    assert report_year("示例局2019年度政府信息公开年报（2020-01-15）") == 2019
    assert report_year("二〇二二年政府信息公开工作年度报告") == 2022
    assert maybe_report_title("河东区中小企业发展服务中心2024年政府信息公…")
    assert not maybe_report_title("图解：示例局2023年政府信息公开工作年…")


def test_file_ext() -> None:
    assert file_ext(f"{H}/a/202401/P020240115123.pdf") == "pdf"
    assert (
        file_ext(
            f"{H}/module/download/downfile.jsp?classid=0&showname=%E5%B9%B4.wps&filename=ab.wps"
        )
        == "wps"
    )
    assert file_ext(f"{H}/system/_content/download.jsp?urltype=news&wbfileid=7") == "bin"
    assert file_ext(f"{H}/front/file/download?fileUrl=/attach/0/e2.ofd&expires=1") == "ofd"
    assert file_ext(f"{H}/info/iList.jsp?cat_id=1&cur_page=2") is None
    assert file_ext(f"{H}/a/index.html") is None


# --------------------------------------------------------------------------- TRS


def trs_page(items: list[str], script: str) -> str:
    return f'<html><body><ul class="gov-com-list">{"".join(items)}</ul><script>{script}</script></body></html>'


STUB = '<html><body><ul class="gov-com-list"></ul><script>createPageHTML(0, 0, "index", "html");</script></body></html>'


def test_trs_create_page_html_and_stub_past_end() -> None:
    col = f"{H}/zwgk/zfxxgknb/index.html"
    web = FakeWeb(
        {
            col: trs_page(
                [
                    li("./202401/t20240115_1.html", report(2023)),
                    li("./202306/t20230601_9.html", "指南"),
                ],
                'createPageHTML(3, 0, "index", "html");',
            ),
            f"{H}/zwgk/zfxxgknb/index_1.html": trs_page(
                [li("./202301/t20230115_2.html", report(2022), shown=report(2022)[:12] + "…")],
                'createPageHTML(3, 1, "index", "html");',
            ),
            f"{H}/zwgk/zfxxgknb/index_2.html": trs_page(
                [li("./202201/t20220115_3.html", report(2021))],
                'createPageHTML(3, 2, "index", "html");',
            ),
            f"{H}/zwgk/zfxxgknb/index_3.html": STUB,
        }
    )
    found = discover(web, col)
    assert found.adapters == ["trs"] and found.status == "ok"
    assert sorted(e.year for e in found.entries) == [2021, 2022, 2023]
    assert all(not e.verify for e in found.entries)  # full titles came from a[title]
    assert f"{H}/zwgk/zfxxgknb/index_3.html" not in web.urls()  # the count said 3 pages


def test_trs_count_page_and_index_2_start() -> None:
    col = f"{H}/jyj/"
    web = FakeWeb(
        {
            col: trs_page([li("./202401/t20240115_1.shtml", report(2023))], "var countPage = 2;"),
            f"{H}/jyj/index_2.html": trs_page(
                [li("./202301/t20230115_2.shtml", report(2022))], "var countPage = 2;"
            ),
        }
    )
    found = discover(web, col)
    assert sorted(e.year for e in found.entries) == [2022, 2023]
    assert web.urls()[1:] == [f"{H}/jyj/index_1.html", f"{H}/jyj/index_2.html"]


def test_trs_without_count_stops_on_repeat() -> None:
    col = f"{H}/c/index.html"
    first = trs_page(
        [
            li("./202401/t20240115_1.html", report(2023)),
            li("./202301/t20230115_2.html", report(2022)),
        ],
        "",
    )
    web = FakeWeb({col: first, f"{H}/c/index_1.html": first})  # page 1 again past the end
    found = discover(web, col)
    assert len(found.entries) == 2 and web.urls()[-1] == f"{H}/c/index_1.html"


# --------------------------------------------------------------------------- Hanweb


def hanweb_column(unit: str, colid: str, records: list[str], total: int, per: int) -> str:
    recs = "".join(f"<record><![CDATA[{r}]]></record>" for r in records)
    nextgroup = (
        f'<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=3&path=/&columnid={colid}'
        f'&unitid={unit}&webname=x&permissiontype=0"></a>'
    )
    return (
        f'<div id="{unit}"><script type="text/xml"><datastore><nextgroup><![CDATA[{nextgroup}]]>'
        f"</nextgroup><recordset>{recs}</recordset></datastore></script></div>"
        f"<script>$('#{unit}').jpage({{ totalRecord: {total}, perPage: {per}, "
        f"proxyUrl: '/module/web/jpage/dataproxy.jsp', ajaxParam: {{ col: 1, webid: 3 }} }});</script>"
    )


def hw_rec(i: int, year: int) -> str:
    return f"<li><a href='/art/{year + 1}/1/{i}/art_77_{i}.html' title='{report(year)}'>{report(year)}</a><span>{year + 1}-01-{i:02d}</span></li>"


def test_hanweb_datastore_units() -> None:
    text = hanweb_column("301", "77", [hw_rec(1, 2023)], 5, 1) + hanweb_column(
        "302", "78", [hw_rec(2, 2022)], 1, 1
    )
    units = parse_units(text, f"{H}/col/col77/index.html")
    assert [u.unitid for u in units] == ["301", "302"]
    assert units[0].params["columnid"] == "77" and units[0].per_page == 1
    assert units[0].total_record == 5 and len(units[0].records) == 1


@pytest.mark.parametrize("style", ["GET", "POST"])
def test_hanweb_dataproxy_paging_with_referer(style: str) -> None:
    col = f"{H}/col/col77/index.html"
    records = [hw_rec(i, 2024 - i) for i in range(1, 8)]  # 7 records, 3 per page

    def handler(url, method, data, json_body, referer):
        if url == col:
            return hanweb_column("301", "77", records[:3], 7, 3)
        if "dataproxy.jsp" not in url:
            return None
        assert referer == col  # Referer is mandatory on real sites
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        if method != style:
            return ("failed", "")
        if method == "POST":
            assert data["columnid"] == "77"
            start = int(q["startrecord"]) - 1
            chunk = records[start : start + int(q["perpage"])]
        else:
            p = int(q["page"])
            chunk = records[(p - 1) * 3 : p * 3]
        if not chunk:
            return '<?xml version="1.0" encoding="UTF-8"?><datastore/>\n'
        recs = "".join(f"<record><![CDATA[{r}]]></record>" for r in chunk)
        return f"<datastore><totalrecord>7</totalrecord><totalpage>3</totalpage><recordset>{recs}</recordset></datastore>"

    web = FakeWeb({}, handler=handler)
    found = discover(web, col)
    assert found.adapters == ["hanweb"]
    assert sorted(e.year for e in found.entries) == list(range(2017, 2024))


# --------------------------------------------------------------------------- jpaas


def test_jpaas_unit_api_pages_by_param_json() -> None:
    col = f"{H}/col/col1229100/index.html"
    loader = (
        '<script src="/module/jpaas/AuthorizedRead/unitbuild.js" '
        'url="/api-gateway/jpaas-publish-server/front/page/build/unit" '
        "queryData=\"{'webId':'3185','pageId':'1229100','tplSetId':'fc25','pageType':'column',"
        "'tagId':'分页列表','editType':'null'}\"></script>"
    )
    assert parse_query_data("\"{'webId':'3185','pageId':'1'}\"") == {"webId": "3185", "pageId": "1"}
    rows = [
        li(f"/col/col1229100/art/{y}/art_{y}abc.html", report(y)) for y in range(2024, 2016, -1)
    ]

    def handler(url, method, data, json_body, referer):
        if url == col:
            return f"<html><body>{loader}</body></html>"
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert q["parseType"] == "bulidstatic" and "pageNo" not in q
        n = json.loads(q["paramJson"])["pageNo"]
        chunk = rows[(n - 1) * 3 : n * 3]
        html = (
            f'<ul>{"".join(chunk)}</ul><div class="pagination" rows="3" count="8"></div>'
            if chunk
            else ""
        )
        return json.dumps({"success": True, "data": {"html": html}})

    web = FakeWeb({}, handler=handler)
    found = discover(web, col)
    assert found.adapters == ["jpaas"] and len(found.entries) == 8
    assert len(web.calls) == 1 + 3  # column page + ceil(8/3) API pages, nothing past the count


# --------------------------------------------------------------------------- gkmlpt


def test_gkmlpt_pages_from_zero_or_one() -> None:
    col = f"{H}/gkmlpt/index#2811"
    arts = [
        {
            "id": i,
            "title": report(2024 - i),
            "url": f"{H}/gkmlpt/content/0/{i}/post_{i}.html#2811",
            "display_publish_time": 1705000000,
        }
        for i in range(7)
    ]

    def handler(url, method, data, json_body, referer):
        if url == col:
            return '<script>window._CONFIG = { SID: \'755031\', TREE: [{"id":2811,"name":"年报"}] };</script>'
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert q["sid"] == "755031" and "/api/all/2811" in url
        p = max(1, int(q["page"]))  # page=0 is page 1 again on this site
        return json.dumps({"total": 7, "articles": arts[(p - 1) * 3 : p * 3]})

    found = discover(FakeWeb({}, handler=handler), col)
    assert found.adapters == ["gkmlpt"]
    assert {e.url for e in found.entries} == {a["url"] for a in arts}


# --------------------------------------------------------------------------- VSB, Cicro, gov.cn


def test_vsb_count_down_pages_and_dates_inside_anchors() -> None:
    def vsb(items: list[tuple[int, int]], nxt: str | None) -> str:
        lis = "".join(
            f'<li><a href="../info/1517/{i}.htm"><span>{report(y)[:18]}…</span><i>{y + 1}-01-20</i></a></li>'
            for i, y in items
        )
        more = f'<span class="p_next"><a href="{nxt}">下页</a></span>' if nxt else ""
        return f'<div class="list"><ul>{lis}</ul></div><div class="pb_sys_common">{more}</div>'

    col = f"{H}/xxgk/xxgknb.htm"
    web = FakeWeb(
        {
            col: vsb([(1, 2024), (2, 2023)], "xxgknb/2.htm"),
            f"{H}/xxgk/xxgknb/2.htm": vsb([(3, 2022)], "1.htm"),
            f"{H}/xxgk/xxgknb/1.htm": vsb([(4, 2021)], None),
        }
    )
    found = discover(web, col, "vsb")
    assert sorted(e.year for e in found.entries) == [2021, 2022, 2023, 2024]
    assert all(e.verify and e.list_date for e in found.entries)  # truncated: confirm on detail


def test_cicro_computes_cur_page() -> None:
    col = f"{H}/info/iList.jsp?cat_id=10111&node_id=GKxxgk"

    def handler(url, method, data, json_body, referer):
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        p = int(q.get("cur_page", 1))
        if p > 2:
            return '<div class="info-list"><table><tbody></tbody></table></div>'
        row = f'<tr><td>{p}</td><td><a href="/info/iInfo.jsp?cat_id=10111&info_id={p}" title="{report(2025 - p)}">x</a></td><td>2024-01-0{p}</td></tr>'
        broken = f'<a href="/info/?cat_id=10111&cur_page={p + 1}">下一页</a>'
        return f'<div class="info-list"><table><tbody>{row}</tbody></table></div>共2页 {broken}'

    web = FakeWeb({}, handler=handler)
    found = discover(web, col)
    assert found.adapters == ["cicro"] and len(found.entries) == 2
    assert not any(u.startswith(f"{H}/info/?") for u in web.urls())  # the broken href is unused


def test_govcn_home_pages_and_search_json() -> None:
    col = f"{H}/zhengce/xxgknb/home.htm"

    def home(k: int) -> str:
        lis = f'<li><h4><a href="../2024{k:02d}/content_{k}.htm">{report(2023 - k, "示例部")}</a><span class="date">2024-01-20</span></h4></li>'
        return f'<div class="list"><ul>{lis}</ul></div><script>var totalPage = 3; var currentPage = {k};</script>'

    web = FakeWeb(
        {
            col: home(0),
            f"{H}/zhengce/xxgknb/home_1.htm": home(1),
            f"{H}/zhengce/xxgknb/home_2.htm": home(2),
        }
    )
    assert len(discover(web, col).entries) == 3

    js_col = f"{H}/zhengce/bmnb/index.htm"

    def handler(url, method, data, json_body, referer):
        if url == js_col:
            return "<div id=list></div><script>$.getJSON('/search-gov/data?t=bm&q=年度报告&p=1&n=2', f);</script>"
        p = int(parse_qs(urlsplit(url).query)["p"][0])
        rows = [
            {
                "title": report(2024 - i, "示例委"),
                "url": f"{H}/zhengce/c_{i}.htm",
                "pubtimeStr": "2024.01.20",
            }
            for i in range(3)
        ]
        return json.dumps({"searchVO": {"totalpage": 2, "listVO": rows[(p - 1) * 2 : p * 2]}})

    found = discover(FakeWeb({}, handler=handler), js_col)
    assert found.status == "ok" and len(found.entries) == 3


def test_epoint_json_api_from_site_js() -> None:
    col = f"{H}/xxgk/govInfoPub/showinfo.html?categorynum=001005"
    rows = [
        {
            "infourl": f"/xxgk/{i}.html",
            "title": "短…",
            "realtitle": report(2024 - i),
            "infodate": "2024-03-01",
        }
        for i in range(7)
    ]

    def handler(url, method, data, json_body, referer):
        if url == col:
            return '<ul><li><a href="<?=el.link?>"><?=el.title?></a></li></ul><script src="/js/webBuilderCommon.js"></script>'
        if url.endswith("webBuilderCommon.js"):
            return "var siteInfo = {siteGuid: 'g-1', projectName: 'EWB-FRONT', pageSize: 5};"
        assert url == f"{H}/EWB-FRONT/rest/lightfrontaction/getgovinfolist" and method == "POST"
        assert (
            referer == col
            and json_body["categorynum"] == "001005"
            and json_body["siteGuid"] == "g-1"
        )
        i = json_body["pageIndex"]
        return json.dumps({"custom": {"data": rows[i * 5 : (i + 1) * 5], "total": 7}})

    found = discover(FakeWeb({}, handler=handler), col)
    assert found.adapters == ["jsonapi"] and len(found.entries) == 7


def test_item_obj_url_held_in_a_json_string() -> None:
    """国家疾控局-style ``var itemObj``: public crawlers of the real site show ``aU`` as a string
    holding ``{"common": "/path"}``, not a bare URL (the demo portal writes bare URLs)."""
    col = f"{H}/jbkzzx/c100014/ndbg/index.html"
    rows = [
        ("/jbkzzx/c100014/common/content/content_1.html", report(2023, "国家示例局")),
        ("./202301/t20230120_2.html", report(2022, "国家示例局")),  # the bare-URL form still works
    ]

    def held(url: str) -> str:  # the JSON object inside the JS string, quotes escaped
        return '{\\"common\\":\\"' + url + '\\"}' if url.startswith("/") else url

    items = ",".join(
        f'{{"aT":"{title}","aPd":"2024-01-20 10:00","aU":"{held(url)}"}}' for url, title in rows
    )
    page = f"<ul id=list></ul><script>var itemObj = [{items}];</script>"
    found = discover(FakeWeb({col: page}), col)
    assert found.adapters == ["jsonapi"]
    assert sorted((e.url, e.list_date) for e in found.entries) == [
        (f"{H}/jbkzzx/c100014/common/content/content_1.html", "2024-01-20"),
        (f"{H}/jbkzzx/c100014/ndbg/202301/t20230120_2.html", "2024-01-20"),
    ]


# --------------------------------------------------------------------------- shells, sub-columns


def test_shells_iframes_and_two_lists() -> None:
    web = FakeWeb(
        {
            f"{H}/xxgk/": '<script>location.replace("/xxgk/nb/index.htm");</script>',
            f"{H}/xxgk/nb/index.htm": (
                f'<table id="in_list"><tr><td><a href="/a/1.htm">{report(2023, "财政局")}</a></td><td>2024-01-02</td></tr></table>'
                f'<table id="in_zfnb"><tr><td><a href="/a/2.htm">{report(2023)}</a></td><td>[2024-03-02]</td></tr></table>'
            ),
            f"{H}/zfxxgk/": '<meta http-equiv="refresh" content="0;url=/zfxxgk/frame.htm">',
            f"{H}/zfxxgk/frame.htm": '<html><body><iframe src="/zfxxgk/list.htm"></iframe></body></html>',
            f"{H}/zfxxgk/list.htm": f'<ul><li><a href="/News/Detail/ab.html">{report(2022, "教育局")}</a></li></ul>',
        }
    )
    assert len(discover(web, f"{H}/xxgk/").entries) == 2
    found = discover(web, f"{H}/zfxxgk/")
    assert [e.url for e in found.entries] == [f"{H}/News/Detail/ab.html"]


def test_year_tabs_departments_and_companions() -> None:
    col = f"{H}/public/column/100?type=4&action=rel"
    dept = f"{H}/public/column/200?type=4&catId=7&action=list"

    def year_page(y: int) -> str:
        tabs = "".join(
            f'<li><a href="/public/column/200?type=4&catId=7&action=list&year={t}">{t}年</a></li>'
            for t in (2023, 2022)
        )
        rows = (
            f'<li><a href="/public/200/{y}1.html" title="{report(y - 1, "财政局")}">x</a><span class="date">{y}-01-20</span></li>'
            f'<li><a href="/public/200/{y}2.html" title="图解：{report(y - 1, "财政局")}">x</a><span class="date">{y}-01-21</span></li>'
        )
        return f'<ul id="timeFrame">{tabs}</ul><ul class="clearfix xxgk_nav_list">{rows}</ul>'

    web = FakeWeb(
        {
            col: '<ul class="clearfix"><li><a href="/public/column/200?type=4&amp;catId=7&amp;action=list" title="财政局">财政局</a></li></ul>',
            dept: year_page(2023),
            dept + "&year=2023": year_page(2023),
            dept + "&year=2022": year_page(2022),
        }
    )
    found = discover(web, col)
    assert found.adapters == ["anhui"]
    assert sorted(e.year for e in found.entries) == [2021, 2022]  # companions skipped


def test_blocked_or_missing_column_is_not_empty() -> None:
    col = f"{H}/c/"
    assert discover(FakeWeb({col: ("blocked", "")}), col).status == "blocked"
    assert discover(FakeWeb({}), col).status == "not_found"
    assert discover(FakeWeb({col: "<p>nothing here</p>"}), col).status == "empty"


def test_forced_adapter_falls_back_to_detection() -> None:
    page = Page(f"{H}/x", f"{H}/x", 200, "ok", 'createPageHTML(2, 0, "index", "html");')
    assert detect_adapter(page, "gkmlpt").name == "trs"
    assert detect_adapter(page, "").name == "trs"


# --------------------------------------------------------------------------- registry


def test_registry_validation_reports_every_problem() -> None:
    header = "portal_id,agency,level,region_code,list_url,adapter,notes"
    good = f"{header}\na-1,示例,city,110100,http://www.example.gov.cn/zfxxgknb/,,unverified"
    assert parse_registry(good.splitlines())[0].portal_id == "a-1"
    bad = "\n".join(
        [
            header,
            "a-1,x,city,1101,ftp://x/,,",
            "a-1,x,City,abc,http://ok.gov.cn/,nosuch,",
            "b,x,city,11",
        ]
    )
    with pytest.raises(RegistryError) as err:
        parse_registry(bad.splitlines(), "portals.csv")
    msg = str(err.value)
    for needle in (
        "portals.csv:2",
        "not an absolute http",
        "duplicate portal_id",
        "level 'City'",
        "region_code 'abc'",
        "adapter 'nosuch'",
        "portals.csv:4: 4 fields",
    ):
        assert needle in msg
    with pytest.raises(RegistryError, match="lacks column"):
        parse_registry(["portal_id,list_url", "a,http://x/"])


def test_shipped_registry_is_valid() -> None:
    from pathlib import Path

    from nianbao.extract.registry import load_registry

    path = Path(__file__).resolve().parents[1] / "data" / "portals.csv"
    portals = load_registry(path)
    assert len(portals) >= 10
    assert all("unverified" in p.notes for p in portals)
