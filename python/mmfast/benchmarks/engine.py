"""The quote cycle from Python (SPEC 12): `cycle_p50_us` / `cycle_p99_us` for the state the SPEC
names (5 levels per side, 10 resting orders, signals warm), a requoting variant, and the same
cycle's arithmetic in the pure-Python reference (`mmfast.reference`) for `python_reference_ratio`.
The empty-call floor (`empty_call_ns`) comes from the `baseline` area of the same run."""

from __future__ import annotations

import time

import orjson

from mmfast import _core
from mmfast.benchmarks.timing import pct, sample_ns
from mmfast.reference import cycle as ref_cycle
from mmfast.reference import ladder as ref_ladder
from mmfast.reference.reconcile import Order

T0 = 1_700_000_000_000
BID, ASK = 2999.9, 3000.1


def _ack(engine: _core.QuoteEngine, out: _core.CycleOutput, oid: list[int]) -> None:
    for batch in sorted({a.batch for a in out.actions}):
        statuses: list[object] = []
        for a in sorted((a for a in out.actions if a.batch == batch), key=lambda a: a.index):
            if a.kind == "cancel":
                statuses.append("success")
            else:
                oid[0] += 1
                statuses.append({"resting": {"oid": oid[0]}})
        body = {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}
        engine.on_exchange_response(orjson.dumps(body), T0, batch)


def warm_engine() -> _core.QuoteEngine:
    """ETH at 3000, 5 levels per side resting (10 orders), cross-venue signal seen, estimated
    sigma and kappa: the SPEC 12 state."""
    cfg = _core.MarketMakerConfig(
        max_position=1.0, target_liquidity=0.5, ladder={"depth_ratio": 1.2}
    )
    e = _core.QuoteEngine(cfg, seed=1)
    e.set_account(position=0.0, available_margin=10_000.0, account_value=10_000.0, leverage=3.0)
    e.set_signals(
        has_had_cross_venue=True, sigma_bps=2.5, vol_ratio=1.1, kappa=0.3, toxicity_score=0.2
    )
    e.on_hl_top(BID, 2.0, ASK, 2.0, T0)
    e.on_binance_top(BID - 0.1, ASK - 0.1, T0)
    _ack(e, e.cycle(T0), [0])
    if len(e.orders) != 10:
        raise RuntimeError(f"benchmark state: expected 10 resting orders, got {len(e.orders)}")
    return e


def reference_state(
    engine: _core.QuoteEngine,
) -> tuple[ref_cycle.CycleParams, ref_cycle.CycleState]:
    """The same state for the pure-Python reference, with the engine's resting orders."""
    p = ref_cycle.CycleParams(ladder=ref_ladder.LadderParams(depth_ratio=1.2))
    st = ref_cycle.CycleState(
        best_bid=BID, best_ask=ASK, bid_sz=2.0, ask_sz=2.0, position=0.0,
        available_margin=10_000.0, leverage=3.0, configured_max=1.0, target_liquidity=0.5,
        gamma=0.02, sigma_bps=2.5, vol_ratio=1.1, kappa=0.3, toxicity_score=0.2,
        orders=[Order(side, px, sz, state) for (_, _, side, px, sz, state) in engine.orders],
    )  # fmt: skip
    return p, st


def run(quick: bool = False) -> dict[str, float]:
    n = 500 if quick else 5000
    e = warm_engine()
    clock = [T0]

    def steady() -> object:
        clock[0] += 150
        e.on_hl_top(BID, 2.0, ASK, 2.0, clock[0])
        return e.cycle(clock[0])

    # The book update is outside the figure: time the cycle call alone.
    def cycle_only() -> object:
        return e.cycle(clock[0])

    steady()
    s = sample_ns(cycle_only, n)
    # The Rust cycle kept every order in this state; a figure over cycles that did nothing
    # unusual is what p50/p99 describe.
    if e.cycle(clock[0]).n_actions != 0:
        raise RuntimeError("benchmark state: the steady cycle emitted actions")

    # Requoting cycles: a 4 bp move every call, every level modified; acks outside the timing.
    r = warm_engine()
    rclock = [T0]
    oid = [10_000]
    flip = [False]
    last: list[_core.CycleOutput] = []

    def prepare() -> None:
        if last:
            _ack(r, last[-1], oid)
        rclock[0] += 150
        flip[0] = not flip[0]
        shift = 1.2 if flip[0] else 0.0
        r.on_hl_top(BID + shift, 2.0, ASK + shift, 2.0, rclock[0])

    req = []
    for _ in range(n // 5):
        prepare()
        t0 = time.perf_counter_ns()
        out = r.cycle(rclock[0])
        req.append(time.perf_counter_ns() - t0)
        last[:] = [out]
    req.sort()

    p, st = reference_state(e)
    ref = sample_ns(lambda: ref_cycle.cycle(p, st), max(n // 10, 50), warmup=20)
    want = ref_cycle.cycle(p, st)
    if want["actions"]:
        raise RuntimeError("benchmark state: the reference cycle disagrees (it would act)")
    cycle_p50 = pct(s, 50)
    ref_p50 = pct(ref, 50)
    return {
        "cycle_p50_us": cycle_p50 / 1e3,
        "cycle_p99_us": pct(s, 99) / 1e3,
        "cycle_requote_p50_us": req[len(req) // 2] / 1e3,
        "cycle_requote_p99_us": req[min(len(req) - 1, int(len(req) * 0.99))] / 1e3,
        "python_reference_cycle_p50_us": ref_p50 / 1e3,
        "python_reference_ratio": ref_p50 / cycle_p50,
    }
