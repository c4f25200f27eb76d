"""Market presets of `--market synthetic[:NAME]` (shared by `mmfast paper` and `mmfast backtest`).

The presets themselves live in Rust (`mmfast._core.market_preset`), next to the synthetic market
they parameterise; this module resolves market names and coins.
"""

from __future__ import annotations

from typing import Any

import orjson

from mmfast.errors import InputError

PRESETS = ("calm", "default", "toxic")

#: Coins of the synthetic market: `(sz_decimals, max_leverage, starting mid, Binance symbol)`.
COINS: dict[str, tuple[int, int, float, str]] = {
    "ETH": (4, 25, 3000.0, "ETHUSDT"),
    "BTC": (5, 40, 100_000.0, "BTCUSDT"),
}


def parse_market(market: str) -> tuple[str, str]:
    """`("synthetic", preset)` or `("replay", "")`."""
    kind, _, preset = market.partition(":")
    if kind == "synthetic":
        preset = preset or "default"
        if preset not in PRESETS:
            raise InputError(
                f"--market {market}: unknown preset {preset!r}; expected one of "
                + ", ".join(f"synthetic:{p}" for p in PRESETS)
            )
        return kind, preset
    if kind == "replay" and not preset:
        return kind, ""
    raise InputError(
        f"--market {market!r}: expected synthetic, synthetic:PRESET ({', '.join(PRESETS)}) "
        "or replay (with --hl FILE)"
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
