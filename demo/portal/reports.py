"""Report content for the fixture portal: a small model, a random generator, the five seed
reports, and renderers to Word-pasted HTML and to plain lines (for PDF/DOCX attachments).

This is the portal's internal renderer; it is deliberately self-contained so that a richer
generator (``nianbao.demo.synth``) can replace :func:`synth_report` later.
"""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass, field
from importlib import resources

ORG = ("commercial", "research", "ngo", "legal_service", "other_org")
REQ_COLS = ("natural", *ORG, "total")
APPEAL_COLS = ("upheld", "corrected", "other", "pending", "total")
APPEAL_ITEMS = ("review", "suit_direct", "suit_after_review")

# requests rows: (item, printed label, group label or "", group rowspan position)
_DENY = [
    ("deny_state_secret", "1.属于国家秘密"),
    ("deny_law_prohibited", "2.其他法律行政法规禁止公开"),
    ("deny_three_security", "3.危及“三安全一稳定”"),
    ("deny_third_party", "4.保护第三方合法权益"),
    ("deny_internal_affairs", "5.属于三类内部事务信息"),
    ("deny_process_info", "6.属于四类过程性信息"),
    ("deny_enforcement_file", "7.属于行政执法案卷"),
    ("deny_query_matter", "8.属于行政查询事项"),
]
_UNABLE = [
    ("unable_not_held", "1.本机关不掌握相关政府信息"),
    ("unable_needs_creation", "2.没有现成信息需要另行制作"),
    ("unable_unclear", "3.补正后申请内容仍不明确"),
]
_REJECT = [
    ("reject_petition", "1.信访举报投诉类申请"),
    ("reject_duplicate", "2.重复申请"),
    ("reject_publication", "3.要求提供公开出版物"),
    ("reject_mass_repeat", "4.无正当理由大量反复申请"),
    ("reject_confirm", "5.要求行政机关确认或重新出具已获取信息"),
]
_OTHER = [
    ("other_no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("other_no_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("other_other", "3.其他"),
]
RESULT_GROUPS_2021: list[tuple[str, list[tuple[str, str]]]] = [
    ("（一）予以公开", [("granted", "")]),
    ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", [("partial", "")]),
    ("（三）不予公开", _DENY),
    ("（四）无法提供", _UNABLE),
    ("（五）不予处理", _REJECT),
    ("（六）其他处理", _OTHER),
    ("（七）总计", [("result_total", "")]),
]
RESULT_GROUPS_2019: list[tuple[str, list[tuple[str, str]]]] = [
    *RESULT_GROUPS_2021[:5],
    ("（六）其他处理", [("other_handling", "")]),
    ("（七）总计", [("result_total", "")]),
]

# active tables: blocks of (caption, header cells, rows[(item, label, columns)])
ACTIVE_2021 = [
    (
        "第二十条第（一）项",
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
        [
            ("regulation", "规章", ["issued", "repealed", "in_force"]),
            ("normative_doc", "行政规范性文件", ["issued", "repealed", "in_force"]),
        ],
    ),
    (
        "第二十条第（五）项",
        ["信息内容", "本年处理决定数量"],
        [("license", "行政许可", ["decisions"])],
    ),
    (
        "第二十条第（六）项",
        ["信息内容", "本年处理决定数量"],
        [("penalty", "行政处罚", ["decisions"]), ("enforcement", "行政强制", ["decisions"])],
    ),
    (
        "第二十条第（八）项",
        ["信息内容", "本年收费金额（单位：万元）"],
        [("fees", "行政事业性收费", ["amount"])],
    ),
]
_TRI = ["prev_items", "delta_items", "decisions"]
ACTIVE_2019 = [
    (
        "第二十条第（一）项",
        ["信息内容", "本年新<br />制作数量", "本年新<br />公开数量", "对外公开总数量"],
        [
            ("regulation", "规章", ["made", "published", "total_published"]),
            ("normative_doc", "规范性文件", ["made", "published", "total_published"]),
        ],
    ),
    (
        "第二十条第（五）项",
        ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"],
        [("license", "行政许可", _TRI), ("other_services", "其他对外管理服务事项", _TRI)],
    ),
    (
        "第二十条第（六）项",
        ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"],
        [("penalty", "行政处罚", _TRI), ("enforcement", "行政强制", _TRI)],
    ),
    (
        "第二十条第（八）项",
        ["信息内容", "上一年项目数量", "本年增/减"],
        [("fees", "行政事业性收费", ["prev_items", "delta_items"])],
    ),
    (
        "第二十条第（九）项",
        ["信息内容", "采购项目数量", "采购总金额"],
        [("procurement", "政府集中采购", ["items", "amount"])],
    ),
]
SECTION_TITLES = [
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
]
REQ_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def request_items(fmt: str) -> list[str]:
    """`requests` item codes in table order for format "2019" or "2021"."""
    groups = RESULT_GROUPS_2021 if fmt == "2021" else RESULT_GROUPS_2019
    inner = [code for _, rows in groups for code, _ in rows]
    return ["new", "carried_over", *inner, "carried_forward"]


def cell_codes(fmt: str) -> list[str]:
    """All `table.item.column` codes of a format, in reading order."""
    active = ACTIVE_2021 if fmt == "2021" else ACTIVE_2019
    codes = [f"active.{it}.{c}" for _, _, rows in active for it, _, cols in rows for c in cols]
    codes += [f"requests.{it}.{c}" for it in request_items(fmt) for c in REQ_COLS]
    codes += [f"appeals.{it}.{c}" for it in APPEAL_ITEMS for c in APPEAL_COLS]
    return codes


@dataclass
class TableStyle:
    """Markup noise switches for the report tables (portals.md §5.4, formats.md D1–D6)."""

    word: bool = True  # MsoNormalTable / p.MsoNormal / <o:p> markup
    split_header: bool = False  # 商业|科研 then 企业|机构 on separate rows (xuwen)
    space_labels: bool = False  # "商业 企业" with an inner space
    trailing_filler: bool = False  # extra empty cells at row ends
    flat_appeals: bool = False  # 四 as one bare row of 15 numbers
    missing_trailing: bool = False  # rows end early when their last cells are blank
    grid_class: str = "MsoNormalTable"


@dataclass
class ReportDoc:
    """One annual report's content, independent of how a portal shows it."""

    agency: str
    year: int
    fmt: str  # "2021" | "2019" | "pre2019"
    title: str
    values: dict[str, str] = field(default_factory=dict)  # code -> raw printed text
    intro: list[str] = field(default_factory=list)
    overview: list[str] = field(default_factory=list)  # 一、总体情况 paragraphs
    problems: list[str] = field(default_factory=list)  # 五
    other: list[str] = field(default_factory=list)  # 六
    labels: dict[str, str] = field(default_factory=dict)  # label overrides, e.g. normative_doc
    source: str = "synth"
    style: TableStyle = field(default_factory=TableStyle)
    body_html: str | None = None  # pre-rendered body from another generator (wins over rendering)
    lines: list[str | list[str]] | None = None  # pre-rendered attachment content, likewise


# ---------------------------------------------------------------- generator


def _small(rng: random.Random, hi: int, zero_p: float = 0.45) -> int:
    return 0 if rng.random() < zero_p else rng.randint(1, hi)


def generate_values(rng: random.Random, fmt: str, blanks: bool = False) -> dict[str, str]:
    """Random table values satisfying the hard identities I1–I4 (formats.md §7.1).

    With ``blanks`` some zero cells are printed empty (D6); the identities then skip.
    """
    v: dict[str, int | str] = {}
    if fmt == "2021":
        for it in ("regulation", "normative_doc"):
            issued = _small(rng, 6 if it == "regulation" else 15)
            repealed = _small(rng, 4)
            v[f"active.{it}.issued"] = issued
            v[f"active.{it}.repealed"] = repealed
            v[f"active.{it}.in_force"] = issued + rng.randint(repealed, repealed + 40)
        for it in ("license", "penalty", "enforcement"):
            v[f"active.{it}.decisions"] = _small(rng, 900, 0.3)
        fee = _small(rng, 500000, 0.5) / 100
        v["active.fees.amount"] = f"{fee:g}"
    else:
        for it in ("regulation", "normative_doc"):
            made = _small(rng, 10)
            v[f"active.{it}.made"] = made
            v[f"active.{it}.published"] = made
            v[f"active.{it}.total_published"] = made + rng.randint(0, 60)
        for it in ("license", "other_services", "penalty", "enforcement"):
            v[f"active.{it}.prev_items"] = _small(rng, 120, 0.3)
            v[f"active.{it}.delta_items"] = rng.choice([0, 0, 0, 1, 2, -1, -3, 5])
            v[f"active.{it}.decisions"] = _small(rng, 900, 0.3)
        v["active.fees.prev_items"] = _small(rng, 12)
        v["active.fees.delta_items"] = rng.choice([0, 0, -1, 1])
        v["active.procurement.items"] = _small(rng, 30)
        v["active.procurement.amount"] = f"{_small(rng, 90000, 0.4) / 100:g}"

    items = request_items(fmt)
    result_rows = [it for it in items[2:-1] if it != "result_total"]
    for c in ("natural", *ORG):
        heavy = c == "natural"
        new = _small(rng, 40 if heavy else 6, 0.2 if heavy else 0.6)
        carried = _small(rng, 4, 0.7)
        forward = rng.randint(0, min(new + carried, 3)) if rng.random() < 0.3 else 0
        done = new + carried - forward
        dist = dict.fromkeys(result_rows, 0)
        weights = [
            12 if r == "granted" else 5 if r in ("partial", "unable_not_held") else 1
            for r in result_rows
        ]
        for _ in range(done):
            dist[rng.choices(result_rows, weights)[0]] += 1
        v[f"requests.new.{c}"] = new
        v[f"requests.carried_over.{c}"] = carried
        v[f"requests.carried_forward.{c}"] = forward
        v[f"requests.result_total.{c}"] = done
        for r, n in dist.items():
            v[f"requests.{r}.{c}"] = n
    for it in items:
        v[f"requests.{it}.total"] = sum(int(v[f"requests.{it}.{c}"]) for c in ("natural", *ORG))
    for it in APPEAL_ITEMS:
        parts = [_small(rng, 3, 0.7) for _ in range(4)]
        for c, n in zip(APPEAL_COLS[:4], parts, strict=True):
            v[f"appeals.{it}.{c}"] = n
        v[f"appeals.{it}.total"] = sum(parts)
    out = {k: str(x) for k, x in v.items()}
    if blanks:
        for k in out:
            if out[k] == "0" and k.startswith("requests.") and rng.random() < 0.5:
                out[k] = ""
    return out


_OVERVIEW = [
    "{y}年，{a}坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，"
    "围绕中心工作，不断完善政府信息公开工作机制，切实保障人民群众的知情权、参与权、表达权和监督权。",
    "（一）主动公开。{y}年，通过门户网站主动公开政府信息{n}条，其中政策文件{m}条，政策解读{k}条。",
    "（二）依申请公开。严格按照法定程序和时限办理政府信息公开申请，全年未发生因答复超期引发的行政复议。",
    "（三）政府信息管理。落实“先审后发”制度，严格执行保密审查，动态更新政府信息公开目录。",
    "（四）平台建设。持续优化门户网站政府信息公开专栏，规范栏目设置，及时更新内容。",
    "（五）监督保障。将政务公开工作纳入年度目标考核，明确分管领导和专人负责。",
]
_PROBLEMS = [
    "{y}年政府信息公开工作取得一定成效，但仍存在公开内容不够全面、政策解读形式较为单一等问题。",
    "下一步，我们将加强业务培训，丰富解读形式，进一步提升政府信息公开工作质量。",
]
_OTHER_TEXT = [
    "（一）政府信息公开信息处理费收取情况。本年度未收取信息处理费。",
    "（二）本年度无其他需要报告的事项。",
]


def synth_report(
    rng: random.Random,
    agency: str,
    year: int,
    fmt: str | None = None,
    title: str | None = None,
    style: TableStyle | None = None,
    blanks: bool = False,
) -> ReportDoc:
    """A generated report for ``agency`` and report year ``year``."""
    fmt = fmt or ("pre2019" if year <= 2018 else "2019" if year <= 2020 else "2021")
    title = title or f"{agency}{year}年政府信息公开工作年度报告"
    ctx = {
        "y": year,
        "a": agency,
        "n": rng.randint(80, 900),
        "m": rng.randint(3, 40),
        "k": rng.randint(1, 12),
    }
    doc = ReportDoc(agency=agency, year=year, fmt=fmt, title=title, style=style or TableStyle())
    if fmt == "pre2019":
        doc.intro = [_pre2019_intro(agency, year)]
        doc.overview = _pre2019_body(rng, agency, year)
        return doc
    notice = "国办公开办函〔2021〕30号" if fmt == "2021" else "国办公开办函〔2019〕60号"
    doc.intro = [
        f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《{notice}》要求编制。"
        f"本报告所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。"
        f"如对本报告有疑问，请与{agency}办公室联系。"
    ]
    doc.overview = [p.format(**ctx) for p in _OVERVIEW]
    doc.problems = [p.format(**ctx) for p in _PROBLEMS]
    doc.other = list(_OTHER_TEXT)
    doc.values = generate_values(rng, fmt, blanks=blanks)
    return doc


def _pre2019_intro(agency: str, year: int) -> str:
    return (
        f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）要求，由{agency}编制。"
        f"全文包括概述，主动公开政府信息情况，依申请公开政府信息情况，政府信息公开的收费及减免情况，"
        f"因政府信息公开申请行政复议、提起行政诉讼的情况，存在的主要问题及改进措施，其他需要报告的事项。"
        f"本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。"
    )


def _pre2019_body(rng: random.Random, agency: str, year: int) -> list[str]:
    n, a = rng.randint(100, 600), rng.randint(0, 20)
    g = rng.randint(0, a)
    return [
        "一、概述",
        f"{year}年，{agency}认真贯彻落实《条例》，进一步加强组织领导，完善工作制度，政府信息公开工作有序推进。",
        "二、主动公开政府信息情况",
        f"全年主动公开政府信息{n}条，其中通过政府网站公开{n - 10}条，通过政府公报公开10条。",
        "三、依申请公开政府信息情况",
        f"全年共受理政府信息公开申请{a}件，其中同意公开{g}件，申请信息不存在{a - g}件。",
        "四、政府信息公开的收费及减免情况",
        "本年度未收取任何费用。",
        "五、因政府信息公开申请行政复议、提起行政诉讼的情况",
        "本年度未发生因政府信息公开申请行政复议、提起行政诉讼的情况。",
        "六、存在的主要问题及改进措施",
        "主要问题是公开内容还不够丰富，下一步将进一步拓宽公开渠道。",
        "七、其他需要报告的事项",
        "无。",
    ]


# ---------------------------------------------------------------- seeds

# file -> (agency, report year); the dumps do not carry these reliably in one place
_SEEDS = {
    "000_80f05e0714564e77.txt": ("精河工业园区管理委员会", 2024),
    "001_c95c9b2585076791.txt": ("怀化市洪江区科技和工业信息化局", 2024),
    "002_ceedcd9cde628f40.txt": ("赣州经开区党政办公室", 2021),
    "003_206c6253126fb44e.txt": ("呼和浩特经济技术开发区管理委员会", 2024),
    "004_40523efafb065443.txt": ("河东区中小企业发展服务中心", 2024),
}
_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def _fullwidth(text: str) -> str:
    """Undo the NFKC folding of the text dumps for prose (keeps URLs intact)."""
    text = text.replace(",", "，").replace(";", "；").replace("(", "（").replace(")", "）")
    return re.sub(r":(?!/)", "：", text)


def load_seed_reports() -> list[ReportDoc]:
    """The five real seed reports (package data) as :class:`ReportDoc` (2021 format)."""
    base = resources.files("nianbao.demo") / "data" / "seeds"
    docs = []
    for name, (agency, year) in _SEEDS.items():
        lines = (base / name).read_text(encoding="utf-8").splitlines()
        first = next(i for i, ln in enumerate(lines) if not ln.endswith("|"))
        again = [i for i, ln in enumerate(lines) if i > first and ln == lines[first]]
        if again:  # print copy + screen copy (seed 003): keep the first
            lines = lines[: again[0]]
        docs.append(_parse_seed(lines, agency, year, name[:3]))
    return docs


def _parse_seed(lines: list[str], agency: str, year: int, sid: str) -> ReportDoc:
    sec = 0
    prose: dict[int, list[str]] = {0: [], 1: [], 5: [], 6: []}
    nums: dict[int, list[str]] = {2: [], 3: [], 4: []}
    labels: dict[str, str] = {}
    for ln in lines:
        for i, head in enumerate(SECTION_TITLES, 1):
            if ln.startswith(head[:4]) and not ln.endswith("|"):
                sec = i
                break
        else:
            if ln.endswith("|"):
                if sec in nums:
                    cells = [c.strip() for c in ln.split("|")]
                    nums[sec] += [c for c in cells if _NUM.fullmatch(c)]
                    if cells[0] in ("规范性文件", "行政规范性文件"):
                        labels["normative_doc"] = cells[0]
            elif sec in prose and ln.strip():
                if sec == 0 and ln.endswith("年度报告") and len(ln) < 60:
                    continue  # the title line
                prose[sec].append(_fullwidth(ln))
    title = f"{agency}{year}年政府信息公开工作年度报告"
    doc = ReportDoc(agency=agency, year=year, fmt="2021", title=title, source=f"seed:{sid}")
    doc.intro, doc.overview, doc.problems, doc.other = prose[0], prose[1], prose[5], prose[6]
    doc.labels = labels
    codes = cell_codes("2021")
    flat = nums[2][:10] + nums[3][:175] + nums[4][:15]
    doc.values = dict(zip(codes, flat, strict=True))
    return doc


# ---------------------------------------------------------------- HTML


def _esc(text: str) -> str:
    return html.escape(text, quote=False).replace("&lt;br /&gt;", "<br />")


class _Grid:
    """Accumulates table rows in either Word-paste or plain markup."""

    def __init__(self, style: TableStyle, width: int) -> None:
        self.style = style
        self.width = width
        self.rows: list[str] = []
        self.cur: list[str] = []

    def cell(self, text: str, colspan: int = 1, rowspan: int = 1, head: bool = False) -> None:
        attrs = ""
        if colspan > 1:
            attrs += f' colspan="{colspan}"'
        if rowspan > 1:
            attrs += f' rowspan="{rowspan}"'
        if self.style.word:
            inner = _esc(text) if text else "&nbsp;"
            weight = "font-weight:bold;" if head else ""
            body = (
                f'<p class="MsoNormal" align="center" style="text-align:center">'
                f'<span style="font-size:10.5pt;font-family:宋体;{weight}">{inner}</span>'
                f'<span lang="EN-US"><o:p></o:p></span></p>'
            )
            self.cur.append(
                f'<td{attrs} valign="center" style="border:solid windowtext 1.0pt;'
                f'padding:0cm 5.4pt 0cm 5.4pt">{body}</td>'
            )
        else:
            self.cur.append(f"<td{attrs}>{_esc(text) if text else '&nbsp;'}</td>")

    def end_row(self) -> None:
        if self.style.trailing_filler:
            self.cur.append(
                "<td>&nbsp;</td>" if not self.style.word else '<td style="border:none">&nbsp;</td>'
            )
        self.rows.append("<tr>" + "".join(self.cur) + "</tr>")
        self.cur = []

    def html(self) -> str:
        cls = self.style.grid_class if self.style.word else "table"
        attrs = (
            f'class="{cls}" border="1" cellspacing="0" cellpadding="0" width="600" '
            f'style="border-collapse:collapse;border:none"'
            if self.style.word
            else 'border="1" width="100%"'
        )
        return f"<table {attrs}><tbody>" + "\n".join(self.rows) + "</tbody></table>"


def render_active(doc: ReportDoc) -> str:
    """二、主动公开政府信息情况 as an HTML table."""
    blocks = ACTIVE_2021 if doc.fmt == "2021" else ACTIVE_2019
    g = _Grid(doc.style, 4)
    for caption, header, rows in blocks:
        g.cell(caption, colspan=4, head=True)
        g.end_row()
        g.cell(header[0], head=True)
        if len(header) == 2:
            g.cell(header[1], colspan=3, head=True)
        elif len(header) == 3:
            g.cell(header[1], head=True)
            g.cell(header[2], colspan=2, head=True)
        else:
            for h in header[1:]:
                g.cell(h, head=True)
        g.end_row()
        for item, label, cols in rows:
            g.cell(doc.labels.get(item, label))
            vals = [doc.values.get(f"active.{item}.{c}", "") for c in cols]
            if len(vals) == 1:
                g.cell(vals[0], colspan=3)
            elif len(vals) == 2:
                g.cell(vals[0])
                g.cell(vals[1], colspan=2)
            else:
                for x in vals:
                    g.cell(x)
            g.end_row()
    return g.html()


def render_requests(doc: ReportDoc) -> str:
    """三、收到和处理政府信息公开申请情况 (3 header rows, rowspans) as an HTML table."""
    st = doc.style
    g = _Grid(st, 10)
    extra = 1 if st.split_header else 0
    g.cell(REQ_NOTE, colspan=3, rowspan=3 + extra, head=True)
    g.cell("申请人情况", colspan=7, head=True)
    g.end_row()
    g.cell("自然人", rowspan=2 + extra, head=True)
    g.cell("法人或其他组织", colspan=5, head=True)
    g.cell("总计", rowspan=2 + extra, head=True)
    g.end_row()
    org = ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    if st.space_labels:
        org[:2] = ["商业 企业", "科研 机构"]
    if st.split_header:  # header words split across two rows (xuwen)
        g.cell("商业", head=True)
        g.cell("科研", head=True)
        for h in org[2:]:
            g.cell(h, rowspan=2, head=True)
        g.end_row()
        g.cell("企业", head=True)
        g.cell("机构", head=True)
        g.end_row()
    else:
        for h in org:
            g.cell(h, head=True)
        g.end_row()

    def vals(item: str) -> None:
        cells = [doc.values.get(f"requests.{item}.{c}", "") for c in REQ_COLS]
        while st.missing_trailing and cells and not cells[-1]:
            cells.pop()
        for x in cells:
            g.cell(x)
        g.end_row()

    g.cell("一、本年新收政府信息公开申请数量", colspan=3)
    vals("new")
    g.cell("二、上年结转政府信息公开申请数量", colspan=3)
    vals("carried_over")
    groups = RESULT_GROUPS_2021 if doc.fmt == "2021" else RESULT_GROUPS_2019
    span = sum(len(rows) for _, rows in groups)
    first = True
    for label, rows in groups:
        for i, (code, sub) in enumerate(rows):
            if first:
                g.cell("三、本年度办理结果", rowspan=span)
                first = False
            if sub:
                if i == 0:
                    g.cell(label, rowspan=len(rows))
                g.cell(sub)
            else:
                g.cell(label, colspan=2)
            vals(code)
    g.cell("四、结转下年度继续办理", colspan=3)
    vals("carried_forward")
    return g.html()


def render_appeals(doc: ReportDoc) -> str:
    """四、行政复议、行政诉讼 as an HTML table (or a bare number row when flat)."""
    g = _Grid(doc.style, 15)
    five = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    if not doc.style.flat_appeals:
        g.cell("行政复议", colspan=5, head=True)
        g.cell("行政诉讼", colspan=10, head=True)
        g.end_row()
        for h in five:
            g.cell(h, rowspan=2, head=True)
        g.cell("未经复议直接起诉", colspan=5, head=True)
        g.cell("复议后起诉", colspan=5, head=True)
        g.end_row()
        for h in five * 2:
            g.cell(h, head=True)
        g.end_row()
    for it in APPEAL_ITEMS:
        for c in APPEAL_COLS:
            g.cell(doc.values.get(f"appeals.{it}.{c}", ""))
    g.end_row()
    return g.html()


def _para(text: str, word: bool) -> str:
    if word:
        return (
            '<p class="MsoNormal" style="text-indent:32.0pt;line-height:28.0pt">'
            f'<span style="font-size:16.0pt;font-family:仿宋_GB2312">{_esc(text)}</span>'
            '<span lang="EN-US" style="font-size:16.0pt"><o:p></o:p></span></p>'
        )
    return f"<p>{_esc(text)}</p>"


def _heading(text: str, word: bool) -> str:
    if word:
        return (
            '<p class="MsoNormal" style="text-indent:32.0pt"><b>'
            f'<span style="font-size:16.0pt;font-family:黑体">{_esc(text)}</span></b>'
            '<span lang="EN-US"><o:p></o:p></span></p>'
        )
    return f"<p><strong>{_esc(text)}</strong></p>"


def render_body(doc: ReportDoc) -> str:
    """The report body (paragraphs, headings, tables) as an HTML fragment."""
    if doc.body_html is not None:
        return doc.body_html
    w = doc.style.word
    out = [_para(p, w) for p in doc.intro]
    if doc.fmt == "pre2019":
        for p in doc.overview:
            is_head = bool(re.match(r"^[一二三四五六七八九十]+、", p)) and len(p) < 40
            out.append(_heading(p, w) if is_head else _para(p, w))
        return "\n".join(out)
    out.append(_heading(SECTION_TITLES[0], w))
    out += [_para(p, w) for p in doc.overview]
    out.append(_heading(SECTION_TITLES[1], w))
    out.append(render_active(doc))
    out.append(_heading(SECTION_TITLES[2], w))
    out.append(render_requests(doc))
    out.append(_heading(SECTION_TITLES[3], w))
    out.append(render_appeals(doc))
    out.append(_heading(SECTION_TITLES[4], w))
    out += [_para(p, w) for p in doc.problems]
    out.append(_heading(SECTION_TITLES[5], w))
    out += [_para(p, w) for p in doc.other]
    return "\n".join(out)


def render_lines(doc: ReportDoc) -> list[str | list[str]]:
    """Plain content for attachments: paragraphs as str, table rows as lists of cells."""
    if doc.lines is not None:
        return list(doc.lines)
    out: list[str | list[str]] = [doc.title, *doc.intro]
    if doc.fmt == "pre2019":
        return out + list(doc.overview)
    out += [SECTION_TITLES[0], *doc.overview, SECTION_TITLES[1]]
    blocks = ACTIVE_2021 if doc.fmt == "2021" else ACTIVE_2019
    for caption, header, rows in blocks:
        out.append([caption])
        out.append([h.replace("<br />", "") for h in header])
        for item, label, cols in rows:
            out.append(
                [
                    doc.labels.get(item, label),
                    *(doc.values.get(f"active.{item}.{c}", "") for c in cols),
                ]
            )
    out.append(SECTION_TITLES[2])
    out.append([REQ_NOTE, "申请人情况"])
    out.append(
        ["", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    )
    labels = {
        "new": "一、本年新收政府信息公开申请数量",
        "carried_over": "二、上年结转政府信息公开申请数量",
        "carried_forward": "四、结转下年度继续办理",
    }
    groups = RESULT_GROUPS_2021 if doc.fmt == "2021" else RESULT_GROUPS_2019
    for label, rows in groups:
        for code, sub in rows:
            labels[code] = f"{label}{sub}" if sub else label
    for it in request_items(doc.fmt):
        out.append([labels[it], *(doc.values.get(f"requests.{it}.{c}", "") for c in REQ_COLS)])
    out.append(SECTION_TITLES[3])
    out.append(["行政复议", "行政诉讼"])
    out.append(
        [doc.values.get(f"appeals.{it}.{c}", "") for it in APPEAL_ITEMS for c in APPEAL_COLS]
    )
    out += [SECTION_TITLES[4], *doc.problems, SECTION_TITLES[5], *doc.other]
    return out
