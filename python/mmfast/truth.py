"""The exchange as the truth (SPEC 10; PROTOCOL 2): what the bot reads before it quotes.

`read_exchange` reads `meta`, `clearinghouseState`, `openOrders`, `userFees` and `userRateLimit`
for the account (the master address even when an agent key signs; the agent's own address would
read empty data) and returns one `ExchangeState`. `check_clock_skew` compares the local wall
clock with the exchange's (`clearinghouseState.time`), since a stale `expiresAfter` costs five
times the address quota.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from mmfast.errors import VenueError
from mmfast.gateway.rest import RestClient


@dataclass
class AssetMeta:
    coin: str
    asset: int
    sz_decimals: int
    max_leverage: int


@dataclass
class ExchangeState:
    meta: AssetMeta
    position: float
    entry_px: float | None
    account_value: float
    available_margin: float
    #: The account's leverage on this asset (cross or isolated), None when it holds no position
    #: entry to read it from.
    leverage: int | None
    leverage_is_cross: bool
    open_orders: list[dict[str, Any]]
    maker_fee_bps: float
    taker_fee_bps: float
    rate_limit: dict[str, Any]
    #: Exchange time (ms since epoch) and the local wall clock at the middle of that request.
    server_time_ms: int | None
    local_time_ms: float
    cum_funding: float = 0.0
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def clock_skew_ms(self) -> float | None:
        """Exchange clock minus ours, or None when the exchange did not say its time."""
        if self.server_time_ms is None:
            return None
        return self.server_time_ms - self.local_time_ms


def asset_meta(meta: dict[str, Any], coin: str) -> AssetMeta:
    """The coin's entry of `meta.universe`; its index is the perp asset id (PROTOCOL 2.1)."""
    for i, u in enumerate(meta.get("universe", ())):
        if u.get("name") == coin:
            if u.get("isDelisted"):
                raise VenueError(f"asset = {coin!r}: delisted on this exchange")
            return AssetMeta(coin, i, int(u["szDecimals"]), int(u.get("maxLeverage", 1)))
    names = [u.get("name") for u in meta.get("universe", ())][:20]
    raise VenueError(f"asset = {coin!r}: not in the exchange's meta (first names: {names})")


def dex_of(coin: str) -> str:
    """The HIP-3 dex of a `dex:NAME` coin, "" for the main perp dex."""
    return coin.split(":", 1)[0] if ":" in coin else ""


def dex_base(perp_dexs: list[Any], dex: str) -> int:
    """The first asset id of `dex` (PROTOCOL 2.1): 0 on the main dex, 100000 + dex_index x 10000
    on a builder-deployed (HIP-3) one, dex_index being its place in `perpDexs` (whose entry 0,
    the main dex, is null)."""
    if not dex:
        return 0
    names = [d.get("name") if isinstance(d, dict) else None for d in perp_dexs]
    if dex not in names:
        raise VenueError(f"dex {dex!r}: not in perpDexs ({names[1:]})")
    return 100_000 + names.index(dex) * 10_000


def asset_ids(meta: dict[str, Any], base: int) -> dict[str, int]:
    """Coin name -> asset id for every entry of one dex's `meta.universe` (`base` + index)."""
    return {u["name"]: base + i for i, u in enumerate(meta.get("universe", ()))}


def _dex(coin: str) -> dict[str, str]:
    d = dex_of(coin)
    return {"dex": d} if d else {}


async def resolve_asset(rest: RestClient, coin: str) -> AssetMeta:
    """The coin's meta entry and asset id; a HIP-3 `dex:NAME` coin is looked up in its dex's
    `meta`, with id 100000 + dex_index * 10000 + index (dex_index from `perpDexs`)."""
    dex = dex_of(coin)
    meta = asset_meta(await rest.info("meta", **_dex(coin)), coin)
    if dex:
        try:
            meta.asset += dex_base(await rest.info("perpDexs"), dex)
        except VenueError as e:
            raise VenueError(f"asset = {coin!r}: {e}") from None
    return meta


async def read_positions(rest: RestClient, account: str, coin: str) -> tuple[dict[str, Any], float]:
    """`clearinghouseState` and the local wall-clock ms at the middle of the request."""
    t0 = time.time() * 1000
    ch = await rest.info("clearinghouseState", user=account, **_dex(coin))
    t1 = time.time() * 1000
    return ch, (t0 + t1) / 2


def position_of(
    ch: dict[str, Any], coin: str
) -> tuple[float, float | None, int | None, bool, float]:
    """(szi, entryPx, leverage, is_cross, cumFunding.sinceOpen) for `coin` (zeros when flat)."""
    for ap in ch.get("assetPositions", ()):
        p = ap.get("position", {})
        if p.get("coin") == coin:
            lev = p.get("leverage") or {}
            entry = p.get("entryPx")
            funding = float((p.get("cumFunding") or {}).get("sinceOpen", 0.0))
            return (
                float(p.get("szi", 0.0)),
                float(entry) if entry is not None else None,
                int(lev["value"]) if "value" in lev else None,
                lev.get("type", "cross") == "cross",
                funding,
            )
    return 0.0, None, None, True, 0.0


async def read_exchange(rest: RestClient, account: str, coin: str) -> ExchangeState:
    meta = await resolve_asset(rest, coin)
    ch, local_ms = await read_positions(rest, account, coin)
    orders = await rest.info("openOrders", user=account, **_dex(coin))
    fees = await rest.info("userFees", user=account)
    rate = await rest.info("userRateLimit", user=account)
    szi, entry, lev, cross, funding = position_of(ch, coin)
    ms = ch.get("crossMarginSummary") or ch.get("marginSummary") or {}
    account_value = float(ms.get("accountValue", 0.0))
    used = float(ms.get("totalMarginUsed", 0.0))
    return ExchangeState(
        meta=meta,
        position=szi,
        entry_px=entry,
        account_value=account_value,
        available_margin=max(0.0, account_value - used),
        leverage=lev,
        leverage_is_cross=cross,
        open_orders=[o for o in orders if o.get("coin") == coin],
        maker_fee_bps=float(fees.get("userAddRate", 0.00015)) * 1e4,
        taker_fee_bps=float(fees.get("userCrossRate", 0.00045)) * 1e4,
        rate_limit=rate if isinstance(rate, dict) else {},
        server_time_ms=ch.get("time"),
        local_time_ms=local_ms,
        cum_funding=funding,
        raw={"clearinghouseState": ch},
    )


def check_clock_skew(state: ExchangeState, max_skew_ms: float) -> float | None:
    """Returns the skew (ms); raises `VenueError` when it is beyond `max_skew_ms`."""
    skew = state.clock_skew_ms
    if skew is not None and abs(skew) > max_skew_ms:
        raise VenueError(
            f"clock skew {skew:+.0f} ms against the exchange exceeds live.max_clock_skew_ms = "
            f"{max_skew_ms:.0f}: fix the system clock (NTP) before trading"
        )
    return skew
