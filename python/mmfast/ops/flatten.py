"""`--flatten-on-exit`: after the exit's cancel-all, close the position with reduce-only IOC
orders priced through the book (inside the guard's price band), then read the position back
from the exchange. Returns one line for the exit summary."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING

from mmfast.errors import MmfastError

if TYPE_CHECKING:
    from mmfast.live.node import Node

log = logging.getLogger("mmfast.flatten")


def round_px(px: float, sz_decimals: int) -> float:
    """Hyperliquid's price rule: at most 5 significant figures and 6 - szDecimals decimals."""
    if px <= 0:
        return px
    sig = 5 - math.floor(math.log10(px)) - 1
    return round(round(px, max(sig, -10)), max(0, 6 - sz_decimals))


async def flatten(node: Node, attempts: int = 3) -> str:
    tr = node.trader
    st = node.state
    if st is None or tr.mid is None:
        return "flatten: no market data, position left as is"
    szd = st.meta.sz_decimals
    band = float(node.cfg.risk.price_band_bps)
    slip = min(0.8 * band, 50.0) / 1e4
    for attempt in range(attempts):
        try:
            pos = await _position(node)
        except (MmfastError, OSError, asyncio.TimeoutError) as e:
            return f"flatten: cannot read the position ({e})"
        if abs(pos) < 0.5 * 10**-szd:
            return "flatten: position closed" if attempt else "flatten: already flat"
        is_buy = pos < 0
        px = round_px(tr.mid * (1 + slip if is_buy else 1 - slip), szd)
        sz = round(abs(pos), szd)
        log.warning("flatten: reduce-only IOC %s %g @ %g", "buy" if is_buy else "sell", sz, px)
        body = node.signer.sign_orders([(tr.asset, is_buy, px, sz, True, "Ioc", None)])
        try:
            r = await node._call(body)
            if not r.ok or any(not s.ok for s in r.statuses):
                log.warning("flatten IOC refused: %s", r.error or [s.error for s in r.statuses])
        except (MmfastError, asyncio.TimeoutError) as e:
            log.error("flatten IOC got no answer: %s", e)
        await asyncio.sleep(0.3)
    pos = await _position(node)
    return f"flatten: {pos:g} still open after {attempts} reduce-only IOC attempts"


async def _position(node: Node) -> float:
    from mmfast.truth import position_of, read_positions

    ch, _ = await read_positions(node.rest, node.account, node.trader.coin)
    return position_of(ch, node.trader.coin)[0]
