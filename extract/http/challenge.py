"""Stage 7, challenges: anti-bot pages are recorded as ``blocked``, never solved.

A crawler that trusts a guarded portal records its challenge page (瑞数, 云锁, 加速乐, Aliyun,
网站卫士, tiny JS shells) as "no reports"; judging it ``blocked`` says the channel is blocked,
not empty.  JavaScript is never executed.  Judged before retries: a 521/503 challenge page is
not a busy server.  (An openresty-style 302-to-self cookie setter is the redirect stage's.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin

from .chain import Handler, Reply, Request
from .config import BLOCKED

_JS_REDIRECT = re.compile(
    r"""(?:location\.(?:replace|assign)\s*\(\s*|location(?:\.href)?\s*=\s*)["']([^"']+)["']""",
    re.I,
)
_META_REFRESH = re.compile(
    r"""<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*content\s*=\s*["']?\s*\d*\s*;?\s*url\s*=\s*([^"'>\s]+)""",
    re.I,
)
_IFRAME = re.compile(r"""<i?frame[^>]+src\s*=\s*["']?([^"'>\s]+)""", re.I)
TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.I | re.S)
_COOKIE_MARKERS = ("yunsuo_", "security_session", "__jsl_clearance", "acw_sc__v2", "wzws")
_BODY_MARKERS = (
    ("$_ts", "瑞数 challenge ($_ts)"),
    ("security_verify_data", "云锁 challenge (security_verify_data)"),
    ("__jsl_clearance", "加速乐 challenge (__jsl_clearance)"),
    ("acw_sc__v2", "Aliyun challenge (acw_sc__v2)"),
    ("wzws_cid", "网站卫士 challenge (wzws)"),
    ("wzwschallenge", "网站卫士 challenge (wzws)"),
    ("WZWS_CONFIRM", "网站卫士 challenge (wzws)"),
)
# What the script of a tiny anti-bot shell does: set a cookie and reload, usually obfuscated.
_SHELL_JS = re.compile(
    r"document\.cookie|location\.reload|\beval\(|fromCharCode|\batob\(|location(?:\.href)?\s*=\s*[^\s\"';]"
    r"|_\$\w+|challenge",
    re.I,
)


def shell_target(text: str, base: str) -> str | None:
    """The target of a redirect shell (meta refresh, literal location.* assignment), if any."""
    m = _META_REFRESH.search(text) or _JS_REDIRECT.search(text)
    if not m:
        return None
    target = m.group(1).strip()
    if target.lower().startswith(("javascript:", "#")):
        return None
    return urljoin(base, target)


def detect_challenge(
    status: int,
    body: bytes,
    *,
    url: str = "",
    cookie_names: Iterable[str] = (),
) -> str | None:
    """Why a response is an anti-bot challenge rather than content, or None (portals.md §7.1)."""
    head = body[:65536].decode("latin-1")
    cookies = [c.lower() for c in cookie_names]
    if status == 412:
        return "HTTP 412 challenge" + (" (瑞数 $_ts)" if "$_ts" in head else "")
    for marker, reason in _BODY_MARKERS:
        if marker in head and len(body) < 100_000:
            return reason
    if (
        any(m in c for c in cookies for m in _COOKIE_MARKERS)
        and len(body) < 20_000
        and not re.search(r"<a\s[^>]*href", head, re.I)
    ):  # a WAF cookie handed out with a page of links is just a cookie
        return f"challenge cookie ({', '.join(cookies)})"
    if (status == 200 or status >= 500) and len(body) < 2048 and _is_js_shell(head, url):
        return f"tiny JS shell ({len(body)} bytes)"
    return None


def _is_js_shell(text: str, url: str) -> bool:
    """A tiny page that is nothing but a script: no links, redirect target, frame or text."""
    return (
        "<script" in text.lower()
        and not re.search(r"<a\s", text, re.I)
        and not shell_target(text, url or "http://x/")
        and not _IFRAME.search(text)
        and len(TAGS.sub("", text).strip()) < 40
        and bool(_SHELL_JS.search(text))
    )


class ChallengeStage:
    """Judges a response that is a challenge page ``blocked``, keeping its body as evidence."""

    def __call__(self, request: Request, next_stage: Handler) -> Reply:
        reply = next_stage(request)
        if reply.outcome is not None or reply.status is None or reply.error is not None:
            return reply
        reason = detect_challenge(
            reply.status, reply.body, url=reply.url, cookie_names=reply.cookies
        )
        return reply.judge(BLOCKED, reason) if reason else reply
