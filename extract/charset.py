"""Bytes → text for sources whose encoding is not given reliably (GBK pages without headers)."""

from __future__ import annotations

import re

from charset_normalizer import from_bytes

# Declared names that are in practice supersets: decode GB2312/GBK declarations as GB18030 so
# characters outside GB2312 (common in names) do not turn into errors.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "iso-8859-1": "cp1252"}

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)


def normalise_encoding(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    name = _SUPERSETS.get(name, name)
    try:
        "".encode(name)
    except LookupError:
        return None
    return name


def meta_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in its first 4 KiB of <meta> tags, if any."""
    m = _META_CHARSET.search(data[:4096])
    return normalise_encoding(m.group(1).decode("ascii", "ignore")) if m else None


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode(data: bytes, declared: str | None = None, html: bool = False) -> tuple[str, str]:
    """Decode ``data``; returns (text, encoding used).

    Order: BOM, strict UTF-8, the declared charset (HTTP header) and the HTML <meta> charset when
    they decode cleanly, then charset-normalizer's detection, and last GB18030 with replacement.
    A declaration that fails to decode is ignored rather than trusted (wrong headers are common).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace"), "utf-16"
    # Strict UTF-8 first: multi-byte text that decodes as UTF-8 is UTF-8 in practice, whereas
    # UTF-8 bytes often also "decode" as GB18030 (garbled, no error) under a wrong declaration.
    candidates = ["utf-8", normalise_encoding(declared)]
    if html:
        candidates.append(meta_charset(data))
    for enc in candidates:
        if enc:
            text = _strict(data, enc)
            if text is not None:
                return text, enc
    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        enc = normalise_encoding(best.encoding) or best.encoding
        return data.decode(enc, "replace"), enc
    return data.decode("gb18030", "replace"), "gb18030"
