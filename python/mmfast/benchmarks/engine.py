"""The quote cycle from Python (SPEC 12): `cycle_p50_us` / `cycle_p99_us` for the state the SPEC
names (5 levels per side, 10 resting orders, signals warm), a requoting variant, and the same
cycle's arithmetic in the pure-Python reference (`mmfast.reference`) for `python_reference_ratio`.
The empty-call floor (`empty_call_ns`) comes from the `baseline` area of the same run."""

from __future__ import annotations

import random
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
    """ETH near 3000, 5 levels per side resting (10 orders), signals warm: the signal
    integrator has seen 5 minutes of Hyperliquid and Binance mids (Binance leading by 200 ms)
    and trades, so volatility, lead-lag and kappa run on data, not priors (the SPEC 12 state)."""
    cfg = _core.MarketMakerConfig(
        max_position=1.0, target_liquidity=0.5, ladder={"depth_ratio": 1.2}
    )
    e = _core.QuoteEngine(cfg, seed=1)
    e.set_account(position=0.0, available_margin=10_000.0, account_value=10_000.0, leverage=3.0)
    rng = random.Random(7)
    oid = [0]
    n, step_ms, lag = 3000, 100, 2
    lead = [3000.0]
    for _ in range(n + lag):
        lead.append(lead[-1] * (1.0 + rng.gauss(0.0, 0.6e-4)))
    for i in range(n):
        t = T0 - 5_000 - (n - i) * step_ms
        b = lead[i + lag]
        e.on_binance_top(round(b - 0.05, 2), round(b + 0.05, 2), t)
        bid = round(lead[i] - 0.1, 1)
        e.on_hl_top(bid, 2.0, round(bid + 0.2, 1), 2.0, t)
        if i % 10 == 0:
            _ack(e, e.cycle(t), oid)
    # Settle at the benchmark's prices until a cycle has nothing to do, every order acked.
    for k in range(20):
        t = T0 - 4_000 + k * 200
        e.on_binance_top(BID - 0.1, ASK - 0.1, t)
        e.on_hl_top(BID, 2.0, ASK, 2.0, t)
        out = e.cycle(t)
        if out.n_actions == 0:
            break
        _ack(e, out, oid)
    if len(e.orders) != 10:
        raise RuntimeError(f"benchmark state: expected 10 resting orders, got {len(e.orders)}")
    return e


def reference_state(
    engine: _core.QuoteEngine, now_ms: int
) -> tuple[ref_cycle.CycleParams, ref_cycle.CycleState]:
    """The same state for the pure-Python reference: the engine's resting orders, the signal
    view its cycle at `now_ms` used (from the diagnostics) and its learned fill posteriors (from
    `save_state`)."""
    engine.on_binance_top(BID - 0.1, ASK - 0.1, now_ms)
    engine.on_hl_top(BID, 2.0, ASK, 2.0, now_ms)
    d = engine.cycle(now_ms).diagnostics
    learned = orjson.loads(engine.save_state())["fill_model"]
    fill_model = ref_ladder.FillModel(fills=learned["fills"], attempts=learned["attempts"])
    p = ref_cycle.CycleParams(ladder=ref_ladder.LadderParams(depth_ratio=1.2))
    st = ref_cycle.CycleState(
        best_bid=BID, best_ask=ASK, bid_sz=2.0, ask_sz=2.0, position=0.0,
        available_margin=10_000.0, leverage=3.0, configured_max=1.0, target_liquidity=0.5,
        gamma=0.02, sigma_bps=d["sigma_bps"], vol_ratio=d["vol_ratio"], kappa=d["kappa"],
        a_intensity=d["a_intensity"], toxicity_score=d["toxicity_score"], regime=d["regime"],
        toxicity=d["toxicity"], has_had_cross_venue=d["has_had_cross_venue"],
        alpha_bps=d["alpha_bps"], fill_model=fill_model,
        orders=[Order(side, px, sz, state) for (_, _, side, px, sz, state) in engine.orders],
    )  # fmt: skip
    return p, st


def run(quick: bool = False) -> dict[str, float]:
    n = 500 if quick else 5000
    e = warm_engine()
    clock = [T0 + 1_000]

    def steady() -> object:
        clock[0] += 150
        e.on_binance_top(BID - 0.1, ASK - 0.1, clock[0])
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
    rclock = [T0 + 1_000]
    oid = [10_000]
    flip = [False]
    last: list[_core.CycleOutput] = []

    def prepare() -> None:
        if last:
            _ack(r, last[-1], oid)
        rclock[0] += 150
        flip[0] = not flip[0]
        shift = 1.2 if flip[0] else 0.0
        r.on_binance_top(BID - 0.1 + shift, ASK - 0.1 + shift, rclock[0])
        r.on_hl_top(BID + shift, 2.0, ASK + shift, 2.0, rclock[0])

    req = []
    for _ in range(n // 5):
        prepare()
        t0 = time.perf_counter_ns()
        out = r.cycle(rclock[0])
        req.append(time.perf_counter_ns() - t0)
        last[:] = [out]
    req.sort()

    p, st = reference_state(e, clock[0])
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
