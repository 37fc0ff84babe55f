"""core.vocabulary: one reading of titles and info-box labels for discovery, HTML and transform.

Several cases are ones where the old copies disagreed: discovery read 二〇二三 and the
transform did not; the transform called 生成日期 a written date and the HTML reader a
generation date; classification knew fewer companion words than discovery.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from nianbao.core.document import Document, Paragraph, Table
from nianbao.core.vocabulary import is_companion, label_key, report_year
from nianbao.extract.discovery.base import is_report_title
from nianbao.extract.html import parse_html
from nianbao.transform.classify import classify
from nianbao.transform.meta import extract_meta, info_box
from nianbao.transform.result import Meta

HANWEB = Path(__file__).parent / "fixtures" / "html" / "hanweb_zoom_2019.html"


@pytest.mark.parametrize(
    "title, year",
    [
        ("长春市体育局2023年政府信息公开工作年度报告", 2023),
        ("示例局2019年度政府信息公开年报（2020-01-15）", 2019),
        # Chinese numerals, with each zero portals print (the transform read none of them)
        ("二〇二三年政府信息公开工作年度报告", 2023),
        ("示例县人民政府二零二二年度政府信息公开工作年度报告", 2022),
        ("示例市统计局二○二一年政府信息公开工作年度报告", 2021),
        ("示例区水务局二O二O年政府信息公开工作年度报告", 2020),
        ("示例市教育局一九九九年政务公开工作总结", 1999),
        ("２０２３年度示例市政府信息公开工作年度报告", 2023),  # full-width digits
        ("示例局 2023 年 度 政府信息公开工作年度报告", 2023),
        # the year the report is about beats a later date: discovery used to say 2024 here
        ("二〇二三年度政府信息公开工作年度报告（2024-01-20）", 2023),
        ("示例局政府信息公开工作年报（2023）", 2023),  # bare year only when no 年 follows one
        ("政府信息公开工作年度报告", None),
        ("示例局1985年工作总结", None),  # before any 信息公开 report
        ("示例局12023年报", None),
        # a space separates a number from the year even though matching compacts the text
        ("附件3 2023年政府信息公开工作年度报告", 2023),
        ("示例局 2 0 2 3 年 度 政府信息公开工作年度报告", 2023),  # letter-spaced PDF title
    ],
)
def test_report_year(title: str, year: int | None) -> None:
    assert report_year(title) == year


def _meta_of_title(title: str) -> Meta:
    return extract_meta(Document([Paragraph(title), Paragraph("一、总体情况")]))


@pytest.mark.parametrize(
    "title, agency, year",
    [
        ("示例市体育局二〇二三年政府信息公开工作年度报告", "示例市体育局", 2023),
        ("示例县人民政府二零二二年度政府信息公开工作年度报告", "示例县人民政府", 2022),
        ("长春市体育局2023年政府信息公开工作年度报告", "长春市体育局", 2023),
    ],
)
def test_metadata_reads_the_title_year_as_discovery_does(title: str, agency: str, year: int):
    meta = _meta_of_title(title)
    assert meta.title == title
    assert (meta.agency, meta.year) == (agency, year)
    assert meta.year == report_year(title)


@pytest.mark.parametrize(
    "title",
    [
        "《2023年政府信息公开工作年度报告》解读",
        "图解：示例市2023年政府信息公开工作年度报告",
        "一图读懂示例市2023年政府信息公开工作年度报告",
        "示例市2023年政府信息公开工作年度报告新闻发布会答记者问",
        # words only discovery knew: classification now flags these too
        "示例市2023年政府信息公开工作年度报告政策问答",
        "视频：示例市2023年政府信息公开工作年度报告",
        "H5｜示例市2023年政府信息公开工作年度报告",
        "示例市2023年政府信息公开工作年度报告新闻发布稿",
    ],
)
def test_companions_are_known_alike_to_discovery_and_classification(title: str) -> None:
    assert is_companion(title)
    assert not is_report_title(title)
    flags = classify(Document([]), Meta(title=title), n_facts=0)
    assert "companion" in flags
    assert "companion" not in classify(Document([]), Meta(title=title), n_facts=12)


@pytest.mark.parametrize(
    "title",
    [
        "示例市2023年政府信息公开工作年度报告",
        "附件：示例市2023年政府信息公开工作年度报告",  # an attachment is the report itself
        "示例市2023年政府信息公开工作年度报告（详见附件）",
    ],
)
def test_reports_are_not_companions(title: str) -> None:
    assert not is_companion(title)
    assert is_report_title(title)
    assert "companion" not in classify(Document([]), Meta(title=title), n_facts=0)


def test_labels_match_with_inner_whitespace() -> None:
    assert label_key("索 引 号") == "index_no"
    assert label_key("生成日期") == "generated"
    assert label_key("来源") == label_key("信息来源") == "content_source"
    assert label_key("点击数") is None


def test_generation_date_is_never_a_publication_date() -> None:
    """The Hanweb box has 生成日期 and no 发布日期: neither reader may call it published."""
    html = parse_html(HANWEB.read_bytes(), source=HANWEB.name)
    assert html.hints["generated"] == "2020-01-20" and "published" not in html.hints
    box = info_box(Document([Table([["生成日期", "2020-01-20", "发布机构", "微山县体育局"]])]))
    assert box == {"generated": "2020-01-20", "agency": "微山县体育局"}
    meta = extract_meta(Document([Paragraph("生成日期：2020-01-20"), Paragraph("一、总体情况")]))
    assert meta.published is None


def test_source_is_a_last_resort_agency_in_both_readers() -> None:
    page = (
        "<html><body><div class='info'><span>来源：示例市体育局</span>"
        "<span>点击数：12</span></div><div id='zoom'><p>根据《中华人民共和国政府信息公开条例》"
        "编制本报告，内容包括总体情况、主动公开政府信息情况等，统计期限为全年。</p>"
        "<p>一、总体情况</p></div></body></html>"
    )
    html = parse_html(page.encode(), source="page.html")
    assert html.hints["content_source"] == "示例市体育局"
    box = info_box(Document([Paragraph("来源：示例市体育局 发布日期：2024-01-15")]))
    assert box == {"content_source": "示例市体育局", "published": "2024-01-15"}
    meta = extract_meta(Document([Paragraph("来源：示例市体育局"), Paragraph("一、总体情况")]))
    assert meta.agency == "示例市体育局"
    named = extract_meta(
        Document([Paragraph("发布机构：示例市人民政府办公室"), Paragraph("来源：示例市政府网站")])
    )
    assert named.agency == "示例市人民政府办公室"


def test_metadata_keeps_a_number_before_a_space_out_of_the_year() -> None:
    assert _meta_of_title("附件3 2023年政府信息公开工作年度报告").year == 2023
    meta = _meta_of_title("-2+3 2024年政府信息公开工作年度报告")
    assert (meta.year, meta.agency) == (2024, "-2+3")


def test_an_info_box_name_label_is_not_part_of_the_title():
    """安徽 pages print "名称：| X年政府信息公开工作年度报告" in their info box; the title is X…."""
    from nianbao.core.document import Document, Paragraph, Table
    from nianbao.transform.meta import extract_meta

    title = "皖示县财政局2023年政府信息公开工作年度报告"
    grid = Table(rows=[["索引号：", "11342003/2024-04459", "信息分类：", "年度报告"],
                       ["名称：", title, "", ""]])  # fmt: skip
    assert extract_meta(Document(blocks=[grid])).title == title
    assert extract_meta(Document(blocks=[Paragraph(f"名称：{title}")])).title == title
    assert extract_meta(Document(blocks=[Paragraph(title)])).title == title
