"""The quote engine through its Python API (SPEC 3, 5-9): modes, breakers, caps, reconcile,
user frames, exchange answers, warm restarts, and differential tests of the cycle and of
reconcile against the pure-Python reference."""

from __future__ import annotations

import random

import orjson
import pytest
from mmfast import EngineError, InputError, MarketMakerConfig, QuoteEngine, _core
from reference import cycle as ref_cycle
from reference import ladder as ref_ladder
from reference import reconcile as ref_rec

T0 = 1_700_000_000_000


def make_engine(**cfg) -> QuoteEngine:
    cfg.setdefault("max_position", 1.0)
    e = QuoteEngine(MarketMakerConfig(**cfg), seed=7)
    e.set_account(position=0.0, available_margin=10_000.0, account_value=10_000.0, leverage=3.0)
    e.on_hl_top(2999.9, 2.0, 3000.1, 2.0, T0)
    return e


def ack(e: QuoteEngine, out, oid_start: int = 1000) -> None:
    """The exchange accepts every action of `out`."""
    oid = oid_start
    for batch in sorted({a.batch for a in out.actions}):
        statuses = []
        for a in sorted((a for a in out.actions if a.batch == batch), key=lambda a: a.index):
            if a.kind == "cancel":
                statuses.append("success")
            else:
                oid += 1
                statuses.append({"resting": {"oid": oid}})
        body = {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}
        e.on_exchange_response(orjson.dumps(body), T0, batch)


def places(out, side: str) -> list:
    return [a for a in out.actions if a.kind == "place" and a.side == side]


def test_cold_engine_with_default_config_quotes_both_sides():
    e = make_engine()
    out = e.cycle(T0 + 10)
    assert out.mode.kind == "Maker" and out.mode.bid and out.mode.ask
    assert str(out.zone) == str(_core.PositionZone.Green)
    assert places(out, "bid") and places(out, "ask")
    assert {q.side for q in out.quotes} == {"bid", "ask"}
    d = out.diagnostics
    assert "no_signal" in d["caps"] and d["flat_reason"] is None
    assert d["half_spread_bps"] == pytest.approx(4.323557, abs=1e-6)
    for a in out.actions:
        assert a.cloid.startswith("0x") and len(a.cloid) == 34
        assert a.oid is None and not a.reduce_only
    assert len({a.cloid for a in out.actions}) == out.n_actions


def test_no_signal_cap_shrinks_quote_size_to_30_percent():
    cold = make_engine(target_liquidity=1.0)
    capped = sum(a.sz for a in places(cold.cycle(T0), "bid"))
    warm = make_engine(target_liquidity=1.0)
    warm.set_signals(has_had_cross_venue=True)
    full = sum(a.sz for a in places(warm.cycle(T0), "bid"))
    assert capped / full == pytest.approx(0.3, abs=0.01)


def test_kill_cancels_all_then_unwinds_reduce_only():
    e = make_engine()
    e.set_signals(has_had_cross_venue=True)
    out = e.cycle(T0)
    ack(e, out)
    n = len(e.orders)
    e.set_account(position=-1.0)
    out = e.cycle(T0 + 200)
    assert out.mode.kind == "Flat" and out.diagnostics["flat_reason"] == "kill"
    assert [a.kind for a in out.actions] == ["cancel"] * n
    ack(e, out)
    out = e.cycle(T0 + 400)
    assert out.diagnostics["unwinding"]
    assert out.actions and all(
        a.kind == "place" and a.side == "bid" and a.reduce_only for a in out.actions
    )
    assert out.actions[0].px == 2999.9  # joins the best bid
    assert sum(a.sz for a in out.actions) <= 1.0 + 1e-12


def test_red_zone_is_reduce_only():
    e = make_engine()
    e.set_signals(has_had_cross_venue=True)
    e.set_account(position=-0.85)
    out = e.cycle(T0)
    assert out.mode.kind == "InventoryReduce" and out.mode.urgency == 1.0
    assert out.actions and all(a.side == "bid" and a.reduce_only for a in out.actions)
    assert out.diagnostics["reduce_only"]


