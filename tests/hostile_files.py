"""Hostile input files, built at test time: nothing large is committed.

Each function WRITES one file (or special file) into ``directory`` and returns its path.  They
are the inputs that once exhausted memory or CPU in the readers (see tests/test_guards.py), kept
small on disk so that only a missing guard makes them expensive:

* :func:`xlsx_merged_bomb` – 10 KB workbook, one merged range ``P1:XFD1048576`` (17 G cells)
* :func:`xlsx_dimension_bomb` – a sheet declaring ``<dimension ref="A1:XFD1048576"/>``
* :func:`pdf_huge_page` – 700-byte PDF, one 14400 x 14400 pt page holding a 1x1 image, no text
* :func:`pdf_content_bomb` – ~0.8 MB PDF whose page content stream inflates to 400 MB
* :func:`docx_lying_zip` – DOCX whose ``word/document.xml`` declares 9 MB in the zip headers
  but inflates to ~1.2 GB
* :func:`random_bytes` – 1 MB of random bytes (no format at all)
* :func:`fifo`, :func:`dev_zero_link` – a named pipe and a symlink to ``/dev/zero``

Large payloads are deflated from one repeated block (:func:`_deflate_repeated`), so building
a 1.2 GB bomb takes about a second instead of compressing 1.2 GB.
"""

from __future__ import annotations

import io
import os
import random
import struct
import zipfile
import zlib
from pathlib import Path

_MB = 1024 * 1024


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A small deflated zip of ``members`` (name → content), for the zip checks' tests."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _deflate_repeated(block: bytes, count: int) -> bytes:
    """Raw deflate data of ``block * count``, without compressing ``count`` blocks.

    A full flush resets the compressor, so every block after it compresses to the same bytes:
    one compressed block is repeated and the stream closed with an empty final block.
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    unit = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    return unit * count + comp.flush(zlib.Z_FINISH)


def _zlib_repeated(block: bytes, count: int) -> bytes:
    """The zlib-wrapped form of :func:`_deflate_repeated` (PDF FlateDecode), checksum right."""
    adler = 1
    for _ in range(count):
        adler = zlib.adler32(block, adler)
    return b"\x78\xda" + _deflate_repeated(block, count) + struct.pack(">I", adler)


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF file from object bodies (object n is ``objects[n - 1]``), with a correct xref."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _one_page_pdf(media_box: bytes, content: bytes, content_dict: bytes, image: bool) -> bytes:
    resources = b"<< /XObject << /Im1 5 0 R >> >>" if image else b"<< >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox ["
        + media_box
        + b"] /Resources "
        + resources
        + b" /Contents 4 0 R >>",
        _stream(content_dict, content),
    ]
    if image:
        objects.append(
            _stream(
                b"/Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
                b"/BitsPerComponent 8",
                b"\x80",
            )
        )
    return _pdf(objects)


def _patch_member(data: bytearray, name: str, *, method: int, crc: int, file_size: int) -> None:
    """Rewrite a member's method, CRC and uncompressed size in its local and central headers.

    zipfile cannot store precompressed data nor lie about sizes, so the member is written
    STORED (its bytes are already deflated) and its headers are patched afterwards.
    """
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(name)
        local = info.header_offset
        end = data.rfind(b"PK\x05\x06")
        (central,) = struct.unpack_from("<I", data, end + 16)
    struct.pack_into("<H", data, local + 8, method)
    struct.pack_into("<II", data, local + 14, crc, info.compress_size)
    struct.pack_into("<I", data, local + 22, file_size)
    pos = central
    while data[pos : pos + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        if data[pos + 46 : pos + 46 + n] == name.encode():
            struct.pack_into("<H", data, pos + 10, method)
            struct.pack_into("<I", data, pos + 16, crc)
            struct.pack_into("<I", data, pos + 24, file_size)
            return
        pos += 46 + n + m + k
    raise KeyError(name)


def _rezip(src: bytes, replace: dict[str, bytes], stored: tuple[str, ...] = ()) -> bytearray:
    """A copy of the zip ``src`` with some members' contents replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = replace.get(info.filename, zin.read(info))
            method = zipfile.ZIP_STORED if info.filename in stored else zipfile.ZIP_DEFLATED
            zout.writestr(info.filename, data, compress_type=method)
    return bytearray(out.getvalue())


def _small_xlsx() -> bytes:
    """A normal little workbook: a header row and two rows of numbers."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "年报"
    ws.append(["项目", "本年新制发件数", "本年废止件数"])
    ws.append(["规章", 3, 0])
    ws.append(["行政规范性文件", 12, 1])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _patch_sheet(directory: Path, name: str, edit: tuple[bytes, bytes]) -> Path:
    """The small workbook with one textual edit to its first sheet's XML."""
    data = _small_xlsx()
    member = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = zf.read(member)
    old, new = edit
    assert old in sheet, f"{old!r} not in the sheet XML openpyxl wrote"
    path = Path(directory) / name
    path.write_bytes(bytes(_rezip(data, {member: sheet.replace(old, new, 1)})))
    return path


