"""`live.realtime_priority`: the event loop under SCHED_FIFO, its processes not; a refusal is a
`ConfigError` naming the field and the fix. Run in child processes: the test runner's own
scheduling is never changed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from mmfast.live.realtime import apply_realtime_priority

PROBE = """
import os, sys
from mmfast.errors import ConfigError
from mmfast.live.realtime import apply_realtime_priority
if sys.argv[1] == "drop":
    os.setgid(65534); os.setuid(65534)
try:
    apply_realtime_priority(5)
except ConfigError as e:
    print("refused", e)
    raise SystemExit(0)
pid = os.fork()
if pid == 0:
    os._exit(os.sched_getscheduler(0))
_, status = os.waitpid(pid, 0)
print("applied", os.sched_getscheduler(0), os.sched_getparam(0).sched_priority,
      os.waitstatus_to_exitcode(status))
"""


def probe(mode: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_zero_leaves_the_scheduler_alone() -> None:
    before = (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority)
    assert apply_realtime_priority(0) is False
    assert (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority) == before


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to be allowed real-time scheduling")
def test_the_loop_runs_fifo_and_its_children_do_not() -> None:
    got = probe("keep")
    if got.startswith("refused") and "refused real-time scheduling" in got:
        pytest.skip(f"this container denies SCHED_FIFO even to root: {got}")
    fifo = os.SCHED_FIFO | os.SCHED_RESET_ON_FORK  # the child is reset to normal scheduling
    assert got == f"applied {fifo} 5 {os.SCHED_OTHER}", got


def test_a_refusal_names_the_field_and_the_fix() -> None:
    got = probe("drop" if os.geteuid() == 0 else "keep")  # as an unprivileged user
    assert got.startswith("refused live.realtime_priority = 5:"), got
    assert "CAP_SYS_NICE" in got and "set 0" in got
