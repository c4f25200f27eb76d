"""HlBook, BinanceBook and the replay reader through the public API (issue 3), on the real
recordings of shared/data/real, with hypothesis for level sets and hostile bytes."""

from __future__ import annotations

import contextlib
import gzip
from bisect import bisect_right
from decimal import Decimal
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mmfast import BinanceBook, BookError, HlBook, InputError, MmfastError
from mmfast.replay import ReplayReader, read_frames

HL_FILE = "hyperliquid_btcusd_20250126.gz"


def hl_frames(real_data: Path) -> list[bytes]:
    return [f for _, f in read_frames(real_data / HL_FILE)]


def first_level(frame: dict, side: int) -> tuple[float, float]:
    lv = frame["data"]["levels"][side][0]
    return float(lv["px"]), float(lv["sz"])


def hl_state(b: HlBook) -> tuple:
    return (b.best_bid(), b.best_ask(), b.time_ms, b.levels("bid", 64).tobytes(),
            b.levels("ask", 64).tobytes())  # fmt: skip


def bn_state(b: BinanceBook) -> tuple:
    return (b.synced, b.needs_resync, b.last_update_id, repr(b))


# ---------------------------------------------------------------------------------------------
# Replay reader


def test_replay_reader_yields_raw_frames(real_data: Path) -> None:
    path = real_data / HL_FILE
    with gzip.open(path, "rb") as fh:
        want = [(int(ns), fr.rstrip(b"\n")) for ns, fr in (ln.split(b" ", 1) for ln in fh)]
    got = list(ReplayReader(path))
    assert got == want
    assert list(read_frames(path, batch=7)) == want
    r = ReplayReader(str(path))
    assert r.read_batch(3) == want[:3]
    assert len(r.read_batch(1000)) == len(want) - 3
    assert r.read_batch(5) == []


def test_replay_reader_errors(tmp_path: Path) -> None:
    with pytest.raises(BookError, match=r"nope\.gz"):
        ReplayReader(tmp_path / "nope.gz")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"12 {}\nxyz {}\n")
    r = ReplayReader(bad)
    assert next(r) == (12, b"{}")
    with pytest.raises(BookError, match=r"bad.txt:2: the receive time must be an integer"):
        next(r)


# ---------------------------------------------------------------------------------------------
# Hyperliquid


def test_hl_recording_every_snapshot_applies(real_data: Path) -> None:
    book = HlBook(5, coin="BTC")
    snapshots = trades = 0
    for frame in hl_frames(real_data):
        msg = orjson.loads(frame)
        if msg["channel"] == "l2Book":
            assert book.apply(frame) is True
            snapshots += 1
            assert book.best_bid() == first_level(msg, 0)
            assert book.best_ask() == first_level(msg, 1)
            assert book.time_ms == msg["data"]["time"]
            bids = book.levels("bid", 20)
            want = [[float(lv["px"]), float(lv["sz"])] for lv in msg["data"]["levels"][0]]
            assert bids.shape == (20, 2) and bids.dtype == np.float64
            assert bids.tolist() == want
            assert book.levels("ask", 3).shape == (3, 2)
            bid, ask = first_level(msg, 0)[0], first_level(msg, 1)[0]
            assert book.mid() == (bid + ask) / 2
        else:
            assert msg["channel"] == "trades"
            assert book.apply(frame) is False
            trades += len(msg["data"])
    assert (snapshots, trades) == (46, 64)


def test_hl_bbo_newer_than_snapshot_overrides_the_top() -> None:
    book = HlBook(4)
    snap = orjson.dumps(
        {
            "channel": "l2Book",
            "data": {
                "coin": "ETH",
                "time": 100,
                "levels": [
                    [{"px": "1831.8", "sz": "1.5", "n": 1}, {"px": "1831.7", "sz": "2", "n": 1}],
                    [{"px": "1831.9", "sz": "3", "n": 2}, {"px": "1832.0", "sz": "4", "n": 2}],
                ],
            },
        }
    )
    assert book.apply(snap)

    def bbo(t: int, bid: str, ask: str) -> bytes:
        lv = lambda px: {"px": px, "sz": "0.25", "n": 1}  # noqa: E731
        return orjson.dumps(
            {"channel": "bbo", "data": {"coin": "ETH", "time": t, "bbo": [lv(bid), lv(ask)]}}
        )

    assert book.apply(bbo(100, "1831.9", "1832.0")) is False  # not newer than the snapshot
    assert book.best_bid() == (1831.8, 1.5)
    assert book.apply(bbo(101, "1831.7", "1832.0")) is True
    assert book.best_bid() == (1831.7, 0.25)
    assert book.best_ask() == (1832.0, 0.25)
    assert book.levels("ask", 5).tolist() == [[1832.0, 0.25]]
    assert book.time_ms == 101
    assert book.apply(snap.replace(b'"time":100', b'"time":102')) is True
    assert book.best_bid() == (1831.8, 1.5)


