"""Replay of a real Hyperliquid recording through the matching engine (SPEC 11): the book the
venue serves is the recorded one, and recorded trades fill a resting order only once the size
ahead of it at its price has traded."""

from __future__ import annotations

import orjson
from mmfast._core import MatchingEngine
from mmfast.venue.replay import read_frames

USER = "0x" + "a1" * 20
T0 = 1_737_918_843_000


def engine() -> MatchingEngine:
    cfg = {
        "market": "external",
        "queue": {"cancel_weight": 0.0, "power": 1.0},
        "assets": [{"coin": "BTC", "sz_decimals": 5, "mid": 105_000.0, "max_leverage": 40}],
    }
    e = MatchingEngine(orjson.dumps(cfg).decode())
    e.add_account(USER, 1e7)
    return e


def test_replayed_book_is_the_recorded_book(real_data):
    e = engine()
    n_books = n_trades = 0
    for _, frame in read_frames(real_data / "hyperliquid_btcusd_20250126.gz"):
        if frame["channel"] == "l2Book":
            assert e.apply_l2(orjson.dumps(frame["data"]), T0)
            served = orjson.loads(e.l2_book("BTC", 20))["levels"]
            rec = frame["data"]["levels"]
            for side in range(2):
                assert [(float(a["px"]), float(a["sz"]), a["n"]) for a in served[side]] == [
                    (float(b["px"]), float(b["sz"]), b["n"]) for b in rec[side]
                ]
            n_books += 1
        elif frame["channel"] == "trades":
            n_trades += e.apply_trades(orjson.dumps(frame["data"]), T0)
    assert (n_books, n_trades) == (46, 64)


def test_recorded_trades_fill_after_the_queue_ahead(real_data):
    e = engine()
    frames = [f for _, f in read_frames(real_data / "hyperliquid_btcusd_20250126.gz")]
    first_book = next(f["data"] for f in frames if f["channel"] == "l2Book")
    e.apply_l2(orjson.dumps(first_book), T0)
    best_ask = first_book["levels"][1][0]
    ahead = float(best_ask["sz"])
    action = {
        "type": "order",
        "grouping": "na",
        "orders": [
            {
                "a": 0,
                "b": False,
                "p": best_ask["px"],
                "s": "0.01",
                "r": False,
                "t": {"limit": {"tif": "Alo"}},
            }
        ],
    }
    e.submit(USER, orjson.dumps(action), T0, None, None, T0)
    out = orjson.loads(e.end_block(T0))
    assert "resting" in out["responses"][0][1]["response"]["data"]["statuses"][0]
    px = best_ask["px"]
    buy = {"coin": "BTC", "side": "B", "px": px, "sz": f"{ahead - 0.001:.5f}"}
    e.apply_trades(orjson.dumps([buy]), T0 + 1)
    assert orjson.loads(e.end_block(T0 + 2))["fills"] == {}
    e.apply_trades(orjson.dumps([{**buy, "sz": "0.003"}]), T0 + 3)
    fills = orjson.loads(e.end_block(T0 + 4))["fills"][USER]
    assert [(f["px"], f["sz"]) for f in fills] == [(px.rstrip("0").rstrip("."), "0.002")]