def test_reconcile_keeps_1bp_and_replaces_3bp():
    e = make_engine(reconcile={"max_bps_diff": 2.0})
    e.set_signals(has_had_cross_venue=True)
    ack(e, e.cycle(T0))
    e.on_hl_top(3000.2, 2.0, 3000.4, 2.0, T0 + 500)  # 1 bp
    assert e.cycle(T0 + 500).n_actions == 0
    e.on_hl_top(3000.8, 2.0, 3001.0, 2.0, T0 + 1000)  # 3 bps from the placed orders
    out = e.cycle(T0 + 1000)
    assert out.n_actions > 0 and {a.kind for a in out.actions} == {"modify"}
    assert all(a.oid is not None and a.target_cloid for a in out.actions)


def test_stale_book_cancels_everything():
    e = make_engine()
    ack(e, e.cycle(T0))
    out = e.cycle(T0 + 3_001)
    assert out.diagnostics["flat_reason"] == "hl_stale"
    assert out.n_actions == len(e.orders) and {a.kind for a in out.actions} == {"cancel"}


def test_user_frames_fills_and_answers():
    e = make_engine()
    out = e.cycle(T0)
    bid = places(out, "bid")[0]
    # The order's open update arrives before the exchange's answer.
    upd = {
        "channel": "orderUpdates",
        "data": [
            {
                "order": {"coin": "ETH", "side": "B", "limitPx": str(bid.px), "sz": str(bid.sz),
                          "oid": 77, "timestamp": 1, "origSz": str(bid.sz), "cloid": bid.cloid},
                "status": "open",
                "statusTimestamp": 1,
            }
        ],
    }  # fmt: skip
    assert e.on_user_frame(orjson.dumps(upd), T0 + 5) == 1
    row = next(o for o in e.orders if o[0] == bid.cloid)
    assert row[1] == 77 and row[5] == "resting"
    fill = {
        "channel": "userFills",
        "data": {"user": "0x1", "fills": [
            {"coin": "ETH", "px": str(bid.px), "sz": "0.01", "side": "B", "time": 1,
             "startPosition": "0.0", "oid": 77, "tid": 5, "fee": "0.0", "cloid": bid.cloid}
        ]},
    }  # fmt: skip
    assert e.on_user_frame(orjson.dumps(fill), T0 + 6) == 1
    assert e.position == pytest.approx(0.01)
    buys, _ = e.exposure
    with pytest.raises(EngineError, match="batch_id = 999"):
        e.on_exchange_response(b'{"status":"ok","response":{"type":"default"}}', T0, 999)
    with pytest.raises(EngineError, match=r"fill\.px"):
        e.on_user_frame(b'{"channel":"userFills","data":{"fills":[{"coin":"ETH","px":"x",'
                        b'"sz":"1","side":"B","oid":1}]}}', T0)  # fmt: skip
    assert e.exposure[0] == buys and e.position == pytest.approx(0.01)


def test_bad_inputs_are_refused_and_named():
    e = make_engine()
    with pytest.raises(InputError, match="available_margin"):
        e.set_account(available_margin=-1.0)
    with pytest.raises(InputError, match="position"):
        e.set_account(position=float("nan"))
    with pytest.raises(ValueError, match="toxicity"):
        e.set_signals(toxicity="spicy")
    assert e.position == 0.0


def test_save_and_load_state():
    e = make_engine()
    state = e.save_state()
    assert orjson.loads(state)["version"] == 2
    r = QuoteEngine.load_state(MarketMakerConfig(max_position=1.0), state, seed=1)
    assert r.save_state() == state and r.signals_restored and not e.signals_restored
    with pytest.raises(EngineError, match="asset"):
        QuoteEngine.load_state(MarketMakerConfig(max_position=1.0, asset="BTC"), state)
    with pytest.raises(EngineError, match="not an engine state"):
        QuoteEngine.load_state(MarketMakerConfig(max_position=1.0), b"garbage")


# ---- differential tests against the pure-Python reference ----