def test_hl_other_frames_and_bad_frames(real_data: Path) -> None:
    book = HlBook(5, coin="BTC")
    frames = hl_frames(real_data)
    book.apply(frames[0])
    before = hl_state(book)
    for other in [
        b"Websocket connection established.",
        b'{"channel":"pong"}',
        b'{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{}}}',
        b'{"channel":"error","data":"Already subscribed: {\\"type\\":\\"bbo\\"}"}',
        frames[2],  # trades
        frames[0].replace(b'"BTC"', b'"ETH"'),  # another coin
    ]:
        assert book.apply(other) is False
    for bad in [b"", b"{", b"null", frames[0][:-1], frames[0].replace(b'"105055.0"', b'"1e5"')]:
        with pytest.raises(BookError) as info:
            book.apply(bad)
        assert isinstance(info.value, MmfastError) and isinstance(info.value, ValueError)
        assert hl_state(book) == before
    with pytest.raises(BookError, match=r'field px = "105055.05": more decimals'):
        book.apply(frames[0].replace(b'"105055.0"', b'"105055.05"'))
    for bad_args in [(-1,), (7,)]:
        with pytest.raises(InputError, match="sz_decimals"):
            HlBook(*bad_args)
    with pytest.raises(InputError, match="side"):
        book.levels("middle", 1)
    assert HlBook(5).best_bid() is None and HlBook(5).mid() is None and HlBook(5).time_ms is None
    assert HlBook(5).levels("ask", 5).shape == (0, 2)


@settings(max_examples=60, deadline=None)
@given(
    bids=st.dictionaries(st.integers(1, 99_999), st.integers(1, 10**9), max_size=20),
    asks=st.dictionaries(st.integers(100_000, 200_000), st.integers(1, 10**9), max_size=20),
)
def test_hl_level_sets_round_trip(bids: dict[int, int], asks: dict[int, int]) -> None:
    # Prices in tenths (1 decimal), sizes in lots of 1e-5 (szDecimals 5), written as decimals.
    def lv(px: int, sz: int) -> dict:
        return {"px": str(Decimal(px) / 10), "sz": str(Decimal(sz) / 100_000), "n": 1}

    b_sorted = sorted(bids.items(), reverse=True)
    a_sorted = sorted(asks.items())
    frame = orjson.dumps(
        {
            "channel": "l2Book",
            "data": {
                "coin": "X",
                "time": 1,
                "levels": [[lv(*x) for x in b_sorted], [lv(*x) for x in a_sorted]],
            },
        }
    )
    book = HlBook(5)
    assert book.apply(frame)
    assert book.levels("bid", 50).tolist() == [[p / 10, s / 100_000] for p, s in b_sorted]
    assert book.levels("ask", 50).tolist() == [[p / 10, s / 100_000] for p, s in a_sorted]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_random_bytes_raise_book_error_or_nothing_and_change_nothing(data: bytes) -> None:
    hl = HlBook(5)
    hl.apply(
        b'{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":'
        b'[[{"px":"1.0","sz":"1","n":1}],[{"px":"2.0","sz":"1","n":1}]]}}'
    )
    bn = BinanceBook()
    hl_before, bn_before = hl_state(hl), bn_state(bn)
    for fn in (hl.apply, bn.apply, bn.apply_snapshot):
        with contextlib.suppress(BookError):
            fn(data)
    assert hl_state(hl) == hl_before
    assert bn_state(bn) == bn_before


def test_truncated_real_frames_are_refused_and_change_nothing(real_data: Path) -> None:
    frames = hl_frames(real_data)
    book = HlBook(5)
    book.apply(frames[0])
    before = hl_state(book)
    for frame in (frames[3], frames[2]):
        for cut in range(len(frame)):
            with pytest.raises(BookError):
                book.apply(frame[:cut])
    assert hl_state(book) == before


# ---------------------------------------------------------------------------------------------
# Binance


