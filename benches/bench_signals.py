"""Signals (issue 4): `pytest benches/bench_signals.py`, or `mmfast bench --only signals` for the
figures with their baselines.

pytest-benchmark times one call of each `SignalIntegrator` frame method (parse, book update and
every estimator, lag-scan slices included) and `snapshot` on an integrator warmed to steady
state, beside the empty PyO3 call and `orjson.loads` of the same frame.
"""

from __future__ import annotations

import itertools

import orjson
import pytest
from mmfast._core import InventoryGovernor, SignalIntegrator
from mmfast.benchmarks import signals as sb


@pytest.fixture(scope="module")
def warm() -> tuple[SignalIntegrator, itertools.count]:
    s, t = sb.warmed(60.0)
    return s, itertools.count(t + 1, 3)


def test_empty_call(benchmark) -> None:
    f = InventoryGovernor(1.0).is_reducing
    benchmark(f, 0.0, True)


@pytest.mark.parametrize(
    "name,frames",
    [
        ("l2book20", [sb._l2book(20, 0.0), sb._l2book(20, 0.1)]),
        ("l2book5", [sb._l2book(5, 0.0), sb._l2book(5, 0.1)]),
        ("bbo", [sb._bbo(0.0), sb._bbo(0.1)]),
        ("trades", [sb._trades("B"), sb._trades("A")]),
    ],
)
def test_on_hl_frame(benchmark, warm, name, frames) -> None:
    s, clock = warm
    nxt = itertools.cycle(frames).__next__
    benchmark(lambda: s.on_hl_frame(nxt(), next(clock)))


@pytest.mark.parametrize(
    "name,frames",
    [
        ("bookTicker", [sb._ticker(0.0), sb._ticker(0.01)]),
        ("aggTrade", [sb._aggtrade(False), sb._aggtrade(True)]),
    ],
)
def test_on_binance_frame(benchmark, warm, name, frames) -> None:
    s, clock = warm
    nxt = itertools.cycle(frames).__next__
    benchmark(lambda: s.on_binance_frame(nxt(), next(clock)))


def test_snapshot(benchmark, warm) -> None:
    s, clock = warm
    benchmark(lambda: s.snapshot(next(clock)))


@pytest.mark.parametrize(
    "frame", [sb._l2book(20, 0.0), sb._ticker(0.0)], ids=["l2book20", "ticker"]
)
def test_orjson_loads_baseline(benchmark, frame) -> None:
    benchmark(orjson.loads, frame)
