"""One rule for which limit wins (SPEC 2, issue 10 item 2): `resolve_limits` gives the ceiling,
the single-order cap and the minimum order; the engine re-resolves as the mark moves and the
trader hands every new result to the pre-send guard, so the guard never refuses what the engine
considers legal, nor lets through what it does not."""

from __future__ import annotations

import math
import secrets
import types
from typing import Any

import pytest
from mmfast import ExchangeContext, MarketMakerConfig, Signer, resolve_limits
from mmfast.gateway.limits import AddressBudget
from mmfast.live.trader import Trader
from mmfast.truth import AssetMeta, ExchangeState

T0 = 1_700_000_000_000


def test_resolve_limits_hand_computed() -> None:
    ctx = ExchangeContext(mark_px=2000.0, available_margin=1e4, max_leverage=25.0, sz_decimals=4)
    cfg = MarketMakerConfig.from_toml("", "t", [("max_position_usd", "1000")])
    lim = resolve_limits(cfg, ctx)
    assert lim.max_position == 0.5 and lim.max_position_user_specified
    # the largest single-order fraction (quiet, 0.5) of the max; min order 10 * 1.15 / 2000
    assert lim.single_order_cap == 0.25
    assert lim.min_order == pytest.approx(0.00575)
    tiny = MarketMakerConfig.from_toml("", "t", [("max_position", "0.001")])
    assert resolve_limits(tiny, ctx).single_order_cap == pytest.approx(0.00575)


def _trader(cfg: MarketMakerConfig, mark: float) -> tuple[Trader, list[Any]]:
    sent: list[Any] = []
    node = types.SimpleNamespace(
        budget=AddressBudget(),
        quoting=True,
        gateway=types.SimpleNamespace(send=lambda out, tag=None: sent.append(out)),
        live=types.SimpleNamespace(expires_after_ms=10_000),
        signer=Signer(secrets.token_hex(32), is_mainnet=False),
        stats=types.SimpleNamespace(errors=0),
    )
    st = ExchangeState(
        meta=AssetMeta("ETH", 0, 4, 25),
        position=0.0,
        entry_px=None,
        account_value=1e5,
        available_margin=1e5,
        leverage=3,
        leverage_is_cross=True,
        open_orders=[],
        maker_fee_bps=1.5,
        taker_fee_bps=4.5,
        rate_limit={},
        server_time_ms=None,
        local_time_ms=0.0,
    )
    tr = Trader(cfg, node)  # type: ignore[arg-type]
    tr.start(st, mark, None)
    return tr, sent


@pytest.mark.parametrize("move", [-0.10, +0.10])
def test_guard_follows_the_engines_ceiling_when_the_mark_moves(move: float) -> None:
    cfg = MarketMakerConfig.from_toml(
        "", "t", [("max_position_usd", "300"), ("asset", "ETH"), ("lead_venue", "none")]
    )
    tr, sent = _trader(cfg, 3000.0)
    assert tr.path.max_position == 0.1  # 300 / 3000, before the engine's first resolve
    tr.engine.set_signals(has_had_cross_venue=True)
    mark = 3000.0 * (1 + move)
    tr.path.mid = mark
    tr.engine.on_hl_top(mark - 0.1, 2.0, mark + 0.1, 2.0, T0)
    tr._cycle()
    expected = math.floor(300 / mark * 1e4) / 1e4  # 0.1111 at 2700, 0.0909 at 3300
    assert tr.engine.limits.max_position == pytest.approx(expected)
    assert tr.path.max_position == pytest.approx(expected)
    assert tr.path.single_order_cap == pytest.approx(tr.engine.limits.single_order_cap)
    # what the engine decided at the new mark went out, and fits the new ceiling both ways
    assert sent and all(o.refused is None for o in sent) and tr.path.refusals == 0
    buys, sells = tr.path.exposure()
    assert buys <= expected + 1e-9 and sells <= expected + 1e-9
