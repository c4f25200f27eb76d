"""Timing helpers shared by the benchmarks: per-call samples in ns with the loop overhead
measured and subtracted, and percentiles."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import numpy as np


def sample_ns(fn: Callable[[], object], n: int, batch: int = 1, warmup: int = 200) -> np.ndarray:
    """Times `n` samples of `batch` back-to-back calls of `fn`; returns ns per call per sample.

    GC is paused while sampling so that a collection does not land in one call's time.
    """
    for _ in range(warmup):
        fn()
    out = np.empty(n, dtype=np.float64)
    clock = time.perf_counter_ns
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(n):
            t0 = clock()
            for _ in range(batch):
                fn()
            out[i] = (clock() - t0) / batch
    finally:
        if was_enabled:
            gc.enable()
    return out


def pct(samples: np.ndarray, q: float) -> float:
    return float(np.percentile(samples, q))


def median_ns(fn: Callable[[], object], n: int = 2000, batch: int = 50) -> float:
    return pct(sample_ns(fn, n, batch), 50)
