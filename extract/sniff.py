"""What a file is, from its bytes alone, and the limits that guard the readers against bombs.

URLs and Content-Type headers lie (``.doc`` files that are HTML, ``.pdf`` links that serve a
login page, ``application/octet-stream`` for everything), so the kind is decided from magic
numbers, the member names of a zip container and the stream names of an OLE compound file.
Container checks also enforce size limits before any parser inflates anything: the sizes a zip
directory declares when sniffing, the real inflated sizes (:func:`check_zip`) before a reader
hands a package to its library.
"""

from __future__ import annotations

import copy
import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from nianbao.core.document import DocumentError, LimitExceeded

# Limits (all inputs are already capped at readers.MAX_BYTES compressed).
MAX_ZIP_MEMBERS = 5000
MAX_ZIP_UNCOMPRESSED = 300 * 1024 * 1024  # total inflated size of an OOXML package
MAX_ZIP_RATIO = 200  # inflated/compressed per member (zip bombs reach 1000+)
# Members are inflated this much at a time when check_zip verifies them, so memory stays
# bounded whatever a member's header claims.
ZIP_READ_CHUNK = 1024 * 1024
MAX_PDF_PAGES = 300  # reports run 5-40 pages; more is a bundle or an attack
# PDF content, checked before pdfminer interprets a page.  pdfminer inflates each content stream
# whole, then builds a Python object per character and per path: 4 MB of tiny rectangles
# (242,000 paths) took pdfplumber 47 s and 1 GB; 49,000 took 9 s and 390 MB; 100,000
# characters 5 s.  Report pages carry 0.1-40 KB of operators (the committed fixtures; a page of
# vector charts or outlined text may reach ~1 MB), under 1,000 graphics objects and 2,000
# characters, so these limits sit 50-100x above a real page (6-8x above a 40-page report) and
# bound a page to ~10 s and a document to about a minute.  A content bomb (816 KB inflating to
# 400 MB) is refused after inflating 4 MB.
MAX_PDF_PAGE_CONTENT = 4 * 1024 * 1024  # inflated content streams + forms of one page
MAX_PDF_CONTENT = 32 * 1024 * 1024  # the same, summed over the document
MAX_PDF_PAGE_OBJECTS = 50_000  # paths, images, text runs of a page (forms expanded), by pdfium
MAX_PDF_OBJECTS = 250_000  # the same, summed over the document
MAX_PDF_PAGE_CHARS = 100_000  # characters of a page, by pdfium
MAX_PDF_CHARS = 500_000  # the same, summed over the document
# Indirect objects declared by the cross-reference sections.  A 40-page report has a few
# hundred to a few thousand (fonts, images, pages); pdfminer keeps an xref entry and a cache
# slot for each, and a 50 MB file of tiny objects could declare millions.
MAX_PDF_XREF_OBJECTS = 500_000
MAX_SHEET_CELLS = 2_000_000  # rows x columns of one workbook
MAX_IMAGE_PIXELS = 60_000_000  # ~ an A4 page at 600 dpi is 35 Mpx

_HTML_SNIFF = re.compile(
    rb"<\s*(!doctype\s+html|html|head|body|table|div|p|meta|title)[\s>/]", re.I
)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# Kinds a reader exists for, and kinds recognised only to say why they are not read.
READABLE = frozenset({"html", "text", "pdf", "docx", "doc", "wps", "rtf", "xlsx", "xls", "image"})
UNSUPPORTED_REASON = {
    "ofd": "OFD (Chinese fixed-layout format) is not supported: ask the portal for PDF/Word "
    "or convert with a national OFD reader",
    "pptx": "PowerPoint (PPTX) is not a report format the readers handle",
    "ppt": "PowerPoint (PPT) is not a report format the readers handle",
    "zip": "zip archive without a known document inside (not DOCX/XLSX/OFD)",
    "ole": "OLE compound file without a Word or Excel stream",
    "encrypted": "password-protected Office file (EncryptedPackage): cannot be read",
    "archive": "compressed archive (rar/7z/gzip): unpack it and read the report inside",
}


@dataclass(frozen=True, slots=True)
class Sniffed:
    """The kind of a file and, for containers, what decided it."""

    kind: str
    detail: str = ""


def _ole_streams(data: bytes) -> set[str]:
    """Names of OLE directory entries, found where the CFB layout puts them.

    A directory entry is 128 bytes: a UTF-16LE name, at +64 the name length in bytes including
    the terminator, at +66 the object type (1 storage, 2 stream).  Entries are aligned on 128
    bytes, which rules out the same words appearing in a document's UTF-16 text.
    """
    names: set[str] = set()
    for name in (
        "WordDocument",
        "Workbook",
        "Book",
        "PowerPoint Document",
        "EncryptedPackage",
        "WpsCustomData",
        "1Table",
        "0Table",
    ):
        needle = name.encode("utf-16-le") + b"\x00\x00"
        start = 0
        while True:
            off = data.find(needle, start)
            if off < 0:
                break
            start = off + 1
            if off % 128 or off + 68 > len(data):
                continue
            (nlen,) = struct.unpack_from("<H", data, off + 64)
            if nlen == len(needle) and data[off + 66] in (1, 2):
                names.add(name)
                break
    return names


def _is_kingsoft(data: bytes) -> bool:
    """WPS Office writes its product name into the summary stream of files it saves."""
    head = data[: 4 * 1024 * 1024]
    return (
        b"WpsCustomData" in head
        or "KSOProductBuildVer".encode("utf-16-le") in head
        or (b"KSOProductBuildVer" in head)
    )


