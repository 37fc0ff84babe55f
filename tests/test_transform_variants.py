"""Hand-made dumps for the deviations of formats.md §8: each asserts exact values or errors."""

from __future__ import annotations

from nianbao.extract.textdump import parse_text
from nianbao.transform import catalogue
from nianbao.transform.report import extract_document

REQ_LABELS_2021 = [
    "一、本年新收政府信息公开申请数量",
    "二、上年结转政府信息公开申请数量",
    "三、本年度办理结果 | （一）予以公开",
    "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "（三）不予公开 | 1.属于国家秘密",
    "2.其他法律行政法规禁止公开",
    "3.危及“三安全一稳定”",
    "4.保护第三方合法权益",
    "5.属于三类内部事务信息",
    "6.属于四类过程性信息",
    "7.属于行政执法案卷",
    "8.属于行政查询事项",
    "（四）无法提供 | 1.本机关不掌握相关政府信息",
    "2.没有现成信息需要另行制作",
    "3.补正后申请内容仍不明确",
    "（五）不予处理 | 1.信访举报投诉类申请",
    "2.重复申请",
    "3.要求提供公开出版物",
    "4.无正当理由大量反复申请",
    "5.要求行政机关确认或重新出具已获取信息",
    "（六）其他处理 | 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "3.其他",
    "（七）总计",
    "四、结转下年度继续办理",
]
REQ_HEADER = """| （本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和） | 申请人情况 |
| 自然人 | 法人或其他组织 | 总计 |
| 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 |"""
APPEALS = """四、政府信息公开行政复议、行政诉讼情况
| 行政复议 | 行政诉讼 |
| 结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 | 未经复议直接起诉 | 复议后起诉 |
| 结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 | 结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 |
| 3 | 1 | 0 | 1 | 5 | 2 | 0 | 1 | 0 | 3 | 1 | 0 | 0 | 1 | 2 |
五、存在的主要问题及改进情况
"""
ACTIVE_2021 = """二、主动公开政府信息情况
| 第二十条第（一）项 |
| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |
| 规章 | 1 | 0 | 5 |
| 行政规范性文件 | 3 | 2 | 40 |
| 第二十条第（五）项 |
| 信息内容 | 本年处理决定数量 |
| 行政许可 | 1,234 |
| 第二十条第（六）项 |
| 信息内容 | 本年处理决定数量 |
| 行政处罚 | 56 |
| 行政强制 | — |
| 第二十条第（八）项 |
| 信息内容 | 本年收费金额（单位：万元） |
| 行政事业性收费 | 12.5 |
"""


def requests_rows(rows: dict[int, str] | None = None, n_items: int = 25) -> str:
    """Row-per-line dump; natural=1 everywhere but total rows consistent."""
    rows = rows or {}
    out = ["三、收到和处理政府信息公开申请情况", REQ_HEADER]
    for i, label in enumerate(REQ_LABELS_2021[:n_items]):
        out.append(f"| {label} | " + rows.get(i, "0 | 0 | 0 | 0 | 0 | 0 | 0") + " |")
    return "\n".join(out) + "\n"


def doc(text: str):
    return extract_document(parse_text(text, source="t"))


def facts(result):
    return {(f.table, f.item, f.column): f for f in result.facts}


