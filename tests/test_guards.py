"""Guards before the expensive step: hostile files are refused fast, naming the limit, in
bounded memory, while normal reports read as before.

Each hostile file (built by tests/hostile_files.py) is read in a child process: its ``VmHWM``
is the peak of that one read, where the test process's own high-water mark would hide it
(``ru_maxrss`` would not do: it survives the exec, so a child of a large pytest process starts
with pytest's peak).  The child also caps its address space, so a guard that regresses fails the test
with a MemoryError instead of taking the memory of a shared machine.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import hostile_files
import pytest
from hostile_files import zip_bytes
from nianbao.core.document import DocumentError, LimitExceeded, Table
from nianbao.extract import office, pdf, sniff
from nianbao.extract.readers import read_bytes, read_path

FMT = Path(__file__).parent / "fixtures" / "formats"
MAX_SECONDS = 5.0  # per read; the guards answer in well under 0.5 s
MAX_PEAK_MB = 700  # the child's peak RSS (its baseline with the libraries loaded is ~70 MB)
CHILD_AS_LIMIT = 3 << 30  # address-space cap of the child: a missing guard dies there

_CHILD = """
import json, resource, sys, time
from pathlib import Path


def peak_mb():
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
import docx, openpyxl, pdfplumber, pypdfium2  # loaded before the baseline is taken
from nianbao.extract import readers
from nianbao.core.document import DocumentError


def attempt(read):
    start = time.perf_counter()
    try:
        read()
        out = {{"error": None}}
    except DocumentError as e:
        out = {{"error": type(e).__name__, "message": str(e), "limit": getattr(e, "limit", None)}}
    except BaseException as e:  # MemoryError, PdfiumError...: a guard is missing
        out = {{"error": "unexpected " + type(e).__name__, "message": str(e)[:500]}}
    out["seconds"] = time.perf_counter() - start
    return out


path = Path(sys.argv[1])
base = peak_mb()
result = {{"path": attempt(lambda: readers.read_path(path))}}
if sys.argv[2] == "bytes":
    data = path.read_bytes()
    result["bytes"] = attempt(lambda: readers.read_bytes(data, source=str(path)))
