"""``python -m nianbao.demo.portal [--seed N] [--no-faults] [--registry PATH]``: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import sys

from .server import serve_forever


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m nianbao.demo.portal", description="Run the fixture portal."
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--no-faults", action="store_true", help="serve a clean portal (no injected hazards)"
    )
    ap.add_argument("--registry", help="write the registry CSV here")
    args = ap.parse_args(argv)
    serve_forever(seed=args.seed, faults=not args.no_faults, registry=args.registry)
    return 0


if __name__ == "__main__":
    sys.exit(main())
