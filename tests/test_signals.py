"""SignalIntegrator through the public API (issue 4, SPEC 4): seeded synthetic markets whose truth
the estimators must recover, the no-signal safety rules, frames from the real recordings, and
bad input. The long statistical versions run in Rust (`cargo test --profile opt-test`)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mmfast import (
    BookError,
    InputError,
    MarketMakerConfig,
    MmfastError,
    SignalIntegrator,
    SignalSnapshot,
    ToxicityRegime,
)
from mmfast.replay import read_frames

T0 = 1_700_000_000_000


class Market:
    """Binance mid a random walk (2 bps/sqrt(s)); Hyperliquid the same walk 200 ms later, with a
    basis and 0.5 bps of independent noise, or its own walk when unrelated. 5 ms steps; Binance
    quotes every 25 ms and Hyperliquid every 100 ms on average."""

    def __init__(self, seed: int, related: bool = True, lag_ms: int = 200) -> None:
        self.rng = np.random.default_rng(seed)
        self.related = related
        self.lag_steps = lag_ms // 5
        self.t = T0
        self.lead_live = True

    def run(self, s: SignalIntegrator, seconds: float) -> list[SignalSnapshot]:
        n = int(seconds * 200)
        rng = self.rng
        walk = np.cumsum(rng.normal(0.0, 2.0 * math.sqrt(0.005), n + self.lag_steps))
        own = np.cumsum(rng.normal(0.0, 2.0 * math.sqrt(0.005), n))
        lead_q = rng.random(n) < 0.2
        hl_q = rng.random(n) < 0.05
        noise = rng.normal(0.0, 0.5, n)
        out = []
        for i in range(n):
            self.t += 5
            lead = walk[i + self.lag_steps]
            if self.lead_live and lead_q[i]:
                m = 3000.0 * math.exp(lead / 1e4)
                s.on_binance_bbo(m - 0.05, m + 0.05, self.t)
            if hl_q[i]:
                x = (walk[i] if self.related else own[i]) - 3.0 + noise[i]
                s.on_hl_mid(3000.0 * math.exp(x / 1e4), self.t)
            if self.t % 100 == 0:
                out.append(s.snapshot(self.t))
        return out


def test_cold_start_defaults_quote_capped_with_no_alpha() -> None:
    s = SignalIntegrator()
    snap = s.snapshot(T0)
    assert snap.toxicity == ToxicityRegime.Normal
    assert not snap.lead_lag.actionable
    assert snap.lead_lag.predicted_move_bps == 0.0
    assert snap.quote_cap_fraction == pytest.approx(0.30)
    assert snap.cap_reason == "no_signal"
    assert snap.sigma_bps == pytest.approx(2.0)
    assert snap.regime == "normal"
    assert snap.regime_volatility_fraction == 0.0
    assert snap.kappa == pytest.approx(0.25)
    assert not snap.has_had_cross_venue and not s.has_had_cross_venue
    d = snap.to_dict()
    assert d["quote_cap_fraction"] == snap.quote_cap_fraction
    assert d["toxicity"] == "normal"


def test_the_no_signal_warning_every_ten_cycles() -> None:
    s = SignalIntegrator()
    warned = [i for i in range(1, 26) if s.snapshot(T0 + i).no_signal_warning]
    assert warned == [1, 11, 21]


def test_config_sets_the_caps_and_lead_venue_none_never_caps() -> None:
    s = SignalIntegrator(MarketMakerConfig(max_position=1.0, signals={"no_signal_cap": 0.5}))
    assert s.snapshot(T0).quote_cap_fraction == 0.5
    s = SignalIntegrator(MarketMakerConfig(max_position=1.0, lead_venue="none"))
    m = Market(1)
    for snap in m.run(s, 20):
        assert snap.quote_cap_fraction == 1.0 and snap.cap_reason == "none"
        assert not snap.no_signal_warning and not snap.lead_lag.actionable


def test_a_200_ms_lead_is_found_then_disable_is_immediate() -> None:
    s = SignalIntegrator()
    m = Market(2)
    snaps = m.run(s, 180)
    first = next(i for i, x in enumerate(snaps) if x.lead_lag.actionable)
    assert all(x.quote_cap_fraction == pytest.approx(0.3) for x in snaps[:first])
    assert all(x.quote_cap_fraction == 1.0 for x in snaps[first:])
    last = snaps[-1]
    assert last.lead_lag.actionable, last
    assert abs(last.lead_lag.lag_ms - 200) <= 50
    assert last.lead_lag.correlation >= 0.05
    assert last.lag_significant and last.lag_stable
    assert abs(last.lead_lag.predicted_move_bps) <= 5.0
    assert s.has_had_cross_venue and s.lead_lag(m.t).actionable
    s.disable_binance_signals()
    snap = s.snapshot(m.t)
    assert not snap.lead_lag.actionable and snap.lead_lag.predicted_move_bps == 0.0
    assert snap.cap_reason == "lead_lost" and snap.quote_cap_fraction == pytest.approx(0.3)
    assert snap.has_had_cross_venue
    m.lead_live = False
    assert all(x.cap_reason == "lead_lost" for x in m.run(s, 2))
    m.lead_live = True
    back = m.run(s, 1)
    assert back[-1].cap_reason == "none" and not back[-1].lead_lag.actionable


def test_unrelated_markets_are_not_actionable() -> None:
    s = SignalIntegrator()
    snaps = Market(3, related=False).run(s, 180)
    assert snaps[-1].lag_scans > 50
    assert not any(x.lead_lag.actionable for x in snaps)
    assert all(x.cap_reason == "no_signal" for x in snaps)


def test_volatility_and_kappa_are_recovered() -> None:
    cfg = MarketMakerConfig(
        max_position=1.0,
        stochastic={"sigma_prior_bps": 0.5, "kappa_prior": 1.0, "intensity_prior_s": 1.0},
    )
    s = SignalIntegrator(cfg)
    rng = np.random.default_rng(4)
    n = 6000  # 10 minutes, a mid every 100 ms
    x = np.cumsum(rng.normal(0.0, 2.0 * math.sqrt(0.1), n))
    trade = rng.random(n) < 0.25
    depth = rng.exponential(1 / 0.25, n)
    buy = rng.random(n) < 0.5
    for i in range(n):
        t = T0 + 100 * (i + 1)
        mid = 3000.0 * math.exp(x[i] / 1e4)
        s.on_hl_mid(mid, t)
        if trade[i]:
            d = depth[i] if buy[i] else -depth[i]
            s.on_hl_trade(mid * math.exp(d / 1e4), 0.1, bool(buy[i]), t)
    snap = s.snapshot(T0 + 100 * n)
    # 1 s returns of the sweep-filtered mid over a 60 s half-life: ~7% standard error.
    assert snap.sigma_bps == pytest.approx(2.0, rel=0.15)
    assert snap.kappa == pytest.approx(0.25, rel=0.15)
    assert snap.robust_kappa == pytest.approx(0.25, rel=0.15)
    # 2.5 taker orders per s over both sides: A is 1.25 per side.
    assert snap.intensity_a == pytest.approx(1.25, rel=0.15)


def test_adverse_moves_make_the_flow_toxic() -> None:
    s = SignalIntegrator()
    rng = np.random.default_rng(5)
    t, x = T0, 0.0
    regimes = []
    # One trade a second; 90% are followed 300 ms later by a 3 bps move their way.
    for sec in range(240):
        is_buy = bool(rng.random() < 0.5)
        s.on_hl_trade(3000.0 * math.exp(x / 1e4), 0.1, is_buy, t)
        informed = rng.random() < (0.9 if sec < 120 else 0.1)
        for k in range(10):
            t += 100
            if k == 3 and informed:
                x += 3.0 if is_buy else -3.0
            x += 0.5 * math.sqrt(0.1) * rng.normal()
            s.on_hl_mid(3000.0 * math.exp(x / 1e4), t)
        regimes.append(s.snapshot(t).toxicity)
    assert regimes[0] == ToxicityRegime.Normal
    assert regimes[119] == ToxicityRegime.Toxic
    snap = s.snapshot(t)
    assert snap.toxicity != ToxicityRegime.Toxic
    assert ToxicityRegime.Toxic in regimes[120:]  # it takes a while to forget


def test_alpha_lean_shrinks_with_the_room_when_it_adds_to_the_position() -> None:
    s = SignalIntegrator()
    s.set_skew_context(0.0, 1.0, 3.0)
    assert s.snapshot(T0).alpha_skew_bps == pytest.approx(3.0)
    s.set_skew_context(0.5, 1.0, 2.0)
    assert s.snapshot(T0).alpha_skew_bps == pytest.approx(1.0)


def _state(s: SignalIntegrator, t: int) -> dict:
    d = s.lead_lag(t)
    return {"lead_lag": repr(d), "mid": s.hl_mid, "had": s.has_had_cross_venue}


def test_bad_values_are_refused_by_name_and_change_nothing() -> None:
    s = SignalIntegrator()
    Market(6).run(s, 5)
    t = T0 + 10_000
    before = s.snapshot(t).to_dict()
    for call, field in [
        (lambda: s.on_hl_mid(float("nan"), t), "mid"),
        (lambda: s.on_hl_mid(-1.0, t), "mid"),
        (lambda: s.on_hl_trade(0.0, 1.0, True, t), "px"),
        (lambda: s.on_hl_trade(1.0, -1.0, True, t), "sz"),
        (lambda: s.on_binance_bbo(10.0, 9.0, t), "ask"),
        (lambda: s.on_binance_trade(1.0, float("inf"), False, t), "qty"),
        (lambda: s.set_skew_context(0.0, 0.0, 1.0), "max_position"),
    ]:
        with pytest.raises(InputError, match=field):
            call()
    after = s.snapshot(t).to_dict()
    for k in ("no_signal_warning", "cycles_without_signal"):
        before.pop(k), after.pop(k)
    assert after == before


# ---------------------------------------------------------------------------------------------
# Frames


def test_hyperliquid_recording_through_frames(real_data: Path) -> None:
    s = SignalIntegrator()
    n_trades = 0
    last_book = None
    for ns, frame in read_frames(real_data / "hyperliquid_btcusd_20250126.gz"):
        fed = s.on_hl_frame(frame, ns // 1_000_000)
        msg = orjson.loads(frame)
        if msg.get("channel") == "trades":
            n_trades += len(msg["data"])
            assert fed
        elif msg.get("channel") == "l2Book":
            last_book = msg["data"]["levels"]
            assert fed
    assert n_trades == 64
    want = (float(last_book[0][0]["px"]) + float(last_book[1][0]["px"])) / 2
    assert s.hl_mid == pytest.approx(want)
    snap = s.snapshot(ns // 1_000_000)
    assert snap.hl_fresh and not snap.lead_fresh
    assert sum(snap.hl_imbalance) != 0.0
    # Another coin's integrator takes none of it.
    other = SignalIntegrator(MarketMakerConfig(max_position=1.0, asset="ETH"))
    for ns, frame in read_frames(real_data / "hyperliquid_btcusd_20250126.gz"):
        assert not other.on_hl_frame(frame, ns // 1_000_000)
    assert other.hl_mid is None


def ewma_vol(times_ms: list[int], mids: list[float], half_life_s: float = 60.0) -> float:
    """Pure-Python reference of the integrator's fast volatility (defaults: prior 2 bps/sqrt(s),
    the median of the last 5 mids (one per receive time), 1000 ms minimum interval, 10 s maximum
    gap)."""
    var = 4.0
    window: list[tuple[int, float]] = []
    anchor: tuple[int, float] | None = None
    for t, m in zip(times_ms, mids, strict=True):
        x = math.log(m) * 1e4
        if window and window[-1][0] == t:
            window[-1] = (t, x)
        else:
            window = [*window, (t, x)][-5:]
        vals = sorted(v for _, v in window)
        robust = vals[(len(vals) - 1) // 2]
        if anchor is None:
            anchor = (t, robust)
            continue
        t0, x0 = anchor
        dt = t - t0
        if dt < 1000:
            continue
        if dt <= 10_000:
            w = 1.0 - math.exp(-math.log(2) * dt / (half_life_s * 1e3))
            var += w * ((robust - x0) ** 2 / (dt / 1e3) - var)
        anchor = (t, robust)
    return math.sqrt(var)


def test_binance_recording_through_frames_matches_a_reference(real_data: Path) -> None:
    s = SignalIntegrator()
    as_hl = SignalIntegrator()
    times: list[int] = []
    mids: list[float] = []
    trades = 0
    for ns, frame in read_frames(real_data / "usdm_btcusdt_20240808.gz"):
        t = ns // 1_000_000
        s.on_binance_frame(frame, t)
        msg = orjson.loads(frame)
        data = msg.get("data", msg)
        if data.get("e") == "bookTicker":
            mid = (float(data["b"]) + float(data["a"])) / 2
            times.append(t)
            mids.append(mid)
            as_hl.on_hl_mid(mid, t)
        elif data.get("e") in ("trade", "aggTrade"):
            trades += 1
    snap = s.snapshot(times[-1])
    assert snap.lead_fresh and not snap.hl_fresh
    assert trades > 20_000
    assert -1.0 <= snap.lead_imbalance[0] <= 1.0
    # The Binance mids as a Hyperliquid mid: the estimator equals the reference arithmetic.
    ref = ewma_vol(times, mids)
    got = as_hl.snapshot(times[-1]).sigma_bps
    assert got == pytest.approx(ref, rel=1e-9)
    assert 0.3 < got < 5.0


def test_malformed_frames_raise_book_error() -> None:
    s = SignalIntegrator()
    with pytest.raises(BookError):
        s.on_hl_frame(b'{"channel":"l2Book",', T0)
    with pytest.raises(BookError):
        s.on_binance_frame(b"[1,2", T0)
    with pytest.raises(BookError, match="px"):
        s.on_hl_frame(
            b'{"channel":"trades","data":[{"coin":"ETH","side":"B","px":"x","sz":"1",'
            b'"time":1,"tid":1,"hash":"0x0","users":["a","b"]}]}',
            T0,
        )


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_hostile_bytes_never_crash_or_change_state(frame: bytes) -> None:
    s = SignalIntegrator()
    s.on_hl_mid(3000.0, T0)
    before = _state(s, T0)
    for feed in (s.on_hl_frame, s.on_binance_frame):
        try:
            feed(frame, T0 + 1)
        except MmfastError:
            assert _state(s, T0 + 1) == before
