"""Stage 5, the outcome of a final response: its status, and soft 404s.

Many portals answer a removed report with a small 200 page saying 页面不存在 (portals.md §7.8);
taken at its word the crawler would store it as the report.  Redirects (3xx with a Location)
are passed out unjudged for the redirect stage.
"""

from __future__ import annotations

from .chain import Handler, Reply, Request
from .challenge import TAGS
from .config import FAILED, NOT_FOUND, NOT_MODIFIED, OK
from .result import FetchResult

SOFT_404_MARKERS = (
    "页面不存在",
    "找不到",
    "页面未找到",
    "404 Not Found",
    "网页不存在",
    "文章不存在",
)
SOFT_404_MAX_BYTES = 8192  # a bigger page is content, whatever it says about missing pages
SOFT_404_MAX_CHARS = 4096


def is_soft_404(status: int, text: str) -> bool:
    """A small 200 page that says the page does not exist (portals.md §7.8)."""
    if status != 200 or len(text) > SOFT_404_MAX_CHARS:
        return False
    visible = TAGS.sub(" ", text)
    return any(m in visible for m in SOFT_404_MARKERS)


def judge_status(reply: Reply) -> tuple[str, str | None]:
    """(outcome, reason) of a response that no other stage has judged."""
    status = reply.status
    if status == 304:
        return NOT_MODIFIED, None
    if status in (404, 410):
        return NOT_FOUND, f"HTTP {status}"
    if status is not None and 200 <= status < 300:
        return (NOT_FOUND, "soft 404") if _looks_missing(reply) else (OK, None)
    return FAILED, f"HTTP {status}"


def _looks_missing(reply: Reply) -> bool:
    if len(reply.body) > SOFT_404_MAX_BYTES or reply.status is None:
        return False
    page = FetchResult(url=reply.url, body=reply.body, headers=reply.headers)
    return page.is_html and is_soft_404(reply.status, page.text)


class OutcomeStage:
    """Judges a final response ok / not_modified / not_found (also soft) / failed."""

    def __call__(self, request: Request, next_stage: Handler) -> Reply:
        reply = next_stage(request)
        if reply.outcome is not None or reply.location:
            return reply
        return reply.judge(*judge_status(reply))
