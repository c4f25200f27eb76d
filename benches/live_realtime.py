"""`live.realtime_priority` measured: the live benchmark's tick to order (the real bot against
the minimal frame source, `mmfast bench --only live`'s first figure) with the bot's event loop
under normal scheduling and under SCHED_FIFO, in interleaved rounds in one run, each beside the
bare echo round trip measured in the same run. A third row puts the frame source under SCHED_FIFO
too: the source stands for the exchange, which in production is not on the bot's machine, so
its own waits for a CPU on this one are the apparatus's, not the bot's. Also, per tick, the time
the bot's process spent runnable but waiting for a CPU (`/proc/self/schedstat`, whole run
including start-up, divided by the ticks): what real-time scheduling removes.

Needs root or CAP_SYS_NICE (as the option does):

    sudo .venv/bin/python benches/live_realtime.py [--pairs 3] [--ticks 1000] [--priority 10]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from mmfast.benchmarks import live
from mmfast.live.realtime import apply_realtime_priority


def _runq_wait_ns() -> int:
    with open("/proc/self/schedstat") as f:
        return int(f.read().split()[1])


def one(ticks: int, priority: int, source_too: bool) -> dict[str, float]:
    if source_too:  # inherited by the source's process (no reset on fork)
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    else:
        apply_realtime_priority(priority)
    w0 = _runq_wait_ns()
    try:
        src, echo, internal = live._through(live._source_child, ticks, 1600, 1000)
    finally:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    s = np.asarray(src["samples"])
    return {
        "p50": float(np.percentile(s, 50)),
        "p99": float(np.percentile(s, 99)),
        "echo_p50": float(np.percentile(echo, 50)),
        "echo_p99": float(np.percentile(echo, 99)),
        "inside_bot_p50": float(np.percentile(internal, 50)),
        "runq_wait_per_tick": (_runq_wait_ns() - w0) / 1e3 / ticks,
        "misses": float(src["misses"]),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=3, help="rounds of the three")
    p.add_argument("--ticks", type=int, default=1000)
    p.add_argument("--priority", type=int, default=10)
    args = p.parse_args()
    print(
        f"{'scheduling':<14}{'t2o p50':>10}{'t2o p99':>10}{'echo p50':>10}{'echo p99':>10}"
        f"{'in bot p50':>12}{'runq wait/tick':>16}  (us; ticks {args.ticks})"
    )
    for _ in range(args.pairs):
        for prio, source_too in ((0, False), (args.priority, False), (args.priority, True)):
            r = one(args.ticks, prio, source_too)
            name = ("both FIFO" if source_too else "bot FIFO") if prio else "normal"
            print(
                f"{name:<14}{r['p50']:>10.0f}{r['p99']:>10.0f}{r['echo_p50']:>10.1f}"
                f"{r['echo_p99']:>10.0f}{r['inside_bot_p50']:>12.0f}"
                f"{r['runq_wait_per_tick']:>16.0f}"
                + (f"  misses {r['misses']:.0f}" if r["misses"] else ""),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
