"""One entry point from bytes or a file to a Document: sniff the kind, pick the parser."""

from __future__ import annotations

import re
from pathlib import Path

from .document import Document, DocumentError

MAX_BYTES = 50 * 1024 * 1024

_HTML_SNIFF = re.compile(
    rb"<\s*(!doctype\s+html|html|head|body|table|div|p|meta|title)[\s>/]", re.I
)


def sniff(data: bytes) -> str:
    """'html' or 'text', from the bytes (never from a file name or Content-Type)."""
    head = data[:8192].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HTML_SNIFF.search(head):
        return "html"
    if head[:5] == b"%PDF-":
        return "pdf"
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "ole"
    return "text"


def read_bytes(data: bytes, source: str = "", declared_charset: str | None = None) -> Document:
    """Parse ``data`` into a Document; raises DocumentError for what cannot be read."""
    if not data or not data.strip():
        raise DocumentError("empty input")
    if len(data) > MAX_BYTES:
        raise DocumentError(f"input too large: {len(data)} bytes > {MAX_BYTES}")
    kind = sniff(data)
    if kind == "html":
        from .html import parse_html

        return parse_html(data, source=source, declared_charset=declared_charset)
    if kind == "text":
        from .textdump import parse_text_bytes

        return parse_text_bytes(data, source=source, declared_charset=declared_charset)
    raise DocumentError(f"unsupported format: {kind} (PDF/Word/spreadsheet readers not built yet)")


def read_path(path: str | Path) -> Document:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise DocumentError(f"cannot read {p}: {e.strerror or e}") from e
    return read_bytes(data, source=str(p))
