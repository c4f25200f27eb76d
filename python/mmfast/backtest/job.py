"""The backtest job (the shared Job API, COMMON.md contract 1): one frozen, picklable
description of a run, and how it becomes the engine's config and the Rust backtest spec.

Overrides are `(dotted.path, value)` pairs. Paths under `market.` set the synthetic market's
parameters (`market.lag_ms`, `market.toxic_rate_per_min`, ...), paths under `venue.` the
matching engine's (`venue.maker_fee_bps`, `venue.queue.cancel_weight`, ...), paths under
`backtest.` the run's own (`backtest.block_ms`, `backtest.funding_rate_per_h`, ...); every other
path is the bot's config, applied as `MMFAST_` environment overrides are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mmfast.errors import ConfigError, InputError

#: Summary keys that measure the machine, not the strategy: the only ones that differ between two
#: runs of the same Job. Drop them before comparing summaries.
TIMING_KEYS = ("events_per_s", "wall_s")

SCOPES = ("market", "venue", "backtest")


@dataclass(frozen=True)
class Job:
    """One backtest. `market` is `synthetic[:PRESET]` (`markets.PRESETS`), `replay` (with
    `hl`) or `replay:FILE`."""

    market: str = "synthetic:default"
    seed: int = 1
    duration_s: float = 1800.0
    config: str | None = None
    overrides: tuple[tuple[str, object], ...] = ()
    hl: str | None = None
    binance: str | None = None
    feed_latency: str = "0"
    order_latency: str = "default"
    #: Coin of the synthetic market (a replay trades the recording's coin).
    coin: str | None = None
    block_ms: int = 70
    capital_usd: float = 1000.0
    #: Period of the per-time series, ms.
    series_ms: int = 1000
    #: Read recordings through the decoded-recording cache (`recording_cache_dir`); False
    #: decodes the gzipped JSON every run. Either way the summary is the same.
    cache: bool = True

    def __post_init__(self) -> None:
        # `replay:FILE` (the name `mmfast paper --market` takes) is `replay` with `hl=FILE`.
        kind, _, path = self.market.partition(":")
        if kind == "replay" and path:
            if self.hl not in (None, path):
                raise InputError(f"--market {self.market} and --hl {self.hl}: give one recording")
            object.__setattr__(self, "hl", path)
            object.__setattr__(self, "market", "replay")


def recording_cache_dir() -> str:
    """Where decoded recordings are cached: `$MMFAST_CACHE_DIR/recordings`, else the user cache
    dir's `mmfast/recordings` (platformdirs)."""
    import os

    base = os.environ.get("MMFAST_CACHE_DIR")
    if not base:
        from platformdirs import user_cache_dir

        base = user_cache_dir("mmfast")
    return str(Path(base) / "recordings")


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return str(v)


def _set_path(d: dict[str, Any], path: str, value: object, where: str) -> None:
    keys = path.split(".")
    for k in keys[:-1]:
        nxt = d.setdefault(k, {})
        if not isinstance(nxt, dict):
            raise InputError(f"override {where}.{path}: {k} is not a section")
        d = nxt
    d[keys[-1]] = value


def _json_value(v: object) -> object:
    """CLI strings become numbers or booleans where they read as one."""
    if not isinstance(v, str):
        return v
    low = v.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(v)
    except ValueError:
        pass
    try:
        f = float(v)
        return f if math.isfinite(f) else v
    except ValueError:
        return v


def parse_set(items: list[str]) -> list[tuple[str, str]]:
    """`--set PATH=VALUE` items (backtest and paper) as (path, value) pairs."""
    pairs: list[tuple[str, str]] = []
    for item in items:
        path, eq, value = item.partition("=")
        if not eq or not path.strip():
            raise InputError(f"--set {item!r}: expected PATH=VALUE, e.g. market.trade_rate=20")
        pairs.append((path.strip(), value.strip()))
    return pairs


def split_overrides(
    overrides: tuple[tuple[str, object], ...],
) -> tuple[list[tuple[str, str]], dict[str, dict[str, Any]]]:
    """Bot-config overrides (path, TOML value) and the market / venue / backtest ones."""
    bot: list[tuple[str, str]] = []
    other: dict[str, dict[str, Any]] = {s: {} for s in SCOPES}
    for item in overrides:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise InputError(f"override {item!r}: expected (dotted.path, value)")
        path, value = item
        scope, _, rest = path.partition(".")
        if scope in SCOPES and rest:
            _set_path(other[scope], rest, _json_value(value), scope)
        else:
            bot.append((path, _toml_value(value)))
    return bot, other


def read_config_text(path: str | None) -> str:
    if path is None:
        return ""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"--config {p}: config file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"--config {p}: cannot read config file: {e}") from None


def to_json(x: Any) -> str:
    return orjson.dumps(x).decode()
