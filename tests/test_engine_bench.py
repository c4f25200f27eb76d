"""`mmfast bench` for the engine area: the figures the issue names are printed, with --json as
the only stdout. No timing is asserted (figures vary by machine); only that they exist and are
well-formed, and that the benchmark state is the one the SPEC names."""

from __future__ import annotations

import math
import subprocess
import sys

import orjson
import pytest
from mmfast.benchmarks.engine import T0, reference_state, warm_engine


def test_benchmark_state_is_the_spec_state():
    e = warm_engine()
    assert len(e.orders) == 10
    assert sorted(o[2] for o in e.orders) == ["ask"] * 5 + ["bid"] * 5
    _, st = reference_state(e, T0 + 1_000)
    assert len(st.orders) == 10


@pytest.mark.timeout(120)
def test_bench_json_prints_engine_figures_and_baselines():
    out = subprocess.run(
        [sys.executable, "-m", "mmfast.cli", "bench", "--json", "--quick",
         "--only", "baseline", "--only", "engine"],
        capture_output=True, check=True, timeout=110,
    )  # fmt: skip
    figures = orjson.loads(out.stdout)  # the only thing on stdout is one JSON object
    for key in ("cycle_p50_us", "cycle_p99_us", "empty_call_ns", "python_reference_ratio"):
        assert key in figures and math.isfinite(figures[key]) and figures[key] > 0, key
    assert figures["cycle_p99_us"] >= figures["cycle_p50_us"]
    assert "errors" not in figures
