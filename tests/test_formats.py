"""PDF, Word and spreadsheet readers: every format of a report gives the text version's facts.

Fixtures are committed, made by tests/fixtures/make_formats.py from the five seeds and two
generated reports; reading them needs no font and no network.  DOC needs LibreOffice
(``soffice``): those tests skip with the reason when it is not installed.
"""

from __future__ import annotations

import csv
import struct
from pathlib import Path

import pytest
from conftest import SEED_EXPECTED, SEED_FILES
from hostile_files import zip_bytes
from nianbao.core.document import DocumentError, Paragraph, Table
from nianbao.extract import office, pdf, sniff
from nianbao.extract.readers import read_bytes, read_path
from nianbao.transform.report import extract_document

HERE = Path(__file__).parent / "fixtures"
FMT = HERE / "formats"
SEEDS = SEED_FILES
HAS_SOFFICE = office.soffice_path() is not None
needs_soffice = pytest.mark.skipif(
    not HAS_SOFFICE,
    reason="LibreOffice (soffice) not installed: apt-get install libreoffice-writer-nogui",
)

Key = tuple[str, str, str]


def _value(raw: str) -> int | float:
    return float(raw) if "." in raw else int(raw)


def expected_csv(seed: Path) -> dict[Key, str]:
    with open(SEED_EXPECTED / f"{seed.stem}.csv", encoding="utf-8") as f:
        return {(r["table"], r["item"], r["column"]): r["raw"] for r in csv.DictReader(f)}


def facts_of(data: bytes, name: str) -> tuple[dict[Key, tuple[object, str]], object]:
    doc = read_bytes(data, source=name)
    result = extract_document(doc)
    return {(f.table, f.item, f.column): (f.value, f.raw) for f in result.facts}, result


def text_facts(path: Path) -> dict[Key, tuple[object, str]]:
    result = extract_document(read_path(path))
    return {(f.table, f.item, f.column): (f.value, f.raw) for f in result.facts}


SEED_CASES = [
    pytest.param(
        seed, ext, id=f"{seed.name[:3]}-{ext}", marks=[needs_soffice] if ext == "doc" else []
    )
    for seed in SEEDS
    for ext in ("pdf", "docx", "xlsx", "doc")
]


@pytest.mark.parametrize(("seed", "ext"), SEED_CASES)
def test_seed_in_every_format_gives_the_text_facts(seed: Path, ext: str) -> None:
    fixture = FMT / f"seed_{seed.name[:3]}.{ext}"
    got, result = facts_of(fixture.read_bytes(), fixture.name)
    want = expected_csv(seed)
    assert len(got) == 200
    assert {k: raw for k, (_, raw) in got.items()} == want
    assert {k: v for k, (v, _) in got.items()} == {k: _value(r) for k, r in want.items()}
    assert got == text_facts(seed)
    assert result.errors == []  # type: ignore[attr-defined]
    assert result.format == "2021"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("fixture", "reference"),
    [
        ("gen2021_rotated.pdf", "gen2021.txt"),
        ("gen2021_nested.docx", "gen2021.txt"),
        ("gen2019_unruled.pdf", "gen2019.txt"),
    ],
)
def test_generated_reports(fixture: str, reference: str) -> None:
    got, result = facts_of((FMT / fixture).read_bytes(), fixture)
    want = text_facts(FMT / reference)
    assert len(want) in (198, 200)
    assert got == want
    assert result.errors == []  # type: ignore[attr-defined]


# -- PDF structure -----------------------------------------------------------------------------


def test_pdf_table_split_across_pages_is_one_table_and_header_not_repeated() -> None:
    doc = read_path(FMT / "seed_001.pdf")  # made with the header rows repeated on each page
    assert int(doc.hints["pages"]) >= 3
    requests = [t for t in doc.tables() if any("申请人情况" in c for c in t.rows[0])]
    assert len(requests) == 1
    t = requests[0]
    assert sum(1 for r in t.rows if any("申请人情况" in c for c in r)) == 1
    assert sum(1 for r in t.rows if r[-1] == "总计") == 2  # the two header rows, once each
    assert len(t.rows) == 3 + 25
    assert all(len(r) == 10 for r in t.rows)
    # Rowspan expanded with span marks: 三、本年度办理结果 covers 22 rows, marked after the first.
    col0 = [(r[0], s[0]) for r, s in zip(t.rows, t.span or [], strict=True)]
    result_rows = [x for x in col0 if x[0] == "三、本年度办理结果"]
    assert len(result_rows) == 22 and [s for _, s in result_rows].count(False) == 1
    # Page numbers ("- 2 -") are page furniture, not paragraphs.
    assert not any(p.strip("- ").isdigit() for p in doc.paragraphs())


def test_pdf_rotated_pages() -> None:
    import pypdfium2 as pdfium

    data = (FMT / "gen2021_rotated.pdf").read_bytes()
    pd = pdfium.PdfDocument(data)
    assert {pd[i].get_rotation() for i in range(len(pd))} == {90}
    pd.close()
    doc = read_bytes(data)
    assert "二、主动公开政府信息情况" in doc.paragraphs()
    assert doc.warnings == []