def test_row_per_line_with_blanks_placeholders_and_thousands():
    rows = {
        0: "5 | 1 | 0 | 0 | 1 | 0 | 7",
        2: "4 | | | | | | 4",  # only natural and total filled (D6)
        23: "4 | 1 | 0 | 0 | 1 | 0 | 6",
        24: "1 | / | — | - | 无 | 空 | 1",
    }
    r = doc("标题\n" + ACTIVE_2021 + requests_rows(rows) + APPEALS)
    f = facts(r)
    assert len(r.facts) == 200, r.errors
    assert f[("active", "license", "decisions")].value == 1234
    assert f[("active", "license", "decisions")].raw == "1,234"
    assert f[("active", "enforcement", "decisions")].value is None
    assert f[("active", "enforcement", "decisions")].raw == "—"
    assert f[("active", "fees", "amount")].value == 12.5
    assert f[("active", "fees", "amount")].unit == "万元"
    assert f[("requests", "granted", "natural")].value == 4
    assert f[("requests", "granted", "commercial")].value is None
    assert f[("requests", "granted", "commercial")].raw == ""
    assert f[("requests", "granted", "total")].value == 4
    assert [f[("requests", "carried_forward", c)].raw for c in catalogue.REQUEST_COLUMNS] == [
        "1",
        "/",
        "—",
        "-",
        "无",
        "空",
        "1",
    ]
    assert f[("appeals", "review", "total")].value == 5
    assert f[("appeals", "suit_after_review", "total")].value == 2
    checks = {c.name: c for c in r.checks}
    assert checks["requests_row_total.granted"].ok is None  # blank operands: skipped
    assert checks["requests_row_total.new"].ok is True
    assert checks["appeals_total.review"].ok is True
    assert checks["requests_balance.natural"].ok is True  # 5 + 0 == 4 + 1
    assert checks["requests_balance.commercial"].ok is None  # carried_forward is '/'
    assert checks["requests_balance.total"].ok is True  # 7 + 0 == 6 + 1


def test_lost_sub_labels_positional_only_with_exact_count():
    text = requests_rows()
    deny_rows = "\n".join(REQ_LABELS_2021[4:12])
    assert deny_rows
    # Replace the 8 labelled deny rows by the group label followed by 56 bare numbers (D5).
    lines = text.split("\n")
    start = next(i for i, ln in enumerate(lines) if "1.属于国家秘密" in ln)
    nums = " | ".join(str(k % 7) for k in range(56))
    lines[start : start + 8] = [f"| （三）不予公开 | {nums} |"]
    r = doc(ACTIVE_2021 + "\n".join(lines) + APPEALS)
    f = facts(r)
    assert f[("requests", "deny_state_secret", "natural")].value == 0
    assert f[("requests", "deny_law_prohibited", "natural")].value == 0
    assert f[("requests", "deny_state_secret", "commercial")].value == 1
    assert f[("requests", "deny_query_matter", "total")].value == 6
    assert "requests_positional:result.deny" in r.flags
    # One number short: the group is not mapped, and says so.
    lines[start] = f"| （三）不予公开 | {' | '.join(['0'] * 55)} |"
    r = doc(ACTIVE_2021 + "\n".join(lines) + APPEALS)
    assert not any(fa.item.startswith("deny_") for fa in r.facts)
    assert any("不予公开" in e and "55" in e for e in r.errors)
    assert {c.name: c.ok for c in r.checks}["cells_found"] is False


def test_wrong_count_row_is_an_error_not_a_guess():
    r = doc(ACTIVE_2021 + requests_rows({0: "1 | 2 | 3"}) + APPEALS)
    assert ("requests", "new", "natural") not in facts(r)
    assert any(e.startswith("requests.new:") for e in r.errors)
    assert {c.name: c.ok for c in r.checks}["requests_balance.natural"] is None


def test_pipeless_blank_line_separated_cells():
    lines = [
        "二、主动公开政府信息情况",
        "第二十条第(一)项",
        "信息内容",
        "本年制发件数",
        "本年废止件数",
        "现行有效件数",
        "规章",
        "1",
        "2",
        "3",
        "规范性文件",
        "4",
        "5",
        "6",
        "第二十条第(五)项",
        "信息内容",
        "本年处理决定数量",
        "行政许可",
        "7",
        "第二十条第(六)项",
        "信息内容",
        "本年处理决定数量",
        "行政处罚",
        "8",
        "行政强制",
        "9",
        "第二十条第(八)项",
        "信息内容",
        "本年收费金额(单位:万元)",
        "行政事业性收费",
        "0.5",
        "三、收到和处理政府信息公开申请情况",
        "申请人情况",
        "自然人",
        "法人或其他组织",
        "总计",
        "商业 企业",
        "科研 机构",
        "社会公益组织",
        "法律服务机构",
        "其他",
    ]
    for label in REQ_LABELS_2021:
        for part in label.split(" | "):
            lines.append(part)
        lines.append("1 0 0 0 0 0 1")
    lines += [
        "四、政府信息公开行政复议、行政诉讼情况",
        "行政复议",
        "行政诉讼",
        "结 结 其 尚",
        "果 果 他 未",
        "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
    ]
    r = doc("\n\n".join(lines))
    assert r.format == "2021"
    assert len(r.facts) == 200, r.errors
    f = facts(r)
    assert f[("active", "regulation", "in_force")].value == 3
    assert f[("active", "normative_doc", "issued")].value == 4
    assert f[("active", "fees", "amount")].value == 0.5
    assert f[("requests", "carried_forward", "total")].value == 1


