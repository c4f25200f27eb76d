"""The `mmfast` command line. Each subcommand lives in its own module with `add_parser(sub)`
registering itself and a `run(args) -> int` behind it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mmfast import __version__
from mmfast.cli import bench, derive, live, paper, tune

# Subcommand modules, in the order `mmfast --help` lists them.
COMMANDS = [paper, live, derive, bench, tune]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmfast",
        description="Low-latency market maker for Hyperliquid perpetuals.",
    )
    parser.add_argument("--version", action="version", version=f"mmfast {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
