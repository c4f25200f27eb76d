"""`mmfast backtest`: the live quote engine over a synthetic or recorded market, through the
venue's matching engine, with feed and order latency. No sockets, no signing, no
key: deterministic, the same inputs and seed give the same summary. The markets are those of
`mmfast paper` (the same preset names, one definition); without --config the bot runs the paper
profile, as in `mmfast paper`: run the same market in both with e.g. --market synthetic:demo.

    mmfast backtest --market synthetic:toxic --seed 3 --duration 600 --report out/
    mmfast backtest --hl hyperliquid_btcusd_20250126.gz --feed-latency 20
    mmfast backtest --calibrate --market synthetic:toxic --duration 1800 > priors.toml

`--report DIR` writes summary.json, timeseries.npz (the per-time series and the fills as
numpy arrays) and report.html (interactive plots, one self-contained file; needs plotly:
pip install 'mmfast[research]') there. `--calibrate` runs no backtest: it fits the engine's
priors (sigma, kappa, A, the adverse-selection buffer) on the market with the engine's own
estimators and prints them as config TOML (also DIR/priors.toml with --report DIR); on a
synthetic market whose takers reach their drawn depth the fit recovers sigma, kappa and A within
10% and a zero buffer within 0.3 bps from 30 minutes.
Exit codes: 0 done, 1 runtime failure, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from mmfast.backtest.markets import BACKTEST_MARKET, MARKET_METAVAR, MARKETS_HELP, PAPER_MARKET
from mmfast.cli.common import HelpFormatter
from mmfast.cli.paper import PAPER_MIN_HALF_SPREAD_BPS
from mmfast.errors import EngineError, MmfastError, VenueError
from mmfast.research import compare


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "backtest",
        help="backtest the quote engine on a synthetic or recorded market",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    add_job_arguments(p)
    compare.add_compare_arguments(p)
    o = p.add_argument_group("output")
    o.add_argument(
        "--report", metavar="DIR", help="write summary.json, timeseries.npz and report.html here"
    )
    o.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    o.add_argument("--plain", action="store_true", help="no progress bar")
    o.add_argument(
        "--calibrate",
        action="store_true",
        help="fit the engine's priors on the market (--hl FILE, or --duration S of --market) "
        "and print them as config TOML instead of backtesting",
    )
    o.add_argument(
        "--market-stats",
        metavar="DIR",
        nargs="?",
        const="",
        help="print the synthetic presets' statistics beside those of the recordings in DIR "
        "(default: shared/data/real) and exit",
    )
    p.set_defaults(run=run)


def add_job_arguments(p: argparse.ArgumentParser, *, seed: bool = True) -> None:
    """The options that describe a backtest `Job` (market, venue and latency, bot), read back by
    `job_from_args`; shared by `backtest` and `tune` (which gives seeds its own way)."""
    m = p.add_argument_group("market")
    m.add_argument(
        "--market",
        default=BACKTEST_MARKET,
        metavar=MARKET_METAVAR,
        help=f"the market (default {BACKTEST_MARKET}; mmfast paper's default is "
        f"{PAPER_MARKET}): {MARKETS_HELP}",
    )
    m.add_argument(
        "--hl",
        metavar="FILE",
        help="replay this recording instead (as --market replay:FILE): Hyperliquid, or a "
        "Binance USD-M one as the market",
    )
    m.add_argument("--binance", metavar="FILE", help="Binance recording leading --hl")
    m.add_argument("--coin", help="coin of the synthetic market (ETH, BTC; default ETH)")
    m.add_argument(
        "--no-cache",
        action="store_true",
        help="decode the recordings' gzipped JSON every run instead of reading them back from "
        "the decoded-recording cache ($MMFAST_CACHE_DIR or the user cache dir); same results",
    )
    if seed:
        m.add_argument(
            "--seed", type=int, default=1, help="seed of the market and latencies (default 1)"
        )
    m.add_argument(
        "--duration",
        type=float,
        default=1800.0,
        metavar="S",
        help="simulated seconds (default 1800)",
    )
    v = p.add_argument_group("venue and latency")
    v.add_argument(
        "--feed-latency",
        default="0",
        metavar="MS|pX=MS,...",
        help="market and user data latency: constant ms, or percentiles (default 0)",
    )
    v.add_argument(
        "--order-latency",
        default="default",
        metavar="MS|pX=MS,...",
        help="order round trip: constant ms or percentiles like p10=30,p50=80,p90=200,p99=500 "
        "(default: Hyperliquid's measured round trip, those figures)",
    )
    v.add_argument("--block-ms", type=int, default=70, help="venue block cadence, ms (default 70)")
    v.add_argument("--maker-fee-bps", type=float, help="maker fee, bps (venue default 1.5)")
    v.add_argument("--taker-fee-bps", type=float, help="taker fee, bps (venue default 4.5)")
    v.add_argument(
        "--queue-cancel-weight",
        type=float,
        help="queue model: share of background cancels taken from ahead of us, 0..1 (default 1)",
    )
    v.add_argument(
        "--queue-power", type=float, help="queue model: exponent of the split (default 2)"
    )
    b = p.add_argument_group("bot")
    b.add_argument(
        "--config",
        metavar="FILE",
        help="bot config (TOML); default: the paper profile, as mmfast paper: the built-in "
        f"defaults with ladder.min_half_spread_bps = {PAPER_MIN_HALF_SPREAD_BPS} (live default "
        "8.01: --set ladder.min_half_spread_bps=8.01 or a config file for the live floor) and "
        "limits from --capital. MMFAST_ variables are not read: a backtest is defined by its "
        "arguments",
    )
    b.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a config path (bot config, or market.*, venue.*, backtest.*); "
        "repeatable, default none",
    )
    b.add_argument("--capital", type=float, default=1000.0, help="USDC on the venue (default 1000)")
    if not seed:
        p.set_defaults(seed=1)


def job_from_args(args: argparse.Namespace) -> Any:
    from mmfast.backtest import Job
    from mmfast.backtest.job import parse_set

    overrides: list[tuple[str, object]] = list(parse_set(args.set))
    for flag, path in (
        ("maker_fee_bps", "venue.maker_fee_bps"),
        ("taker_fee_bps", "venue.taker_fee_bps"),
        ("queue_cancel_weight", "venue.queue.cancel_weight"),
        ("queue_power", "venue.queue.power"),
    ):
        if getattr(args, flag) is not None:
            overrides.insert(0, (path, getattr(args, flag)))
    return Job(
        market="replay" if args.hl else args.market,
        seed=args.seed,
        duration_s=args.duration,
        config=args.config,
        overrides=tuple(overrides),
        hl=args.hl,
        binance=args.binance,
        feed_latency=args.feed_latency,
        order_latency=args.order_latency,
        coin=args.coin,
        block_ms=args.block_ms,
        capital_usd=args.capital,
        cache=not args.no_cache,
    )


class MmfastUsage(MmfastError):
    """A command-line mistake."""


def write_report(out: Path, summary: dict[str, Any], series: dict[str, Any]) -> list[str]:
    """Writes summary.json, timeseries.npz and, when plotly is installed, report.html; returns
    the names written (without plotly, prints one line saying what to install)."""
    import numpy as np

    from mmfast.research.html import INSTALL_HINT, have_plotly
    from mmfast.research.report import write_report_html

    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_bytes(
        orjson.dumps(summary, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )
    np.savez_compressed(out / "timeseries.npz", **series)
    written = ["summary.json", "timeseries.npz"]
    if have_plotly():
        write_report_html(out, summary, series)
        written.append("report.html")
    else:
        print(
            f"mmfast backtest: report.html skipped (needs plotly): {INSTALL_HINT}", file=sys.stderr
        )
    return written


def print_summary(s: dict[str, Any]) -> None:
    rows = [
        ("PnL total", f"{s['pnl_total']:.4f} USD"),
        ("  spread capture", f"{s['pnl_spread']:.4f} USD"),
        ("  inventory", f"{s['pnl_inventory']:.4f} USD"),
        ("  fees", f"{s['pnl_fees']:.4f} USD"),
        ("  funding", f"{s['pnl_funding']:.4f} USD"),
        ("fills (maker/taker)", f"{s['fills']} ({s['maker_fills']}/{s['taker_fills']})"),
        ("volume", f"{s['volume_usd']:.2f} USD"),
        ("max |position|", f"{s['max_abs_position']:g} {s['coin']} (max {s['max_position']:g})"),
        ("zones", ", ".join(f"{k} {v:.1%}" for k, v in s["zone_time_frac"].items())),
        ("quote uptime bid/ask", f"{s['quote_uptime_bid']:.1%} / {s['quote_uptime_ask']:.1%}"),
        ("markout 1s / 5s", f"{_bps(s['markout_1s_bps'])} / {_bps(s['markout_5s_bps'])}"),
        ("actions", ", ".join(f"{k} {v}" for k, v in s["actions"].items())),
        ("rejects", str(s["rejects"])),
        ("invariant breaches", str(s["invariant_breaches"])),
        ("simulated", f"{s['sim_duration_s']:.1f} s in {s['wall_s']:.2f} s wall"),
        ("events", f"{s['events']} ({(s['events_per_s'] or 0):,.0f} events/s)"),
    ]
    print(f"\nmmfast backtest: {s['market']} seed {s['seed']}, {s['coin']}")
    for k, v in rows:
        print(f"  {k:<22} {v}")


def _bps(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.2f} bps"


def print_market_stats(where: str, coin: str | None) -> int:
    import os

    from mmfast.backtest.markets import format_stats, market_stats

    d = Path(where or os.environ.get("MMFAST_SHARED", "../shared") + "/data/real")
    files = sorted(str(p) for p in d.glob("*.gz"))
    if not files:
        print(f"mmfast backtest: --market-stats: no recordings (*.gz) in {d}", file=sys.stderr)
        return 2
    print(format_stats(market_stats(files, coin=(coin or "BTC").upper())))
    return 0


def fail(prefix: str, e: MmfastError) -> int:
    """Prints `e` on one line and returns its exit code: 1 for a runtime failure (engine,
    venue), 2 for a usage or input error."""
    print(f"{prefix}: {e}", file=sys.stderr)
    return 1 if isinstance(e, (EngineError, VenueError)) else 2


def run_calibrate(args: argparse.Namespace) -> int:
    from mmfast.backtest.calibrate import calibrate, priors_toml

    if args.compare:
        print("mmfast backtest: --calibrate and --compare do not combine", file=sys.stderr)
        return 2
    try:
        job = job_from_args(args)
        fit = calibrate(job)
    except MmfastError as e:
        return fail("mmfast backtest --calibrate", e)
    source = job.hl or f"{job.market} seed {job.seed}, {job.duration_s:g} s"
    text = priors_toml(fit, source)
    sys.stdout.write(text)
    if args.report:
        out = Path(args.report)
        out.mkdir(parents=True, exist_ok=True)
        (out / "priors.toml").write_text(text, encoding="utf-8")
        print(f"wrote {out / 'priors.toml'}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    from mmfast.backtest import run_backtest

    if args.market_stats is not None:
        try:
            return print_market_stats(args.market_stats, args.coin)
        except MmfastError as e:
            print(f"mmfast backtest: {e}", file=sys.stderr)
            return 2

    if args.calibrate:
        return run_calibrate(args)
    if args.compare:
        try:
            base = job_from_args(args)
        except MmfastError as e:
            print(f"mmfast backtest: {e}", file=sys.stderr)
            return 2
        return compare.run_compare_cli(args, base)
    try:
        job = job_from_args(args)
        summary, series = run_backtest(job, progress=not args.plain and sys.stderr.isatty())
    except MmfastError as e:
        return fail("mmfast backtest", e)
    written: list[str] = []
    if args.report:
        try:
            written = write_report(Path(args.report), summary, series)
        except OSError as e:
            print(f"mmfast backtest: --report {args.report}: cannot write ({e})", file=sys.stderr)
            return 2
    if args.json:
        sys.stdout.write(orjson.dumps(summary).decode() + "\n")
    else:
        print_summary(summary)
        if args.report:
            print(f"  report in {args.report}/ ({', '.join(written)})")
    return 1 if summary["invariant_breaches"] else 0
