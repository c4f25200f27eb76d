"""`mmfast live --config FILE`: the bot on a real Hyperliquid network (SPEC 10), with real money
on mainnet. The key comes from `MMFAST_PRIVATE_KEY` or `live.keystore` (password in
`MMFAST_KEYSTORE_PASSWORD`); `live.master_address` names the account an agent key trades for.
Ctrl-C (or `--duration S`) cancels every order before exiting; the summary is printed and, with
`--summary FILE`, written as JSON. Try `mmfast paper` first: the same bot against a local venue.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import orjson

from mmfast.errors import MmfastError

log = logging.getLogger("mmfast.live")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "live",
        help="run the bot on Hyperliquid (mainnet or testnet, per the config)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", required=True, metavar="FILE", help="bot config (TOML)")
    p.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="S",
        help="stop after S seconds (default: until Ctrl-C)",
    )
    p.add_argument("--summary", metavar="FILE", help="write the summary here as JSON")
    p.add_argument("--plain", action="store_true", help="progress lines even on a terminal")
    p.add_argument("--log-json", action="store_true", help="log records as JSON lines")
    p.add_argument("--log-level", default="INFO")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvloop

    from mmfast.cli.paper import print_summary
    from mmfast.config import load_config
    from mmfast.keys import load_identity
    from mmfast.live.bot import Bot
    from mmfast.live.dashboard import Dashboard
    from mmfast.live.metrics import setup_logging

    setup_logging(args.log_level, args.log_json)
    try:
        cfg = load_config(args.config)
        is_mainnet = str(cfg.network).lower().endswith("mainnet")
        ident = load_identity(cfg.live, is_mainnet=is_mainnet)
    except MmfastError as e:
        print(f"mmfast live: {e}", file=sys.stderr)
        return 2
    log.info(
        "%s: trading %s for %s (signer %s)",
        "MAINNET" if is_mainnet else "testnet",
        cfg.asset,
        ident.account,
        ident.signer_address,
    )
    dash = Dashboard(tty=False if args.plain else None, title=f"mmfast live: {cfg.asset}")
    bot = Bot(cfg, ident, on_progress=dash.update)
    try:
        summary = uvloop.run(bot.run(args.duration))
    finally:
        dash.close()
    print_summary(summary)
    if args.summary:
        Path(args.summary).write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    return 0 if summary.get("errors", 1) == 0 else 1
