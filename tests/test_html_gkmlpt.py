"""Guangdong gkmlpt detail pages: the report body is a JSON string inside window._CONFIG."""

from __future__ import annotations

import json

from conftest import SEEDS_DIR
from nianbao.extract.readers import read_bytes
from nianbao.transform.report import extract_document

SEED = SEEDS_DIR / "004_40523efafb065443.txt"


def gkmlpt_page(inner_html: str) -> bytes:
    detail = {
        "id": 161715,
        "title": "某区民政局2024年政府信息公开工作年度报告",
        "content": inner_html,
        "publisher": "某区民政局",
        "display_publish_time": "2025-01-20",
        "identifier": "007161715/2025-00015",
    }
    cfg = json.dumps(detail, ensure_ascii=True).replace("<", "\\u003C").replace(">", "\\u003E")
    shell = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>广东省人民政府门户网站</title>"
        f"</head><body><div id='app'></div><script>window._CONFIG = {{ SID: '755', DETAIL: {cfg},"
        " TREE: [] };</script><script src='/gkmlpt/static/js/detail.js'></script></body></html>"
    )
    return shell.encode("utf-8")


def test_gkmlpt_body_is_read_from_the_json_config():
    rows = []
    for line in SEED.read_text(encoding="utf-8").splitlines()[3:]:
        cells = [c.strip() for c in line.split("|")]
        if "|" in line:
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells[:-1]) + "</tr>")
        else:
            rows.append(f"</table><p>{line}</p><table>")
    inner = "<table>" + "".join(rows) + "</table>"
    result = extract_document(read_bytes(gkmlpt_page(inner), source="gkmlpt"))
    assert len(result.facts) == 200, result.errors
    assert result.meta.title == "某区民政局2024年政府信息公开工作年度报告"
    assert result.meta.published == "2025-01-20"
    assert result.meta.index_no == "007161715/2025-00015"
    assert result.failed_checks == []
