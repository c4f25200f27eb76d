"""The Avellaneda-Stoikov baseline through the quote engine (`strategy = "avellaneda_stoikov"`):
one level per side at the closed form, the same governor and reduce-only rules around it."""

from __future__ import annotations

import pytest
from mmfast import ConfigError, MarketMakerConfig, QuoteEngine

T0 = 1_700_000_000_000


def make_engine(**cfg) -> QuoteEngine:
    cfg.setdefault("max_position", 1.0)
    cfg.setdefault("strategy", "avellaneda_stoikov")
    e = QuoteEngine(MarketMakerConfig(**cfg), seed=7)
    e.set_account(position=0.0, available_margin=10_000.0, account_value=10_000.0, leverage=3.0)
    e.set_signals(has_had_cross_venue=True)
    e.on_hl_top(2999.9, 2.0, 3000.1, 2.0, T0)
    return e


def test_one_level_per_side_at_the_closed_form():
    out = make_engine().cycle(T0 + 10)
    assert out.mode.kind == "Maker"
    quotes = {q.side: q for q in out.quotes}
    assert sorted(quotes) == ["ask", "bid"] and len(out.quotes) == 2
    # Cold priors gamma 0.02, sigma 2 bps/sqrt(s), kappa 0.25 per bps, horizon 12 s:
    # ln(1.08)/0.02 + 0.02*4*12/2 = 3.848052 + 0.48 = 4.328052 bps (GLFT: 4.323557).
    assert out.diagnostics["half_spread_bps"] == pytest.approx(4.328052, abs=1e-6)
    # 3000 * (1 -/+ 4.328052e-4) = 2998.70158 / 3001.29842, rounded away from the touch.
    assert (quotes["bid"].px, quotes["ask"].px) == (2998.7, 3001.3)
    places = [a for a in out.actions if a.kind == "place"]
    assert len(places) == 2 and {a.px for a in places} == {2998.7, 3001.3}
    glft = make_engine(strategy="glft").cycle(T0 + 10)
    assert len(glft.quotes) > 2  # the ladder it replaces


def test_red_zone_reduces_with_one_order():
    e = make_engine()
    e.set_account(position=0.85)  # Red: InventoryReduce(1.0), selling only
    out = e.cycle(T0 + 10)
    assert out.mode.kind == "InventoryReduce"
    assert [(q.side, q.px) for q in out.quotes] == [("ask", 3000.1)]  # joins the best ask
    assert all(a.reduce_only for a in out.actions if a.kind == "place")


def test_strategy_and_horizon_are_validated():
    with pytest.raises(
        ConfigError, match="unknown variant `as`, expected `glft` or `avellaneda_stoikov`"
    ):
        MarketMakerConfig(max_position=1.0, strategy="as")
    with pytest.raises(ConfigError, match=r"avellaneda_stoikov.horizon_s = 0: must be a finite"):
        MarketMakerConfig(max_position=1.0, avellaneda_stoikov={"horizon_s": 0.0})
