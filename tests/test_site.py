"""`nianbao site`: the static audit site, without a browser (tests/test_site_browser.py drives
chromium over the same site).

The warehouse: real fixture documents (an HTML page, a text dump made to fail an identity, a
PDF, a hostile HTML page), extracted as `nianbao extract` does and loaded with their bytes in
the raw store as a crawl leaves them; plus one report ingested from a local file, whose
snapshot the raw store does not hold.
"""

from __future__ import annotations

import re

import pytest
from conftest import TESTS, extract
from nianbao.extract.rawstore import RawStore
from nianbao.flows.cli import main
from nianbao.flows.site import NotASite, build_site
from nianbao.flows.site.sanitize import tables_from_html
from nianbao.flows.warehouse import ReportInput, connect, load

FIX = TESTS / "fixtures"
HTML = FIX / "html" / "trs_report_2021.html"
TEXT = FIX / "formats" / "gen2021.txt"
PDF = FIX / "formats" / "seed_000.pdf"
HOSTILE_MARKS = ("<script", "onerror", "onclick", "evil.example", "javascript:", "<style",
                 "<iframe", "alert(")  # fmt: skip


def failing_text() -> bytes:
    """gen2021.txt with the natural persons' new requests raised by 7: identities break."""
    lines = TEXT.read_text("utf-8").splitlines(keepends=True)
    i = next(n for n, line in enumerate(lines) if "本年新收政府信息公开申请数量" in line)
    lines[i + 1] = lines[i + 1].replace("67", "74", 1)
    return "".join(lines).encode("utf-8")


def hostile_html() -> bytes:
    """A real report page with a script, handlers and external references in its table."""
    text = HTML.read_text("utf-8")
    text = text.replace("<head>", '<head><style>td{display:none}</style>'
                        '<link rel="stylesheet" href="https://evil.example/x.css">', 1)  # fmt: skip
    text = text.replace(
        "<td", '<td onclick="alert(1)" style="background:url(http://evil.example/bg.png)"', 1
    )
    i = text.index("本年新收政府信息公开申请数量")
    text = (
        text[:i]
        + '<img src="http://evil.example/p.png" onerror="alert(2)">'
        + '<script>alert(3)</script><a href="javascript:alert(4)">x</a>'
        + '<iframe src="https://evil.example/"></iframe>'
        + text[i:]
    )
    return text.replace("长春市体育局", "长春市恶意局")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    data = tmp_path_factory.mktemp("data")
    raw = RawStore(data)
    docs = {
        "html": (HTML.read_bytes(), "https://www.example.gov.cn/a/html.html"),
        "failing": (failing_text(), "https://www.example.gov.cn/a/failing.txt"),
        "pdf": (PDF.read_bytes(), "https://www.example.gov.cn/a/report.pdf"),
        "hostile": (hostile_html().encode("utf-8"), "https://www.example.gov.cn/a/hostile.html"),
    }
    inputs = {}
    for name, (body, url) in docs.items():
        sha = raw.put(body)
        inputs[name] = ReportInput(extract(body, url), sha256=sha, source_url=url,
                                   level="county", region_code="220100")  # fmt: skip
    local = (FIX / "formats" / "gen2019.txt").read_bytes()
    inputs["local"] = ReportInput(extract(local), sha256="0" * 64)  # ingested: no snapshot
    load(inputs.values(), data)
    con = connect(data)
    ids = {name: inp.report_id for name, inp in inputs.items()}
    reports = {
        r[0]: r
        for r in con.execute("SELECT report_id, sha256, parser_version FROM reports").fetchall()
    }
    fact = con.execute(
        "SELECT raw, value FROM facts WHERE report_id = ? AND code = 'requests.new.total'",
        [ids["html"]],
    ).fetchone()
    n_agencies = con.execute("SELECT count(DISTINCT agency) FROM reports").fetchone()[0]
    con.close()
    out = tmp_path_factory.mktemp("out") / "site"
    stats = build_site(out, data)
    return {"data": data, "out": out, "stats": stats, "ids": ids, "reports": reports,
            "fact": fact, "n_agencies": n_agencies}  # fmt: skip


def page(site: dict, name: str) -> str:
    return (site["out"] / "report" / f"{site['ids'][name]}.html").read_text("utf-8")


def captured(html: str) -> str:
    """The left half of an audit page: the source as captured."""
    return html[html.index('<section class="source">') : html.index('<section class="values">')]


def test_page_counts(site):
    stats, out = site["stats"], site["out"]
    assert stats.reports == 5 == len(list((out / "report").glob("*.html")))
    assert stats.agencies == site["n_agencies"] == len(list((out / "agency").glob("*.html")))
    html_files = list(out.rglob("*.html"))
    assert stats.pages == len(html_files) == 1 + 2 + stats.agencies + stats.reports
    assert len(list((out / "charts").glob("*.svg"))) >= 5
    assert stats.sources_missing == 1


def test_audit_page_shows_provenance_values_and_the_source_table(site):
    html = page(site, "html")
    sha, version = site["reports"][site["ids"]["html"]][1:]
    assert sha in html and version in html
    raw, value = site["fact"]
    assert "requests.new.total" in html
    assert re.search(rf"<td>{re.escape(raw)}</td><td>{value:,.0f}</td>", html)
    source = captured(html)
    assert "本年新收政府信息公开申请数量" in source and "<table>" in source
    assert 'href="https://www.example.gov.cn/a/html.html" rel="noreferrer' in html


