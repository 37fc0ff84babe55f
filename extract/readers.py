"""One entry point from bytes or a file to a Document: sniff the kind, pick the parser.

The kind comes from the bytes (``sniff.sniff_bytes``), never from a file name or Content-Type.
Every reader is imported lazily so that a missing optional dependency breaks only its format.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from nianbao.core.document import Document, DocumentError, LimitExceeded, UnsupportedFormat

from .sniff import UNSUPPORTED_REASON, sniff_bytes

MAX_BYTES = 50 * 1024 * 1024
# File names a directory walk picks up (a named file is always read: the kind comes from the
# bytes).  One suffix per kind in sniff.READABLE, plus OFD so that it is refused with a reason.
REPORT_SUFFIXES = frozenset(
    {".txt", ".htm", ".html", ".shtml", ".xhtml", ".jsp", ".pdf", ".doc", ".docx", ".wps"}
    | {".rtf", ".xlsx", ".xls", ".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".bmp"}
    | {".webp", ".ofd"}
)


def sniff(data: bytes) -> str:
    """The kind of ``data`` ('html', 'text', 'pdf', 'docx', 'doc', 'wps', 'xlsx', ...)."""
    return sniff_bytes(data).kind


def read_bytes(data: bytes, source: str = "", declared_charset: str | None = None) -> Document:
    """Parse ``data`` into a Document; raises DocumentError for what cannot be read."""
    if not data or not data.strip():
        raise DocumentError("empty input")
    if len(data) > MAX_BYTES:
        raise LimitExceeded("size", f"input too large: {len(data)} bytes > {MAX_BYTES}")
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


def read_file(path: str | Path) -> bytes:
    """The bytes of a local report file: a regular file of at most MAX_BYTES, else refused.

    Checked by ``stat`` (symlinks followed) before anything is read, so a FIFO, a device (a
    link to /dev/zero), a directory or an oversized file is refused at once instead of blocking
    or filling memory.  The file is opened non-blocking and checked again on the open handle, so
    a path swapped for a FIFO after the ``stat`` cannot block the open either.
    """
    p = Path(path)
    try:
        _check_regular(p, os.stat(p))
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        with os.fdopen(fd, "rb") as f:
            _check_regular(p, os.fstat(f.fileno()))
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise DocumentError(f"cannot read {p}: {e.strerror or e}") from e
    if len(data) > MAX_BYTES:  # grew since the stat
        raise LimitExceeded("size", f"input too large: > {MAX_BYTES} bytes (MAX_BYTES)")
    return data


def _check_regular(p: Path, st: os.stat_result) -> None:
    """DocumentError unless ``st`` is a regular file within MAX_BYTES."""
    if not stat.S_ISREG(st.st_mode):
        raise DocumentError(f"not a regular file: {p} ({_file_type(st.st_mode)})")
    if st.st_size > MAX_BYTES:
        raise LimitExceeded(
            "size", f"input too large: {st.st_size} bytes > {MAX_BYTES} (MAX_BYTES)"
        )


def _file_type(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_path(path: str | Path) -> Document:
    return read_bytes(read_file(path), source=str(path))
