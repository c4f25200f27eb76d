"""hftbacktest's own replay loop on a Binance USD-M recording, the reference for
`backtest_events_per_s`. Importing this module needs `hftbacktest` (and numba), which mmfast
never depends on: install them in a benchmark-only environment (see
benches/backtest_vs_hftbacktest.py); `mmfast bench` reports "not installed" otherwise.

The recording is converted to hftbacktest's event array by its own converter (timed apart), then
its numba loop steps through it in 100 ms `elapse` steps with no orders, the bare loop its
documentation's examples start from. Its event unit is a row of that array (a depth level
change, a trade, a snapshot or clear marker).
"""

from __future__ import annotations

import contextlib
import io
import time

import numpy as np
from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest
from hftbacktest.data.utils import binancefutures
from numba import njit

STEP_NS = 100_000_000


@njit
def _loop(hbt):  # type: ignore[no-untyped-def]
    steps = 0
    while hbt.elapse(STEP_NS) == 0:
        steps += 1
    return steps


def convert(path: str) -> tuple[np.ndarray, float]:
    """hftbacktest's event array of the recording, and the seconds its converter took."""
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        data = binancefutures.convert(path, combined_stream=True)
    return data, time.perf_counter() - t0


def _backtest(data: np.ndarray):  # type: ignore[no-untyped-def]
    asset = (
        BacktestAsset()
        .data([data])
        .linear_asset(1.0)
        .constant_order_latency(0, 0)
        .power_prob_queue_model(2.0)
        .no_partial_fill_exchange()
        .trading_value_fee_model(-0.00005, 0.0007)
        .tick_size(0.1)
        .lot_size(0.001)
    )
    return HashMapMarketDepthBacktest([asset])


def measure(path: str, reps: int = 3) -> dict[str, float]:
    """Events, converter seconds and the best loop rate over `reps` runs (after a warm-up run
    that compiles the numba loop)."""
    data, convert_s = convert(path)
    hbt = _backtest(data)
    _loop(hbt)
    hbt.close()
    best = float("inf")
    for _ in range(reps):
        hbt = _backtest(data)
        t0 = time.perf_counter()
        _loop(hbt)
        best = min(best, time.perf_counter() - t0)
        hbt.close()
    return {
        "hftbacktest_events": float(len(data)),
        "hftbacktest_convert_s": convert_s,
        "hftbacktest_events_per_s": len(data) / best,
    }
