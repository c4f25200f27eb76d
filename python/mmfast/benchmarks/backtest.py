"""Backtest speed (issue 11 item 3): a Binance USD-M recording (shared/data/real, 5.7 min of
BTCUSDT depth diffs, trades and bookTicker) replayed as the market through `mmfast backtest`'s
loop, in market records per second. A record is one book level change, one trade or one top of
book: hftbacktest's event unit, so the figures read directly against its own.

- `backtest_events_per_s`: the bare replay loop (records, read back from the binary cache, into
  the venue's matching engine, block by block, no bot); the cache read is timed apart
  (`backtest_cache_load_s`), as hftbacktest's own loading is;
- `backtest_engine_events_per_s`: the same run with the full quote engine quoting (its cycles,
  orders through the matching engine, user frames, accounting);
- `backtest_json_events_per_s`: the bare loop from the gzipped JSON (`--no-cache`: decode, then
  replay), the path every run took before the cache, reported separately;
- `hftbacktest_events_per_s`: hftbacktest's numba loop on the same recording, when it is
  importable (a benchmark-only environment: `benches/backtest_vs_hftbacktest.py`).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from mmfast.benchmarks.catalog import NOT_INSTALLED

RECORDING = "usdm_btcusdt_20240808.gz"


def recording() -> Path | None:
    """The Binance recording, from `$MMFAST_SHARED/data/real` (default ../shared)."""
    p = Path(os.environ.get("MMFAST_SHARED", "../shared")) / "data" / "real" / RECORDING
    return p if p.is_file() else None


def replay_once(path: str, *, quote: bool, cache_dir: str | None) -> tuple[float, float, int]:
    """One backtest of the recording as the market: (load s, loop s, records). Loading is the
    decode (no cache) or the cache read; the loop is `run_until` to the end."""
    from mmfast._core import Backtest
    from mmfast.backtest import Job
    from mmfast.backtest.job import to_json
    from mmfast.backtest.run import build

    job = Job(market="replay", hl=path, duration_s=1e6, feed_latency="0", order_latency="0")
    cfg, spec = build(job)
    spec["cache_dir"] = cache_dir
    spec["quote"] = quote
    t0 = time.perf_counter()
    bt = Backtest(cfg, to_json(spec))
    t1 = time.perf_counter()
    bt.run_until(2**63 - 1)
    return t1 - t0, time.perf_counter() - t1, bt.replay_events


def run(quick: bool = False) -> dict[str, Any]:
    path = recording()
    if path is None:
        return {"backtest_events_per_s": "recording not found (set MMFAST_SHARED)"}
    reps = 1 if quick else 3
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as cache:
        load, loop, n = replay_once(str(path), quote=False, cache_dir=None)
        out["backtest_json_events_per_s"] = n / (load + loop)
        replay_once(str(path), quote=False, cache_dir=cache)  # writes the cache
        bare = [replay_once(str(path), quote=False, cache_dir=cache) for _ in range(reps)]
        out["backtest_events_per_s"] = n / min(b[1] for b in bare)
        out["backtest_cache_load_s"] = min(b[0] for b in bare)
        eng = min(replay_once(str(path), quote=True, cache_dir=cache)[1] for _ in range(reps))
        out["backtest_engine_events_per_s"] = n / eng
    out["backtest_replay_events"] = n
    try:
        from mmfast.benchmarks.hftbacktest_loop import measure
    except ImportError:
        out["hftbacktest_events_per_s"] = NOT_INSTALLED
    else:
        out.update(measure(str(path), reps))
    return out
