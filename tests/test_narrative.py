"""transform/narrative.py: the totals a report's prose states, read from real sentences.

Every expected value below was typed by hand from the sentence it belongs to (never produced
by running the reader).  Sentences are copied from stored public pages (address given) and from
the five seed reports; a few rule tests use made-up sentences and say so.
"""

from __future__ import annotations

import pytest
from conftest import SEEDS_DIR
from nianbao.core.document import Document, Paragraph, Table
from nianbao.extract.readers import read_path
from nianbao.transform.narrative import QUANTITIES, Statement, read_statements

SHANGHAI = "https://shanghai.gov.cn/nw12344/20230331/4a03b5fa47ae4c73b7ec42801de6be66.html"
YANGLING = "https://yangling.gov.cn/zwgk/gknb/bmnb/1619593655548706818.html"
DATONG = "http://www.dttz.gov.cn/dttzx/zfzcbm2021/202202/973157410ae049d281a6121607fc4bfd.shtml"
TONGJI = "http://61.150.65.235/zfxxgk/zfxxgknb/bmxxgknb/1906985018193408001.html"
PUTUO = "http://www.shpt.gov.cn/shpt/tjsj-tjsjzhzwqfbzfwj2021/20220725/847939.html"
CHANGCHUN = "http://js.changchun.gov.cn/zcbm/styjrswj/ndbg/202401/t20240115_3271106.html"
ZHANJIANG = "https://www.zhanjiang.gov.cn/zjsfw/bmdh/dfz/zwgk/xxgkndbg/content/post_1871569.html"
# A copy of a 2017 bureau report on a third-party site (the sentences are the report's).
WENWU = "https://www.izibackup.com/jinboqipai/20181030/5664.html"
# A template ("范文") of a district report, numbers printed on their own lines.
FANWEN = "https://m.pinggu.org/bbs/thread-15273420-1-1.html"
ZJTCN = "https://m.zjtcn.com/baike/lys2013ndzfxxgkgzbgbgnr7246083"

PINGTAN_2022 = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202302/t20230220_80629.htm"
PINGTAN_2025 = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202603/t20260313_105587.htm"
# the real-report corpus's sh-kewei-2024 (上海市科学技术委员会, tests/fixtures/real/reports)
KEWEI = "tests/fixtures/real/reports/sh-kewei-2024.toml"