def zip_directory(data: bytes) -> list[zipfile.ZipInfo]:
    """The members of a zip after the checks on its directory; nothing is inflated.

    Cheap, enough to tell a DOCX from an XLSX and to refuse a bomb that declares its size
    honestly.  The sizes are only the archive's claims: readers call :func:`check_zip`.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise DocumentError(f"corrupt zip container: {e}") from e
    if len(infos) > MAX_ZIP_MEMBERS:
        raise LimitExceeded(
            "members", f"zip has {len(infos)} members > limit {MAX_ZIP_MEMBERS} (MAX_ZIP_MEMBERS)"
        )
    total = 0
    for info in infos:
        total += info.file_size
        if info.compress_size and info.file_size / info.compress_size > MAX_ZIP_RATIO:
            if info.file_size > 10 * 1024 * 1024:
                raise LimitExceeded(
                    "inflated",
                    f"zip member {info.filename!r} inflates {info.file_size} bytes from "
                    f"{info.compress_size} (ratio > {MAX_ZIP_RATIO}, MAX_ZIP_RATIO): "
                    "refusing a zip bomb",
                )
    if total > MAX_ZIP_UNCOMPRESSED:
        raise LimitExceeded(
            "inflated",
            f"zip inflates to {total} bytes > limit {MAX_ZIP_UNCOMPRESSED} "
            "(MAX_ZIP_UNCOMPRESSED): refusing a zip bomb",
        )
    return infos


def check_zip(data: bytes) -> list[str]:
    """Member names of a zip whose members really inflate to no more than its directory says.

    zipfile trusts the declared size: ``read()`` inflates a member whole in one call and only
    then cuts it to that size, so a ``word/document.xml`` declaring 9 MB that inflates to
    1.2 GB costs 1.2 GB before the CRC error.  After the directory checks (:func:`zip_directory`)
    every member is inflated once here, ZIP_READ_CHUNK bytes at a time, and refused as soon as
    it outgrows its declared size; python-docx and openpyxl then read only verified members,
    whose real total is within MAX_ZIP_UNCOMPRESSED.
    """
    infos = zip_directory(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in infos:
            _verify_member(zf, info)
    return [i.filename for i in infos]


def _verify_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Inflate one member in chunks; LimitExceeded once it passes its declared size."""
    probe = copy.copy(info)
    # zipfile stops (and checks the CRC) at the declared size: let it run one chunk past it.
    probe.file_size = info.file_size + 2 * ZIP_READ_CHUNK
    inflated = 0
    try:
        with zf.open(probe) as member:
            while chunk := member.read(ZIP_READ_CHUNK):
                inflated += len(chunk)
                if inflated > info.file_size:
                    raise LimitExceeded(
                        "inflated",
                        f"zip member {info.filename!r} inflates past the {info.file_size} "
                        "bytes its zip directory declares (sizes are verified, not trusted, "
                        f"against MAX_ZIP_UNCOMPRESSED={MAX_ZIP_UNCOMPRESSED}): refusing a "
                        "lying zip",
                    )
    except (
        zipfile.BadZipFile,
        OSError,
        EOFError,
        RuntimeError,
        NotImplementedError,
        zlib.error,
    ) as e:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression
        raise DocumentError(f"corrupt zip member {info.filename!r}: {e}") from e


def _zip_kind(data: bytes) -> Sniffed:
    names = [i.filename for i in zip_directory(data)]
    lower = {n.lower() for n in names}
    if "word/document.xml" in lower:
        return Sniffed("docx", "zip with word/document.xml")
    if "xl/workbook.xml" in lower:
        return Sniffed("xlsx", "zip with xl/workbook.xml")
    if "ofd.xml" in lower:
        return Sniffed("ofd", "zip with OFD.xml")
    if "ppt/presentation.xml" in lower:
        return Sniffed("pptx", "zip with ppt/presentation.xml")
    return Sniffed("zip", f"{len(names)} members, none a known document")


def _ole_kind(data: bytes) -> Sniffed:
    streams = _ole_streams(data)
    if "EncryptedPackage" in streams:
        return Sniffed("encrypted", "OLE EncryptedPackage stream")
    if "WordDocument" in streams:
        if _is_kingsoft(data):
            return Sniffed("wps", "OLE WordDocument stream, Kingsoft WPS markers")
        return Sniffed("doc", "OLE WordDocument stream")
    if "Workbook" in streams or "Book" in streams:
        return Sniffed("xls", "OLE Workbook stream")
    if "PowerPoint Document" in streams:
        return Sniffed("ppt", "OLE PowerPoint Document stream")
    return Sniffed("ole", "no Word/Excel stream found")


def sniff_bytes(data: bytes) -> Sniffed:
    """The kind of ``data``: see READABLE and UNSUPPORTED_REASON for the possible values."""
    head = data[:16]
    if head.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return Sniffed("pdf")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(data)
    if head.startswith(OLE_MAGIC):
        return _ole_kind(data)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "png")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "jpeg")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("image", "gif")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return Sniffed("image", "tiff")
    if head[:2] == b"BM" and len(data) > 26:
        return Sniffed("image", "bmp")
    if head[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Sniffed("image", "webp")
    if head.startswith(b"{\\rtf"):
        return Sniffed("rtf")
    if head.startswith(b"Rar!") or head.startswith(b"7z\xbc\xaf") or head.startswith(b"\x1f\x8b"):
        return Sniffed("archive")
    text_head = data[:8192].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HTML_SNIFF.search(text_head):
        return Sniffed("html")
    return Sniffed("text")
