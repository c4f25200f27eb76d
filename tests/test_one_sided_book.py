"""A one-sided book (issue 13 item 5): an empty side is a fact of thin markets. The engine keeps
quoting from the last valid touch of the missing side for `risk.one_sided_hold_ms`, says so in
the diagnostics, and only then goes Flat (`no_book`)."""

from __future__ import annotations

import orjson
import pytest
from mmfast import MarketMakerConfig, QuoteEngine

T0 = 1_700_000_000_000


def bbo(t: int, bid: str | None, ask: str | None) -> bytes:
    lv = [None if p is None else {"px": p, "sz": "2.0", "n": 1} for p in (bid, ask)]
    return orjson.dumps({"channel": "bbo", "data": {"coin": "ETH", "time": t, "bbo": lv}})


def engine(**cfg) -> QuoteEngine:
    e = QuoteEngine(MarketMakerConfig(max_position=1.0, lead_venue="none", **cfg), seed=7)
    e.set_account(position=0.0, available_margin=10_000.0, account_value=10_000.0, leverage=3.0)
    return e


@pytest.mark.parametrize("missing", ["ask", "bid"])
def test_quotes_from_the_last_touch_for_the_hold_then_flat(missing):
    e = engine()
    e.on_hl_frame(bbo(1, "2999.9", "3000.1"), T0)
    out = e.cycle(T0)
    assert out.quotes, out.diagnostics["flat_reason"]
    t = T0
    for i in range(1, 6):  # one-sided frames keep the data fresh, 0.5 s apart
        t = T0 + 500 * i
        e.on_hl_frame(bbo(1 + i, None if missing == "bid" else "2999.9",
                          None if missing == "ask" else "3000.1"), t)  # fmt: skip
        out = e.cycle(t)
        d = out.diagnostics
        assert d["flat_reason"] is None, (i, d["flat_reason"])
        assert d["one_sided"] is True
        assert out.quotes
    # past the hold (default 3 s): no reference for that side any more
    for i in range(6, 10):
        t = T0 + 500 * i
        e.on_hl_frame(bbo(10 + i, None if missing == "bid" else "2999.9",
                          None if missing == "ask" else "3000.1"), t)  # fmt: skip
    out = e.cycle(t)
    assert out.diagnostics["flat_reason"] == "no_book"


def test_hold_zero_keeps_the_old_behaviour():
    e = engine(risk={"one_sided_hold_ms": 0})
    e.on_hl_frame(bbo(1, "2999.9", "3000.1"), T0)
    assert e.cycle(T0).quotes
    e.on_hl_frame(bbo(2, "2999.9", None), T0 + 200)
    assert e.cycle(T0 + 200).diagnostics["flat_reason"] == "no_book"
