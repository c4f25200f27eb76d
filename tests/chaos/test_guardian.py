"""The guardian (issue 13 item 3): SIGKILL the bot while it quotes, count the venue's open orders
of the account 2 s later: 0 with the guardian; without it they stay resting (the defect)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from .helpers import new_key, open_orders, start_bot, venue

pytestmark = [pytest.mark.timeout(150), pytest.mark.slow]


@pytest.mark.parametrize("guardian", [True, False], ids=["guardian", "no-guardian"])
def test_sigkilled_bot_leaves_no_order_with_the_guardian(tmp_path: Path, guardian: bool) -> None:
    key, address = new_key()
    with venue(address) as v:
        p = start_bot(tmp_path, v.url, key, *([] if guardian else ["--no-guardian"]))
        try:
            deadline = time.monotonic() + 20
            while not open_orders(v.url, address) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert open_orders(v.url, address), "the bot never rested an order"
        finally:
            p.send_signal(signal.SIGKILL)
            p.communicate(timeout=10)
        time.sleep(2.0)
        left = open_orders(v.url, address)
        print(f"open orders 2 s after SIGKILL ({'with' if guardian else 'without'} guardian): "
              f"{len(left)}")  # fmt: skip
        if guardian:
            assert left == [], f"{len(left)} order(s) still open 2 s after SIGKILL"
        else:
            assert left, "without the guardian the orders stay (if not, this test proves nothing)"
