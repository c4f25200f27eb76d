"""The bot's memory stays bounded however long it runs (issue 13 item 10): per-cycle samples
live in fixed rings, so a 10-minute paper run no longer grows by one entry per cycle."""

from __future__ import annotations

import numpy as np
from mmfast.live.trader import TraderStats


def test_cycle_samples_are_bounded_and_keep_the_most_recent():
    st = TraderStats()
    n = 300_000
    for i in range(n):
        st.cycle_ns.append(i)
    assert len(st.cycle_ns) <= 100_000
    recent = np.asarray(list(st.cycle_ns))
    assert recent[-1] == n - 1 and np.all(np.diff(recent) == 1)  # oldest dropped, in order
    for i in range(n):
        st.tick_to_send_ns.append(i)
    assert len(st.tick_to_send_ns) <= 100_000
