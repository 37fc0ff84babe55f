"""Errors the CLI shows as one clear line (no traceback)."""


class UserError(Exception):
    """A mistake of the user's (bad path, bad option, port in use): exit code 2, no traceback."""
