"""The markets of `--market` (shared by `mmfast paper` and `mmfast backtest`): the synthetic
presets `synthetic:NAME` and `replay:FILE`.

The presets themselves live in Rust (`sim/presets.rs`: `mmfast._core.market_presets` and
`market_preset`), next to the synthetic market they parameterise; this module resolves market
names and coins.
"""

from __future__ import annotations

from typing import Any

import orjson

from mmfast._core import market_presets
from mmfast.errors import InputError

#: `calm`, `default`, `toxic` (calibrated to the recordings) and `demo` (not: a thin market where
#: quotes a few bps out fill several times a minute; `mmfast paper`'s default).
PRESETS = tuple(market_presets())
#: The default market of `mmfast backtest` (strategy measurements) and of `mmfast paper` (a first
#: look that fills within a minute).
BACKTEST_MARKET = "synthetic:default"
PAPER_MARKET = "synthetic:demo"
#: What `--market` accepts, for help texts.
MARKET_METAVAR = "synthetic[:" + "|".join(PRESETS) + "]|replay:FILE"
MARKETS_HELP = (
    "synthetic:calm, synthetic:default and synthetic:toxic are calibrated to the real "
    "recordings (a one-tick spread, deep book: quotes at the paper floor fill a few times an "
    "hour); synthetic:demo is not (a thin book whose takers reach a few bps: quotes fill several "
    "times a minute), for a first look and for tests that need fills; plain synthetic is "
    "synthetic:default; replay:FILE replays a Hyperliquid recording. The same names in "
    "`mmfast paper` and `mmfast backtest`"
)

#: Coins of the synthetic market: `(sz_decimals, max_leverage, starting mid, Binance symbol)`.
COINS: dict[str, tuple[int, int, float, str]] = {
    "ETH": (4, 25, 3000.0, "ETHUSDT"),
    "BTC": (5, 40, 100_000.0, "BTCUSDT"),
}


def parse_market(market: str) -> tuple[str, str]:
    """`("synthetic", preset)`, `("replay", FILE)` or `("replay", "")` (the file given apart,
    as backtest's `--hl FILE`)."""
    kind, _, rest = market.partition(":")
    if kind == "synthetic":
        preset = rest or "default"
        if preset not in PRESETS:
            raise InputError(
                f"--market {market}: unknown preset {preset!r}; expected one of "
                + ", ".join(f"synthetic:{p}" for p in PRESETS)
            )
        return kind, preset
    if kind == "replay":
        return kind, rest
    raise InputError(
        f"--market {market!r}: expected synthetic, synthetic:PRESET ({', '.join(PRESETS)}) "
        "or replay:FILE"
    )


def synthetic_asset(preset: str, coin: str | None) -> dict[str, Any]:
    """The venue's `AssetConfig` (JSON object) of a synthetic market."""
    from mmfast._core import market_preset

    c = (coin or "ETH").upper()
    if c not in COINS:
        raise InputError(
            f"--coin {coin}: the synthetic market lists {', '.join(COINS)}; "
            "replay a recording (--hl FILE) for another coin"
        )
    szd, lev, mid, symbol = COINS[c]
    return {
        "coin": c,
        "sz_decimals": szd,
        "max_leverage": lev,
        "mid": mid,
        "binance_symbol": symbol,
        "synthetic": orjson.loads(market_preset(preset, c)),
    }


#: Rows of the calibration table: (key, label, format).
STAT_ROWS = (
    ("sigma_bps_per_sqrt_s", "volatility, bps/sqrt(s)", "{:.2f}"),
    ("trades_per_s", "trade prints per s", "{:.2f}"),
    ("trade_usd_median", "print size median, USD", "{:,.0f}"),
    ("trade_usd_mean", "print size mean, USD", "{:,.0f}"),
    ("trade_usd_p90", "print size p90, USD", "{:,.0f}"),
    ("taker_depth_bps_median", "taker depth median, bps", "{:.3f}"),
    ("taker_depth_bps_p99", "taker depth p99, bps", "{:.3f}"),
    ("spread_bps_median", "spread median, bps", "{:.3f}"),
    ("depth_usd_5bps", "depth within 5 bps/side, USD", "{:,.0f}"),
    ("depth_usd_10bps", "depth within 10 bps/side, USD", "{:,.0f}"),
    ("depth_usd_25bps", "depth within 25 bps/side, USD", "{:,.0f}"),
    ("span_s", "span, s", "{:.0f}"),
)


def market_stats(
    recordings: list[str], coin: str = "BTC", seconds: float = 300.0, seed: int = 1
) -> dict[str, dict[str, Any]]:
    """The same statistics of each recording and of each preset's synthetic market, by column."""
    from mmfast._core import recording_stats, synthetic_stats

    cols: dict[str, dict[str, Any]] = {}
    for path in recordings:
        name = path.rsplit("/", 1)[-1].split(".")[0]
        cols[name] = orjson.loads(recording_stats(path))
    for p in PRESETS:
        asset = synthetic_asset(p, coin)
        cols[f"synthetic:{p} {coin}"] = orjson.loads(
            synthetic_stats(orjson.dumps(asset).decode(), seed, seconds, 70)
        )
    return cols


def format_stats(cols: dict[str, dict[str, Any]]) -> str:
    """A Markdown table: one row per statistic, one column per market."""
    names = list(cols)
    lines = ["| statistic | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for key, label, fmt in STAT_ROWS:
        cells = []
        for n in names:
            v = cols[n].get(key)
            cells.append("n/a" if v is None else fmt.format(v))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
