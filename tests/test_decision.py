"""The decision layer through the public API: auto_derive, governor, mode, queue value."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mmfast import (
    ConfigError,
    ExchangeContext,
    InputError,
    InventoryGovernor,
    MmfastError,
    ModeSelectionInput,
    PositionZone,
    QueueValueHeuristic,
    SpreadProfile,
    ToxicityRegime,
    auto_derive,
    select_mode,
)


def ctx(mark: float = 2000.0, margin: float = 1000.0, lev: float = 25.0) -> ExchangeContext:
    return ExchangeContext(mark_px=mark, available_margin=margin, max_leverage=lev)


def test_auto_derive_spec_example() -> None:
    d = auto_derive(1000.0, SpreadProfile.Default, ctx())
    assert d.max_position == 0.5
    assert d.max_position_usd == 1000.0
    assert d.target_liquidity == pytest.approx(0.1)
    assert d.risk_aversion == 0.02
    assert d.max_bps_diff == 3.0
    assert d.viable and d.diagnostic is None


def test_auto_derive_not_viable_explains() -> None:
    d = auto_derive(5.0, "default", ctx(mark=3000.0))
    assert not d.viable
    assert d.max_position == 0.0016
    assert "capital $5.00" in d.diagnostic
    assert "$23.00" in d.diagnostic


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"mark": float("nan")}, "mark_px"),
        ({"mark": 0.0}, "mark_px"),
        ({"lev": -2.0}, "max_leverage"),
        ({"margin": float("inf")}, "available_margin"),
    ],
)
def test_bad_context_names_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InputError, match=field) as e:
        ctx(**kwargs)
    assert isinstance(e.value, MmfastError) and isinstance(e.value, ValueError)


def test_bad_capital_and_profile() -> None:
    with pytest.raises(InputError, match="capital_usd = -1"):
        auto_derive(-1.0, "default", ctx())
    with pytest.raises(ValueError, match="spread_profile"):
        auto_derive(1.0, "wide", ctx())


def test_governor_zones_and_exposure() -> None:
    g = InventoryGovernor(2.0)
    cases = [(0.0, PositionZone.Green), (1.2, PositionZone.Yellow), (-1.6, PositionZone.Red)]
    for pos, zone in [*cases, (2.0, PositionZone.Kill), (1.2 - 1e-09, PositionZone.Green)]:
        assert g.assess(pos).zone == zone, pos
    a = g.assess(-1.4)
    assert a.max_new_exposure == pytest.approx(0.3)
    assert a.increasing_side_spread_mult == pytest.approx(1.5)
    assert not a.is_long and a.position_ratio == pytest.approx(0.7)
    assert g.zone_adjusted_max(1.0) == pytest.approx(0.6)
    with pytest.raises(InputError, match="position = NaN"):
        g.assess(math.nan)
    with pytest.raises(InputError, match="max_position"):
        InventoryGovernor(0.0)


@given(
    pos=st.floats(-3, 3, allow_nan=False),
    size=st.floats(0, 3, allow_nan=False),
    is_buy=st.booleans(),
)
def test_would_exceed_matches_definition(pos: float, size: float, is_buy: bool) -> None:
    g = InventoryGovernor(1.0)
    new = pos + size if is_buy else pos - size
    expected = abs(new) > abs(pos) and abs(new) > 1.0 * (1 + 1e-9)
    assert g.would_exceed(pos, size, is_buy) == expected
    if g.is_reducing(pos, is_buy) and size <= abs(pos):
        assert not g.would_exceed(pos, size, is_buy)


def mode_input(zone: PositionZone, tox: ToxicityRegime, position: float, **kw: bool):
    args = {"bid_has_value": True, "ask_has_value": True, "has_alpha": False} | kw
    return ModeSelectionInput(position_zone=zone, toxicity_regime=tox, position=position, **args)


def test_select_mode_rules_in_order() -> None:
    G, Y, R, K = PositionZone.Green, PositionZone.Yellow, PositionZone.Red, PositionZone.Kill
    N, T = ToxicityRegime.Normal, ToxicityRegime.Toxic
    assert select_mode(mode_input(K, T, 1.0)).kind == "Flat"
    m = select_mode(mode_input(R, T, -0.9))
    assert (m.kind, m.bid, m.ask, m.urgency) == ("InventoryReduce", True, False, 1.0)
    assert select_mode(mode_input(G, T, 0.0)).kind == "Flat"
    m = select_mode(mode_input(G, T, 0.3))
    assert (m.kind, m.ask, m.urgency) == ("InventoryReduce", True, 0.7)
    m = select_mode(mode_input(Y, N, 0.7))
    assert (m.kind, m.bid, m.ask) == ("Maker", False, True)
    assert select_mode(mode_input(G, N, 0.0, bid_has_value=False, ask_has_value=False)).kind == (
        "Flat"
    )
    m = select_mode(mode_input(G, N, -0.2, bid_has_value=False, ask_has_value=False))
    assert (m.kind, m.bid, m.ask) == ("Maker", True, False), "a position stays workable"
    m = select_mode(mode_input(G, N, 0.0, ask_has_value=False))
    assert (m.bid, m.ask) == (True, False)
    m = select_mode(mode_input(Y, N, 0.7, bid_has_value=False), "skew_only")
    assert (m.kind, m.bid, m.ask) == ("Maker", True, True)
    with pytest.raises(ValueError, match="mode_policy"):
        select_mode(mode_input(G, N, 0.0), "yolo")


def test_queue_value_per_toxicity() -> None:
    q = QueueValueHeuristic()
    assert q.queue_value(8.01, ToxicityRegime.Benign, 0.0) == pytest.approx(5.51)
    assert q.queue_value(8.01, ToxicityRegime.Normal, 0.0) == pytest.approx(3.51)
    assert q.queue_value(8.01, ToxicityRegime.Toxic, 0.0) == pytest.approx(-1.49)
    assert q.queue_value(10.0, ToxicityRegime.Normal, 0.5) == pytest.approx(4.0)
    q.record_outcome(5.0, 1.0)
    assert q.prediction_bias_bps == pytest.approx(0.2)
    assert not q.should_quote(8.01, ToxicityRegime.Toxic, 0.0)
    with pytest.raises(InputError, match="queue_rank"):
        q.queue_value(8.0, ToxicityRegime.Normal, math.nan)


def test_errors_are_one_tree() -> None:
    assert issubclass(ConfigError, MmfastError) and issubclass(ConfigError, ValueError)
    assert issubclass(InputError, MmfastError) and issubclass(InputError, ValueError)
