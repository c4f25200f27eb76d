"""A reducing order is always allowed, by the engine and by the pre-send guard alike (SPEC 3, 10;
issue 13 item 1): at positions below, at and above the limit, every action the engine emits
passes the guard (fed the same sends and answers), and at or above the limit the engine unwinds
with reduce-only orders on the reducing side, never more in total than the position."""

from __future__ import annotations

import secrets

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from mmfast import MarketMakerConfig, QuoteEngine, Signer
from mmfast._core import OrderPath

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