def test_reconcile_differential_10000_states():
    rng = random.Random(5)
    for _ in range(10_000):
        mid = 10 ** rng.uniform(0, 5)
        side = rng.choice(["bid", "ask"])
        sign = -1 if side == "bid" else 1
        n_q, n_o = rng.randrange(0, 6), rng.randrange(0, 8)
        desired = [
            (mid * (1 + sign * (8 + 4 * i + rng.uniform(-1, 1)) * 1e-4), rng.uniform(0.5, 1.5))
            for i in range(n_q)
        ]
        orders = [
            ref_rec.Order(
                rng.choice(["bid", "ask"]),
                mid * (1 + sign * rng.uniform(5, 30) * 1e-4),
                rng.uniform(0.5, 1.5),
                rng.choice(["pending_new", "resting", "resting", "pending_cancel"]),
            )
            for _ in range(n_o)
        ]
        if rng.random() < 0.3 and desired:  # exact-ish matches exercise the keep path
            px, sz = desired[0]
            orders.append(ref_rec.Order(side, px * (1 + rng.uniform(-2, 2) * 1e-4), sz, "resting"))
        for _ in range(rng.choice([0, 0, 1, 2])):  # at a desired price: one order per price
            if desired:
                px, _ = rng.choice(desired)
                st = rng.choice(["pending_new", "resting", "resting", "pending_cancel"])
                orders.append(ref_rec.Order(side, px, rng.uniform(0.2, 2.0), st))
        mbd, tol, use_modify = (
            rng.choice([1.0, 2.0, 3.0, 6.0]),
            rng.uniform(0, 0.5),
            rng.random() < 0.7,
        )
        got = _core.reconcile_side(
            mid,
            side,
            desired,
            [(o.side, o.px, o.sz, o.state) for o in orders],
            mbd,
            tol,
            use_modify,
        )
        want = ref_rec.reconcile_side(mid, side, desired, orders, mbd, tol, use_modify)
        assert [tuple(d) for d in got] == want


def _random_cycle_case(rng: random.Random):
    mid = rng.uniform(2000, 4000)
    spread = rng.choice([0.1, 0.2, 1.0])
    bb, ba = round(mid - spread / 2, 1), round(mid + spread / 2, 1)
    if ba <= bb:
        ba = bb + 0.1
    cmax = rng.choice([0.05, 0.3, 1.0, 5.0])
    position = rng.uniform(-0.95, 0.95) * cmax
    margin = rng.choice([10.0, 200.0, 10_000.0])
    leverage = rng.choice([1.0, 3.0, 10.0])
    regime = rng.choice(["quiet", "normal", "volatile", "extreme"])
    tox = rng.choice(["benign", "normal", "normal", "toxic"])
    cross = rng.random() < 0.5
    levels = rng.choice([1, 3, 5])
    floor = rng.choice([8.01, 2.5])
    sigma = rng.uniform(0.5, 10)
    policy = rng.choice(["seed", "skew_only"])
    return locals()


def test_cycle_differential_against_reference():
    rng = random.Random(11)
    compared = 0
    for _ in range(2000):
        c = _random_cycle_case(rng)
        cfg = MarketMakerConfig(
            max_position=c["cmax"], mode_policy=c["policy"],
            ladder={"num_levels": c["levels"], "min_half_spread_bps": c["floor"]},
        )  # fmt: skip
        e = QuoteEngine(cfg, seed=1)
        e.set_account(position=c["position"], available_margin=c["margin"], account_value=1e4,
                      leverage=c["leverage"])  # fmt: skip
        e.on_hl_top(c["bb"], 1.0, c["ba"], 1.0, T0)
        e.set_signals(regime=c["regime"], toxicity=c["tox"], has_had_cross_venue=c["cross"],
                      sigma_bps=c["sigma"])  # fmt: skip
        out = e.cycle(T0)
        mid = 0.5 * (c["bb"] + c["ba"])
        min_order = 10.0 * 1.15 / mid
        target = min(max(c["cmax"] * 0.2, 5 * min_order), c["cmax"])
        p = ref_cycle.CycleParams(
            ladder=ref_ladder.LadderParams(num_levels=c["levels"], min_half_spread_bps=c["floor"]),
            seed_policy=c["policy"] == "seed",
        )
        st = ref_cycle.CycleState(
            best_bid=c["bb"], best_ask=c["ba"], bid_sz=1.0, ask_sz=1.0, position=c["position"],
            available_margin=c["margin"], leverage=c["leverage"], configured_max=c["cmax"],
            target_liquidity=target, gamma=0.02, sigma_bps=c["sigma"], regime=c["regime"],
            toxicity=c["tox"], has_had_cross_venue=c["cross"],
        )  # fmt: skip
        want = ref_cycle.cycle(p, st)
        ctx = f"{c} {out.diagnostics}"
        if want["zone"] == "kill":
            continue
        assert out.diagnostics["effective_max"] == pytest.approx(want["effective_max"]), ctx
        kind = {"Flat": "flat", "Maker": "maker", "InventoryReduce": "reduce"}[out.mode.kind]
        assert kind == want["mode"], ctx
        got_q = [(q.side, q.level, q.px, q.sz) for q in out.quotes]
        want_q = [(s, lv, px, sz) for (s, lv, px, sz, _) in want["bids"] + want["asks"]]
        assert got_q == want_q, ctx
        got_a = [(a.side, a.px, a.sz) for a in out.actions]
        # A fresh engine has no orders: every desired quote is placed, nothing else.
        assert sorted(got_a) == sorted((q[0], q[2], q[3]) for q in want["bids"] + want["asks"]), ctx
        assert all(a.kind == "place" for a in out.actions)
        compared += 1
    assert compared > 1500


