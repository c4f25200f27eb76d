"""`live.realtime_priority`: the event loop under real-time scheduling (SCHED_FIFO).

On a machine with other work, a frame that arrives while the bot's process is runnable but
waiting for a CPU waits behind that work: on the 2-vCPU bench machine under load (other builds,
backtests), about 0.4-0.8 ms per tick on average, which is the tail of tick-to-order. A
SCHED_FIFO thread preempts every normal one, so that wait goes (benches/live_realtime.py:
p99 2.3-3.4 ms -> 0.43-0.68 ms, p50 unchanged). The loop is event-driven, so it still sleeps
between frames; the kernel's real-time throttling keeps 5% of each CPU for the rest regardless.

Applied to the calling thread (the event loop's; threads it starts later inherit it), with
SCHED_RESET_ON_FORK so that processes it starts (the guardian) run normally.
"""

from __future__ import annotations

import os

from mmfast.errors import ConfigError


def apply_realtime_priority(priority: int) -> bool:
    """Puts the calling thread under SCHED_FIFO at `priority` (1-99); 0 does nothing. True when
    applied. Raises `ConfigError` naming `live.realtime_priority` when the system refuses."""
    if priority <= 0:
        return False
    field = f"live.realtime_priority = {priority}"
    if not hasattr(os, "SCHED_FIFO"):
        raise ConfigError(f"{field}: real-time scheduling is not available on this system; set 0")
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO | os.SCHED_RESET_ON_FORK, os.sched_param(priority))
    except PermissionError:
        raise ConfigError(
            f"{field}: this process may not use real-time scheduling; run as root, grant "
            "CAP_SYS_NICE (e.g. a systemd unit with AmbientCapabilities=CAP_SYS_NICE), or raise "
            "the rtprio limit (/etc/security/limits.conf); or set 0"
        ) from None
    except OSError as e:
        raise ConfigError(
            f"{field}: the system refused real-time scheduling ({e}); set 0"
        ) from None
    return True
