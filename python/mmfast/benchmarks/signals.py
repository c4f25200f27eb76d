"""Signals area (issue 4, SPEC 4 and 12): cost per call of `SignalIntegrator`'s frame methods
(parse + book update + every estimator, lag-scan slices included) and of `snapshot`, on an
integrator warmed to steady state (lead-lag found, scans running, every ring full), with the
same-run baselines beside them.

Figures (median ns per call):
- `signals_hl_l2book20_frame_ns`, `signals_hl_l2book5_frame_ns`: an `l2Book` frame of 20 / 5
  levels a side into `on_hl_frame` (two frames alternate, so the book and mid really change);
  `signals_hl_bbo_frame_ns`, `signals_hl_trades_frame_ns` (one print).
- `signals_binance_ticker_frame_ns` (`bookTicker`, combined-stream wrapper),
  `signals_binance_aggtrade_frame_ns`.
- `signals_on_hl_mid_ns`, `signals_on_binance_bbo_ns`: the value methods.
- `signals_snapshot_ns`: `snapshot(t)`, the frozen object included.
- Baselines: `signals_empty_call_ns` (the cheapest PyO3 method call),
  `signals_arg_overhead_ns` (producing the (frame, time) arguments in the timing loop, which
  every frame figure includes), `signals_orjson_hl_l2book20_ns` and
  `signals_orjson_binance_ticker_ns` (`orjson.loads` of the same frames alone).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import orjson

from mmfast import _core
from mmfast.benchmarks.timing import median_ns

T0 = 1_700_000_000_000


def _l2book(levels: int, shift: float) -> bytes:
    bids = [
        {"px": f"{3000.0 - shift - 0.1 * i:.1f}", "sz": f"{1 + i * 0.37:.4f}", "n": i + 1}
        for i in range(levels)
    ]
    asks = [
        {"px": f"{3000.1 - shift + 0.1 * i:.1f}", "sz": f"{2 + i * 0.21:.4f}", "n": i + 2}
        for i in range(levels)
    ]
    data = {"coin": "ETH", "time": T0, "levels": [bids, asks]}
    return orjson.dumps({"channel": "l2Book", "data": data})


def _bbo(shift: float) -> bytes:
    bbo = [
        {"px": f"{3000.0 - shift:.1f}", "sz": "3.5", "n": 4},
        {"px": f"{3000.1 - shift:.1f}", "sz": "1.25", "n": 2},
    ]
    return orjson.dumps({"channel": "bbo", "data": {"coin": "ETH", "time": T0, "bbo": bbo}})


def _trades(side: str) -> bytes:
    t = {
        "coin": "ETH",
        "side": side,
        "px": "3000.1",
        "sz": "0.25",
        "time": T0,
        "hash": "0x" + "ab" * 32,
        "tid": 123456789,
        "users": ["0x" + "1" * 40, "0x" + "2" * 40],
    }
    return orjson.dumps({"channel": "trades", "data": [t]})


def _ticker(shift: float) -> bytes:
    d = {
        "e": "bookTicker",
        "u": 400900217,
        "E": T0,
        "T": T0,
        "s": "ETHUSDT",
        "b": f"{3000.00 - shift:.2f}",
        "B": "31.21",
        "a": f"{3000.01 - shift:.2f}",
        "A": "40.66",
    }
    return orjson.dumps({"stream": "ethusdt@bookTicker", "data": d})


def _aggtrade(m: bool) -> bytes:
    d = {
        "e": "aggTrade",
        "E": T0,
        "s": "ETHUSDT",
        "a": 5933014,
        "p": "3000.01",
        "q": "0.100",
        "f": 100,
        "l": 105,
        "T": T0,
        "m": m,
    }
    return orjson.dumps({"stream": "ethusdt@aggTrade", "data": d})


def warmed(seconds: float = 150.0, seed: int = 1) -> tuple[_core.SignalIntegrator, int]:
    """An integrator after `seconds` of a market where Binance leads Hyperliquid by 200 ms, with
    trades on both: every estimator warm, the lag scans in their steady cycle."""
    s = _core.SignalIntegrator()
    rng = np.random.default_rng(seed)
    n = int(seconds * 200)
    lag = 40
    walk = np.cumsum(rng.normal(0.0, 2.0 * math.sqrt(0.005), n + lag))
    lead_q = rng.random(n) < 0.2
    hl_q = rng.random(n) < 0.05
    tr_q = rng.random(n) < 0.02
    noise = rng.normal(0.0, 0.5, n)
    t = T0
    for i in range(n):
        t += 5
        m = 3000.0 * math.exp(walk[i + lag] / 1e4)
        if lead_q[i]:
            s.on_binance_bbo(m - 0.05, m + 0.05, t)
        if tr_q[i]:
            s.on_binance_trade(m, 0.1, bool(i & 1), t)
        if hl_q[i]:
            h = 3000.0 * math.exp((walk[i] + noise[i]) / 1e4)
            s.on_hl_mid(h, t)
            s.on_hl_trade(h * (1 + 3e-4), 0.1, bool(i & 2), t)
        if t % 100 == 0:
            s.snapshot(t)
    return s, t


def _frames_call(
    f: Callable[[bytes, int], object], frames: list[bytes], clock: Callable[[], int]
) -> Callable[[], object]:
    nxt = itertools.cycle(frames).__next__
    return lambda: f(nxt(), clock())


def run(quick: bool = False) -> dict[str, float]:
    n = 300 if quick else 3000
    s, t_end = warmed(30.0 if quick else 150.0)
    clock = itertools.count(t_end + 1, 3).__next__
    out: dict[str, float] = {}

    empty = _core.InventoryGovernor(1.0).is_reducing
    out["signals_empty_call_ns"] = median_ns(lambda: empty(0.0, True), n=n)
    two = [b"a", b"b"]
    nxt2 = itertools.cycle(two).__next__
    out["signals_arg_overhead_ns"] = median_ns(lambda: (nxt2(), clock()), n=n)

    cases: list[tuple[str, Callable[[bytes, int], object], list[bytes]]] = [
        ("signals_hl_l2book20_frame_ns", s.on_hl_frame, [_l2book(20, 0.0), _l2book(20, 0.1)]),
        ("signals_hl_l2book5_frame_ns", s.on_hl_frame, [_l2book(5, 0.0), _l2book(5, 0.1)]),
        ("signals_hl_bbo_frame_ns", s.on_hl_frame, [_bbo(0.0), _bbo(0.1)]),
        ("signals_hl_trades_frame_ns", s.on_hl_frame, [_trades("B"), _trades("A")]),
        ("signals_binance_ticker_frame_ns", s.on_binance_frame, [_ticker(0.0), _ticker(0.01)]),
        (
            "signals_binance_aggtrade_frame_ns",
            s.on_binance_frame,
            [_aggtrade(False), _aggtrade(True)],
        ),
    ]
    for name, f, frames in cases:
        out[name] = median_ns(_frames_call(f, frames, clock), n=n)

    mids = itertools.cycle([3000.05, 3000.15]).__next__
    out["signals_on_hl_mid_ns"] = median_ns(lambda: s.on_hl_mid(mids(), clock()), n=n)
    out["signals_on_binance_bbo_ns"] = median_ns(
        lambda: s.on_binance_bbo(3000.0, mids(), clock()), n=n
    )
    out["signals_snapshot_ns"] = median_ns(lambda: s.snapshot(clock()), n=n)

    l2 = _l2book(20, 0.0)
    ticker = _ticker(0.0)
    out["signals_orjson_hl_l2book20_ns"] = median_ns(lambda: orjson.loads(l2), n=n)
    out["signals_orjson_binance_ticker_ns"] = median_ns(lambda: orjson.loads(ticker), n=n)
    return out
