"""The floor every other figure is read against: an empty call into the extension."""

from __future__ import annotations

from mmfast import _core
from mmfast.benchmarks.timing import median_ns


def run(quick: bool = False) -> dict[str, float]:
    n = 300 if quick else 3000
    f = _core.InventoryGovernor(1.0).is_reducing
    return {
        # The cheapest PyO3 method call with two scalar arguments: argument parsing + dispatch.
        "empty_call_ns": median_ns(lambda: f(0.0, True), n=n),
    }
