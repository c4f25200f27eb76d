"""Running a Job: the bot's config and the venue spec it implies, the Rust loop in chunks (with a
rich progress bar when asked), and the summary with the machine's speed added."""

from __future__ import annotations

import gzip
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from mmfast.backtest.job import (
    Job,
    read_config_text,
    recording_cache_dir,
    split_overrides,
    to_json,
)
from mmfast.backtest.markets import COINS, parse_market, synthetic_asset
from mmfast.errors import BookError, InputError

#: Simulated ms per chunk of a run with a progress bar.
CHUNKS = 200
#: Runs shorter than this (simulated) show no progress bar.
PROGRESS_MIN_MS = 120_000


def replay_asset(path: str, cache_dir: str | None = None) -> dict[str, Any]:
    """The coin, starting mid and size decimals of the market recording: a Hyperliquid one
    (first l2Book), or a Binance USD-M one replayed as the market (its coin's perp decimals)."""
    from mmfast._core import recording_info
    from mmfast.cli.paper import replay_asset as first_book

    if not Path(path).is_file():
        raise InputError(f"--hl {path}: file not found")
    info = orjson.loads(recording_info(path, cache_dir))
    if info["venue"] == "binance":
        coin = info["coin"]
        if coin not in COINS:
            raise InputError(
                f"--hl {path}: a Binance recording of {info['name']}; its coin {coin} is not one "
                f"the venue lists ({', '.join(COINS)})"
            )
        szd, lev, _, _ = COINS[coin]
        return {"coin": coin, "mid": info["first_mid"], "sz_decimals": szd, "max_leverage": lev}
    try:
        return first_book(path)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile, orjson.JSONDecodeError) as e:
        raise BookError(f"--hl {path}: not a readable recording ({e})") from None


def build(job: Job) -> tuple[Any, dict[str, Any]]:
    """The bot's `MarketMakerConfig` and the Rust `BacktestSpec` (as a dict) of `job`."""
    from mmfast import MarketMakerConfig
    from mmfast.cli.paper import max_position_for, paper_profile

    kind, preset = parse_market("replay" if job.hl else job.market)
    if kind == "replay" and not job.hl:
        raise InputError("--market replay needs a Hyperliquid recording (--hl FILE)")
    if job.binance and not job.hl:
        raise InputError("--binance FILE leads a Hyperliquid recording: give --hl FILE too")
    bot_over, other = split_overrides(job.overrides)
    cache_dir = recording_cache_dir() if job.cache else None
    if kind == "synthetic":
        asset = synthetic_asset(preset, job.coin)
        asset["synthetic"].update(other["market"])
        lead = asset["binance_symbol"]
    else:
        if other["market"]:
            raise InputError(
                "market.* overrides set the synthetic market; a replay has none: "
                + ", ".join(other["market"])
            )
        asset = replay_asset(job.hl, cache_dir)  # type: ignore[arg-type]
        if job.coin and job.coin.upper() != asset["coin"]:
            raise InputError(
                f"--coin {job.coin}: the recording {job.hl} trades {asset['coin']}, not {job.coin}"
            )
        asset["binance_multiplier"] = 1.0
        asset["binance_symbol"] = f"{asset['coin']}USDT" if job.binance else ""
        lead = asset["binance_symbol"]
    text = read_config_text(job.config)
    source = job.config or "<backtest defaults>"
    defaults, base = paper_profile(asset["coin"], job.capital_usd, lead)
    if not job.config:
        base = defaults + base
    pre = MarketMakerConfig.from_toml(text, source, base + bot_over)
    max_position = max_position_for(pre, asset, job.capital_usd)
    cfg = MarketMakerConfig.from_toml(
        text, source, [*base, ("max_position", repr(max_position)), *bot_over]
    )
    sim: dict[str, Any] = {"seed": int(job.seed), "assets": [asset]}
    sim.update(other["venue"])
    spec: dict[str, Any] = {
        "sim": sim,
        "hl": job.hl,
        "binance": job.binance,
        "duration_s": float(job.duration_s),
        "block_ms": int(job.block_ms),
        "feed_latency": str(job.feed_latency),
        "order_latency": str(job.order_latency),
        "seed": int(job.seed),
        "capital_usd": float(job.capital_usd),
        "max_position": float(max_position),
        "series_ms": int(job.series_ms),
        "cache_dir": cache_dir if job.hl else None,
    }
    spec.update(other["backtest"])
    return cfg, spec


def run_backtest(job: Job, progress: bool = False) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Runs `job`; returns its summary and its series (numpy arrays, see `Backtest.series`)."""
    from mmfast._core import Backtest

    cfg, spec = build(job)
    bt = Backtest(cfg, to_json(spec))
    span = bt.end_ms - bt.start_ms
    t0 = time.perf_counter()
    if progress and span >= PROGRESS_MIN_MS:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        step = max(1_000, span // CHUNKS)
        columns = (
            TextColumn("backtest {task.description}"),
            BarColumn(),
            TextColumn("{task.completed:.0f}/{task.total:.0f} s simulated"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task(job.market if not job.hl else "replay", total=span / 1000)
            while not bt.run_until(bt.now_ms + step):
                bar.update(task, completed=(bt.now_ms - bt.start_ms) / 1000)
    else:
        bt.run_until(2**63 - 1)
    wall = time.perf_counter() - t0
    summary: dict[str, Any] = orjson.loads(bt.summary_json())
    summary["market"] = "replay" if job.hl else job.market
    # Fractions of max_position where Yellow, Red and Kill start: the report draws the bands.
    summary["zone_thresholds"] = cfg.zones.to_dict()
    summary["seed"] = job.seed
    summary["wall_s"] = wall
    summary["events_per_s"] = summary["events"] / wall if wall > 0 else None
    return summary, bt.series()


def run_job(job: Job) -> dict[str, Any]:
    """The Job API: runs one backtest and returns its summary.json dict. Deterministic except for
    the machine's speed (`TIMING_KEYS`); picklable in and out."""
    return run_backtest(job)[0]