# (address, sentence, expected statements in reading order)
REAL: list[tuple[str, str, list[tuple[str, int]]]] = [
    # the text says 75 where the table's 本年新收 total is 74: a real disagreement to flag
    (
        PINGTAN_2022,
        "2022年,全区收到政府信息公开申请75件,涉及自然人72件、商业企业3件,均在法定期限内予以答复,"
        "办结率100%。",
        [("requests_new", 75)],
    ),
    # the agency as respondent (the cases arose from its disclosure): its 行政复议 total, 36
    (
        PINGTAN_2025,
        "全年办理因政府信息公开申请引发的行政复议36起,行政诉讼9起。",
        [("review", 36), ("suit", 9)],
    ),
    # answers by kind, not the number answered
    (KEWEI, "申请中同意公开答复9件,部分公开答复0件,不予公开答复2件。", []),
    (SHANGHAI, "全年上海市人民政府网站共发布各类信息46106条。", [("active_published", 46106)]),
    # 件 of documents (规章, 规范性文件), not items of information; "(含…)" is an aside
    (
        SHANGHAI,
        "2022年,在上海市人民政府网站、《上海市人民政府公报》主动公开市政府规章13件(含新制定5件,"
        "修改4件,废止4件),主动公开市政府和市政府办公厅行政规范性文件42件,人事任免文件106件,"
        "其他文件113件。",
        [],
    ),
    (
        SHANGHAI,
        "全年共举办191场市政府新闻发布活动,市政府领导出席新闻发布会共计25人次,"
        "围绕上海经济社会发展重点领域工作,发布权威信息、解读政策内容。",
        [],
    ),
    # bare "公开信息N条" is only read after 主动 (per-channel counts look the same): not read
    (YANGLING, "2022年,我局通过示范区管委会网站审计信息栏目公开信息20条。", []),
    (YANGLING, "2022年,未收到依申请公开事项.", [("requests_new", 0)]),
    (
        YANGLING,
        "在管委会网站政府信息公开栏目设置有审计信息专栏,把审计相关信息在该栏目下及时公布,"
        "全年通过审计信息专栏公开政府信息16条。",
        [("active_published", 16)],
    ),
    (
        DATONG,
        "2021年,我局未发生依申请公开政府信息方面的行政复议和行政诉讼。",
        [("review", 0), ("suit", 0)],
    ),
    (
        DATONG,
        "2021年,我局按照要求主动公开不涉密信息,包括领导简介、机构简介、内设机构、工作动态、"
        "政府信息公开指南等信息。",
        [],
    ),
    (
        TONGJI,
        "2023年,我局认真梳理,主动在门户网站公开政府信息50条。全年政务信息公开工作运行正常。"
        "在主动公开的信息中,政策法规类的信息4条,业务工作类的信息10条,信息公开30条,"
        "统计数据信息6条。",
        [("active_published", 50)],
    ),
    # documents (公文), and a rate
    (
        PUTUO,
        "2022年上半年,全区各级行政机关共制发公文707件,主动公开673件,平均主动公开率为95.19%。",
        [],
    ),
    # the total before 其中 counts; the percentage change and the 其中 part do not
    (
        PUTUO,
        "2022年上半年,全区各行政机关共受理政府信息公开申请267件,答复263件,"
        "申请量比2021年同期上升1.52%。其中同意公开或部分公开共81件,公开率为30.80%。",
        [("requests_new", 267), ("requests_handled", 263)],
    ),
    (
        PUTUO,
        "2022年上半年,全区共发生涉及政府信息公开的行政诉讼案件2件,被纠错0件。",
        [("suit", 2)],
    ),
    # 截止 a date: a stock; and 政务类信息 is not a total
    (CHANGCHUN, "截止2023年12月31日我局通过官方网站发布政务类信息34条,概况类信息150条。", []),
    (
        CHANGCHUN,
        "本年度,共受理政府信息公开申请2件,都在法定期限内予以答复。",
        [("requests_new", 2)],
    ),
    (
        CHANGCHUN,
        "我局按时收集整理门户网站“公众留言”栏目内容,及时做出答复回应,本年度共处理群众留言92条。",
        [],
    ),
    # 行政许可申请 is not a disclosure application; 信息公开申请 is
    (
        ZHANJIANG,
        "2023年,我办全年未收到行政许可申请;全年未接到信息公开申请;"
        "各栏目共刊发文稿、通知、公告、公示等44篇。",
        [("requests_new", 0)],
    ),
    # per-channel parts, no total
    (
        WENWU,
        "在主动公开信息工作中,通过不同渠道和方式公开政府信息情况:政府网站公开信息3698条,"
        "微博微信公开信息2148条,新闻发布会公开信息12条,新闻媒体公开信息12条,政府公报公开信息0条。",
        [],
    ),
    (
        WENWU,
        "本局2017年共受理信息公开申请10件,其中当面申请1宗,占10%;网上申请9宗,占90%;"
        "信函申请0宗,占0%。",
        [("requests_new", 10)],
    ),
    # "答复的9件申请" is a part, not "答复N件"
    (
        WENWU,
        "在已经答复的9件申请中,“同意公开”的7件,占总数的70%,主要涉及文物保护、行政审批等信息。",
        [],
    ),
    (WENWU, "2017年度针对我局有关的行政复议案0件。", [("review", 0)]),
    # a cumulative stock "到年底累计", and the year's count only after 其中: nothing stated
    (
        FANWEN,
        "本区到年底累计主动公开政府信息\n5928\n条,全文电子化率达\n90.3%\n,其中,"
        "本年度新增主动公开政府信息\n2110\n条。",
        [],
    ),
    (ZJTCN, "市档案馆、图书馆全年共接收公开信息件1600多份。", []),
]


