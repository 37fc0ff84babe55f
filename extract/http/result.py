"""What one fetch produced, as the crawler and discovery adapters read it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from requests.structures import CaseInsensitiveDict

from .. import charset
from .config import FAILED, OK


@dataclass(slots=True)
class FetchResult:
    """What one fetch produced; ``body`` is empty unless the outcome is ok/blocked/not_found."""

    url: str
    method: str = "GET"
    final_url: str = ""
    status: int | None = None
    outcome: str = FAILED
    body: bytes = b""
    headers: CaseInsensitiveDict = field(default_factory=CaseInsensitiveDict)
    error: str | None = None
    attempts: int = 0
    redirects: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    _text: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == OK

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("Content-Type")
        return value.split(";")[0].strip().lower() if value else None

    @property
    def declared_charset(self) -> str | None:
        m = re.search(r"charset\s*=\s*([\w.:-]+)", self.headers.get("Content-Type", ""), re.I)
        return m.group(1) if m else None

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("Last-Modified")

    @property
    def is_html(self) -> bool:
        ct = self.content_type or ""
        return "html" in ct or (not ct and b"<" in self.body[:512])

    @property
    def text(self) -> str:
        """The body decoded: header charset, then <meta>, then detection (GBK without headers)."""
        if self._text is None:
            self._text, _ = charset.decode(self.body, self.declared_charset, html=self.is_html)
        return self._text
