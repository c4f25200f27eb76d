"""The `mmfast` command line. Each subcommand lives in its own module with `add_parser(sub)`
registering itself and a `run(args) -> int` behind it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mmfast import __version__
from mmfast.cli import backtest, bench, derive, operate, paper, record, run, tune

# Subcommand modules, in the order `mmfast --help` lists them.
COMMANDS = [paper, backtest, run, operate, derive, bench, tune, record]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmfast",
        description="Low-latency market maker for Hyperliquid perpetuals.\n\n"
        "Exit status of every command: 0 done, 1 runtime failure, 2 usage or configuration "
        "error.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
        parser.print_usage(sys.stderr)
        print("mmfast: error: choose a command (mmfast --help lists them)", file=sys.stderr)
        return 2
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
