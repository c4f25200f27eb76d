"""Side by side, in one run: hftbacktest's numba loop and `mmfast backtest`'s loop stepping the
same Binance USD-M recording (shared/data/real/usdm_btcusdt_20240808.gz), in events per second.

hftbacktest is never a dependency of mmfast; give it its own benchmark-only environment and
let that environment see this checkout's package (built with `maturin develop --release`):

    python3 -m venv .bench-venv && .bench-venv/bin/pip install hftbacktest orjson rich platformdirs
    PYTHONPATH=python .bench-venv/bin/python benches/backtest_vs_hftbacktest.py [--reps N]

hftbacktest's converter turns the recording into its event array first (timed apart, printed as
`hftbacktest_convert_s`); its events are that array's rows, ours the recording's market records
(book level changes, trades, tops): the same depth and trade messages, counted each its own way,
both printed.
"""

from __future__ import annotations

import argparse
import sys
import time

from mmfast.benchmarks import backtest
from mmfast.benchmarks.catalog import table


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=3, help="timed runs of each loop, best kept")
    args = p.parse_args()
    path = backtest.recording()
    if path is None:
        print("recording not found: set MMFAST_SHARED", file=sys.stderr)
        return 2
    try:
        from mmfast.benchmarks import hftbacktest_loop
    except ImportError as e:
        print(
            f"hftbacktest is not importable here ({e}); see this file's docstring", file=sys.stderr
        )
        return 2
    del hftbacktest_loop  # importable: backtest.run measures it beside ours
    t0 = time.perf_counter()
    figures: dict[str, object] = backtest.run(quick=args.reps <= 1)
    for line in table(figures):
        print(line)
    print(f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
