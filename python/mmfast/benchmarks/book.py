"""Market-data figures of SPEC 12: a Hyperliquid `l2Book` frame (bytes) into the book, 20 levels
and the 5-level `fast` frame, beside `orjson.loads` of the same 20-level frame in the same run;
and Binance diff-depth apply cost per level changed.

The frames are built here (same shape and size as the recorded ones: `{"n","px","sz"}` levels
around 105 000 USD, ~1.6 KB for 20+20 levels) so that `mmfast bench` runs from an installed wheel
without the recordings.
"""

from __future__ import annotations

import random

import orjson

from mmfast import BinanceBook, HlBook
from mmfast.benchmarks.timing import median_ns, sample_ns


def hl_l2book_frame(levels: int, seed: int = 1) -> bytes:
    """A BTC `l2Book` frame with `levels` per side, keys as Hyperliquid sends them."""
    rng = random.Random(seed)
    bid, ask = 105055, 105056
    bids, asks = [], []
    for _ in range(levels):
        bids.append({"n": rng.randint(1, 40), "px": f"{bid}.0", "sz": f"{rng.uniform(0, 20):.5f}"})
        asks.append({"n": rng.randint(1, 40), "px": f"{ask}.0", "sz": f"{rng.uniform(0, 20):.5f}"})
        bid -= rng.randint(1, 3)
        ask += rng.randint(1, 3)
    data = {"coin": "BTC", "levels": [bids, asks], "time": 1737918843542}
    return orjson.dumps({"channel": "l2Book", "data": data})


def binance_snapshot(levels: int = 1000) -> bytes:
    bids = [[f"{61800.0 - 0.1 * i:.2f}", "1.000"] for i in range(levels)]
    asks = [[f"{61800.1 + 0.1 * i:.2f}", "1.000"] for i in range(levels)]
    return orjson.dumps({"lastUpdateId": 1000, "E": 1, "T": 1, "bids": bids, "asks": asks})


def binance_diffs(count: int, per_side: int, seed: int = 2) -> tuple[list[bytes], int]:
    """`count` chained `depthUpdate` frames (combined-stream wrapped) of `per_side` levels a
    side, mostly near the touch, a fifth of them deletions; returns the frames and the number of
    levels they carry."""
    rng = random.Random(seed)
    frames, u = [], 1000
    for _ in range(count):
        side = []
        for is_bid in (True, False):
            lv = []
            for _ in range(per_side):
                off = min(int(rng.expovariate(1 / 20)), 999)
                px = 61800.0 - 0.1 * off if is_bid else 61800.1 + 0.1 * off
                qty = "0.000" if rng.random() < 0.2 else f"{rng.uniform(0.001, 5):.3f}"
                lv.append([f"{px:.2f}", qty])
            side.append(lv)
        data = {
            "e": "depthUpdate",
            "E": 1,
            "T": 1,
            "s": "BTCUSDT",
            "U": u,
            "u": u + 10,
            "pu": u - 1,
            "b": side[0],
            "a": side[1],
        }
        frames.append(orjson.dumps({"stream": "btcusdt@depth@0ms", "data": data}))
        # The next frame starts right after this one: its pu is this frame's u.
        u += 11
    return frames, count * 2 * per_side


def run(quick: bool = False) -> dict[str, float]:
    n = 300 if quick else 3000
    full, fast = hl_l2book_frame(20), hl_l2book_frame(5)
    book = HlBook(5)
    apply = book.apply
    if not (apply(full) and apply(fast)):
        raise RuntimeError("benchmark frames were not applied")
    figures = {
        "hl_book_update_us": median_ns(lambda: apply(full), n=n) / 1e3,
        "hl_book_update_fast_us": median_ns(lambda: apply(fast), n=n) / 1e3,
        "orjson_loads_us": median_ns(lambda: orjson.loads(full), n=n) / 1e3,
    }
    figures["hl_book_update_vs_orjson"] = figures["hl_book_update_us"] / figures["orjson_loads_us"]

    count = 200 if quick else 2000
    diffs, levels = binance_diffs(count, per_side=10)
    snapshot = binance_snapshot()
    reps = 3 if quick else 10

    def replay() -> None:
        bn = BinanceBook()
        bn.apply_snapshot(snapshot)
        for f in diffs:
            bn.apply(f)
        if not bn.synced:
            raise RuntimeError("benchmark diffs did not chain")

    # Per run: one snapshot plus `count` diffs; the snapshot alone is timed and subtracted. The
    # figure includes each frame's call and parse, spread over its levels.
    total = float(sample_ns(replay, n=reps, batch=1, warmup=1).min())
    snap_only = float(sample_ns(lambda: BinanceBook().apply_snapshot(snapshot), n=reps * 3).min())
    figures["binance_depth_ns_per_level"] = (total - snap_only) / levels
    return figures
