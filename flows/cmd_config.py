"""``nianbao config``: the effective settings and where each came from, as TOML lines
(``name = value  # source``) that can be pasted into a config file.

Why a command: with four layers (defaults, file, environment, flags) the question "which delay
will tonight's run use, and why?" deserves an answer without reading code.
"""

from __future__ import annotations

import argparse
import json

from . import settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "config",
        help="print the effective settings and where each came from",
        description="Settings: defaults < config file < NIANBAO_* environment < flags.  The "
        "flags here only show what they would change.",
    )
    settings.add_arguments(p, tuple(f.name for f in settings.FIELDS))
    p.add_argument("--json", action="store_true", help="one JSON object: name → value, source")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    s = settings.from_args(args)
    rows = {name: (value, s.origins[name]) for name, value in s.as_dict().items()}
    if args.json:
        out = {name: {"value": v, "source": src} for name, (v, src) in rows.items()}
        print(json.dumps(out, ensure_ascii=False))
        return 0
    width = min(40, max(len(f"{n} = {_toml(v)}") for n, (v, _src) in rows.items()))
    for name, (value, source) in rows.items():
        where = f"default (${settings.env_var(name)})" if source == settings.DEFAULT else source
        print(f"{f'{name} = {_toml(value)}':<{width}}  # {where}")
    return 0


def _toml(value: object) -> str:
    """A value as TOML, so that the output can be pasted into a config file."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)