def replay_binance(path: Path) -> dict[str, int]:
    book = BinanceBook()
    seen = {"buffered": 0, "applied": 0, "checks": 0}
    # After each applied diff: (u, best bid, best ask); the next diff's U closes the window.
    windows: list[tuple[int, float, float, int]] = []
    open_window: tuple[int, float, float] | None = None
    tickers: list[tuple[int, float, float]] = []
    snapshot = False
    for _, frame in read_frames(path):
        msg = orjson.loads(frame)
        if "lastUpdateId" in msg:
            assert book.apply_snapshot(frame) is True, "synced from the buffered diffs"
            snapshot = True
            open_window = (book.last_update_id, book.best_bid()[0], book.best_ask()[0])
            continue
        data = msg["data"]
        if data["e"] == "depthUpdate":
            if open_window is not None:
                windows.append((*open_window, data["U"]))
                open_window = None
            changed = book.apply(frame)
            if not snapshot:
                assert not changed and not book.synced
                with pytest.raises(BookError, match="not synced"):
                    book.best_bid()
                seen["buffered"] += 1
                continue
            assert not book.needs_resync, f"sequence gap at U={data['U']}"
            if changed:
                seen["applied"] += 1
                assert book.last_update_id == data["u"]
                bid, ask = book.best_bid()[0], book.best_ask()[0]
                assert bid < ask
                open_window = (data["u"], bid, ask)
        else:
            assert book.apply(frame) is False
            if data["e"] == "bookTicker":
                tickers.append((data["u"], float(data["b"]), float(data["a"])))
    assert book.synced
    windows.sort()
    starts = [w[0] for w in windows]
    for uid, bid, ask in tickers:
        i = bisect_right(starts, uid) - 1
        if i >= 0 and windows[i][0] <= uid < windows[i][3]:
            seen["checks"] += 1
            assert (windows[i][1], windows[i][2]) == (bid, ask), f"bookTicker u={uid}"
    return seen


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    ("name", "min_checks"),
    [("usdm_btcusdt_20240808.gz", 100), ("usdm_ethusdt_20240808.gz", 50)],
)
def test_binance_recording_syncs_and_agrees_with_book_ticker(
    real_data: Path, name: str, min_checks: int
) -> None:
    seen = replay_binance(real_data / name)
    assert seen["buffered"] > 0
    assert seen["applied"] > 6000
    assert seen["checks"] >= min_checks, seen


def depth(first: int, last: int, prev: int, bids=(), asks=()) -> bytes:
    return orjson.dumps(
        {
            "stream": "btcusdt@depth@100ms",
            "data": {
                "e": "depthUpdate",
                "E": 1,
                "T": 1,
                "s": "BTCUSDT",
                "U": first,
                "u": last,
                "pu": prev,
                "b": [list(x) for x in bids],
                "a": [list(x) for x in asks],
            },
        }
    )


SNAPSHOT = orjson.dumps(
    {
        "lastUpdateId": 100,
        "E": 1,
        "T": 1,
        "bids": [["10.0", "1"], ["9.5", "2"]],
        "asks": [["10.5", "3"]],
    }
)


def test_binance_gap_refuses_to_answer_until_resync() -> None:
    book = BinanceBook()
    assert not book.synced and not book.needs_resync and book.last_update_id is None
    assert book.apply(depth(95, 101, 94, bids=[("10.0", "4")])) is False  # buffered
    assert book.apply_snapshot(SNAPSHOT) is True
    assert book.synced and book.last_update_id == 101
    assert book.best_bid() == (10.0, 4.0)
    assert book.best_ask() == (10.5, 3.0)
    assert book.mid() == 10.25
    assert book.levels("bid", 5).tolist() == [[10.0, 4.0], [9.5, 2.0]]
    assert book.apply(depth(102, 103, 101, asks=[("10.5", "0"), ("10.4", "1.25")])) is True
    assert book.best_ask() == (10.4, 1.25)
    # pu != previous u: a gap.
    assert book.apply(depth(110, 111, 108)) is False
    assert book.needs_resync and not book.synced
    for query in (book.best_bid, book.best_ask, book.mid):
        with pytest.raises(BookError, match="sequence gap"):
            query()
    # Other streams change nothing; a malformed frame raises and changes nothing.
    before = bn_state(book)
    trade = b'{"e":"trade","E":1,"T":1,"s":"BTCUSDT","t":1,"p":"10.2","q":"1","m":true}'
    assert book.apply(b'{"stream":"btcusdt@trade","data":' + trade + b"}") is False
    with pytest.raises(BookError):
        book.apply(depth(112, 113, 111, bids=[("x", "1")]))
    with pytest.raises(BookError, match="lastUpdateId"):
        book.apply_snapshot(b'{"result":null,"id":1}')
    assert bn_state(book) == before
    # A new snapshot resyncs from the diffs buffered since the gap.
    assert book.apply(depth(112, 113, 111, bids=[("10.1", "1")])) is False
    assert book.apply_snapshot(SNAPSHOT.replace(b"100", b"110")) is True
    assert book.last_update_id == 113
    assert book.best_bid() == (10.1, 1.0)
    with pytest.raises(InputError, match="depth"):
        BinanceBook(depth=0)
