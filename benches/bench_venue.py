"""Venue throughput (SPEC 11): `pytest benches/bench_venue.py` or `python benches/bench_venue.py`.

The pytest-benchmark part times the matching engine's hot calls (submit of one signed ALO order
and its block; signer recovery of one body with mmfast and with the official SDK side by side).
The script part runs the end-to-end figure of `mmfast bench --only venue`: signed actions per
second through a venue in its own process, with the bare-HTTP floor of the same load.
"""

from __future__ import annotations

import time

import orjson
import pytest
from mmfast._core import MatchingEngine, recover_request
from mmfast.benchmarks import venue as venue_bench

USER = "0x" + "a1" * 20


@pytest.fixture
def engine() -> MatchingEngine:
    e = MatchingEngine(
        orjson.dumps(
            {"market": "static", "open_order_limit": 10**8, "request_buffer": 10**12}
        ).decode()
    )
    e.add_account(USER, 1e12)
    e.end_block(int(time.time() * 1000))
    return e


def test_engine_submit_and_block(benchmark, engine) -> None:
    now = int(time.time() * 1000)
    action = orjson.dumps(
        {
            "type": "order",
            "grouping": "na",
            "orders": [
                {
                    "a": 0,
                    "b": True,
                    "p": "1500",
                    "s": "0.01",
                    "r": False,
                    "t": {"limit": {"tif": "Alo"}},
                }
            ],
        }
    )
    nonce = [now]

    def one() -> None:
        nonce[0] += 1
        engine.submit(USER, action, nonce[0], None, None, now)
        engine.end_block(now)

    benchmark(one)


@pytest.mark.parametrize("who", ["mmfast", "sdk"])
def test_recover_one_body(benchmark, who: str) -> None:
    bodies, _, payloads = venue_bench._bodies(1)
    if who == "mmfast":
        benchmark(recover_request, bodies[0], False)
        return
    from hyperliquid.utils.signing import recover_agent_or_user_from_l1_action

    p = payloads[0]
    sig = {
        "r": int(p["signature"]["r"], 16),
        "s": int(p["signature"]["s"], 16),
        "v": p["signature"]["v"],
    }
    benchmark(recover_agent_or_user_from_l1_action, p["action"], sig, None, p["nonce"], None, False)


if __name__ == "__main__":
    for k, v in venue_bench.run(quick=False).items():
        print(f"{k:<28} {v:,.1f}")
