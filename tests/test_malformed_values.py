"""Absurd exchange values are malformed frames (issue 13 item 7): counted by the caller as
errors, never applied. A fill's `startPosition` far beyond any real position, a negative or
infinite price or size, a book whose bid is at or above its ask."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mmfast import BookError, EngineError, HlBook, MarketMakerConfig, QuoteEngine

T0 = 1_700_000_000_000


def engine() -> QuoteEngine:
    e = QuoteEngine(MarketMakerConfig(max_position=1.0), seed=7)
    e.set_account(position=0.0, available_margin=10_000.0, account_value=10_000.0, leverage=3.0)
    e.on_hl_top(2999.9, 2.0, 3000.1, 2.0, T0)
    return e


def fill(**kw: str) -> bytes:
    f = {"coin": "ETH", "px": "3000", "sz": "0.01", "side": "B", "time": 1,
         "startPosition": "0.0", "oid": 77, "tid": 5, "fee": "0.0"}  # fmt: skip
    f.update(kw)
    return orjson.dumps({"channel": "userFills", "data": {"user": "0x1", "fills": [f]}})


ABSURD = [
    {"startPosition": "18446744073709551615"},
    {"startPosition": "1.8e19"},
    {"startPosition": "-9.2e18"},
    {"startPosition": "Infinity"},
    {"startPosition": "NaN"},
    {"px": "-1"},
    {"px": "0"},
    {"px": "Infinity"},
    {"sz": "-0.01"},
    {"sz": "0"},
    {"sz": "1e300"},
    {"fee": "-Infinity"},
]


@pytest.mark.parametrize("bad", ABSURD, ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()))
def test_absurd_fill_values_are_refused_and_change_nothing(bad):
    e = engine()
    before = (e.position, e.exposure)
    with pytest.raises(EngineError, match="fill"):
        e.on_user_frame(fill(**bad), T0 + 1)
    assert (e.position, e.exposure) == before
    # a sane fill still applies afterwards
    assert e.on_user_frame(fill(), T0 + 2) == 1
    assert e.position == pytest.approx(0.01)


def test_absurd_order_update_prices_are_refused():
    e = engine()
    for px, sz in (("-1", "0.1"), ("Infinity", "0.1"), ("3000", "-1"), ("3000", "1e300")):
        upd = {"channel": "orderUpdates", "data": [{"order": {
            "coin": "ETH", "side": "B", "limitPx": px, "sz": sz, "oid": 9, "timestamp": 1,
            "origSz": "0.1"}, "status": "open", "statusTimestamp": 1}]}  # fmt: skip
        with pytest.raises(EngineError, match="order"):
            e.on_user_frame(orjson.dumps(upd), T0 + 1)
    assert e.orders == []


def l2(bid: str, ask: str, t: int = 2) -> bytes:
    lv = [[{"px": bid, "sz": "1", "n": 1}], [{"px": ask, "sz": "1", "n": 1}]]
    return orjson.dumps({"channel": "l2Book", "data": {"coin": "BTC", "time": t, "levels": lv}})


@pytest.mark.parametrize("bid,ask", [("101.0", "101.0"), ("102.0", "101.0"), ("0", "101.0")])
def test_hl_book_refuses_crossed_locked_and_zero_books(bid, ask):
    b = HlBook(5, coin="BTC")
    b.apply(l2("100.0", "101.0", 1))
    with pytest.raises(BookError):
        b.apply(l2(bid, ask))
    assert (b.best_bid(), b.best_ask(), b.time_ms) == ((100.0, 1.0), (101.0, 1.0), 1)


@settings(max_examples=200, deadline=None)
@given(
    bid=st.integers(1, 2_000_000),
    ask=st.integers(1, 2_000_000),
)
def test_hl_book_invariant_bid_below_ask(bid, ask):
    """Whatever is fed, an accepted book never has bid >= ask."""
    b = HlBook(5, coin="BTC")
    try:
        b.apply(l2(f"{bid / 10:.1f}", f"{ask / 10:.1f}"))
    except BookError:
        assert bid >= ask
        return
    assert b.best_bid()[0] < b.best_ask()[0]


def test_the_bot_refuses_an_absurd_fill_before_its_ledger_and_pnl_see_it():
    """The live trader checks a user frame with the engine's parser first (one place for the
    bounds): the Python ledger and PnL never take a 1e300 fill."""
    from mmfast import _core

    with pytest.raises(EngineError, match="fill"):
        _core.check_user_frame(fill(sz="1e300"), "ETH")
    _core.check_user_frame(fill(), "ETH")
