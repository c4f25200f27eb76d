"""Benchmarks behind `mmfast bench`: each area module has `run(quick: bool) -> dict[str, float]`
returning named figures (the SPEC's names, e.g. `cycle_p50_us`) together with the baselines
measured in the same run (`empty_call_ns`, `orjson_loads_us`, ...). Timing helpers live in
`timing.py`. Add an area by appending its module name to `AREAS`."""

from __future__ import annotations

# Module names under mmfast.benchmarks, run in this order.
AREAS: list[str] = [
    "baseline",
    "book",
    "engine",
    "signing",
    "venue",
    "signals",
    "live",
    "backtest",
]
