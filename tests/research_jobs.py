"""A small deterministic picklable stand-in for `mmfast.backtest.run_job`, for the execution
layer's cluster and tune tests: the summary depends on the seed, the overrides and the bytes of
the files the job names, so a result proves which inputs reached the worker."""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StandinJob:
    market: str = "synthetic:default"
    seed: int = 1
    duration_s: float = 1800.0
    config: str | None = None
    overrides: tuple[tuple[str, object], ...] = ()
    hl: str | None = None
    binance: str | None = None
    sleep_s: float = 0.0


def standin_run_job(job: StandinJob) -> dict:
    rng = random.Random(job.seed)
    params = {k: float(v) if k != "mode_policy" else v for k, v in job.overrides}
    x = float(params.get("risk_aversion", 0.02))
    noise = rng.gauss(0.0, 1.0)
    digest = ""
    for name in ("hl", "binance", "config"):
        path = getattr(job, name)
        if path:
            digest += hashlib.sha256(Path(path).read_bytes()).hexdigest()[:8]
    if job.sleep_s:
        time.sleep(job.sleep_s)
    pnl = 10.0 - 2000.0 * (x - 0.05) ** 2 + noise
    return {
        "pnl_total": pnl,
        "fills": rng.randrange(100),
        "zone_time_frac": {"Green": 0.9, "Yellow": 0.1, "Red": 0.0, "Kill": 0.0},
        "invariant_breaches": 0,
        "files": digest,
        "duration_s": job.duration_s,
    }
