"""The quote cycle (SPEC 12) as pytest-benchmark suites: the Rust cycle from Python in the SPEC
state (5 levels per side, 10 resting orders, signals warm), beside its same-run baselines, the
empty PyO3 call and the pure-Python reference of the same arithmetic. Run: `pytest benches`."""

from __future__ import annotations

from mmfast import _core
from mmfast.benchmarks.engine import ASK, BID, T0, reference_state, warm_engine
from mmfast.reference import cycle as ref_cycle


def test_cycle_from_python(benchmark):
    e = warm_engine()
    e.on_binance_top(BID - 0.1, ASK - 0.1, T0 + 150)
    e.on_hl_top(BID, 2.0, ASK, 2.0, T0 + 150)
    out = benchmark(e.cycle, T0 + 150)
    assert out.n_actions == 0


def test_baseline_empty_call(benchmark):
    f = _core.InventoryGovernor(1.0).is_reducing
    benchmark(f, 0.0, True)


def test_baseline_python_reference_cycle(benchmark):
    p, st = reference_state(warm_engine(), T0 + 1_000)
    out = benchmark(ref_cycle.cycle, p, st)
    assert out["actions"] == []
