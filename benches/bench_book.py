"""SPEC 12, market data: a Hyperliquid `l2Book` frame (bytes) into `HlBook` (20 levels, target
<= 2 us median, and the 5-level `fast` frame), beside `orjson.loads` of the same 20-level frame
(target: under a quarter of it) and an empty PyO3 call; Binance diff-depth apply per level.

Run: `pytest benches/bench_book.py` (with the extension built by `maturin develop --release`).
Compare the `hl_book_update` rows with `orjson_loads_20` and `empty_call`.
"""

from __future__ import annotations

import orjson
import pytest
from mmfast import BinanceBook, HlBook, InventoryGovernor
from mmfast.benchmarks.book import binance_diffs, binance_snapshot, hl_l2book_frame

FULL = hl_l2book_frame(20)
FAST = hl_l2book_frame(5)


@pytest.mark.benchmark(group="hl_book")
def test_hl_book_update_20(benchmark) -> None:
    book = HlBook(5)
    assert benchmark(book.apply, FULL) is True
    assert book.levels("bid", 30).shape == (20, 2)


@pytest.mark.benchmark(group="hl_book")
def test_hl_book_update_fast_5(benchmark) -> None:
    book = HlBook(5)
    assert benchmark(book.apply, FAST) is True
    assert book.levels("ask", 30).shape == (5, 2)


@pytest.mark.benchmark(group="hl_book")
def test_orjson_loads_20(benchmark) -> None:
    """Baseline: decoding the same 20-level frame into Python objects, nothing else."""
    msg = benchmark(orjson.loads, FULL)
    assert len(msg["data"]["levels"][0]) == 20


@pytest.mark.benchmark(group="hl_book")
def test_empty_call(benchmark) -> None:
    """Baseline: the cheapest PyO3 method call (two scalar arguments)."""
    f = InventoryGovernor(1.0).is_reducing
    benchmark(f, 0.0, True)


@pytest.mark.benchmark(group="binance_depth")
def test_binance_depth_apply_2000_diffs_of_20_levels(benchmark) -> None:
    """Divide by 40 000 for the cost per level (frame call and parse included)."""
    snapshot = binance_snapshot()
    diffs, levels = binance_diffs(2000, per_side=10)
    assert levels == 40_000

    def setup():
        book = BinanceBook()
        book.apply_snapshot(snapshot)
        return (book,), {}

    def replay(book: BinanceBook) -> BinanceBook:
        apply = book.apply
        for f in diffs:
            apply(f)
        return book

    book = benchmark.pedantic(replay, setup=setup, rounds=20)
    assert book.synced and not book.needs_resync