def test_unruled_pdf_reads_rows_from_gaps() -> None:
    doc = read_path(FMT / "gen2019_unruled.pdf")
    rows = [r for t in doc.tables() for r in t.rows]
    assert ["规章", *[c for c in rows[2][1:]]] == rows[2]  # label then its values
    assert any(r[0] == "政府集中采购" for r in rows)


def test_cid_text_layer_detected_and_sent_to_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (FMT / "gen2021_cid.pdf").read_bytes()

    def no_ocr() -> None:
        raise DocumentError("OCR unavailable: test")

    monkeypatch.setattr(pdf, "ocr_module", no_ocr)
    with pytest.raises(DocumentError) as e:
        read_bytes(data)
    msg = str(e.value)
    assert "unusable text layer" in msg and "(cid:NNN)" in msg and "OCR unavailable" in msg
    calls: list[str] = []

    class FakeOcr:
        @staticmethod
        def ocr_page_image(png: bytes, source: str = "") -> object:
            assert png.startswith(b"\x89PNG")
            calls.append(source)
            from nianbao.core.document import Document

            return Document(blocks=[Paragraph(f"ocr {source}")], kind="pdf-ocr")

    monkeypatch.setattr(pdf, "ocr_module", lambda: FakeOcr)
    doc = read_bytes(data, source="x.pdf")
    n = int(doc.hints["pages"])
    assert calls == [f"x.pdf#page={i}" for i in range(1, n + 1)]
    assert doc.hints["ocr_pages"] == ",".join(str(i) for i in range(1, n + 1))
    assert doc.paragraphs() == [f"ocr x.pdf#page={i}" for i in range(1, n + 1)]
    assert sum("unusable text layer" in w for w in doc.warnings) == n


def _ocr_ready() -> bool:
    try:
        from nianbao.extract import ocr
    except ImportError:
        return False
    ok = getattr(ocr, "ocr_available", lambda: (False, ""))()
    return bool(ok[0])


@pytest.mark.skipif(not _ocr_ready(), reason="OCR module or its model not installed")
def test_cid_pdf_through_real_ocr_never_gives_a_wrong_number() -> None:
    """The CID-garbage text layer is detected and the pages are read by OCR: every number it
    reports equals the text version; the few it cannot read are null and flagged."""
    from nianbao.extract.readers import read_bytes
    from nianbao.transform.report import extract_document

    doc = read_bytes((FMT / "gen2021_cid.pdf").read_bytes(), source="cid.pdf")
    assert any("unusable text layer" in w for w in doc.warnings)
    result = extract_document(doc)
    want = {(f.table, f.item, f.column): f.value for f in extract_document(
        read_bytes((FMT / "gen2021.txt").read_bytes())).facts}  # fmt: skip
    got = {(f.table, f.item, f.column): f.value for f in result.facts}
    assert set(got) == set(want)
    assert all(v is None or v == want[k] for k, v in got.items())
    nulls = [k for k, v in got.items() if v is None and want[k] is not None]
    flagged = [w for w in doc.warnings if "ocr_low_confidence" in w or "ocr_unread" in w]
    assert len(nulls) <= len(flagged)
    assert len(got) - len(nulls) >= 190


def test_scanned_page_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        pdf, "ocr_module", lambda: (_ for _ in ()).throw(DocumentError("OCR unavailable: x"))
    )
    with pytest.raises(
        DocumentError, match="scanned page: an image and no text layer.*OCR unavailable"
    ):
        read_path(FMT / "gen2021_scanned.pdf")


def test_pdf_page_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "MAX_PDF_PAGES", 2)
    with pytest.raises(DocumentError, match="pages > limit 2"):
        read_path(FMT / "seed_000.pdf")


def test_broken_pdf_is_a_document_error() -> None:
    with pytest.raises(DocumentError, match="PDF"):
        read_bytes(b"%PDF-1.4\n" + b"garbage " * 100)


# -- Word / spreadsheets -------------------------------------------------------------------------


def test_docx_merged_cells_nested_tables_and_text_box() -> None:
    doc = read_path(FMT / "gen2021_nested.docx")
    title = next(p for p in doc.paragraphs() if p.endswith("年度报告"))
    assert doc.paragraphs().count(title) == 1  # text box read once (DrawingML, not VML copy)
    assert doc.paragraphs().index(title) == 0
    assert len(doc.tables()) == 3  # the inner tables; the layout table is not a table
    appeals = doc.tables()[2]
    assert appeals.rows[0] == ["行政复议"] * 5 + ["行政诉讼"] * 10
    assert (
        appeals.span is not None and appeals.span[0] == [False] + [True] * 4 + [False] + [True] * 9
    )
    assert appeals.span[1][0] is False and appeals.span[2][0] is True  # vMerge continuation