# --------------------------------------------------------------------------------------------
# The hostile files
# --------------------------------------------------------------------------------------------


def xlsx_merged_bomb(directory: Path) -> Path:
    """``merged_bomb.xlsx``: ~10 KB, one merged range ``P1:XFD1048576``.

    openpyxl materialises a MergedCell object for every cell of a merged range on load
    (17,163,091,968 here): unguarded, it grows past 5 GB within a minute.
    """
    merge = b'</sheetData><mergeCells count="1"><mergeCell ref="P1:XFD1048576"/></mergeCells>'
    return _patch_sheet(directory, "merged_bomb.xlsx", (b"</sheetData>", merge))


def xlsx_dimension_bomb(directory: Path) -> Path:
    """``dimension_bomb.xlsx``: a sheet declaring ``<dimension ref="A1:XFD1048576"/>``."""
    import re

    data = _small_xlsx()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    found = re.search(rb'<dimension ref="[^"]*"/>', sheet)
    assert found, "openpyxl wrote no <dimension>"
    return _patch_sheet(
        directory, "dimension_bomb.xlsx", (found.group(0), b'<dimension ref="A1:XFD1048576"/>')
    )


def pdf_huge_page(directory: Path) -> Path:
    """``huge_page.pdf``: ~700 bytes, one 14400 x 14400 pt page (the PDF maximum, 200 inches)
    covered by a stretched 1x1 image and no text.

    The page looks scanned, so it goes to OCR: rendered at 200 dpi it is 40,000 x 40,000 px,
    4.7 GB of pixels.
    """
    content = b"q 14400 0 0 14400 0 0 cm /Im1 Do Q"
    path = Path(directory) / "huge_page.pdf"
    path.write_bytes(_one_page_pdf(b"0 0 14400 14400", content, b"", image=True))
    return path


def pdf_content_bomb(directory: Path, inflated: int = 400_000_000) -> Path:
    """``content_bomb.pdf``: an A4 page whose FlateDecode content stream inflates to
    ``inflated`` bytes of drawing operators (``0 0 1 1 re f``: a filled rectangle each).

    ~0.8 MB on disk for the default 400 MB; pdfminer would inflate it whole and then
    interpret tens of millions of operators.
    """
    op = b"0 0 1 1 re f\n"
    block = op * (_MB // len(op))
    count = max(1, inflated // len(block))
    data = _zlib_repeated(block, count)
    path = Path(directory) / "content_bomb.pdf"
    path.write_bytes(_one_page_pdf(b"0 0 595 842", data, b"/Filter /FlateDecode", image=False))
    return path


def docx_lying_zip(directory: Path, inflated: int = 1200 * _MB, declared: int = 9 * _MB) -> Path:
    """``lying_zip.docx``: a python-docx blank document whose ``word/document.xml`` really
    inflates to ``inflated`` bytes (valid XML: whitespace inside ``<w:body>``) while the local
    and central zip headers declare ``declared`` bytes.

    ~1.2 MB on disk.  The declared ratio (9 MB from 1.2 MB) passes a zip-bomb check that
    trusts the directory; zipfile's ``read()`` inflates the whole stream in one call before
    cutting it to the declared size.
    """
    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body>"
    )
    tail = b"<w:p><w:r><w:t>x</w:t></w:r></w:p></w:body></w:document>"
    block = b" " * _MB
    count = max(1, (inflated - len(head) - len(tail)) // _MB)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    unit = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    deflated = (
        comp.compress(head)
        + comp.flush(zlib.Z_FULL_FLUSH)
        + unit * count
        + comp.compress(tail)
        + comp.flush(zlib.Z_FINISH)
    )
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    member = "word/document.xml"
    data = _rezip(buf.getvalue(), {member: deflated}, stored=(member,))
    _patch_member(data, member, method=zipfile.ZIP_DEFLATED, crc=crc, file_size=declared)
    path = Path(directory) / "lying_zip.docx"
    path.write_bytes(bytes(data))
    return path


def random_bytes(directory: Path, n: int = 1_000_000, seed: int = 0) -> Path:
    """``random.bin``: ``n`` reproducible random bytes (no magic number, not text)."""
    path = Path(directory) / "random.bin"
    path.write_bytes(random.Random(seed).randbytes(n))
    return path


def fifo(directory: Path) -> Path:
    """``pipe.pdf``: a named pipe (reading it blocks until a writer appears)."""
    path = Path(directory) / "pipe.pdf"
    os.mkfifo(path)
    return path


def dev_zero_link(directory: Path) -> Path:
    """``zero.pdf``: a symlink to ``/dev/zero`` (reading it never ends)."""
    path = Path(directory) / "zero.pdf"
    path.symlink_to("/dev/zero")
    return path


ALL = {
    "xlsx_merged_bomb": xlsx_merged_bomb,
    "xlsx_dimension_bomb": xlsx_dimension_bomb,
    "pdf_huge_page": pdf_huge_page,
    "pdf_content_bomb": pdf_content_bomb,
    "docx_lying_zip": docx_lying_zip,
    "random_bytes": random_bytes,
    "fifo": fifo,
    "dev_zero_link": dev_zero_link,
}
