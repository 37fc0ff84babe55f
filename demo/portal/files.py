"""Tiny but valid attachment files: PDF (Chinese text via STSong-Light), DOCX, and
magic-number placeholders for formats the pipeline only stores (doc, wps, xls, ofd, zip)."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

Lines = list[str | list[str]]


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def make_pdf(lines: Lines, title: str = "") -> bytes:
    """A PDF whose text is ``lines`` (table rows joined by two spaces), CJK via UniGB-UCS2-H."""
    flat: list[str] = []
    for ln in lines:
        flat += _wrap("  ".join(ln) if isinstance(ln, list) else ln, 36)
    pages = [flat[i : i + 48] for i in range(0, len(flat), 48)] or [[]]
    objs: list[bytes] = []

    def add(body: bytes) -> int:
        objs.append(body)
        return len(objs)

    catalog = add(b"")  # placeholder, filled below
    pages_id = add(b"")
    font = add(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [" + str(len(objs) + 2).encode() + b" 0 R] >>"
    )
    add(
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
        b"/FontDescriptor " + str(len(objs) + 2).encode() + b" 0 R /DW 1000 >>"
    )
    add(
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>"
    )
    kids = []
    for page in pages:
        ops = [b"BT /F1 11 Tf 14 TL 50 800 Td"]
        for ln in page:
            hexs = "".join(f"{ord(c):04X}" for c in ln if ord(c) < 0x10000)
            ops.append(f"<{hexs}> Tj T*".encode())
        ops.append(b"ET")
        stream = b"\n".join(ops)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_id, font, content)
            )
        )
    objs[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
    objs[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    info = add(
        b"<< /Title <FEFF"
        + title.encode("utf-16-be").hex().upper().encode()
        + b"> /Producer (nianbao demo) >>"
    )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objs) + 1, catalog, info, xref)
    )
    return out.getvalue()


_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def make_docx(lines: Lines) -> bytes:
    """A minimal WordprocessingML document: str → paragraph, list → one-row table."""
    body = []
    rows: list[list[str]] = []

    def flush() -> None:
        if rows:
            trs = "".join(
                "<w:tr>"
                + "".join(f"<w:tc><w:p><w:r><w:t>{escape(c)}</w:t></w:r></w:p></w:tc>" for c in r)
                + "</w:tr>"
                for r in rows
            )
            body.append(f'<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/></w:tblPr>{trs}</w:tbl>')
            rows.clear()

    for ln in lines:
        if isinstance(ln, list):
            rows.append(ln)
        else:
            flush()
            body.append(f'<w:p><w:r><w:t xml:space="preserve">{escape(ln)}</w:t></w:r></w:p>')
    flush()
    doc = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        + "".join(body)
        + "</w:body></w:document>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in (
            ("[Content_Types].xml", _CT),
            ("_rels/.rels", _RELS),
            ("word/document.xml", doc),
        ):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            z.writestr(info, data)
    return buf.getvalue()


def make_placeholder(ext: str, text: str) -> bytes:
    """Bytes with the right magic number for formats stored but not parsed here."""
    payload = text.encode("utf-8")
    if ext in ("doc", "wps", "xls"):
        return bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504 + payload
    if ext in ("ofd", "zip", "xlsx"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(
                zipfile.ZipInfo("OFD.xml" if ext == "ofd" else "readme.txt", (2024, 1, 1, 0, 0, 0)),
                payload,
            )
        return buf.getvalue()
    if ext == "rtf":
        return b"{\\rtf1\\ansi " + text.encode("ascii", "replace") + b"}"
    return payload


CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "wps": "application/kswps",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ofd": "application/ofd",
    "rtf": "application/rtf",
    "zip": "application/zip",
    "png": "image/png",
    "jpg": "image/jpeg",
}
