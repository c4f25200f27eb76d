"""`mmfast record`: record a coin's raw market frames (Hyperliquid l2Book fast, bbo, trades; and
Binance USD-M bookTicker, aggTrade, depth diffs with REST snapshots) with their local receive
times, gzip, one file per venue and UTC hour, in the format `mmfast backtest --hl/--binance`
replays (README "Recording format").

    mmfast record --coin BTC --binance btcusdt --out rec/ --network mainnet
    mmfast record --coin ETH --out rec/ --venue http://127.0.0.1:8080 --duration 60

Stops on Ctrl-C, SIGTERM or after --duration, flushing every line. Lost sockets reconnect and
leave a gap marker. Exit codes: 0 done, 1 runtime failure (venue unreachable), 2 usage error
(unknown coin or symbol, --out not writable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import orjson

from mmfast.cli.common import HelpFormatter, fail, positive_float
from mmfast.errors import MmfastError

if TYPE_CHECKING:
    from mmfast.feeds.recorder import Recorder, RecordStats


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "record",
        help="record raw market data for backtests",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--coin", required=True, help="Hyperliquid coin, e.g. BTC")
    p.add_argument("--binance", metavar="SYMBOL", help="also record this Binance USD-M symbol")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the .gz files")
    p.add_argument(
        "--network",
        choices=["testnet", "mainnet"],
        default="testnet",
        help="Hyperliquid network (default testnet, as `mmfast run`; mainnet has the real book)",
    )
    p.add_argument(
        "--venue",
        metavar="URL",
        help="record from the local venue at URL (http://HOST:PORT) instead of the exchanges",
    )
    p.add_argument(
        "--duration",
        type=positive_float,
        metavar="S",
        help="stop after S seconds (default: Ctrl-C)",
    )
    p.add_argument("--json", action="store_true", help="print the final counts as JSON on stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mmfast.feeds.recorder import Recorder, Sources, check_names, describe, open_dir

    try:
        check_names(args.coin, args.binance)
        sources = Sources.choose(args.network, args.venue)
        out = open_dir(args.out)
    except MmfastError as e:
        return fail("record", e)
    rec = Recorder(args.coin, args.binance, out, sources)
    try:
        stats = _run_loop(_record(rec, args.duration))
    except MmfastError as e:
        rec.close()
        return fail("record", e)
    result = describe(stats)
    if args.json:
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
    else:
        print(
            f"mmfast record: {sum(stats.frames.values())} frames, {stats.snapshots} snapshots, "
            f"{stats.gaps} gaps",
            file=sys.stderr,
        )
        for path, lines in result["files"].items():
            print(f"  {path}: {lines} lines", file=sys.stderr)
    return 0


def _run_loop(coro: Coroutine[Any, Any, RecordStats]) -> RecordStats:
    """On uvloop, as the live node (picows was measured there); asyncio where it is missing."""
    try:
        import uvloop
    except ModuleNotFoundError:  # Windows
        return asyncio.run(coro)
    return uvloop.run(coro)


async def _record(rec: Recorder, duration: float | None) -> RecordStats:
    try:
        await rec.check()
    except BaseException:
        await rec.aclose()
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    t0 = time.monotonic()
    what = rec.coin + (f" and {rec.symbol}" if rec.symbol else "")
    print(
        f"mmfast record: {what} from {rec.src.label} into {rec.out}/ "
        f"({'Ctrl-C stops' if duration is None else f'{duration:g} s'})",
        file=sys.stderr,
    )

    def tick(r: Recorder) -> None:
        up = sum(c.connected for c in r.conns)
        print(
            f"  {time.monotonic() - t0:7.0f} s: {sum(r.stats.frames.values())} frames, "
            f"{up}/{len(r.conns)} sockets up, {r.stats.gaps} gaps",
            file=sys.stderr,
        )

    return await rec.run(stop, duration, on_tick=tick)
