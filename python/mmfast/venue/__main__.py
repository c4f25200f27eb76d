"""`python -m mmfast.venue`: runs the local venue in this process (see `mmfast.venue`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import re
import signal
import sys
from collections.abc import Sequence
from typing import Any

from mmfast.venue.config import VenueConfig
from mmfast.venue.server import Venue

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def _pair(text: str, what: str) -> tuple[str, str]:
    key, sep, value = text.rpartition("=")
    if not sep or not key or not value:
        raise argparse.ArgumentTypeError(f"{what}: expected KEY=VALUE, got {text!r}")
    return key, value


def _address(text: str, what: str) -> str:
    if not _ADDRESS.match(text):
        raise argparse.ArgumentTypeError(
            f"{what}: {text!r} is not an address (0x and 40 hex digits); make a throwaway one "
            'with: python -c "import secrets; from mmfast import Signer; '
            'print(Signer(secrets.token_hex(32), is_mainnet=False).address)"'
        )
    return text.lower()


def _number(text: str, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what}: {text!r} is not a number") from None
    if not (math.isfinite(v) and v >= 0):
        raise argparse.ArgumentTypeError(f"{what}: {text!r} must be a finite number >= 0")
    return v


def fund(text: str) -> tuple[str, float]:
    addr, usdc = _pair(text, "--fund")
    return _address(addr, "--fund"), _number(usdc, "--fund")


def agent(text: str) -> tuple[str, str]:
    a, m = _pair(text, "--agent")
    return _address(a, "--agent"), _address(m, "--agent")


def max_position(
    text: str, flag: str = "--max-position", what: str = "SIZE"
) -> tuple[str, str, float]:
    key, size = _pair(text, flag)
    addr, _, coin = key.partition(":")
    if not coin:
        raise argparse.ArgumentTypeError(f"{flag}: expected ADDRESS:COIN={what}, got {text!r}")
    return _address(addr, flag), coin, _number(size, flag)


def max_position_usd(text: str) -> tuple[str, str, float]:
    return max_position(text, "--max-position-usd", "USD")


def _seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 0 <= v < 2**64:
        raise argparse.ArgumentTypeError(f"{text!r}: a seed is in [0, 2^64)")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mmfast.venue", description=__doc__)
    p.add_argument("--config", help="venue config file (JSON or TOML, VenueConfig keys)")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None, help="0 picks a free port (default)")
    p.add_argument("--chain", choices=["testnet", "mainnet"], default=None)
    p.add_argument("--block-ms", type=int, default=None)
    p.add_argument("--market", choices=["synthetic", "static", "external"], default=None)
    p.add_argument("--seed", type=_seed, default=None)
    p.add_argument("--fund", action="append", default=[], type=fund, metavar="ADDRESS=USDC")
    p.add_argument("--agent", action="append", default=[], type=agent, metavar="AGENT=MASTER")
    p.add_argument(
        "--max-position",
        action="append",
        default=[],
        type=max_position,
        metavar="ADDRESS:COIN=SIZE",
        help="the bot's max position, for the venue's own breach count",
    )
    p.add_argument(
        "--max-position-usd",
        action="append",
        default=[],
        type=max_position_usd,
        metavar="ADDRESS:COIN=USD",
        help="the bot's max_position_usd instead: counted at the venue's own mid, allowing the "
        "bot's 0.5%% re-resolve lag",
    )
    p.add_argument("--replay", action="append", default=[], metavar="FILE.gz")
    p.add_argument("--replay-speed", type=float, default=None)
    p.add_argument("--replay-loop", action="store_true")
    p.add_argument("--sim", default=None, help="JSON object merged into the engine config")
    p.add_argument("--no-ip-limit", action="store_true", help="disable the 1200/min IP weight")
    p.add_argument("--ledger-out", default=None, help="write the final ledger JSON here")
    p.add_argument(
        "--chaos", default=None, metavar="SPEC", help="fault injection (mmfast.venue.chaos)"
    )
    p.add_argument(
        "--log-level",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        default="WARNING",
    )
    return p


def config_from_args(args: argparse.Namespace) -> VenueConfig:
    cfg = VenueConfig.from_file(args.config) if args.config else VenueConfig()
    for name in ("host", "port", "chain", "block_ms", "replay_speed"):
        v = getattr(args, name)
        if v is not None:
            setattr(cfg, name, v)
    sim: dict[str, Any] = dict(cfg.sim)
    if args.sim:
        sim.update(json.loads(args.sim))
    if args.market:
        sim["market"] = args.market
    if args.seed is not None:
        sim["seed"] = args.seed
    if args.replay:
        cfg.replay = list(args.replay)
        sim.setdefault("market", "external")
    if args.no_ip_limit:
        sim["ip_weight_per_min"] = 0
    cfg.replay_loop = cfg.replay_loop or args.replay_loop
    cfg.sim = sim
    cfg.accounts.extend(args.fund)
    cfg.agents.extend(args.agent)
    cfg.max_positions.extend(args.max_position)
    cfg.max_positions_usd.extend(args.max_position_usd)
    if args.chaos:
        cfg.chaos = args.chaos
    cfg.__post_init__()
    return cfg


async def serve(cfg: VenueConfig, ledger_out: str | None) -> None:
    venue = Venue(cfg)
    await venue.start()
    line = {
        "url": venue.url,
        "ws": venue.ws_url,
        "binance_ws": venue.binance_ws_url,
        "chain": cfg.chain,
        "coins": venue.coins,
        "pid": os.getpid(),
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        ledger = venue.ledger()
        await venue.stop()
        if ledger_out:
            with open(ledger_out, "w") as f:
                json.dump(ledger, f, indent=2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    try:
        cfg = config_from_args(args)
    except (OSError, ValueError) as e:  # a bad --config / --sim: the user's, exit 2
        parser.exit(2, f"{parser.prog}: error: {e}\n")
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is not on Windows
        pass
    asyncio.run(serve(cfg, args.ledger_out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