def test_docx_body_order() -> None:
    doc = read_path(FMT / "seed_002.docx")
    kinds = ["T" if isinstance(b, Table) else "P" for b in doc.blocks]
    heads = [
        i
        for i, b in enumerate(doc.blocks)
        if isinstance(b, Paragraph) and b.text[:2] in ("二、", "三、", "四、")
    ]
    assert [kinds[i + 1] for i in heads] == ["T", "T", "T"]


def test_xlsx_merged_ranges_and_number_formats() -> None:
    doc = read_path(FMT / "seed_003.xlsx")
    assert doc.kind == "xlsx"
    t = next(t for t in doc.tables() if any(r[0].startswith("第二十条") for r in t.rows))
    i = next(i for i, r in enumerate(t.rows) if r[0].startswith("第二十条"))
    assert t.rows[i][:4] == ["第二十条第(一)项"] * 4
    assert t.span and t.span[i][:4] == [False, True, True, True]
    assert office._show(1.5, "0.00") == "1.50"
    assert office._show(1560.0, "General") == "1560"
    assert office._show(12345, "#,##0") == "12,345"


def test_legacy_word_without_libreoffice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office, "soffice_path", lambda: None)
    with pytest.raises(DocumentError, match=r"needs LibreOffice \(apt-get install"):
        read_path(FMT / "seed_000.doc")


@needs_soffice
def test_doc_is_converted_by_libreoffice() -> None:
    doc = read_path(FMT / "seed_000.doc")
    assert doc.kind == "doc" and doc.hints["converted_by"] == "libreoffice"


# -- Sniffing and limits -------------------------------------------------------------------------


def _ole(stream: str) -> bytes:
    """A compound-file header and one directory sector naming ``stream``."""
    entry = stream.encode("utf-16-le") + b"\0\0"
    record = entry.ljust(64, b"\0") + struct.pack("<HB", len(entry), 2)
    return sniff.OLE_MAGIC + b"\0" * (1024 - 8) + record.ljust(128, b"\0") + b"\0" * 384


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("seed_000.pdf", "pdf"),
        ("seed_000.docx", "docx"),
        ("seed_000.xlsx", "xlsx"),
        ("seed_000.doc", "doc"),
        ("gen2021.txt", "text"),
    ],
)
def test_sniff_fixtures(name: str, kind: str) -> None:
    assert sniff.sniff_bytes((FMT / name).read_bytes()).kind == kind


def test_sniff_containers_and_magic() -> None:
    assert (
        sniff.sniff_bytes(zip_bytes({"OFD.xml": b"<ofd/>", "Doc_0/Document.xml": b"x"})).kind
        == "ofd"
    )
    assert sniff.sniff_bytes(zip_bytes({"a.txt": b"x"})).kind == "zip"
    assert sniff.sniff_bytes(_ole("Workbook")).kind == "xls"
    assert sniff.sniff_bytes(_ole("WordDocument")).kind == "doc"
    assert sniff.sniff_bytes(_ole("WordDocument") + b"WpsCustomData").kind == "wps"
    assert sniff.sniff_bytes(_ole("EncryptedPackage")).kind == "encrypted"
    assert sniff.sniff_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20).kind == "image"
    assert sniff.sniff_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 20).kind == "image"
    assert sniff.sniff_bytes(b"{\\rtf1\\ansi hello}").kind == "rtf"
    assert sniff.sniff_bytes(b"<html><body><p>x</p></body></html>").kind == "html"
    with pytest.raises(DocumentError, match="OFD.*not supported"):
        read_bytes(zip_bytes({"OFD.xml": b"<ofd/>"}))


def test_zip_bomb_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = zip_bytes({"word/document.xml": b"\0" * (20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    with pytest.raises(DocumentError, match="zip bomb"):
        read_bytes(bomb)
    monkeypatch.setattr(sniff, "MAX_ZIP_MEMBERS", 10)
    with pytest.raises(DocumentError, match="members > limit 10"):
        read_bytes(zip_bytes({f"f{i}": b"x" for i in range(11)}))
    monkeypatch.setattr(sniff, "MAX_ZIP_MEMBERS", 5000)
    monkeypatch.setattr(sniff, "MAX_ZIP_UNCOMPRESSED", 1000)
    with pytest.raises(DocumentError, match="inflates to"):
        read_path(FMT / "seed_000.docx")


def test_image_pixel_limit() -> None:
    import zlib

    ihdr = struct.pack(">IIBBBBB", 9000, 9000, 8, 0, 0, 0, 0)  # 81 Mpx > MAX_IMAGE_PIXELS
    chunk = b"IHDR" + ihdr
    idat = b"IDAT" + zlib.compress(b"\0" * 64)

    def crc(c: bytes) -> bytes:
        return struct.pack(">I", zlib.crc32(c))

    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + crc(chunk)
    png += struct.pack(">I", len(idat) - 4) + idat + crc(idat)
    with pytest.raises(DocumentError, match="image too large"):
        read_bytes(png)
