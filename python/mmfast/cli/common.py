"""What every subcommand shares: argument types that reject bad values at parse time (exit 2,
with argparse's usage line, never a traceback), the help formatter, the exit codes and the
options of the commands that run the bot.

Exit codes, for every command: 0 done, 1 runtime failure, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from mmfast.errors import ConfigError, InputError, MmfastError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the description's line breaks and appends each option's default to its help."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        # "(default: None)" / "(default: False)" says nothing: those options say what
        # happens without them in their own words.
        if action.default in (None, False) or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a finite number > 0")
    return v


def non_negative_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be >= 0")
    return v


def port(text: str) -> int:
    v = non_negative_int(text)
    if v > 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: a port is in [0, 65535]")
    return v


def log_level(text: str) -> str:
    v = text.upper()
    if v not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"{text!r}: choose one of {', '.join(LOG_LEVELS)}")
    return v


def check_writable(path: str, option: str) -> None:
    """Fails now, not after an hour's run, when `path` cannot be written: raises `ConfigError`."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"{option} {path}: is a directory")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ConfigError(f"{option} {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise ConfigError(f"{option} {path}: not writable")


def exit_code(e: MmfastError) -> int:
    """A configuration or input error is the user's (2); anything else failed at runtime (1)."""
    return EXIT_USAGE if isinstance(e, (ConfigError, InputError)) else EXIT_FAILURE


def fail(command: str, e: MmfastError | str, code: int | None = None) -> int:
    """Prints `mmfast COMMAND: message` on stderr and returns the exit code."""
    print(f"mmfast {command}: {e}", file=sys.stderr)
    if code is not None:
        return code
    return exit_code(e) if isinstance(e, MmfastError) else EXIT_FAILURE


def add_run_options(p: argparse.ArgumentParser, default_log_level: str) -> None:
    """The options `run` and `paper` share: duration, outputs, state, metrics, logging."""
    p.add_argument(
        "--duration",
        type=positive_float,
        default=None,
        metavar="S",
        help="stop after S seconds (default: run until Ctrl-C)",
    )
    p.add_argument(
        "--summary",
        metavar="FILE",
        help="also write the exit summary to FILE as JSON (checked writable before the start)",
    )
    p.add_argument(
        "--state",
        metavar="FILE",
        help="SQLite state file (fills, daily PnL, kill state, learned state); default: "
        "live.checkpoint, else one file per account and asset under the user data directory",
    )
    p.add_argument(
        "--metrics-port",
        type=port,
        default=None,
        metavar="PORT",
        help="serve Prometheus metrics on 127.0.0.1:PORT/metrics, 0 picks a free port "
        "(default: live.metrics_port; off when that is 0)",
    )
    p.add_argument("--plain", action="store_true", help="plain progress lines even on a terminal")
    p.add_argument("--log-json", action="store_true", help="log records as JSON lines")
    p.add_argument(
        "--log-level",
        type=log_level,
        default=default_log_level,
        metavar="LEVEL",
        help=f"one of {', '.join(LOG_LEVELS)}",
    )
