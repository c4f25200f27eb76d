"""Shutdown re-reads the final position (issue 13): fills the bot never heard of still count.

The Hyperliquid sockets freeze (open, silent), a second account sells into the bot's resting bid
at once, before the stale cancel, so the fill happens on the venue while the bot's user socket
cannot deliver it; the bot is stopped while still frozen, before anything resynchronises it
(its silent sockets are declared dead only after `live.pong_timeout_s`, 30 s here). Its
summary's position must be the venue's: once every order is verified cancelled, shutdown reads
the position once more and adopts it. Without that read the bot ends believing it is flat."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from hyperliquid.info import Info

from .helpers import Stderr, new_key, open_orders, start_bot, venue
from .test_chaos_runs import inject, resting, wait_for

pytestmark = [pytest.mark.timeout(150), pytest.mark.slow]


def freeze_then_fill_the_bid(
    v: Any,
    address: str,
    taker_key: str,
    *streams: Stderr,
    freeze_s: float = 25.0,
    owner_key: str | None = None,
) -> int:
    """Once the bot rests orders: freezes the Hyperliquid sockets for `freeze_s`, then fills the
    bot's best bid at once (long before the stale cancel) with an IOC sell from the second
    account, signed by the official SDK, large enough to sweep the venue's own book down to
    the bid's price. Returns the venue time (ms) just before the freeze: the bot's fills from
    then on happened while it could hear nothing (its bid may have been modified, and so have
    another oid, between reading it and the sell landing)."""
    import eth_account
    from hyperliquid.exchange import Exchange

    assert wait_for(lambda: resting(v, address, *streams), 20), "nothing rests"
    frozen_ms = int(time.time() * 1000)
    inject(v.url, "freeze_hl_ws", freeze_s)
    # The last frames before the freeze may still move the bid (a requote lands a new oid at a
    # new price); after them nothing does until the stale cancel at 3 s.
    time.sleep(0.5)
    bids = [o for o in open_orders(v.url, address) if o["side"] == "B"]
    assert bids, "the bot has no resting bid"
    bid = max(bids, key=lambda o: float(o["limitPx"]))
    if owner_key is not None:
        # the bot's asks cancelled behind its back (it hears nothing): no sell fill of the
        # synthetic takers can offset the bid's before the stale cancel
        owner = Exchange(eth_account.Account.from_key(owner_key), base_url=v.url, timeout=10)
        for o in open_orders(v.url, address):
            if o["side"] == "A":
                owner.cancel("ETH", int(o["oid"]))
    ex = Exchange(eth_account.Account.from_key(taker_key), base_url=v.url, timeout=10)
    r = ex.order("ETH", False, 20.0, float(bid["limitPx"]), {"limit": {"tif": "Ioc"}})
    assert r["status"] == "ok", r
    return frozen_ms


def position_per_info(url: str, address: str) -> float:
    """The account's position as the venue's `/info clearinghouseState` gives it."""
    st = Info(url, skip_ws=True).user_state(address)
    return sum(float(a["position"]["szi"]) for a in st["assetPositions"])


def test_shutdown_adopts_fills_a_frozen_socket_never_delivered(tmp_path: Path) -> None:
    key, address = new_key()
    taker_key, taker = new_key()
    with venue(address, "--max-position", f"{address}:ETH=1", "--fund", f"{taker}=1000000") as v:
        p = start_bot(
            tmp_path, v.url, key, "--log-level", "INFO", "--set", "live.pong_timeout_s=30"
        )
        err, out = Stderr(p), Stderr(p, "stdout")
        try:
            before = position_per_info(v.url, address)
            frozen_ms = freeze_then_fill_the_bid(v, address, taker_key, err, out, owner_key=key)
            # the stale cancel (by REST) empties the book; the bot has heard of no fill
            assert err.wait(lambda t: "cancel all (stale)" in t, 15), err.text[-3000:]
            assert wait_for(lambda: not resting(v, address, err, out), 10)
        finally:
            p.send_signal(signal.SIGINT)
            _, rest = p.communicate(timeout=90)
        text = err.text + rest
        assert "Traceback" not in text, text[-3000:]
        # the scenario held: nothing resynchronised the bot before it stopped
        assert "resynchronising" not in text, text[-3000:]
        s = json.loads((tmp_path / "s.json").read_text())
        # the scenario held: the bid filled on the venue during the freeze, so the position
        # moved there while the bot heard nothing
        fills = Info(v.url, skip_ws=True).user_fills(address)
        assert any(f["time"] >= frozen_ms and f["side"] == "B" for f in fills), (frozen_ms, fills)
        assert s["venue_position"] != pytest.approx(before, abs=1e-9), (before, s)
    assert s["position"] == pytest.approx(s["venue_position"], abs=1e-9)
    assert s["position_mismatch"] == pytest.approx(0.0, abs=1e-9)
    assert s["orphan_orders"] == 0
    assert s["invariant_breaches"] == 0