def test_failed_checks_are_red_and_their_cells_highlighted(site):
    html = page(site, "failing")
    assert '<tr class="failed"><td>requests_balance.natural</td>' in html
    values = html[html.index('<section class="values">') :]
    bad_rows = re.findall(r'<tr class="bad"><td><code>([a-z_.]+)</code>', values)
    assert "requests.new.natural" in bad_rows
    assert "requests.granted.natural" not in bad_rows  # not named by a failed check
    failures = (site["out"] / "failures-1.html").read_text("utf-8")
    assert f"report/{site['ids']['failing']}.html" in failures
    assert f"report/{site['ids']['html']}.html" not in failures


def test_pdf_pages_are_rendered_as_images(site):
    html = page(site, "pdf")
    imgs = re.findall(r'<img class="page" src="\.\./(report/img/[^"]+\.png)"', html)
    assert imgs
    from PIL import Image

    for rel in imgs:
        with Image.open(site["out"] / rel) as im:
            assert im.format == "PNG" and max(im.size) <= 1600


def test_a_hostile_snapshot_gives_none_of_its_markup(site):
    html = page(site, "hostile")
    source = captured(html)
    assert "本年新收政府信息公开申请数量" in source  # its tables are shown…
    for mark in HOSTILE_MARKS:  # …but nothing of the page's markup
        assert mark not in html, mark
    assert not re.search(r"<(img|a|link|style)\b", source)


def test_no_page_references_a_remote_resource(site):
    for f in site["out"].rglob("*"):
        if f.suffix not in (".html", ".svg", ".css"):
            continue
        text = f.read_text("utf-8")
        for m in re.finditer(r"""(src|href|url)\s*[=(]\s*["']?(https?:)?//""", text):
            tag_start = text.rfind("<", 0, m.start())
            tag = text[tag_start : text.find(">", m.start()) + 1]
            # links to a report's source address are fine: never loaded, no referrer sent
            assert tag.startswith("<a ") and 'rel="noreferrer' in tag, (f, tag)


def test_a_missing_snapshot_is_said_to_be_missing(site):
    html = page(site, "local")
    assert "not in the raw store" in captured(html)


def test_agency_page_has_series_reports_and_failures(site):
    pages = {p.read_text("utf-8") for p in (site["out"] / "agency").glob("*.html")}
    failing = next(p for p in pages if site["ids"]["failing"] in p)
    assert "<svg" in failing and "requests_balance.natural" in failing
    assert f'href="../report/{site["ids"]["failing"]}.html"' in failing


def test_index_lists_counts_and_charts(site):
    html = (site["out"] / "index.html").read_text("utf-8")
    for chart in ("totals", "disclosure", "denial", "correction", "failures"):
        assert f'src="charts/{chart}.svg"' in html
    assert "<b>5</b> reports" in html
    svg = (site["out"] / "charts" / "totals.svg").read_text("utf-8")
    assert svg.startswith("<?xml") and "<svg" in svg


def test_rebuild_replaces_the_site_and_refuses_foreign_directories(site, tmp_path):
    stale = site["out"] / "report" / "stale.html"
    stale.write_text("old", "utf-8")
    build_site(site["out"], site["data"])
    assert not stale.exists() and (site["out"] / "index.html").is_file()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("keep me", "utf-8")
    with pytest.raises(NotASite):
        build_site(foreign, site["data"])
    assert (foreign / "thesis.tex").read_text("utf-8") == "keep me"


def test_cli(site, tmp_path, capsys):
    out = tmp_path / "cli-site"
    assert main(["site", "--to", str(out), "--data", str(site["data"]), "--quiet"]) == 0
    assert f"site: {out / 'index.html'} (" in capsys.readouterr().out
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "x").write_text("x", "utf-8")
    assert main(["site", "--to", str(foreign), "--data", str(site["data"])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nianbao: error:") and err.count("\n") == 1
    assert main(["site", "--to", str(tmp_path / "s"), "--data", str(tmp_path / "none")]) == 2


def test_sanitizer_keeps_spans_and_text_only():
    html, n = tables_from_html(
        '<table border=1 onmouseover="x()"><tr><td rowspan="2" colspan="999" class="a">'
        "a<b>b</b><script>evil()</script><style>p{}</style></td>"
        '<th colspan="bogus">&lt;c&gt;</th></tr></table><p>outside</p>'
    )
    assert n == 1
    assert html == ('<table><tr><td rowspan="2" colspan="100">ab</td>'
                    "<th>&lt;c&gt;</th></tr></table>")  # fmt: skip


def test_a_chart_label_needing_a_cjk_font_is_an_error(tmp_path):
    from nianbao.flows.site import charts

    rows = [{"code": "北京市", "rate": 0.5}]
    with pytest.raises(ValueError, match="CJK"):
        charts.rate_by_group(tmp_path / "x.svg", rows, {"rate": "rate"}, "t", "%")
    rows = [{"code": "110000", "rate": 0.5}]
    assert charts.rate_by_group(tmp_path / "x.svg", rows, {"rate": "rate"}, "t", "%").is_file()
