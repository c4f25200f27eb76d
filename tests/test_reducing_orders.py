"""A reducing order is always allowed, by the engine and by the pre-send guard alike (SPEC 3, 10;
issue 13 item 1): at positions below, at and above the limit, every action the engine emits
passes the guard (fed the same sends and answers), and at or above the limit the engine unwinds
with reduce-only orders on the reducing side, never more in total than the position."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from mmfast import MarketMakerConfig, QuoteEngine
from mmfast.gateway.guard import GuardLimits, PreSendGuard
from mmfast.gateway.ledger import OrderLedger
from mmfast.gateway.responses import parse_exchange

T0 = 1_700_000_000_000
ASSET, COIN, MAXP = 0, "ETH", 1.0


def _wire(a) -> dict:  # type: ignore[no-untyped-def]
    return {
        "a": ASSET,
        "b": a.side == "bid",
        "p": f"{a.px:g}",
        "s": f"{a.sz:g}",
        "r": a.reduce_only,
        "t": {"limit": {"tif": "Alo"}},
        "c": a.cloid,
    }


def _action(kind: str, acts: list) -> dict:
    if kind == "cancel":
        return {"type": "cancel", "cancels": [{"a": ASSET, "o": a.oid} for a in acts]}
    if kind == "modify":
        return {
            "type": "batchModify",
            "modifies": [{"oid": a.oid, "order": _wire(a)} for a in acts],
        }
    return {"type": "order", "orders": [_wire(a) for a in acts]}


class Rig:
    """The engine and an independent guard fed the same sends and answers."""

    def __init__(self) -> None:
        self.e = QuoteEngine(MarketMakerConfig(max_position=MAXP), seed=7)
        self.e.set_account(position=0.0, available_margin=1e5, account_value=1e5, leverage=3.0)
        self.e.set_signals(has_had_cross_venue=True)
        self.e.on_hl_top(2999.9, 2.0, 3000.1, 2.0, T0)
        self.g = PreSendGuard(GuardLimits(ASSET, MAXP, MAXP, 200.0), OrderLedger(ASSET, COIN))
        self.g.mid = 3000.0
        self.oid = 1000
        self.sends = 0

    def cycle(self, now_ms: int) -> list:
        out = self.e.cycle(now_ms)
        for batch in sorted({a.batch for a in out.actions}):
            acts = sorted((a for a in out.actions if a.batch == batch), key=lambda a: a.index)
            action = _action(acts[0].kind, acts)
            why = self.g.check(action)
            assert why is None, (why, [(a.kind, a.side, a.sz, a.reduce_only) for a in acts])
            self.sends += 1
            self.g.ledger.on_send(self.sends, action)
            statuses: list = []
            for a in acts:
                if a.kind == "cancel":
                    statuses.append("success")
                else:
                    self.oid += 1
                    statuses.append({"resting": {"oid": self.oid}})
            body = orjson.dumps(
                {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}
            )
            self.g.ledger.on_result(self.sends, parse_exchange(orjson.loads(body), len(acts)))
            self.e.on_exchange_response(body, now_ms, batch)
        return list(out.actions)


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
    rig.g.ledger.position = position
    unwind = []
    for k in range(1, 5):
        for a in rig.cycle(T0 + 200 * k):
            if a.kind != "cancel" and abs(position) >= MAXP:
                unwind.append(a)
    if abs(position) >= MAXP:
        reducing_side = "bid" if position < 0 else "ask"
        assert unwind, "Kill must unwind a position at or above the limit"
        assert all(a.reduce_only and a.side == reducing_side for a in unwind)
        resting = [o for o in rig.g.ledger.orders]
        assert sum(o.sz for o in resting) <= abs(position) + 1e-9