result["base_mb"] = base
result["peak_mb"] = peak_mb()
print(json.dumps(result))
"""


def read_in_child(path: Path, also_bytes: bool) -> dict:
    """read_path (and read_bytes of the same file) in a fresh interpreter, measured there."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD.format(limit=CHILD_AS_LIMIT), str(path)]
        + ["bytes" if also_bytes else "path"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


# (generator, words the message must contain, LimitExceeded.limit or None for a DocumentError)
HOSTILE = [
    ("xlsx_merged_bomb", ["P1:XFD1048576", "MAX_SHEET_CELLS"], "cells"),
    ("pdf_huge_page", ["14400x14400 pt", "MAX_IMAGE_PIXELS"], "pixels"),
    ("pdf_content_bomb", ["page 1", "MAX_PDF_PAGE_CONTENT"], "content"),
    ("docx_lying_zip", ["word/document.xml", "declares", "MAX_ZIP_UNCOMPRESSED"], "inflated"),
    ("fifo", ["not a regular file", "a FIFO"], None),
    ("dev_zero_link", ["not a regular file", "a character device"], None),
]


@pytest.mark.parametrize(("make", "words", "limit"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_file_is_refused_fast_in_bounded_memory(
    hostile_dir: Path, make: str, words: list[str], limit: str | None
) -> None:
    path = hostile_files.ALL[make](hostile_dir)
    regular = path.is_file() and not path.is_symlink()
    result = read_in_child(path, also_bytes=regular)
    for how in ("path", "bytes") if regular else ("path",):
        got = result[how]
        assert got["error"] == ("LimitExceeded" if limit else "DocumentError"), (how, got)
        assert got["limit"] == limit, (how, got)
        for word in words:
            assert word in got["message"], (how, word, got["message"])
        assert got["seconds"] < MAX_SECONDS, (how, got)
    assert result["peak_mb"] < MAX_PEAK_MB, result


@pytest.mark.parametrize("make", ["random_bytes", "xlsx_dimension_bomb"])
def test_harmless_oddities_end_quickly_in_bounded_memory(hostile_dir: Path, make: str) -> None:
    # A declared <dimension> of the whole sheet is not refused (openpyxl ignores it; old
    # converted files declare A1:IV65536): the workbook's real cells are read as usual.
    result = read_in_child(hostile_files.ALL[make](hostile_dir), also_bytes=True)
    for how in ("path", "bytes"):
        assert result[how]["error"] in (None, "DocumentError", "LimitExceeded"), result
        assert result[how]["seconds"] < MAX_SECONDS, result
    assert result["peak_mb"] < MAX_PEAK_MB, result


def test_generators_build_what_they_claim(hostile_dir: Path) -> None:
    docx_path = hostile_files.docx_lying_zip(hostile_dir)
    with zipfile.ZipFile(docx_path) as zf:
        info = zf.getinfo("word/document.xml")
    assert info.file_size == 9 * 1024 * 1024 and info.compress_size > 1_000_000
    assert hostile_files.pdf_huge_page(hostile_dir).stat().st_size < 1000
    assert hostile_files.pdf_content_bomb(hostile_dir).stat().st_size < 1_000_000
    assert hostile_files.xlsx_merged_bomb(hostile_dir).stat().st_size < 20_000


# -- the guards one by one, in process (small limits, no bombs) ---------------------------------


def test_check_zip_counts_real_bytes_not_declared_ones() -> None:
    data = bytearray(zip_bytes({"a.xml": b"<a/>" + b" " * 5_000_000}))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        local = zf.getinfo("a.xml").header_offset
    central = data.rfind(b"PK\x01\x02")
    data[local + 22 : local + 26] = (1000).to_bytes(4, "little")
    data[central + 24 : central + 28] = (1000).to_bytes(4, "little")
    assert [i.file_size for i in sniff.zip_directory(bytes(data))] == [1000]  # directory: fine
    with pytest.raises(LimitExceeded, match="inflates past the 1000 bytes") as e:
        sniff.check_zip(bytes(data))
    assert e.value.limit == "inflated"
    assert sniff.check_zip(zip_bytes({"a.xml": b"<a/>" * 1000})) == ["a.xml"]


def test_sheet_extents_are_counted_from_the_xml(monkeypatch: pytest.MonkeyPatch) -> None:
    assert office._range_cells("A1") == 1
    assert office._range_cells("B2:C4") == 6
    assert office._range_cells("A:B") == 2 * 1_048_576
    data = (FMT / "seed_003.xlsx").read_bytes()
    office._check_sheet_extents(data)  # a real report passes
    monkeypatch.setattr(office, "MAX_SHEET_CELLS", 50)
    with pytest.raises(LimitExceeded, match=r"real cells of the workbook reach \d+ > limit 50"):
        office._check_sheet_extents(data)
    extents = office._Extents()
    extents.add("s", "merged", 40, "merged range A1:H5")
    with pytest.raises(LimitExceeded, match="merged cells of the workbook reach 80 > limit 50"):
        extents.add("s", "merged", 40, "merged range A6:H10")


def test_render_scale_is_lowered_for_big_pages_and_refused_for_huge_ones() -> None:
    a4 = pdf._render_scale(595, 842, 200)
    assert a4 == pytest.approx(200 / 72)
    a0 = pdf._render_scale(2384, 3370, 200)  # 62 Mpx at 200 dpi: rendered a little smaller
    assert 2384 * a0 * 3370 * a0 <= sniff.MAX_IMAGE_PIXELS
    assert a0 * 72 >= pdf.MIN_OCR_DPI
    with pytest.raises(LimitExceeded, match="MAX_IMAGE_PIXELS") as e:
        pdf._render_scale(14400, 14400, 200)
    assert e.value.limit == "pixels"


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("MAX_PDF_PAGE_CONTENT", 1000, r"page 1: content streams inflate past 1000 bytes"),
        ("MAX_PDF_CONTENT", 30_000, r"content streams of pages 1-\d inflate to \d+ bytes"),
        ("MAX_PDF_XREF_OBJECTS", 5, r"declares \d+ objects > limit 5"),
        ("MAX_PDF_PAGE_OBJECTS", 10, r"page 1: graphics objects: \d+ > limit 10"),
        ("MAX_PDF_OBJECTS", 1000, r"graphics objects of pages 1-2: \d+ > limit 1000"),
        ("MAX_PDF_PAGE_CHARS", 100, r"page 1: characters: \d+ > limit 100"),
        ("MAX_PDF_CHARS", 2500, r"characters of pages 1-2: \d+ > limit 2500"),
    ],
)
def test_pdf_limits_name_the_limit(
    monkeypatch: pytest.MonkeyPatch, name: str, value: int, match: str
) -> None:
    monkeypatch.setattr(pdf, name, value)
    with pytest.raises(LimitExceeded, match=match) as e:
        read_path(FMT / "seed_000.pdf")
    assert name in str(e.value)


# -- normal reports still read ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["seed_003.xlsx", "seed_002.docx", "seed_001.pdf"])
def test_normal_reports_still_give_their_tables(name: str) -> None:
    doc = read_path(FMT / name)
    assert doc == read_bytes((FMT / name).read_bytes(), source=str(FMT / name))
    tables = doc.tables()
    assert len(tables) >= 3
    assert any(any(r and r[0].startswith("第二十条") for r in t.rows) for t in tables)


def test_a_small_generated_workbook_reads() -> None:
    doc = read_bytes(hostile_files._small_xlsx())
    assert doc.tables() == [
        Table(
            rows=[
                ["项目", "本年新制发件数", "本年废止件数"],
                ["规章", "3", "0"],
                ["行政规范性文件", "12", "1"],
            ],
            span=[[False] * 3] * 3,
        )
    ]


def test_zip_member_with_a_wrong_crc_is_a_document_error() -> None:
    data = bytearray(zip_bytes({"word/document.xml": b"<w:document/>" * 100}))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        local = zf.getinfo("word/document.xml").header_offset
    central = data.rfind(b"PK\x01\x02")
    data[local + 14 : local + 18] = data[central + 16 : central + 20] = b"\0\0\0\0"
    with pytest.raises(DocumentError, match="corrupt zip member 'word/document.xml'"):
        sniff.check_zip(bytes(data))


def test_stream_sizes_are_counted_as_pdfminer_decodes_them() -> None:
    import base64
    import zlib

    from pdfminer.pdftypes import PDFStream
    from pdfminer.psparser import LIT

    text = b"BT /F1 12 Tf 72 720 Td (hello) Tj ET\n" * 500
    a85 = base64.a85encode(zlib.compress(text)) + b"~>"
    cases = [
        ({}, text),
        ({"Filter": LIT("FlateDecode")}, zlib.compress(text)),
        ({"Filter": [LIT("ASCII85Decode"), LIT("FlateDecode")]}, a85),
        ({"Filter": LIT("ASCIIHexDecode")}, text[:1000].hex().encode() + b">"),
        ({"Filter": LIT("RunLengthDecode")}, b"\xff\x00\x01\x41\x42\x80"),
    ]
    for attrs, raw in cases:
        size = pdf._decoded_size(PDFStream(dict(attrs), raw), budget=1 << 20)
        assert size == len(PDFStream(dict(attrs), raw).get_data()), attrs
    with pytest.raises(pdf._OverBudget):
        pdf._decoded_size(PDFStream({"Filter": LIT("FlateDecode")}, zlib.compress(text)), 1000)
    with pytest.raises(pdf._OverBudget, match="expanding up to 64x"):
        pdf._decoded_size(PDFStream({"Filter": LIT("RunLengthDecode")}, b"\xff\x00" * 100), 1000)
