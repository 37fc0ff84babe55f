"""Errors the CLI shows as one clear line (no traceback).

Why one place for file-system errors: a full disk, a read-only mount or a missing permission
can strike any write of any command (part files, manifests, the views file, exports, the raw
store).  Catching them at each write would scatter near-identical messages; instead the CLI's
``main()`` asks :func:`user_error` whether an exception is one a person can act on.
"""

from __future__ import annotations

import errno
import os
import re

# errno → what the person can do about it.
_ACTIONS = {
    errno.ENOSPC: "free some space and run again",
    errno.EDQUOT: "free some space or raise the quota and run again",
    errno.EROFS: "the file system is mounted read-only: choose a writable directory",
    errno.EACCES: "check the permissions or choose another directory",
    errno.EPERM: "check the permissions or choose another directory",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
    errno.EISDIR: "the path is a directory, not a file",
    errno.EEXIST: "a file is in the way of a directory",
}
_OS_ERROR = re.compile(r"\(os error (\d+)\)")
# DuckDB reports the same conditions as IOException text without an errno.
_DUCKDB_TEXT = {os.strerror(n): n for n in _ACTIONS}


class UserError(Exception):
    """A mistake of the user's (bad path, bad option, port in use): exit code 2, no traceback."""


def user_error(exc: BaseException, where: str = "") -> UserError | None:
    """The one-line UserError for a file-system error a person can fix, else None.

    ``where`` names the directories the command writes to, for errors that do not carry a
    file name (pyarrow's).
    """
    code, path = _errno_of(exc)
    if code not in _ACTIONS:
        return None
    reason = os.strerror(code)
    if path:
        reason = f"{path}: {reason}"
    elif where:
        reason = f"{reason} (writing to {where})"
    return UserError(f"{reason}; {_ACTIONS[code]}")


def _errno_of(exc: BaseException) -> tuple[int | None, str]:
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno, str(exc.filename or "")
    os_error = _OS_ERROR.search(str(exc))  # Rust (delta-rs): "… (os error 28)", no errno
    if os_error:
        return int(os_error.group(1)), ""
    if type(exc).__name__ == "IOException":  # duckdb.IOException (no errno, a message)
        text = str(exc)
        for message, code in _DUCKDB_TEXT.items():
            if message in text:
                return code, _quoted_path(text)
    return None, ""


def _quoted_path(text: str) -> str:
    """The first ``"…"`` of a DuckDB message: the file it failed on."""
    start = text.find('"')
    end = text.find('"', start + 1)
    return text[start + 1 : end] if 0 <= start < end else ""
