"""OCR of table screenshots (extract/ocr.py) against the seeds' truth.

The images are made by tests/fixtures/make_ocr.py from the seeds and one generated report.
Clean screenshots must give every one of the 200 cells exactly; degraded ones (blur, JPEG noise,
150 dpi) may lose cells, but a wrong number must never pass silently: it is either blanked and
flagged by its OCR confidence or it makes an identity check fail.
"""

from __future__ import annotations

import csv
import socket
from pathlib import Path

import pytest
from conftest import SEED_EXPECTED, SEED_FILES
from nianbao.demo import synth
from nianbao.demo.synth import check_operands
from nianbao.transform.report import extract_document

ocr = pytest.importorskip("nianbao.extract.ocr")
_ok, _why = ocr.ocr_available()
pytestmark = pytest.mark.skipif(not _ok, reason=f"OCR unavailable: {_why}")

FIX = Path(__file__).parent / "fixtures"
IMAGES = FIX / "ocr"
SEEDS = SEED_FILES
TABLES = ("active", "requests", "appeals")
REPORTS = [p.stem[:3] for p in SEEDS] + ["gen"]
DEGRADED = [(r, v) for r in ("gen", "002", "003") for v in ("blur", "jpeg", "150dpi")]
Key = tuple[str, str, str]


def expected(name: str) -> dict[Key, str]:
    path = IMAGES / "gen_2021.csv" if name == "gen" else next(SEED_EXPECTED.glob(f"{name}_*.csv"))
    with open(path, encoding="utf-8", newline="") as f:
        return {(r["table"], r["item"], r["column"]): r["raw"] for r in csv.DictReader(f)}


def images(name: str, variant: str) -> list[bytes]:
    ext = "png" if variant == "clean" else "jpg"
    return [(IMAGES / f"{name}_{t}_{variant}.{ext}").read_bytes() for t in TABLES]


def truth_grids(name: str) -> list[list[list[str | None]]]:
    """Per table image, the printed text of each grid position (what make_ocr drew)."""
    if name == "gen":
        import importlib.util

        spec = importlib.util.spec_from_file_location("make_ocr", FIX / "make_ocr.py")
        mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
        report = mod.generated_report()
    else:
        report = synth.report_from_text(next(p for p in SEEDS if p.name.startswith(name)))
    return [
        [[g.cell.text if g else None for g in row] for row in synth.expand(synth.layout(report, t))]
        for t in TABLES
    ]


def _num(raw: str) -> float | int:
    return float(raw) if "." in raw else int(raw)


@pytest.fixture(scope="module")
def engine():
    """Load the model once for the module (OCR runs share it)."""
    return ocr._engine()


def test_available():
    ok, why = ocr.ocr_available()
    assert ok and why == ""


@pytest.mark.parametrize("name", REPORTS)
def test_clean_screenshots_give_every_cell(engine, name):
    doc = ocr.ocr_images(images(name, "clean"), source=name)
    result = extract_document(doc)
    want = expected(name)
    got = {(f.table, f.item, f.column): f for f in result.facts}
    assert result.format == "2021"
    assert set(got) == set(want) and len(result.facts) == 200
    for key, raw in want.items():
        assert got[key].raw == raw, key
        assert got[key].value == _num(raw), key
    assert result.errors == []
    assert doc.hints["ocr_engine"].startswith("rapidocr_onnxruntime")
    assert doc.hints["ocr_low_confidence_cells"] == "0"
    assert float(doc.hints["ocr_mean_confidence"]) > 0.9
    assert not [w for w in doc.warnings if w.startswith(("ocr_low_confidence", "ocr_unread"))]
    failed = sorted(c.name for c in result.failed_checks)
    assert failed == (
        ["requests_balance.commercial", "requests_row_total.new"] if name == "002" else []
    )