def _pairs(doc: Document) -> list[tuple[str, int]]:
    return [(s.quantity, s.value) for s in read_statements(doc)]


@pytest.mark.parametrize(
    ("address", "sentence", "want"), REAL, ids=[f"{i:02d}" for i in range(len(REAL))]
)
def test_real_sentence(address, sentence, want):
    assert _pairs(Document(blocks=[Paragraph(sentence)], source=address)) == want


def test_real_sentences_count():
    assert 18 <= len(REAL) <= 28


# The five seed reports: what their prose before the first table states, read by hand.
# 000: "未收到政府信息公开申请" → 0.  "截至目前,政务信息网公开各类信息136条" is a stock as of
#      the day of writing, not the year's count: not a statement.  "10余场" approximate.
# 001: "主动公开信息总数共200余条" approximate; "区政务网站公开信息8条" follows 其中 (a part).
# 002: "公开政府信息2414条"; "收到政府信息公开申请1件"; "已在法定期限内办结" has no number;
#      "未因涉信息公开行政复议、行政诉讼被纠错" says nothing was corrected, not that none happened.
# 003: "主动公开政府信息共计829条"; "政府信息公开申请3件"; "未发生…行政复议或行政诉讼" → 0, 0.
# 004: an info-box grid comes first (not "the first table"); "发布工作概况30条" is not a
#      total; "未收到依申请公开信息的申请,无行政复议、无行政诉讼" → 0, 0, 0.
SEED_TRUTH: dict[str, list[tuple[str, int]]] = {
    "000": [("requests_new", 0)],
    "001": [],
    "002": [("active_published", 2414), ("requests_new", 1)],
    "003": [("active_published", 829), ("requests_new", 3), ("review", 0), ("suit", 0)],
    "004": [("requests_new", 0), ("review", 0), ("suit", 0)],
}


@pytest.mark.parametrize("prefix", sorted(SEED_TRUTH))
def test_seed_prose(prefix):
    (path,) = SEEDS_DIR.glob(prefix + "_*.txt")
    assert _pairs(read_path(path)) == SEED_TRUTH[prefix]


# -------------------------------------------------------------------------- the rules

REQUESTS_TABLE = Table(rows=[["一、本年新收政府信息公开申请数量", "7"], ["(七)总计", "7"]])


def test_nothing_after_the_first_table():
    doc = Document(
        blocks=[
            Paragraph("一、总体情况"),
            Paragraph("2024年,共收到政府信息公开申请7件。"),
            Paragraph("三、收到和处理政府信息公开申请情况"),
            REQUESTS_TABLE,
            Paragraph("全年共收到政府信息公开申请9件,主动公开政府信息300条。"),
        ]
    )
    assert _pairs(doc) == [("requests_new", 7)]


def test_an_info_box_grid_is_not_the_first_table():
    box = Table(rows=[["索 引 号:", "x/2025-01", "公开目录:", "部门年报"], ["发布机构:", "某局"]])
    doc = Document(blocks=[box, Paragraph("2024年,未收到政府信息公开申请。"), REQUESTS_TABLE])
    assert _pairs(doc) == [("requests_new", 0)]


def test_table_cells_are_never_read():
    doc = Document(blocks=[Table(rows=[["2024年共收到政府信息公开申请5件。"]])])
    assert read_statements(doc) == []