def test_2019_format_detected_from_labels():
    active = """二、主动公开政府信息情况
| 第二十条第（一）项 |
| 信息内容 | 本年新 制作数量 | 本年新 公开数量 | 对外公开总数量 |
| 规章 | 0 | 0 | 0 |
| 规范性文件 | 2 | 2 | 30 |
| 第二十条第（五）项 |
| 信息内容 | 上一年项目数量 | 本年增/减 | 处理决定数量 |
| 行政许可 | 10 | 减4 | 100 |
| 其他对外管理服务事项 | 3 | +1 | 20 |
| 第二十条第（六）项 |
| 信息内容 | 上一年项目数量 | 本年增/减 | 处理决定数量 |
| 行政处罚 | 5 | 0 | 7 |
| 行政强制 | 1 | -1 | - |
| 第二十条第（八）项 |
| 信息内容 | 上一年项目数量 | 本年增/减 |
| 行政事业性收费 | 2 | 0 |
| 第二十条第（九）项 |
| 信息内容 | 采购项目数量 | 采购总金额 |
| 政府集中采购 | 3 | 251000元 |
"""
    labels = REQ_LABELS_2021[:20] + ["（六）其他处理", "（七）总计", "四、结转下年度继续办理"]
    req = ["三、收到和处理政府信息公开申请情况", REQ_HEADER]
    req += [f"| {lb} | 0 | 0 | 0 | 0 | 0 | 0 | 0 |" for lb in labels]
    r = doc(active + "\n".join(req) + "\n" + APPEALS)
    assert r.format == "2019"
    assert len(r.facts) == 198, r.errors
    f = facts(r)
    assert f[("active", "license", "delta_items")].value == -4
    assert f[("active", "license", "delta_items")].raw == "减4"
    assert f[("active", "other_services", "delta_items")].value == 1
    assert f[("active", "enforcement", "decisions")].value is None
    assert f[("active", "procurement", "amount")].value == 251000
    assert f[("active", "procurement", "amount")].unit == "元"
    assert f[("active", "regulation", "made")].value == 0
    assert ("requests", "other_handling", "total") in f
    assert {c.name: c.ok for c in r.checks}["value_types"] is True


def test_split_header_words_and_eighth_column_flag():
    header = """| （本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和） | 申请人情况 |
| 自然人 | 法人或其他组织 | 总计 |
| 商业 | 科研 | 社会公益组织 | 法律服务机构 | 其他 |
| 企业 | 机构 |"""
    text = requests_rows().replace(REQ_HEADER, header)
    r = doc(ACTIVE_2021 + text + APPEALS)
    assert len(r.facts) == 200, r.errors


def test_no_tables_and_garbage_never_raise():
    r = doc("2021年某某局政府信息公开工作年度报告解读\n图解：今年我局……")
    assert r.facts == [] and r.format is None
    assert any("no standard tables" in e for e in r.errors)
    for junk in ["|||\n| | |", "二、主动公开政府信息情况\n| 规章 | x |", "\x00\x01 | 5 |"]:
        doc(junk)


def test_classification_flags():
    companion = doc("2023年某某局政府信息公开工作年度报告解读\n一图读懂……")
    assert "companion" in companion.flags
    mirror = doc(
        "某某局2023年政府信息公开工作年度报告\n"
        + "公(gong)开(kai)工(gong)作(zuo)年(nian)度(du) bt365 真人视讯\n"
        + ACTIVE_2021
    )
    assert any(f.startswith("suspected_mirror:") for f in mirror.flags)
    assert any(f.startswith("injected_spam:") for f in mirror.flags)
    region = doc("2023年某某市人民政府信息公开工作年度报告\n" + ACTIVE_2021)
    assert "scope:region" in region.flags
    seedlike = doc("怀化市洪江区科技和工业信息化局2024年政府信息公开工作年度报告\n" + ACTIVE_2021)
    assert seedlike.flags == []


