"""The real bot (`mmfast paper --venue`) against injected faults (issue 13). For every run: 0
safety-invariant breaches, 0 orders left behind, 0 duplicate orders, the bot's position equal to
the venue's. Timing is asserted only against the documented bounds (stale threshold + 1 s), with
a generous margin for this shared machine; everything else is counted."""

from __future__ import annotations

import contextlib
import json
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import Stderr, new_key, open_orders, start_bot, venue

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]

HL_STALE_S = 3.0  # risk.hl_stale_ms default
MARGIN_S = 3.0  # this machine's scheduling noise; the bound itself is HL_STALE_S + 1 s


def inject(url: str, kind: str, duration_s: float = 5.0) -> None:
    body = json.dumps({"kind": kind, "duration_s": duration_s}).encode()
    req = urllib.request.Request(url + "/venue/chaos", data=body, method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status == 200


def wait_for(pred: Any, timeout_s: float, step_s: float = 0.1) -> float | None:
    """Seconds until `pred()` held, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if pred():
            return time.monotonic() - t0
        time.sleep(step_s)
    return None


def finish(p: Any, tmp_path: Path, read: str = "") -> dict[str, Any]:
    """SIGINT, then the summary; `read` is the stderr a test already read."""
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    err = read + err
    assert "Traceback" not in err, err[-3000:]
    return json.loads((tmp_path / "s.json").read_text())


@contextlib.contextmanager
def quoting_bot(tmp_path: Path, *args: str) -> Iterator[tuple[Any, str, Any]]:
    """A venue, and the bot on it with a resting order: `(venue, address, bot process)`."""
    key, address = new_key()
    with venue(address, "--max-position", f"{address}:ETH=1") as v:
        p = start_bot(tmp_path, v.url, key, *args)
        assert wait_for(lambda: open_orders(v.url, address), 20)
        yield v, address, p


def resting(v: Any, address: str, *streams: Stderr) -> bool:
    """Whether the bot has an order on the venue; drains the bot's output meanwhile."""
    for s in streams:
        s.poll()
    return bool(open_orders(v.url, address))


def what_the_bot_said(err: Stderr, out: Stderr) -> str:
    """The bot's log and its last progress lines (state, mode, caps, quotes), for a failure."""
    err.wait(lambda _: False, 1.0)
    out.wait(lambda _: False, 0.5)
    return f"stderr:\n{err.text[-4000:]}\nprogress:\n{out.text[-3000:]}"


def check_clean(s: dict[str, Any]) -> None:
    assert s["invariant_breaches"] == 0
    assert s["orphan_orders"] == 0
    assert s["duplicate_orders"] == 0
    assert s["position_mismatch"] == pytest.approx(0.0, abs=1e-9)


def test_hyperliquid_freeze_cancels_within_the_bound_then_resumes(tmp_path: Path) -> None:
    with quoting_bot(tmp_path, "--log-level", "INFO") as (v, address, p):
        err, out = Stderr(p), Stderr(p, "stdout")
        try:
            inject(v.url, "freeze_hl_ws", 6.0)
            gone = wait_for(lambda: not resting(v, address, err, out), HL_STALE_S + 1 + MARGIN_S)
            said = "" if gone is not None else what_the_bot_said(err, out)
            assert gone is not None, f"quotes still resting after stale + 1 s (+margin): {said}"
            back = wait_for(lambda: resting(v, address, err, out), 60)
            said = "" if back is not None else what_the_bot_said(err, out)
            assert back is not None, f"quoting did not resume after the freeze: {said}"
        finally:
            s = finish(p, tmp_path, err.text)
        check_clean(s)


def test_lost_binance_feed_caps_without_cancelling_everything(tmp_path: Path) -> None:
    with quoting_bot(tmp_path) as (v, address, p):
        try:
            inject(v.url, "freeze_binance_ws", 10.0)
            samples = []
            t0 = time.monotonic()
            while time.monotonic() - t0 < 10.0:
                samples.append(len(open_orders(v.url, address)))
                time.sleep(0.25)
        finally:
            s = finish(p, tmp_path)
        # still quoting through the loss: a requote to the capped size may pass through 0 for
        # an instant, a cancel-all-until-fresh would leave nothing for the whole 10 s
        longest_gap, gap = 0, 0
        for n in samples:
            gap = gap + 1 if n == 0 else 0
            longest_gap = max(longest_gap, gap)
        assert longest_gap * 0.25 <= 2.5, samples
        assert sum(n > 0 for n in samples) >= 0.5 * len(samples), samples
        # the cap for a missing lead: `lead_lost`, or `no_signal` while the engine has not yet
        # had an actionable cross-venue signal (the synthetic market takes longer than this run)
        caps = s["cap_samples"]
        assert caps.get("lead_lost", 0) + caps.get("no_signal", 0) > 0, caps
        check_clean(s)


def test_random_faults_leave_no_trace(tmp_path: Path) -> None:
    key, address = new_key()
    # Each fault kind draws from its own stream seeded "SEED:kind", so which draws hit does not
    # depend on timing: seed 5's reject stream hits on the 20th, 28th and 29th order or
    # batchModify action (the bot sends more than that in its first 10 s: requotes are
    # batchModify), its one_sided stream on the 19th bbo frame.
    spec = (
        "reject=0.15,ack_loss=0.03,ack_delay=0.03,one_sided=0.05,dup_fills=0.2,"
        "reorder_fills=0.2,drop_hl_ws@12s,drop_binance_ws@15s,rate_limit@18s+2s,seed=5"
    )
    with venue(address, "--max-position", f"{address}:ETH=1", "--chaos", spec) as v:
        p = start_bot(tmp_path, v.url, key, duration=25)
        _, err = p.communicate(timeout=120)
        s = json.loads((tmp_path / "s.json").read_text())
        assert "Traceback" not in err, err[-3000:]
    faults = s["faults_injected"]
    for kind in ("reject", "one_sided", "drop_hl_ws", "drop_binance_ws", "rate_limit"):
        assert faults.get(kind, 0) > 0, faults
    check_clean(s)


def test_frozen_sockets_are_found_and_replaced_then_quoting_resumes(tmp_path: Path) -> None:
    """Issue 13 item 11: every Hyperliquid socket freezes. The order and user sockets are
    declared dead by their liveness check (idle ping after a third of the stale threshold, pong
    timeout 4 s: ~5 s, well inside the freeze) and replaced, the bot resynchronises with the
    exchange, quotes again, and its position is the venue's (fills sent while frozen were lost
    with the frames). Each step is waited for as the bot reports it or the venue shows it,
    never after a fixed sleep, so a slow machine only takes longer."""
    freeze_s = 12.0
    with quoting_bot(tmp_path, "--log-level", "INFO") as (v, address, p):
        err, out = Stderr(p), Stderr(p, "stdout")
        try:
            inject(v.url, "freeze_hl_ws", freeze_s)
            gone = wait_for(lambda: not resting(v, address, err, out), freeze_s)
            assert gone is not None, "quotes still resting during the freeze"
            dead = err.wait(
                lambda t: all(f"ws: {n}: disconnected" in t for n in ("orders", "user", "market")),
                freeze_s + 30,
            )
            assert dead, f"a frozen socket was not found dead: {err.text[-3000:]}"
            back = wait_for(lambda: resting(v, address, err, out), 60)
            said = "" if back is not None else what_the_bot_said(err, out)
            assert back is not None, f"quoting did not resume after the freeze: {said}"
        finally:
            s = finish(p, tmp_path, err.text)
        assert s["reconnects"] >= 3, s["reconnects"]  # orders, user and market sockets
        check_clean(s)
