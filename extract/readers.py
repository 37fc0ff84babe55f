"""One entry point from bytes or a file to a Document: sniff the kind, pick the parser.

The kind comes from the bytes (``sniff.sniff_bytes``), never from a file name or Content-Type.
Every reader is imported lazily so that a missing optional dependency breaks only its format.
"""

from __future__ import annotations

from pathlib import Path

from .document import Document, DocumentError, UnsupportedFormat
from .sniff import UNSUPPORTED_REASON, sniff_bytes

MAX_BYTES = 50 * 1024 * 1024


def sniff(data: bytes) -> str:
    """The kind of ``data`` ('html', 'text', 'pdf', 'docx', 'doc', 'wps', 'xlsx', ...)."""
    return sniff_bytes(data).kind


def read_bytes(data: bytes, source: str = "", declared_charset: str | None = None) -> Document:
    """Parse ``data`` into a Document; raises DocumentError for what cannot be read."""
    if not data or not data.strip():
        raise DocumentError("empty input")
    if len(data) > MAX_BYTES:
        raise DocumentError(f"input too large: {len(data)} bytes > {MAX_BYTES}")
    kind = sniff_bytes(data).kind
    if kind == "html":
        from .html import parse_html

        return parse_html(data, source=source, declared_charset=declared_charset)
    if kind == "text":
        from .textdump import parse_text_bytes

        return parse_text_bytes(data, source=source, declared_charset=declared_charset)
    if kind == "pdf":
        from .pdf import parse_pdf

        return parse_pdf(data, source=source)
    if kind == "docx":
        from .office import parse_docx

        return parse_docx(data, source=source)
    if kind in ("doc", "wps", "rtf"):
        from .office import parse_legacy_word

        return parse_legacy_word(data, source=source, kind=kind)
    if kind in ("xlsx", "xls"):
        from .office import parse_sheet

        return parse_sheet(data, source=source, kind=kind)
    if kind == "image":
        from .pdf import parse_image

        return parse_image(data, source=source)
    reason = UNSUPPORTED_REASON.get(kind, "unknown format")
    raise UnsupportedFormat(kind, reason)


def read_path(path: str | Path) -> Document:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise DocumentError(f"cannot read {p}: {e.strerror or e}") from e
    return read_bytes(data, source=str(p))
