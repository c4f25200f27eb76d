"""The ladder (SPEC 7) through the public API, and the differential test against the pure-Python
reference in tests/reference over 10,000 random states."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from mmfast import _core
from reference import ladder as ref

REGIMES = ["quiet", "normal", "volatile", "extreme"]


def test_glft_hand_computed_through_the_reference():
    # gamma 0.02, kappa 0.25, A 0.5, sigma 2 (the SPEC priors): c1 = ln(1.08)/0.02.
    c1, c2 = ref.glft(0.02, 0.25, 0.5, 2.0)
    assert c1 == pytest.approx(3.848052, abs=1e-6)
    assert c2 == pytest.approx(0.951011, abs=1e-6)
    for q, bid, ask in [(0, 4.323557, 4.323557), (2, 6.225578, 2.421536), (-2, 2.421536, 6.225578)]:
        assert c1 + (2 * q + 1) / 2 * c2 == pytest.approx(bid, abs=1e-6)
        assert c1 - (2 * q - 1) / 2 * c2 == pytest.approx(ask, abs=1e-6)


def test_glft_in_the_rust_ladder_matches_hand_values():
    cfg = _core.MarketMakerConfig(
        max_position=1.0, ladder={"min_half_spread_bps": 0.5, "as_prior_bps": 0.0}
    )
    lad = _core.LadderStrategy(cfg)
    common = dict(
        mid=3000.0, best_bid=2999.9, best_ask=3000.1, sz_decimals=4, effective_max=1.0,
        target_liquidity=0.2, room_bid=1.0, room_ask=1.0,
    )  # fmt: skip
    for q, bid, ask in [(0, 4.323557, 4.323557), (2, 6.225578, 2.421536), (-2, 2.421536, 6.225578)]:
        # q is position over the per-level unit (0.2 / 5 levels = 0.04).
        _, _, d = lad.quote(position=q * 0.04, **common)
        assert d["c1"] == pytest.approx(3.848052, abs=1e-6)
        assert d["c2"] == pytest.approx(0.951011, abs=1e-6)
        assert d["bid_touch_bps"] == pytest.approx(bid, abs=1e-6)
        assert d["ask_touch_bps"] == pytest.approx(ask, abs=1e-6)


def test_protocol_4_3_rounding_cases():
    assert not _core.is_valid_price(1234.56, 0)
    assert _core.is_valid_price(1234.5, 0)
    assert not _core.is_valid_price(0.0012345, 0)
    assert _core.is_valid_price(0.001234, 0)
    assert _core.is_valid_price(123456.0, 0)
    assert not _core.is_valid_price(0.012345, 1)
    assert _core.round_price(1234.56, 0, True) == 1234.5
    assert _core.round_price(1234.56, 0, False) == 1234.6
    assert _core.round_price(0.0012345, 0, True) == 0.001234
    assert _core.round_price(0.0012345, 0, False) == 0.001235
    for px in (1234.56, 0.0012345, 123456.0, 1234.5):
        for is_bid in (True, False):
            assert _core.round_price(px, 0, is_bid) == ref.round_price(px, 0, not is_bid)


def test_bad_inputs_are_named():
    lad = _core.LadderStrategy(_core.MarketMakerConfig(max_position=1.0))
    args = dict(
        best_bid=1.0, best_ask=1.1, sz_decimals=2, position=0.0, effective_max=1.0,
        target_liquidity=1.0, room_bid=1.0, room_ask=1.0,
    )  # fmt: skip
    with pytest.raises(_core_input_error(), match="mid"):
        lad.quote(mid=math.nan, **args)
    with pytest.raises(ValueError, match="regime"):
        lad.quote(mid=1.05, regime="calm", **args)


def _core_input_error() -> type[Exception]:
    from mmfast.errors import InputError

    return InputError


def random_state(rng: random.Random) -> dict:
    mid = 10 ** rng.uniform(-3, 5)
    szd = rng.randrange(0, 6)
    if mid < 10 ** (4 - (6 - szd)):  # no 5 significant figures on this grid: not quotable
        mid = 10 ** (4 - (6 - szd)) * rng.uniform(1, 50)
    spread = rng.choice([0.0, 0.5, 2.0, 10.0, 40.0]) * 1e-4 * mid
    unit = rng.choice([20.0, 100.0, 1000.0, 50_000.0]) / mid
    reduce_only = rng.random() < 0.2
    position = rng.uniform(-1.5, 1.5) * unit
    room = rng.uniform(0, 2) * unit
    alpha = rng.uniform(-10, 10)
    return dict(
        mid=mid,
        best_bid=mid - spread,
        best_ask=mid + spread,
        sz_decimals=szd,
        min_notional=10.0,
        sigma_bps=rng.uniform(0.1, 20),
        kappa=rng.uniform(0.01, 2),
        a_intensity=rng.uniform(0.05, 2),
        gamma_base=rng.uniform(0.002, 0.2),
        vol_ratio=rng.uniform(0.2, 5),
        inventory_ratio=rng.uniform(-1.2, 1.2),
        toxicity_score=rng.random(),
        thin_book=rng.random(),
        alpha_bps=alpha,
        # The lean: none, part or all of the move (the engine scales it down by the room).
        alpha_lean_bps=alpha * rng.choice([0.0, rng.random(), 1.0]),
        measured_as_bps=rng.uniform(-2, 10),
        as_warmup=rng.random(),
        regime=rng.choice(REGIMES),
        position=position,
        effective_max=rng.uniform(0, 2) * unit,
        target_liquidity=rng.uniform(0, 2) * unit,
        room_bid=room,
        room_ask=abs(position) if reduce_only else rng.uniform(0, 2) * unit,
        margin_notional=rng.choice([0.0, 30.0, 1e3, 1e6]),
        quote_bid=rng.random() < 0.9,
        quote_ask=rng.random() < 0.9,
        reduce_only=reduce_only,
        urgency=rng.random(),
        bid_mult=rng.choice([1.0, 1.0, rng.uniform(1, 3)]),
        ask_mult=rng.choice([1.0, 1.0, rng.uniform(1, 3)]),
        # One-sided taker flow: that side priced with the markout measured there.
        flow_side=rng.choice([None, None, "bid", "ask"]),
        flow_as_bps=rng.uniform(-2, 20),
        flow_as_warmup=rng.random(),
    )


def _params(rng: random.Random) -> tuple[dict, ref.LadderParams]:
    ladder = {
        "num_levels": rng.choice([1, 3, 5, 10]),
        "min_half_spread_bps": rng.choice([8.01, 2.5, 0.5]),
        "as_prior_bps": rng.choice([3.0, 0.0, 5.0]),
        "depth_ratio": rng.choice([1.5, 1.0, 2.0]),
        "risk_model_blend": rng.choice([1.0, 0.0, 0.5]),
        "reduce_size_share": rng.choice([0.0, 1.0, rng.random()]),
    }
    fee = rng.choice([1.5, 0.0, 4.5])
    return (
        {"max_position": 1.0, "fee_bps": fee, "ladder": ladder},
        ref.LadderParams(fee_bps=fee, **ladder),
    )


def _compare(rust_side: np.ndarray, ref_side: list, ctx: str) -> None:
    assert rust_side.shape[0] == len(ref_side), ctx
    for row, (_, level, px, sz, depth) in zip(rust_side, ref_side, strict=True):
        assert int(row[0]) == level, ctx
        assert row[1] == px, ctx
        assert row[2] == sz, ctx
        assert row[3] == pytest.approx(depth, rel=1e-12, abs=1e-12), ctx


def test_differential_against_python_reference_10000_states():
    rng = random.Random(20261124)
    nonempty = 0
    for block in range(20):
        cfg_kwargs, params = _params(rng)
        lad = _core.LadderStrategy(_core.MarketMakerConfig(**cfg_kwargs))
        for i in range(500):
            st = random_state(rng)
            bids, asks, diag = lad.quote(**st)
            inp = ref.LadderInput(**st)
            rb, ra, rd = ref.quote(params, inp)
            ctx = f"block {block} state {i}: {cfg_kwargs} {st}"
            for k in ("gamma", "c1", "c2", "skew_bps", "as_buffer_bps"):
                assert diag[k] == pytest.approx(rd[k], rel=1e-12, abs=1e-12), (k, ctx)
            _compare(bids, rb, ctx)
            _compare(asks, ra, ctx)
            nonempty += bool(len(rb) or len(ra))
    # The random states must exercise the quoting path, not only the early exits.
    assert nonempty > 5000