@pytest.mark.parametrize(
    ("sentence", "want"),
    [
        # made-up variants of the real phrasings, one rule each
        ("全年共收到政府信息公开申请十二件。", [("requests_new", 12)]),
        ("全年共收到政府信息公开申请一百零五件。", [("requests_new", 105)]),
        ("全年共收到政府信息公开申请两件。", [("requests_new", 2)]),
        ("全年主动公开政府信息1，234条。", [("active_published", 1234)]),
        ("全年主动公开政府信息1,234条。", [("active_published", 1234)]),
        ("全年共收到政府信息公开申请近200件。", []),
        ("全年主动公开政府信息约300条。", []),
        ("全年主动公开政府信息300余条。", []),
        ("全年共收到政府信息公开申请15件,同比增长5件。", [("requests_new", 15)]),
        ("全年共收到政府信息公开申请15件,已全部办结。", [("requests_new", 15)]),
        (
            "全年共收到政府信息公开申请15件,办结15件。",
            [("requests_new", 15), ("requests_handled", 15)],
        ),
        ("本年度办理人大代表建议12件、政协委员提案3件,办理结果均已按要求公开。", []),
        ("政府信息公开行政复议和行政诉讼均为0。", [("review", 0), ("suit", 0)]),
        ("本年度发生政府信息公开行政复议1起、行政诉讼2起。", [("review", 1), ("suit", 2)]),
        ("未发生政府信息公开行政复议、行政诉讼案件。", [("review", 0), ("suit", 0)]),
        ("本年度未发生因政府信息公开被行政诉讼败诉的情况。", []),
        ("全年办理行政复议案件120件。", []),
        ("未收到因政府信息公开申请引发的行政复议。", [("review", 0)]),
    ],
)
def test_rule(sentence, want):
    assert _pairs(Document(blocks=[Paragraph(sentence)])) == want


def test_same_value_once_different_values_both():
    doc = Document(
        blocks=[
            Paragraph("2024年共收到政府信息公开申请3件。"),
            Paragraph("(二)依申请公开情况。全年共受理政府信息公开申请3件。"),
            Paragraph("全年主动公开政府信息120条。"),
            Paragraph("全年通过门户网站主动公开政府信息118条。"),
        ]
    )
    assert _pairs(doc) == [
        ("requests_new", 3),
        ("active_published", 120),
        ("active_published", 118),
    ]


def test_statement_shape():
    long = "2024年," + "认真贯彻落实《条例》要求" * 30 + ",共收到政府信息公开申请4件。"
    (st,) = read_statements(Document(blocks=[Paragraph(long)]))
    assert isinstance(st, Statement)
    assert st.quantity in QUANTITIES
    assert st.value == 4
    assert len(st.text) <= 200


# ------------------------------------------------------------ the demo report's prose

# The sentences demo/synth.py writes into section 一 (its _PROSE and the pre-2019 report), copied
# here with numbers filled in, so this test does not depend on that module.
DEMO: list[tuple[str, list[tuple[str, int]]]] = [
    (
        "2023年，某市某区某局坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实"
        "《中华人民共和国政府信息公开条例》，不断提升政务公开质量和实效。",
        [],
    ),
    (
        "全年通过门户网站主动公开政府信息1234条，其中政策文件56条、政策解读7条。",
        [("active_published", 1234)],
    ),
    ("严格落实“先审后发”制度，加强政府信息公开保密审查，确保发布信息准确、规范。", []),
    ("依法规范办理政府信息公开申请，在法定期限内答复，未发生超期答复情况。", []),
    ("本年度未收取政府信息公开信息处理费。", []),
    ("本年度办理人大代表建议7件、政协委员提案56件，办理结果均已按要求公开。", []),
    (
        "全年主动公开政府信息321条，其中通过政府网站公开311条，通过政府公报公开10条。",
        [("active_published", 321)],
    ),
    ("全年共受理政府信息公开申请9件，其中同意公开4件，申请信息不存在5件。", [("requests_new", 9)]),
    ("本年度未发生因政府信息公开申请行政复议、提起行政诉讼的情况。", [("review", 0), ("suit", 0)]),
]


@pytest.mark.parametrize(("sentence", "want"), DEMO, ids=[f"demo{i}" for i in range(len(DEMO))])
def test_demo_prose(sentence, want):
    assert _pairs(Document(blocks=[Paragraph(sentence)])) == want
