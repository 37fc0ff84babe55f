"""The `nianbao` command.  Each subcommand lives in its own module (flows/cmd_*.py) exposing
``register(subparsers)``; this file only wires them together."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from .errors import UserError, user_error

# Subcommand modules; one not yet written is skipped, never fatal.
COMMAND_MODULES = [
    "nianbao.flows.cmd_extract",
    "nianbao.flows.cmd_warehouse",
    "nianbao.flows.cmd_crawl",
    "nianbao.flows.cmd_run",
    "nianbao.flows.cmd_backfill",
    "nianbao.flows.cmd_config",
    "nianbao.flows.cmd_registry",
    "nianbao.flows.cmd_site",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nianbao",
        description="政府信息公开工作年度报告 → statistical warehouse",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue
            raise
        module.register(sub)
    return parser


def _version() -> str:
    from nianbao.core.version import extractor_version

    return f"nianbao {extractor_version()}"


def main(argv: list[str] | None = None) -> int:
    from .runtime import tune_gc

    tune_gc()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as e:
        print(f"nianbao: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nianbao: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # disk full, read-only mount, permissions: one line; bugs: traceback
        err = user_error(e, _destinations(args))
        if err is None:
            raise
        print(f"nianbao: error: {err}", file=sys.stderr)
        return 2


def _destinations(args: argparse.Namespace) -> str:
    """Where the command writes, for file-system errors that carry no file name."""
    from . import settings

    out = [str(Path(args.to).resolve())] if getattr(args, "to", None) else []
    if hasattr(args, "data"):
        try:
            out.append(f"data directory {settings.from_args(args).data}")
        except UserError:  # a bad setting does not hide the error being reported
            pass
    return " or ".join(out)


if __name__ == "__main__":
    sys.exit(main())
