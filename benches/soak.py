"""Soak: the real bot (`mmfast paper --venue`) against the local venue with the synthetic market
at 10x its event rate (trades, Binance trades, jumps), for a configurable time (issue 13).

Records, every `--every` seconds: the bot's and the venue's RSS (MiB, /proc), the bot's cycle
latency p50/p99 over its most recent 2000 cycles (us), cycles and actions per minute. Prints a
table and a verdict against the targets (bot RSS <= 150 MiB, < 2% growth after warm-up), and
writes everything as JSON with `--out`. The baseline in the same run is the first sample after
warm-up. An hour is the real figure; CI runs a minute (`--duration 60`):

    python benches/soak.py --duration 3600 --out soak.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import select
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

RATE_X = 10.0
RSS_TARGET_MIB = 150.0
GROWTH_TARGET = 0.02
LINE = re.compile(
    r"t=\s*(?P<t>[\d.]+)s .*cycles=(?P<cycles>\d+) cycle_us p50=(?P<p50>[\d.]+) "
    r"p99=(?P<p99>[\d.]+) sent=(?P<sent>\d+)"
)


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def fast_asset() -> dict[str, Any]:
    from mmfast.backtest.markets import synthetic_asset

    a = synthetic_asset("demo", "ETH")  # mmfast paper's default market
    syn = a["synthetic"]
    syn.update(trade_rate=2.0 * RATE_X, binance_trade_rate=10.0 * RATE_X,
               jump_rate_per_min=0.5 * RATE_X)  # fmt: skip
    return a


def soak(duration_s: float, every_s: float, warmup_s: float) -> dict[str, Any]:
    from eth_account import Account
    from mmfast.live.venue_process import VenueProcess

    key = "0x" + secrets.token_hex(32)
    address = Account.from_key(key).address.lower()
    samples: list[dict[str, Any]] = []
    sim = json.dumps({"assets": [fast_asset()]})
    with tempfile.TemporaryDirectory() as tmp, VenueProcess(
        ["--market", "synthetic", "--seed", "11", "--sim", sim, "--no-ip-limit",
         "--fund", f"{address}=1000", "--max-position", f"{address}:ETH=1"]
    ) as venue:  # fmt: skip
        summary = Path(tmp) / "s.json"
        p = subprocess.Popen(
            [sys.executable, "-m", "mmfast.cli", "paper", "--plain", "--venue", venue.url,
             "--key-env", "--duration", str(duration_s), "--summary", str(summary)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "MMFAST_PRIVATE_KEY": key},
        )  # fmt: skip
        venue_pid = int(venue.info.get("pid", 0))
        assert p.stdout is not None
        next_t = 0.0
        last: dict[str, Any] | None = None
        while p.poll() is None:
            ready, _, _ = select.select([p.stdout], [], [], 1.0)
            if not ready:
                continue
            m = LINE.search(p.stdout.readline())
            if not m:
                continue
            t = float(m["t"])
            if t < next_t:
                continue
            next_t = t + every_s
            row: dict[str, Any] = {
                "t_s": t,
                "bot_rss_mib": rss_mib(p.pid),
                "venue_rss_mib": rss_mib(venue_pid) if venue_pid else None,
                "cycle_p50_us": float(m["p50"]),
                "cycle_p99_us": float(m["p99"]),
                "cycles": int(m["cycles"]),
                "actions": int(m["sent"]),
            }
            if last is not None and t > last["t_s"]:
                dt_min = (t - last["t_s"]) / 60
                row["cycles_per_min"] = round((row["cycles"] - last["cycles"]) / dt_min, 1)
                row["actions_per_min"] = round((row["actions"] - last["actions"]) / dt_min, 1)
            samples.append(row)
            last = row
            print(json.dumps(row), flush=True)
        p.wait()
        result = json.loads(summary.read_text()) if summary.is_file() else {}
    # The growth follows the bot's activity (fills, actions), which varies between runs: say it.
    activity = {k: result.get(k) for k in ("fills", "actions_sent", "cycles")}
    return {"samples": samples, "summary": result, **activity, **verdict(samples, warmup_s)}


def slope(ts: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over ts (units of y per unit of t)."""
    n = len(ts)
    mt, my = sum(ts) / n, sum(ys) / n
    var = sum((t - mt) ** 2 for t in ts)
    return sum((t - mt) * (y - my) for t, y in zip(ts, ys, strict=True)) / var if var else 0.0


def verdict(samples: list[dict[str, Any]], warmup_s: float) -> dict[str, Any]:
    after = [s for s in samples if s["t_s"] >= warmup_s and s["bot_rss_mib"]]
    if len(after) < 2:
        return {"verdict": "too short to judge growth (run longer than the warm-up)"}
    out: dict[str, Any] = {}
    for who in ("bot", "venue"):
        vals = [s[f"{who}_rss_mib"] for s in after if s.get(f"{who}_rss_mib")]
        if len(vals) >= 2:
            out[f"{who}_rss_baseline_mib"] = round(vals[0], 1)
            out[f"{who}_rss_end_mib"] = round(vals[-1], 1)
            out[f"{who}_rss_max_mib"] = round(max(vals), 1)
            out[f"{who}_rss_growth"] = round(vals[-1] / vals[0] - 1, 4)
            # The target is per hour: a shorter run is judged by its least-squares slope, not
            # by its end over its start (20 minutes of +1.5% is +4.5% an hour).
            ts = [s["t_s"] for s in after if s.get(f"{who}_rss_mib")]
            out[f"{who}_rss_growth_per_h"] = round(slope(ts, vals) * 3600 / vals[0], 4)
            out[f"{who}_rss_slope_kib_per_min"] = round(slope(ts, vals) * 60 * 1024, 1)
    growth = out["bot_rss_growth_per_h"]
    ok = out["bot_rss_max_mib"] <= RSS_TARGET_MIB and growth < GROWTH_TARGET
    out["verdict"] = (
        f"bot RSS max {out['bot_rss_max_mib']} MiB (target <= {RSS_TARGET_MIB:g}), growth "
        f"{growth:+.2%} per hour ({out['bot_rss_slope_kib_per_min']:+.1f} KiB/min) after "
        f"{warmup_s:g} s warm-up (least squares over "
        f"{(after[-1]['t_s'] - after[0]['t_s']) / 60:.0f} min; target < 2%/h): "
        + ("PASS" if ok else "FAIL")
    )
    out["pass"] = ok
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds (3600 for the figure)")
    ap.add_argument("--every", type=float, default=10.0, help="sampling period, s")
    ap.add_argument("--warmup", type=float, default=None, help="s (default: a sixth of the run)")
    ap.add_argument("--out", help="write the samples and verdict as JSON here")
    args = ap.parse_args()
    warmup = args.warmup if args.warmup is not None else args.duration / 6
    res = soak(args.duration, args.every, warmup)
    print(res["verdict"], f"[fills {res['fills']}, actions {res['actions_sent']}]")
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=2))
    return 0 if res.get("pass", True) else 1


if __name__ == "__main__":
    sys.exit(main())