def test_market_frames_drive_the_cycle(real_data):
    """Real Hyperliquid BTC l2Book frames into an engine for BTC (szDecimals 5)."""
    import gzip

    cfg = MarketMakerConfig(asset="BTC", max_position=0.01, lead_venue="none")
    e = QuoteEngine(cfg, seed=3)
    e.set_runtime(0, 5)
    e.set_account(position=0.0, available_margin=5000.0, account_value=5000.0, leverage=3.0)
    n_books = 0
    last_ms = 0
    with gzip.open(real_data / "hyperliquid_btcusd_20250126.gz", "rb") as f:
        for line in f:
            ts, frame = line.split(b" ", 1)
            recv_ms = int(ts) // 1_000_000
            if e.on_hl_frame(frame.strip(), recv_ms):
                n_books += 1
            last_ms = recv_ms
    assert n_books > 10
    out = e.cycle(last_ms)
    assert out.mode.kind == "Maker", out.diagnostics
    mid = out.diagnostics["mid"]
    assert 50_000 < mid < 200_000
    for a in out.actions:
        assert _core.is_valid_price(a.px, 5)
        assert (a.px < mid) == (a.side == "bid")
    with pytest.raises(_core_book_error()):
        e.on_hl_frame(b'{"channel":"l2Book","data":{"coin":"BTC"', last_ms)


def _core_book_error() -> type[Exception]:
    from mmfast.errors import BookError

    return BookError


def test_resync_settles_the_engines_own_book_against_the_exchange():
    """Issue 13: after a freeze the engine counted an order the ledger had settled and the
    exchange no longer held; the resync told the engine only what the ledger dropped. An
    engine order neither the exchange nor the ledger holds is gone too, and the engine, told
    with the same order-update frame the resync sends, no longer counts it."""
    from mmfast.live.trader import engine_only_gone

    e = make_engine()
    ack(e, e.cycle(T0), oid_start=1000)
    rows = e.orders
    oids = [r[1] for r in rows]
    assert len(oids) >= 4 and all(r[5] == "resting" for r in rows)
    kept_by_exchange, kept_by_ledger, told = oids[0], oids[1], oids[2:3]
    ledger = [(kept_by_ledger, None, True, 1.0, 1.0, "resting")]
    gone = engine_only_gone(rows, ledger, {kept_by_exchange}, [(o,) for o in told])
    assert sorted(g[0] for g in gone) == sorted(oids[3:])
    # the rows carry what the resync's order-update frame needs, from the engine's own view
    for oid, cloid, is_buy, px, sz in gone:
        row = next(r for r in rows if r[1] == oid)
        assert (cloid, is_buy, px, sz) == (row[0], row[2] == "bid", row[3], row[4])
    # nothing the exchange or the ledger holds, nothing in flight
    assert engine_only_gone(rows, ledger, set(oids), []) == []
    pending = make_engine()
    pending.cycle(T0)  # placed, not yet answered
    assert all(r[5] == "pending_new" for r in pending.orders)
    assert engine_only_gone(pending.orders, [], set(), []) == []
