"""extract/html.py: article container, blocks in order, table grids with spans, page hints.

Fixtures under tests/fixtures/html/ reproduce the markup of the CMS families in portals.md §3/§5
(TRS, Hanweb, gov.cn UCAP, VSB, legacy layout pages) with the quirks of §5.4 and formats.md D1–D6.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nianbao.core.document import Document, DocumentError, Paragraph, Table
from nianbao.extract.html import parse_html
from nianbao.extract.readers import read_bytes

FIX = Path(__file__).parent / "fixtures" / "html"
NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
APPLICANT_SUBHEADS = ["商业 企业", "科研 机构", "社会公益组织", "法律服务机构", "其他"]


def load(name: str, **kw: object) -> Document:
    return parse_html((FIX / name).read_bytes(), source=name, **kw)  # type: ignore[arg-type]


def html(body: str, head: str = "<meta charset='utf-8'><title>测试页</title>") -> Document:
    return parse_html(f"<html><head>{head}</head><body>{body}</body></html>".encode())


def all_text(doc: Document) -> str:
    parts: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            parts.append(b.text)
        else:
            parts.extend(c for row in b.rows for c in row)
    return "\n".join(parts)


def shape(doc: Document) -> list[str]:
    """Block kinds in order: 'P' or 'T<rows>x<cols>'."""
    return [
        "P" if isinstance(b, Paragraph) else f"T{len(b.rows)}x{len(b.rows[0])}" for b in doc.blocks
    ]


def assert_well_formed(doc: Document) -> None:
    """Invariants every document must satisfy: rectangular grids, span mask of the same shape,
    no empty or unstripped paragraphs, no separator or control characters leaking."""
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            assert b.text and b.text == b.text.strip()
            assert "  " not in b.text and "\ue000" not in b.text and "\n" not in b.text
        else:
            assert isinstance(b, Table) and b.rows and b.span is not None
            width = len(b.rows[0])
            assert all(len(r) == width for r in b.rows)
            assert [len(r) for r in b.span] == [len(r) for r in b.rows]
            for row in b.rows:
                assert all("\ue000" not in c and c == c.strip() for c in row)


# --- TRS static page (variant 1): #printContent > h1.title + div.TRS_Editor ---------------------


@pytest.fixture(scope="module")
def trs() -> Document:
    return load("trs_report_2021.html")


def test_trs_block_order(trs: Document) -> None:
    assert_well_formed(trs)
    assert trs.kind == "html" and trs.source == "trs_report_2021.html"
    assert shape(trs) == ["P"] * 6 + ["T14x4", "P", "T28x10", "P", "T4x15"] + ["P"] * 5
    paras = trs.paragraphs()
    assert paras[0] == "长春市体育局2023年政府信息公开工作年度报告"  # h1 just outside the body
    assert paras[2] == "一、总体情况"
    assert (
        paras[3]
        == "（一）主动公开情况。2023年，我局通过门户网站主动公开政府信息156条，其中政策文件12条。"
    )
    assert paras[5] == "二、主动公开政府信息情况"
    assert paras[6] == "三、收到和处理政府信息公开申请情况"
    # a <br> inside a <p> splits the line; &nbsp;/U+3000-only paragraphs are gone
    assert paras[-4:] == [
        "2023年，我局政府信息公开工作取得了一定成效，但仍存在公开内容不够丰富等问题。",
        "下一步，我局将进一步加强政策解读。",
        "六、其他需要报告的事项",
        "本年度未收取信息处理费。",
    ]


def test_trs_chrome_style_script_and_word_noise_dropped(trs: Document) -> None:
    text = all_text(trs)
    for leaked in (
        "margin-top",  # the inline TRS <style> block
        ".TRS_Editor",
        "脚本写出",  # document.write in a <script>
        "WordDocument",  # <!--[if gte mso 9]><xml>… conditional comment
        "Normal",
        "首页",  # navigation
        "网站标识码",  # footer
        "打印本页",
        "索引号",  # info box sits outside the body
    ):
        assert leaked not in text, leaked


def test_trs_active_table_colspans(trs: Document) -> None:
    t = trs.tables()[0]
    assert t.rows[0] == ["第二十条第（一）项"] * 4
    assert t.span is not None and t.span[0] == [False, True, True, True]
    assert t.rows[1] == ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]
    assert t.rows[3] == ["行政规范性文件", "2", "1", "15"]
    assert t.rows[6] == ["行政许可", "126", "126", "126"]
    assert t.span[6] == [False, False, True, True]
    assert t.logical_rows()[6] == ["行政许可", "126"]
    assert t.logical_rows()[12] == ["信息内容", "本年收费金额（单位：万元）"]
    assert t.rows[13][:2] == ["行政事业性收费", "12.5"]


def test_trs_requests_table_three_row_header(trs: Document) -> None:
    t = trs.tables()[1]
    assert t.span is not None
    assert len(t.rows) == 28 and len(t.rows[0]) == 10  # 3 header + 25 body rows, 3 + 7 columns
    # rowspan=3 colspan=3 note block: one source cell, eight copies
    for r in range(3):
        assert t.rows[r][:3] == [NOTE] * 3
    assert [t.span[r][c] for r in range(3) for c in range(3)] == [False] + [True] * 8
    assert t.rows[0][3:] == ["申请人情况"] * 7 and t.span[0][3:] == [False] + [True] * 6
    assert t.rows[1][3:] == ["自然人"] + ["法人或其他组织"] * 5 + ["总计"]
    assert t.span[1][3:] == [False, False, True, True, True, True, False]
    assert t.rows[2][3:] == ["自然人", *APPLICANT_SUBHEADS, "总计"]  # 商业<br />企业 → "商业 企业"
    assert t.span[2][3:] == [True, False, False, False, False, False, True]
    assert t.logical_rows()[:3] == [
        [NOTE, "申请人情况"],
        ["自然人", "法人或其他组织", "总计"],
        APPLICANT_SUBHEADS,
    ]


def test_trs_requests_table_body_rowspans(trs: Document) -> None:
    t = trs.tables()[1]
    assert t.span is not None
    assert t.rows[3] == ["一、本年新收政府信息公开申请数量"] * 3 + [
        "5",
        "1",
        "0",
        "0",
        "0",
        "1",
        "7",
    ]
    # 三、本年度办理结果: rowspan 22 over rows 5..26
    col0 = [t.rows[r][0] for r in range(5, 27)]
    assert col0 == ["三、本年度办理结果"] * 22
    assert [t.span[r][0] for r in range(5, 27)] == [False] + [True] * 21
    assert t.rows[27][0] == "四、结转下年度继续办理"
    # （三）不予公开 rowspan 8 with its eight sub-rows in column 2
    assert [t.rows[r][1] for r in range(7, 15)] == ["（三）不予公开"] * 8
    assert [t.span[r][1] for r in range(7, 15)] == [False] + [True] * 7
    assert t.rows[9][2] == "3.危及“三安全一稳定”"
    assert t.rows[10][2:] == ["4.保护第三方合法权益", "1", "0", "0", "0", "0", "0", "1"]
    assert [t.rows[r][1] for r in (15, 18, 23)] == [
        "（四）无法提供",
        "（五）不予处理",
        "（六）其他处理",
    ]
    assert t.rows[25][2] == "3.其他"
    assert t.rows[26][1:] == ["（七）总计", "（七）总计", "6", "1", "0", "0", "0", "1", "8"]
    assert t.span[26][:3] == [True, False, True]
    # &nbsp; value cells are empty strings, not span copies
    assert t.rows[27][3:] == ["", "", "", "", "", "", "0"]
    assert t.span[27] == [False, True, True] + [False] * 7
    assert [len(r) for r in t.logical_rows()[3:]] == (
        [8, 8, 9, 8, 9] + [8] * 7 + [9] + [8] * 2 + [9] + [8] * 4 + [9] + [8, 8, 8, 8]
    )


def test_trs_appeals_fifteen_numbers(trs: Document) -> None:
    t = trs.tables()[2]
    assert t.rows[0] == ["行政复议"] * 5 + ["行政诉讼"] * 10
    assert t.rows[1][:6] == [
        "结果 维持",
        "结果 纠正",
        "其他 结果",
        "尚未 审结",
        "总计",
        "未经复议直接起诉",
    ]
    assert t.rows[2][:5] == t.rows[1][:5] and t.span is not None and t.span[2][:5] == [True] * 5
    assert (
        t.rows[2][5:10]
        == t.rows[2][10:]
        == ["结果 维持", "结果 纠正", "其他 结果", "尚未 审结", "总计"]
    )
    assert t.rows[3] == ["3", "1", "0", "1", "5", "2", "0", "1", "0", "3", "1", "0", "0", "1", "2"]
    assert t.span[3] == [False] * 15


def test_trs_hints(trs: Document) -> None:
    h = trs.hints
    assert h["title"] == "长春市体育局2023年政府信息公开工作年度报告"
    assert h["page_title"].endswith("_长春市人民政府")
    assert h["index_no"] == "11220100MB1827156Q/2024-00003"  # label "索 引 号："
    assert h["agency"] == "长春市体育局"
    assert h["written"] == "2024年01月12日"
    assert h["published"] == "2024-01-15 10:19"  # "发布时间：…" in the source box, not 来源
    assert h["content_source"] == "长春市体育局"
    assert h["topic"] == "其他"
    assert h["meta:SiteName"] == "长春市人民政府"
    assert h["meta:PubDate"] == "2024-01-15 10:19"
    assert h["meta:ColumnName"] == "政府信息公开年报"
    assert h["meta:Description"].startswith("根据《中华人民共和国政府信息公开条例》")
    assert h["container"] == "div.TRS_Editor"
    assert h["encoding"] == "utf-8"
    assert trs.warnings == []


# --- Hanweb #zoom (variant 2), 2019 format ----------------------------------------------------------


@pytest.fixture(scope="module")
def hanweb() -> Document:
    return load("hanweb_zoom_2019.html")


def test_hanweb_blocks_and_heading(hanweb: Document) -> None:
    assert_well_formed(hanweb)
    assert shape(hanweb) == ["P"] * 5 + ["T7x5", "P", "T26x10", "P", "T4x15"] + ["P"] * 4
    # div.title (not an h1) before div#zoom becomes the first paragraph
    assert hanweb.paragraphs()[:2] == [
        "微山县体育局2019年政府信息公开工作年度报告",
        "本报告依据《中华人民共和国政府信息公开条例》（以下简称《条例》）要求编制。",
    ]
    text = all_text(hanweb)
    assert "信息内容>begin" not in text and "$[" not in text  # comment markers
    assert "不应出现的列表标题" not in text  # <script type="text/xml"><datastore>
    assert "113708260043292687" not in text  # info table is outside #zoom
    assert "打印本页" not in text and "鲁ICP备" not in text


def test_hanweb_2019_active_table(hanweb: Document) -> None:
    t = hanweb.tables()[0]
    assert t.rows[1] == [
        "信息内容",
        "本年新 制作数量",
        "本年新 公开数量",
        "对外公开总数量",
        "对外公开总数量",
    ]
    assert t.span is not None and t.span[1] == [False, False, False, False, True]
    assert t.rows[3] == ["规范性文件", "1", "1", "6", "6"]
    assert t.logical_rows()[5] == ["信息内容", "采购项目数量", "采购总金额"]
    assert t.rows[6] == ["政府集中采购", "3", "3", "52.15", "52.15"]


def test_hanweb_2019_requests_rowspan_20(hanweb: Document) -> None:
    t = hanweb.tables()[1]
    assert t.span is not None
    assert [t.rows[r][0] for r in range(5, 25)] == ["三、本年度办理结果"] * 20
    assert (
        t.rows[4][0] == "二、上年结转政府信息公开申请数量"
        and t.rows[25][0] == "四、结转下年度继续办理"
    )
    assert t.rows[23][:3] == ["三、本年度办理结果", "（六）其他处理", "（六）其他处理"]
    assert t.span[23][:3] == [True, False, True]
    assert t.rows[24][1:4] == ["（七）总计", "（七）总计", "6"]
    # appeals header reduced to first lines (D1) is kept as printed
    assert hanweb.tables()[2].rows[2][5:10] == ["结果维持", "结果", "其他", "尚未", "总计"]


def test_hanweb_info_box_and_junk_meta(hanweb: Document) -> None:
    h = hanweb.hints
    assert h["index_no"] == "113708260043292687/2020-00016"  # <td>索引号</td><td>…</td>
    assert h["agency"] == "微山县体育局"
    assert h["generated"] == "2020-01-20" and h["written"] == "2020-01-20"
    assert h["category"] == "政府信息公开年报"
    assert h["validity"] == "有效"
    assert "doc_no" not in h  # 文号 cell is empty; the next label is not its value
    # un-rendered template variables stay raw under meta:, never become the title
    assert h["meta:ArticleTitle"] == "<$[标题名称]>"
    assert h["meta:PubDate"] == "null" and "published" not in h
    assert h["title"] == "微山县体育局2019年政府信息公开工作年度报告"
    assert h["container"] == "div#zoom"


# --- gov.cn #UCAP-CONTENT (variant 9) ----------------------------------------------------------------


def test_govcn_ucap_nested_container_thead_and_hints() -> None:
    doc = load("govcn_ucap.html")
    assert_well_formed(doc)
    # #UCAP-CONTENT wraps .trs_editor_view: the inner one is chosen, h1#ti put first
    assert doc.hints["container"] == "div.trs_editor_view.TRS_UEDITOR"
    assert shape(doc) == ["P"] * 5 + ["T4x15", "P", "P"]
    assert doc.paragraphs()[0] == "国家体育总局2022年政府信息公开工作年度报告"
    t = doc.tables()[0]
    assert t.rows[0][4:6] == ["行政复议", "行政诉讼"]  # <thead>/<th>
    assert t.rows[3] == ["3", "1", "0", "1", "5", "2", "0", "1", "0", "3", "1", "0", "0", "1", "2"]
    text = all_text(doc)
    assert "相关稿件" not in text and "责任编辑" not in text and "字体" not in text
    h = doc.hints
    assert h["index_no"] == "000014349/2023-00021"
    assert h["agency"] == "体育总局"  # 发文机关
    assert h["written"] == "2023年01月18日"
    assert h["published"] == "2023年01月20日"  # visible info box beats meta PubDate
    assert h["info_title"] == "国家体育总局2022年政府信息公开工作年度报告"  # "标　　题："
    assert h["topic"] == "综合政务\\政务公开"
    assert "doc_no" not in h  # 发文字号 cell is &nbsp;
    assert h["meta:Author"] == "null"


# --- VSB v_news_content (variant 6) ------------------------------------------------------------------


def test_vsb_news_content() -> None:
    doc = load("vsb_news_content.html")
    assert_well_formed(doc)
    assert doc.hints["container"] == "div.v_news_content"
    assert doc.paragraphs() == [
        "兰陵县卫生健康局2021年政府信息公开工作年度报告",  # h3 in div.content-title
        "根据《中华人民共和国政府信息公开条例》，现公布本局2021年度报告。",
        "一、总体情况",
        "2021年，本局主动公开政府信息88条。",  # <br>-separated lines
        "依申请公开工作规范有序。",
        "政府信息管理不断加强。",
        "（一）公开平台建设。",  # <li>
        "（二）监督保障。",
        "六、其他需要报告的事项 无。",
    ]
    assert doc.hints["content_source"] == "兰陵县卫生健康局"  # cut before 点击数
    assert doc.hints["meta:keywords"] == "政府信息公开年报"  # meta name case kept
    assert doc.hints["published"] == "2022-01-25"
    assert "_showDynClicks" not in all_text(doc)


# --- legacy layout page, GBK declared only in <meta>, upper-case tags ------------------------------


@pytest.mark.parametrize("declared", [None, "utf-8", "GBK"])
def test_legacy_gbk_layout_page(declared: str | None) -> None:
    raw = (FIX / "legacy_layout_gbk.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the fixture really is GBK
    doc = parse_html(raw, declared_charset=declared)
    assert_well_formed(doc)
    assert doc.hints["encoding"] == "gb18030"
    assert doc.hints["container"] == "td.heise"
    assert doc.hints["title"] == "朝阳区水务局2019年政府信息公开工作年度报告"
    assert doc.hints["published"] == "2020-03-05"
    assert doc.hints["content_source"] == "区水务局"
    assert shape(doc) == ["P"] * 4 + ["T6x10", "P", "T1x15", "P", "P"]
    assert (
        doc.paragraphs()[0] == "本报告根据《中华人民共和国政府信息公开条例》编制。"
    )  # U+3000 indent gone
    assert doc.paragraphs()[-1] == "联系人：李喆，电话：010-12345678。"  # 喆 is GBK, not GB2312
    assert "信息公开年报" not in all_text(doc)  # left-hand navigation table


def test_legacy_header_words_split_across_rows_with_overlapping_rowspans() -> None:
    t = load("legacy_layout_gbk.html").tables()[0]
    assert t.span is not None
    # rows 2 and 3 have fewer <td>s than columns: the rowspans from above fill the gaps
    assert t.rows[2] == [NOTE] * 3 + [
        "自然人",
        "商业",
        "科研",
        "社会公益组织",
        "法律服务机构",
        "其他",
        "总计",
    ]
    assert t.span[2] == [True] * 4 + [False] * 5 + [True]
    assert t.rows[3] == [NOTE] * 3 + [
        "自然人",
        "企业",
        "机构",
        "社会公益组织",
        "法律服务机构",
        "其他",
        "总计",
    ]
    assert t.span[3] == [True] * 4 + [False, False] + [True] * 4
    # a row missing its trailing cells is padded with '' marked "no source cell"
    assert t.rows[5] == ["二、上年结转政府信息公开申请数量"] * 3 + ["0"] * 5 + ["", ""]
    assert t.span[5][-2:] == [True, True]
    # 四 as a bare row of 15 numbers (unclosed <TD>s)
    bare = load("legacy_layout_gbk.html").tables()[1]
    assert bare.rows == [
        ["0", "0", "0", "0", "0", "1", "0", "0", "0", "1", "0", "0", "0", "0", "0"]
    ]


def test_utf8_page_with_wrong_gb2312_meta() -> None:
    doc = load("utf8_wrong_meta.html")
    assert_well_formed(doc)
    assert doc.hints["encoding"] == "utf-8"
    assert (
        doc.paragraphs()[1]
        == "2023年，海珠区民政局深入贯彻落实《条例》，主动公开政府信息一百一十七条。"
    )
    t = doc.tables()[0]
    assert t.rows[2][4:6] == ["商业 企业", "科研 机构"]  # newline inside the cell (D1)
    assert t.rows[3] == ["一、本年新收政府信息公开申请数量"] * 3 + [
        "4",
        "1",
        "0",
        "0",
        "0",
        "0",
        "5",
    ]
    assert doc.hints["container"] == "div.article-content"


# --- duplicates and spam ---------------------------------------------------------------------------


def test_print_copy_and_screen_copy_both_kept_in_order() -> None:
    doc = load("print_and_screen_copy.html")
    assert_well_formed(doc)
    assert shape(doc) == ["P", "P", "P", "T3x4"] * 2
    first, second = doc.blocks[:4], doc.blocks[4:]
    assert first == second  # identical copies, each with its heading; the transform de-duplicates
    assert doc.paragraphs()[0] == "徐闻县司法局2023年政府信息公开工作年度报告"
    assert "热点：防汛" not in all_text(doc)  # a small .TRS_Editor in the sidebar is not a body
    assert any("2 copies" in w for w in doc.warnings)


def test_hidden_spam_dropped_and_flagged() -> None:
    doc = load("hidden_spam.html")
    assert_well_formed(doc)
    text = all_text(doc)
    for spam in ("bt365体育在线", "澳门新葡京", "皇冠体育", "六合彩", "博彩", "999"):
        assert spam not in text, spam
    assert doc.paragraphs() == [
        "一、总体情况",
        "本局全年主动公开信息二十一条。政务公开平台运行稳定。",
        # visible injected tokens stay: the transform flags them, the parser must not choke
        "地址：某县人民路1号 mobile28365-365_bt365 邮编：000000",
    ]
    assert doc.tables()[0].rows == [["行政复议", "行政诉讼"], ["0", "0"]]
    assert any("bt365体育在线" in w for w in doc.warnings)
    assert any("5 in all" in w for w in doc.warnings)


def test_content_only_in_hidden_elements_is_kept_with_warning() -> None:
    doc = html(
        '<div id="zoom" style="display:none"><p>一、总体情况</p><p>正文在隐藏容器里，由脚本显示。</p></div>'
    )
    assert doc.paragraphs()[-2:] == ["一、总体情况", "正文在隐藏容器里，由脚本显示。"]
    assert "content only in hidden elements" in doc.warnings


# --- tables: spans, layout, nesting ------------------------------------------------------------------


def test_absurd_and_junk_span_values_are_clamped() -> None:
    doc = html(
        "<table>"
        "<tr><td colspan=1000>第二十条第（一）项</td></tr>"
        "<tr><td rowspan=9999>规章</td><td colspan='2px'>0</td><td colspan=abc>1</td></tr>"
        "<tr><td rowspan=-3 colspan=0>2</td><td rowspan=''>3</td><td>4</td></tr>"
        "</table>"
    )
    (t,) = doc.tables()
    # colspan 1000 → clamped, then trimmed to the width the other rows reach; "2px" → 2;
    # "abc", "0", "" → 1; rowspan 9999 → to the last row
    assert t.rows == [
        ["第二十条第（一）项"] * 4,
        ["规章", "0", "0", "1"],
        ["规章", "2", "3", "4"],
    ]
    assert t.span == [
        [False, True, True, True],
        [False, False, True, False],
        [True, False, False, False],
    ]


def test_colspan_beyond_every_other_row_is_trimmed() -> None:
    t = html("<table><tr><td colspan=100>标题行</td></tr><tr><td>a</td><td>b</td></tr></table>")
    assert t.tables()[0].rows == [["标题行", "标题行"], ["a", "b"]]
    # but a column that only holds copies *within* the table's width is kept
    t2 = html("<table><tr><td colspan=3>x</td></tr><tr><td>a</td><td colspan=2>b</td></tr></table>")
    assert t2.tables()[0].rows == [["x", "x", "x"], ["a", "b", "b"]]


def test_rowspan_never_beyond_the_table_and_zero_means_to_the_end() -> None:
    t = html(
        "<table><tr><td rowspan=200>L</td><td>1</td></tr><tr><td>2</td></tr></table>"
        "<table><tr><td rowspan=0>Z</td><td>1</td></tr><tr><td>2</td></tr><tr><td>3</td></tr></table>"
    ).tables()
    assert t[0].rows == [["L", "1"], ["L", "2"]]
    assert t[1].rows == [["Z", "1"], ["Z", "2"], ["Z", "3"]]


def test_rowspan_column_beyond_short_row_is_filled() -> None:
    # a rowspan in the last column continues into a row that has fewer <td>s
    (t,) = html(
        "<table><tr><td>a</td><td>b</td><td rowspan=2>R</td></tr><tr><td>c</td></tr></table>"
    ).tables()
    assert t.rows == [["a", "b", "R"], ["c", "", "R"]]
    # the position no <td> reaches is padding, marked like a copy ("no source cell")
    assert t.span == [[False, False, False], [False, True, True]]


def test_cell_text_joins_br_and_p_with_single_space() -> None:
    (t,) = html(
        "<table><tr><td><p class=MsoNormal><span>本年新</span></p><p><span>制作<o:p></o:p></span>"
        "<span>数量</span></p></td><td>本年新<br/>公开数量</td><td>&nbsp;</td></tr>"
        "<tr><td>　1 </td><td>2</td><td>3</td></tr></table>"
    ).tables()
    assert t.rows == [["本年新 制作数量", "本年新 公开数量", ""], ["1", "2", "3"]]


def test_caption_becomes_paragraph_before_table() -> None:
    doc = html("<table><caption>表1 主动公开情况</caption><tr><td>规章</td><td>0</td></tr></table>")
    assert doc.blocks == [
        Paragraph("表1 主动公开情况"),
        Table(rows=[["规章", "0"]], span=[[False, False]]),
    ]


def test_nested_layout_tables_emit_text_and_inner_tables_in_order() -> None:
    doc = html(
        "<TABLE width=1003><TR><TD>"
        "  <TABLE><TR><TD>左侧导航说明</TD></TR></TABLE>"
        "</TD><TD>正文开头<BR>第二行"
        "  <TABLE border=1><TR><TD>行政复议</TD><TD>行政诉讼</TD></TR><TR><TD>1</TD><TD>2</TD></TR></TABLE>"
        "  中间文字"
        "  <table><tr><td>外层</td><td><table><tr><td>3</td><td>4</td></tr></table></td></tr></table>"
        "</TD></TR><TR><TD colspan=2>页脚说明</TD></TR></TABLE>"
    )
    assert_well_formed(doc)
    assert doc.hints["container"] == "body"  # no known container: fall back to <body>
    assert doc.blocks == [
        Paragraph("左侧导航说明"),  # a one-cell table is layout: its text is a paragraph
        Paragraph("正文开头"),
        Paragraph("第二行"),
        Table(rows=[["行政复议", "行政诉讼"], ["1", "2"]], span=[[False] * 2, [False] * 2]),
        Paragraph("中间文字"),
        Paragraph("外层"),
        Table(rows=[["3", "4"]], span=[[False, False]]),
        Paragraph("页脚说明"),
    ]


def test_one_column_table_is_read_as_text() -> None:
    doc = html(
        "<div class='TRS_Editor'><table><tr><td><p>一、总体情况</p><p>本年度主动公开信息一百条。</p></td></tr>"
        "<tr><td>二、主动公开政府信息情况</td></tr></table></div>"
    )
    assert doc.blocks == [
        Paragraph("一、总体情况"),
        Paragraph("本年度主动公开信息一百条。"),
        Paragraph("二、主动公开政府信息情况"),
    ]


def test_empty_and_spacer_tables_are_dropped() -> None:
    doc = html(
        "<div id=zoom><p>正文</p><table><tr><td>&nbsp;</td><td> </td></tr></table><table></table></div>"
    )
    assert doc.blocks == [Paragraph("正文")]


# --- container choice --------------------------------------------------------------------------------


def test_heading_inside_container_not_duplicated() -> None:
    doc = html(
        "<div class='TRS_Editor'><h1>某局2023年政府信息公开工作年度报告</h1><p>正文。</p></div>",
        head="<meta charset=utf-8><title>x</title>",
    )
    assert doc.paragraphs() == ["某局2023年政府信息公开工作年度报告", "正文。"]


def test_specific_container_beats_generic_content_wrapper() -> None:
    long = "本机关依法主动公开政府信息，" * 10
    doc = html(
        f"<div class=content><ul class=nav><li>首页</li><li>机构概况</li></ul>"
        f"<div class=article-content><p>{long}</p></div>"
        f"<div class=sidebar><p>{'热点新闻标题' * 30}</p></div></div>"
    )
    assert doc.hints["container"] == "div.article-content"
    assert doc.paragraphs() == [long]


def test_container_widened_when_report_tables_lie_outside_it() -> None:
    long = "根据《中华人民共和国政府信息公开条例》要求，现公布本机关年度报告如下。" * 3
    rows = "".join(f"<tr><td>{lab}</td><td>1</td><td>0</td><td>1</td></tr>" for lab in "ABC")
    doc = html(
        f"<div class=wrap><div id=zoom><p>{long}</p></div>"
        f"<div class=tables><table><tr><td>申请人情况</td><td>自然人</td><td>其他</td><td>总计</td></tr>{rows}</table></div></div>"
        "<div class=footer>版权所有</div>"
    )
    assert doc.hints["container"] == "div.wrap"
    assert shape(doc) == ["P", "T4x4"]
    assert "版权所有" not in all_text(doc)


# --- robustness ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"   \r\n\t ", b"<html></html>", b"<html><body> </body></html>"]
)
def test_empty_input_raises_document_error(data: bytes) -> None:
    with pytest.raises(DocumentError):
        parse_html(data)


def test_js_shell_with_title_only_is_a_document_without_blocks() -> None:
    doc = parse_html(
        b"<html><head><title>\xe4\xbf\xa1\xe6\x81\xaf\xe5\x85\xac\xe5\xbc\x80</title>"
        b"<script>location.replace('/col/col1/index.html')</script></head><body></body></html>"
    )
    assert doc.blocks == [] and doc.hints["title"] == "信息公开"
    assert "no body text" in doc.warnings


def test_truncated_page_parses_as_far_as_it_goes() -> None:
    raw = (FIX / "trs_report_2021.html").read_bytes()
    cut = raw[: raw.index("（三）不予公开".encode()) + 200]
    doc = parse_html(cut)
    assert_well_formed(doc)
    assert shape(doc)[:7] == ["P"] * 6 + ["T14x4"]
    t = doc.tables()[-1]
    assert t.rows[0][3] == "申请人情况" and 7 <= len(t.rows) < 28
    assert len(t.rows[0]) == 10


def test_separator_and_control_characters_in_input_do_not_leak() -> None:
    doc = html("<div id=zoom><p>甲\ue000乙&#57344;丙\x00丁\x07戊&#8203;</p><p>第二段文字</p></div>")
    assert_well_formed(doc)
    assert doc.paragraphs()[0].startswith("甲乙")
    assert doc.paragraphs()[-1] == "第二段文字"


def test_deeply_nested_markup_does_not_crash() -> None:
    # unclosed <font>s on legacy pages nest past libxml2's default depth limit of 256
    fonts = "<FONT size=3>" * 600 + "深层文字"
    tables = "<table><tr><td>" * 300 + "x" + "</td></tr></table>" * 300
    for body in (fonts, tables):
        doc = parse_html(f"<html><body>{body}<p>结尾</p></body></html>".encode())
        assert doc.paragraphs()[-1].endswith("结尾")
    # beyond libxml2's hard limit (2048) the page is cut there, but nothing crashes
    doc = parse_html(("<p>前文</p>" + "<div>" * 5000 + "深层文字" + "</div>" * 5000).encode())
    assert doc.paragraphs() == ["前文"]


def test_read_bytes_dispatches_html() -> None:
    doc = read_bytes((FIX / "govcn_ucap.html").read_bytes(), source="x.html")
    assert doc.kind == "html" and doc.source == "x.html" and len(doc.tables()) == 1


_TAGS = [
    "p",
    "div",
    "td",
    "tr",
    "table",
    "th",
    "br",
    "span",
    "TD",
    "TR",
    "li",
    "h1",
    "style",
    "o:p",
]


@st.composite
def tag_soup(draw: st.DrawFn) -> bytes:
    parts = []
    for _ in range(draw(st.integers(0, 60))):
        kind = draw(st.integers(0, 4))
        tag = draw(st.sampled_from(_TAGS))
        if kind == 0:
            parts.append(f"<{tag}>")
        elif kind == 1:
            parts.append(f"</{tag}>")
        elif kind == 2:
            rs = draw(st.sampled_from(["0", "1", "3", "999", "x", "-2", ""]))
            cs = draw(st.sampled_from(["0", "2", "50", "1000", "y"]))
            parts.append(f"<{tag} rowspan={rs} colspan='{cs}' style='display:none'>")
        else:
            parts.append(draw(st.text(alphabet="申请0123 \u3000\xa0公开&;<>\ue000", max_size=8)))
    return "".join(parts).encode("utf-8", "replace")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), tag_soup()))
def test_garbage_never_raises_anything_but_document_error(data: bytes) -> None:
    try:
        doc = parse_html(data)
    except DocumentError:
        return
    assert_well_formed(doc)


def test_utf8_page_with_wrong_gb2312_meta_even_length_runs() -> None:
    raw = "<html><head><meta charset=gb2312></head><body><p>年度报告</p><p>公开</p></body></html>"
    doc = parse_html(raw.encode("utf-8"))
    assert doc.paragraphs() == ["年度报告", "公开"]