def test_all_blank_row_maps_to_nulls_only_with_exact_cells():
    r = doc(ACTIVE_2021 + requests_rows({14: " |  |  |  |  |  | "}) + APPEALS)
    f = facts(r)
    cells = [f[("requests", "unable_unclear", c)] for c in catalogue.REQUEST_COLUMNS]
    assert [(x.value, x.raw) for x in cells] == [(None, "")] * 7
    assert len(r.facts) == 200 and r.errors == []
    # The label alone, no cells: not mapped, said so.
    text = requests_rows().replace(
        "| 3.补正后申请内容仍不明确 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |", "| 3.补正后申请内容仍不明确 |"
    )
    r = doc(ACTIVE_2021 + text + APPEALS)
    assert ("requests", "unable_unclear", "total") not in facts(r)
    assert any(e.startswith("requests.unable_unclear:") for e in r.errors)


def test_tables_numbered_apart_from_the_sections() -> None:
    """Shanghai's department template in a Markdown capture: six text sections (三、主动公开工作
    情况, 四、政府信息公开申请情况 …), then the tables under their own titles numbered 一/二/三,
    each title repeated as a caption (表二：…) and no anchor row (第二十条, 勾稽关系, 行政复议) left
    inside the pipe tables.  The titles open the tables; the text sections with similar words do
    not, and the repeated caption opens no second copy."""
    text = """一、总体情况
全年收到政府信息公开申请34件。
三、主动公开工作情况
本年发布信息393件。
四、政府信息公开申请情况
全年收到政府信息公开申请34件，上年结转2件。
一、主动公开政府信息情况
第二十条第（一）项
## 表二：主动公开政府信息情况
| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |
|---|---|---|---|
| 规章 | 1 | 0 | 5 |
| 行政规范性文件 | 3 | 2 | 40 |
二、收到和处理政府信息公开申请情况
## 表三：收到和处理政府信息公开申请情况
| 自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 总计 |
|---|---|---|---|---|---|---|
| 一、本年新收政府信息公开申请数量 | 32 | 2 | 0 | 0 | 0 | 0 | 34 |
| 二、上年结转政府信息公开申请数量 | 2 | 0 | 0 | 0 | 0 | 0 | 2 |
三、政府信息公开行政复议、行政诉讼情况
| 维持 | 纠正 | 其他 | 尚未审结 | 总计 | 维持 | 纠正 | 其他 | 尚未审结 | 总计 | 维持 | 纠正 | 其他 | 尚未审结 | 总计 |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
| 1 | 0 | 0 | 0 | 1 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |
五、存在的主要问题及改进情况
"""
    r = doc(text)
    f = facts(r)
    assert f[("active", "regulation", "in_force")].value == 5
    assert f[("active", "normative_doc", "in_force")].value == 40
    assert f[("requests", "new", "commercial")].value == 2
    assert f[("requests", "carried_over", "total")].value == 2
    assert f[("appeals", "review", "upheld")].value == 1
    assert f[("appeals", "review", "total")].value == 1
    assert not any(c.name == "copies_agree" for c in r.checks)


def test_misprinted_numbered_label_keeps_its_row() -> None:
    """A real report prints '2.其他法律行政止公开' (法规禁 dropped): the sub-number and most of the
    words name the row.  A misprint under another number is not taken for it."""
    rows = {5: "2 | 0 | 0 | 0 | 0 | 0 | 2"}
    text = ACTIVE_2021 + requests_rows(rows) + APPEALS
    good = facts(doc(text.replace("2.其他法律行政法规禁止公开", "2.其他法律行政止公开")))
    assert good[("requests", "deny_law_prohibited", "natural")].value == 2
    assert good[("requests", "deny_law_prohibited", "total")].value == 2
    wrong_number = doc(text.replace("2.其他法律行政法规禁止公开", "7.其他法律行政止公开"))
    assert ("requests", "deny_law_prohibited", "natural") not in facts(wrong_number)
    assert any("其他法律行政止公开" in e for e in wrong_number.errors)
