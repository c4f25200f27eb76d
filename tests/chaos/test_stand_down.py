"""The stale cancel also cancels the placements in flight, by cloid (issue 13).

The Hyperliquid sockets freeze (open, silent: no data, no `post` answer, no `orderUpdates`). A
second account fills the bot's resting bid at once; the bot's periodic reconciliation (by REST,
every 0.3 s here) finds the bid gone and the bot's next cycle (at least every 0.2 s here) places
a new one, before the stale cancel. That placement rests on the venue, but its answer and its
order update are lost with the frozen sockets: the bot knows it by its cloid alone. A cancel-all
by oid leaves it resting until a lookup settles it (here after `live.post_timeout_ms`, 60 s,
with silent sockets declared dead only after `live.pong_timeout_s`, 30 s): the old code left it
resting through the freeze. The stale cancel must cancel it by cloid: nothing of the bot rests
within stale + 1 s (+margin)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .helpers import Stderr, new_key, open_orders, start_bot, venue
from .test_chaos_runs import HL_STALE_S, MARGIN_S, finish, resting, wait_for
from .test_shutdown_position import freeze_then_fill_the_bid

pytestmark = [pytest.mark.timeout(150), pytest.mark.slow]


def test_stale_cancel_cancels_a_placement_in_flight_by_cloid(tmp_path: Path) -> None:
    key, address = new_key()
    taker_key, taker = new_key()
    with venue(address, "--max-position", f"{address}:ETH=1", "--fund", f"{taker}=1000000") as v:
        p = start_bot(
            tmp_path, v.url, key, "--log-level", "INFO",
            "--set", "live.pong_timeout_s=30", "--set", "live.post_timeout_ms=60000",
            "--set", "live.reconcile_interval_s=0.3",
            "--set", "impulse_control.max_cycle_interval_ms=200",
        )  # fmt: skip
        err, out = Stderr(p), Stderr(p, "stdout")
        try:
            freeze_then_fill_the_bid(v, address, taker_key, err, out)
            gone = wait_for(lambda: not resting(v, address, err, out), HL_STALE_S + 1 + MARGIN_S)
            err.poll()
            left = open_orders(v.url, address)
            assert gone is not None, (
                f"{len(left)} order(s) still resting after stale + 1 s (+margin): {left}\n"
                f"{err.text[-3000:]}"
            )
            # the scenario held: the stale cancel had a placement in flight to cancel by cloid
            said = err.wait(lambda t: "cancel all (stale)" in t, 5.0)
            m = re.search(r"cancel all \(stale\): \d+ order\(s\), (\d+) placement", err.text)
            assert said and m is not None and int(m.group(1)) > 0, err.text[-3000:]
        finally:
            s = finish(p, tmp_path, err.text)
        assert s["invariant_breaches"] == 0
        assert s["orphan_orders"] == 0