@pytest.mark.parametrize(("name", "variant"), DEGRADED, ids=[f"{n}-{v}" for n, v in DEGRADED])
def test_degraded_never_a_silent_wrong_number(engine, name, variant, monkeypatch):
    log: list[tuple[int, int, int, str, float]] = []
    monkeypatch.setattr(ocr, "_CELL_LOG", log)
    doc = ocr.ocr_images(images(name, variant), source=f"{name}-{variant}")
    # Cell level: every number reading that clears the confidence gate is the printed text.
    grids = truth_grids(name)
    assert len(log) >= 190
    for table, r, c, text, score in log:
        if score >= ocr.MIN_CONFIDENCE:
            assert text == grids[table][r][c], (TABLES[table], r, c, text, score)
    result = extract_document(doc)
    want = expected(name)
    got = {(f.table, f.item, f.column): f for f in result.facts}
    checks = {c.name: c.ok for c in result.checks}
    operands = check_operands("2021")
    flagged = [w for w in doc.warnings if w.startswith(("ocr_low_confidence:", "ocr_unread:"))]
    correct = wrong = blanked = 0
    for key, raw in want.items():
        fact = got.get(key)
        if fact is not None and fact.value == _num(raw):
            correct += 1
            continue
        if fact is None or fact.value is None:  # blanked / lost: null, never a number
            blanked += 1
            continue
        wrong += 1  # a wrong number: an identity check holding this cell must fail
        exposing = [
            n
            for n, (left, right) in operands.items()
            if key in left + right and checks.get(n) is False
        ]
        assert exposing, f"{key}: read {fact.raw!r} for {raw!r} and every check passed"
    # Each blank comes with a recorded reason (a low-confidence or unread cell).
    assert blanked <= len(flagged) or blanked == 0
    assert int(doc.hints["ocr_low_confidence_cells"]) == len(
        [w for w in flagged if w.startswith("ocr_low_confidence:")]
    )
    for w in flagged:
        if w.startswith("ocr_low_confidence:"):
            _, pos, _text, score = w.split(":")
            r, c = (int(x) for x in pos.split(","))
            assert r >= 0 and c >= 0 and float(score) < ocr.MIN_CONFIDENCE
    # The degradations here are survivable: most cells still come through.
    assert correct >= 180, (correct, wrong, blanked)


def test_low_confidence_number_is_blanked_not_kept(engine, monkeypatch):
    """With the gate raised above every score, every number cell is blanked and listed."""
    monkeypatch.setattr(ocr, "MIN_CONFIDENCE", 1.01)
    doc = ocr.ocr_image((IMAGES / "gen_appeals_clean.png").read_bytes())
    low = [w for w in doc.warnings if w.startswith("ocr_low_confidence:")]
    assert len(low) == 15 and doc.hints["ocr_low_confidence_cells"] == "15"
    table = doc.tables()[0]
    assert table.rows[-1] == [""] * 15
    result = extract_document(doc)
    appeals = [f for f in result.facts if f.table == "appeals"]
    assert all(f.value is None for f in appeals)


def test_grid_rebuilt_with_spans(engine):
    """The requests table: 3 header rows + 25 rows, 10 columns, rowspans as printed."""
    doc = ocr.ocr_image((IMAGES / "gen_requests_clean.png").read_bytes())
    (table,) = doc.tables()
    assert len(table.rows) == 28 and all(len(r) == 10 for r in table.rows)
    assert table.span is not None
    col0 = [table.rows[r][0] for r in range(5, 27)]
    assert len(set(col0)) == 1 and "办理结果" in col0[0]  # 三、本年度办理结果: rowspan 22
    assert [table.span[r][0] for r in range(5, 27)] == [False] + [True] * 21
    assert doc.paragraphs() == ["三、收到和处理政府信息公开申请情况"]


def test_no_network_during_ocr(monkeypatch):
    """Model loading and recognition never open a socket: the models ship in the wheel."""

    def refuse(*_a, **_k):
        raise AssertionError("network access attempted during OCR")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(ocr, "_ENGINE", None)  # force a fresh model load under the block
    doc = ocr.ocr_image((IMAGES / "003_appeals_clean.png").read_bytes(), source="offline")
    assert doc.tables() and doc.hints["ocr_low_confidence_cells"] == "0"
    result = extract_document(doc)
    want = expected("003")
    appeals = {(f.table, f.item, f.column): f.raw for f in result.facts if f.table == "appeals"}
    assert appeals == {k: v for k, v in want.items() if k[0] == "appeals"}


def test_bad_bytes_raise_document_error():
    from nianbao.core.document import DocumentError

    with pytest.raises(DocumentError):
        ocr.ocr_image(b"not an image")


def test_page_image_kind(engine):
    doc = ocr.ocr_page_image((IMAGES / "000_appeals_clean.png").read_bytes(), source="p1")
    assert doc.kind == "pdf-ocr" and doc.source == "p1" and doc.tables()
