"""Backtests (SPEC 11): the live quote engine over synthetic or recorded markets, through the
venue's matching engine, with feed and order latency. The Job API (COMMON contract 1):

    from mmfast.backtest import Job, run_job
    summary = run_job(Job(market="synthetic:toxic", seed=3, duration_s=600))

`run_backtest(job, progress=True)` also returns the per-time series as numpy arrays.
"""

from __future__ import annotations

from mmfast.backtest.job import TIMING_KEYS, Job
from mmfast.backtest.markets import PRESETS
from mmfast.backtest.run import build, run_backtest, run_job

__all__ = ["PRESETS", "TIMING_KEYS", "Job", "build", "run_backtest", "run_job"]
