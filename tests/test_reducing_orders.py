"""A reducing order is always allowed, by the engine and by the pre-send guard alike (SPEC 3, 10;
issue 13 item 1): at positions below, at and above the limit, every action the engine emits
passes the guard (fed the same sends and answers), and at or above the limit the engine unwinds
with reduce-only orders on the reducing side, never more in total than the position."""

from __future__ import annotations

import secrets

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mmfast import MarketMakerConfig, QuoteEngine, Signer
from mmfast._core import OrderPath
from mmfast.errors import MmfastError

T0 = 1_700_000_000_000
ASSET, COIN, MAXP = 0, "ETH", 1.0


class Rig:
    """The engine and the order path (guard, ledger, signer) on the live bot's code path: each
    cycle's actions go through `OrderPath.send_cycle`, and both read the same answers."""

    def __init__(self) -> None:
        self.e = QuoteEngine(MarketMakerConfig(max_position=MAXP), seed=7)
        self.e.set_account(position=0.0, available_margin=1e5, account_value=1e5, leverage=3.0)
        self.e.set_signals(has_had_cross_venue=True)
        self.e.on_hl_top(2999.9, 2.0, 3000.1, 2.0, T0)
        self.e.set_runtime(ASSET, 4)
        signer = Signer(secrets.token_hex(32), is_mainnet=False)
        self.p = OrderPath(
            signer, ASSET, COIN, max_position=MAXP, single_order_cap=MAXP, price_band_bps=200.0
        )
        self.p.mid = 3000.0
        self.oid = 1000

    def cycle(self, now_ms: int) -> list:
        out = self.e.cycle(now_ms)
        acts = list(out.actions)
        for o in self.p.send_cycle(self.e, None):
            assert o.refused is None, (
                o.refused,
                [(a.kind, a.side, a.sz, a.reduce_only) for a in acts],
            )
            statuses: list = []
            for _ in range(o.n_items):
                if o.kind.startswith("cancel"):
                    statuses.append("success")
                else:
                    self.oid += 1
                    statuses.append({"resting": {"oid": self.oid}})
            body = orjson.dumps(
                {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}
            )
            self.p.on_answer(o.id, body, now_ms)
            self.e.on_exchange_response(body, now_ms, o.batch)
        return acts


@settings(max_examples=60, deadline=None)
@given(
    position=st.one_of(
        st.sampled_from([-2.0, -1.2, -1.0, -0.95, -0.5, 0.5, 0.95, 1.0, 1.2, 2.0]),
        st.floats(-2.5, 2.5).map(lambda x: round(x, 4)),
    )
)
def test_engine_actions_pass_the_guard_and_kill_unwinds(position: float) -> None:
    rig = Rig()
    rig.cycle(T0)  # quotes both sides from flat, acknowledged
    rig.e.set_account(position=position)
    rig.p.position = position
    unwind = []
    for k in range(1, 5):
        for a in rig.cycle(T0 + 200 * k):
            if a.kind != "cancel" and abs(position) >= MAXP:
                unwind.append(a)
    if abs(position) >= MAXP:
        reducing_side = "bid" if position < 0 else "ask"
        assert unwind, "Kill must unwind a position at or above the limit"
        assert all(a.reduce_only and a.side == reducing_side for a in unwind)
        assert sum(o[4] for o in rig.p.orders) <= abs(position) + 1e-9


def test_one_call_reads_an_answer_and_a_fill_for_the_ledger_and_the_engine() -> None:
    """The order path reads an answer once for the ledger and the engine (its batch id), and a
    user frame once for both: the fill counts once, in each, and its duplicate in neither."""
    rig = Rig()
    out = rig.e.cycle(T0)
    sent = rig.p.send_cycle(rig.e, None)
    assert sent and all(o.refused is None for o in sent)
    for o in sent:
        statuses = []
        for _ in range(o.n_items):
            rig.oid += 1
            statuses.append({"resting": {"oid": rig.oid}})
        body = orjson.dumps(
            {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}
        )
        assert rig.p.on_answer(o.id, body, T0, rig.e, o.batch).engine_error is None
    n = out.n_actions
    assert sorted(o[1] for o in rig.e.orders) == list(range(1001, 1001 + n))
    assert all(state == "resting" for *_, state in rig.p.orders)
    # An answer to a batch the engine does not know: the engine's refusal comes back as text.
    assert "999" in (rig.p.on_answer(10**6, body, T0, rig.e, 999).engine_error or "")
    bid_oid = next(o[1] for o in rig.e.orders if o[2] == "bid")
    fill = {
        "coin": COIN, "px": "2999.0", "sz": "0.01", "side": "B", "time": T0 + 5,
        "oid": bid_oid, "tid": 77, "fee": "0.001", "crossed": False,
        "startPosition": "0.0", "dir": "Open Long", "closedPnl": "0.0", "hash": "0x0",
        "feeToken": "USDC",
    }  # fmt: skip
    frame = orjson.dumps({"channel": "userFills", "data": {"user": "0x0", "fills": [fill]}})
    fresh = rig.p.on_user_frame(frame, T0 + 6, rig.e)
    assert [f[0] for f in fresh] == [77]
    assert rig.e.position == 0.01 and rig.p.position == 0.01
    assert rig.p.on_user_frame(frame, T0 + 7, rig.e) == []
    assert rig.e.position == 0.01 and rig.p.position == 0.01


def test_decide_is_the_cycle_and_its_sends_in_one_call() -> None:
    """`OrderPath.decide` runs the engine's cycle and takes its actions through the guard and
    the signer: the same batches a cycle followed by `send_cycle` gives, one body each."""
    rig = Rig()
    out, sent, cycle_ns = rig.p.decide(rig.e, T0, None)
    assert out.n_actions > 0 and cycle_ns > 0
    batches = sorted({a.batch for a in out.actions})
    assert sorted(o.batch for o in sent) == batches
    assert all(o.refused is None and o.body for o in sent)
    assert sum(o.n_items for o in sent) == out.n_actions
    # Nothing to change a moment later: a cycle with no actions sends nothing.
    out, sent, _ = rig.p.decide(rig.e, T0 + 1, None)
    assert out.n_actions == 0 and sent == []


def _bbo(bid: str, ask: str, t: int, coin: str = COIN) -> bytes:
    level = lambda px: {"px": px, "sz": "2.0", "n": 1}  # noqa: E731
    return orjson.dumps(
        {"channel": "bbo", "data": {"coin": coin, "time": t, "bbo": [level(bid), level(ask)]}}
    )


def test_one_call_reads_a_market_frame_for_the_guard_and_the_engine() -> None:
    """`OrderPath.on_hl_frame(frame, recv_ms, engine)`: a bbo's mid becomes the guard's band
    reference and the engine's book in the same call; another coin's bbo moves neither; a frame
    the engine refuses raises (the guard has taken its mid first, as when they were two calls)."""
    rig = Rig()
    assert rig.p.on_hl_frame(_bbo("3010.0", "3010.2", T0), T0 + 1, rig.e) == 3010.1
    assert rig.p.mid == 3010.1
    assert rig.e.cycle(T0 + 1).diagnostics["mid"] == 3010.1
    assert rig.p.on_hl_frame(_bbo("10.0", "10.2", T0, coin="BTC"), T0 + 2, rig.e) is None
    assert rig.p.mid == 3010.1
    assert rig.e.cycle(T0 + 2).diagnostics["mid"] == 3010.1
    # A market frame that is not a bbo: the engine reads it, the guard's mid stays.
    book = orjson.dumps(
        {
            "channel": "l2Book",
            "data": {
                "coin": COIN,
                "time": T0 + 3,
                "levels": [
                    [{"px": "3020.0", "sz": "1.0", "n": 1}],
                    [{"px": "3020.2", "sz": "1.0", "n": 1}],
                ],
            },
        }
    )
    assert rig.p.on_hl_frame(book, T0 + 3, rig.e) is None
    assert rig.p.mid == 3010.1
    assert rig.e.cycle(T0 + 3).diagnostics["mid"] == 3020.1
    with pytest.raises(ValueError, match="recv_ms"):
        rig.p.on_hl_frame(book, None, rig.e)
    with pytest.raises(MmfastError):
        rig.p.on_hl_frame(b'{"channel":"l2Book","data":{"coin":"ETH"', T0 + 4, rig.e)
    # Without an engine it is the guard's read alone.
    assert rig.p.on_hl_frame(_bbo("3030.0", "3030.2", T0)) == 3030.1
    assert rig.e.cycle(T0 + 5).diagnostics["mid"] == 3020.1
