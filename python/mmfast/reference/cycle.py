"""Reference of one quote cycle's arithmetic (`QuoteEngine::cycle`, SPEC 8) for a fresh book,
a known account and a position below Kill: governor, risk overlay, effective max, rooms, ladder,
queue values, mode and reconcile decisions with the room and invariant checks. It is the
pure-Python baseline `mmfast bench` times against the Rust cycle."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mmfast.reference import ladder as lad
from mmfast.reference.reconcile import Order, reconcile_side

#: Adverse selection of the Benign and Toxic regimes; Normal prices the ladder's buffer.
AS_BPS = {"benign": 1.0, "toxic": 8.0}


@dataclass
class CycleParams:
    ladder: lad.LadderParams = field(default_factory=lad.LadderParams)
    yellow: float = 0.6
    red: float = 0.8
    kill: float = 1.0
    overlay_cap: float = 3.0
    cusum_alarm_mult: float = 1.5
    extreme_vol_mult: float = 1.5
    no_signal_cap: float = 0.3
    queue_penalty: float = 0.3
    max_bps_diff: float = 3.0
    size_tolerance: float = 0.2
    use_modify: bool = True
    seed_policy: bool = True


@dataclass
class CycleState:
    best_bid: float
    best_ask: float
    bid_sz: float
    ask_sz: float
    position: float
    available_margin: float
    leverage: float
    configured_max: float
    target_liquidity: float
    gamma: float
    sz_decimals: int = 4
    min_notional: float = 10.0
    sigma_bps: float = 2.0
    kappa: float = 0.25
    a_intensity: float = 0.5
    vol_ratio: float = 1.0
    regime: str = "normal"
    toxicity: str = "normal"
    toxicity_score: float = 0.0
    has_had_cross_venue: bool = True
    #: Alpha skew in bps (positive: price expected up), 0 unless the lead signal is actionable.
    alpha_bps: float = 0.0
    #: Learned fill posteriors (None: the intensity prior alone).
    fill_model: lad.FillModel | None = None
    orders: list[Order] = field(default_factory=list)


def assess(p: CycleParams, position: float, max_position: float) -> tuple[str, float, float]:
    """(zone, max_new_exposure, increasing-side multiplier) as `InventoryGovernor::assess`."""
    ratio = abs(position) / max_position
    room = max(max_position - abs(position), 0.0)
    if ratio >= p.kill:
        return "kill", 0.0, 3.0
    if ratio >= p.red:
        return "red", 0.0, 2.0
    if ratio >= p.yellow:
        return "yellow", 0.5 * room, 1.0 + (ratio - p.yellow) / (p.red - p.yellow)
    return "green", room, 1.0


def select_mode(
    p: CycleParams, zone: str, tox: str, bid_v: bool, ask_v: bool, position: float, alpha: bool
):
    """(kind, bid, ask, urgency) as `select_mode`."""
    if zone == "kill":
        return ("flat", False, False, 0.0)
    if zone == "red" and position != 0:
        return ("reduce", position < 0, position > 0, 1.0)
    if tox == "toxic":
        if position == 0:
            return ("flat", False, False, 0.0)
        return ("reduce", position < 0, position > 0, 0.7)
    if not p.seed_policy:
        return ("maker", True, True, 0.0)
    if zone == "yellow" and position != 0:
        return ("maker", position < 0, position > 0, 0.0)
    if not bid_v and not ask_v and not alpha:
        if position == 0:
            return ("flat", False, False, 0.0)
        return ("maker", position < 0, position > 0, 0.0)
    return ("maker", bid_v or alpha, ask_v or alpha, 0.0)


@dataclass
class RiskPlan:
    """`risk_plan::RiskPlan` of a quoting cycle: zone, overlay multipliers, effective max, rooms."""

    mid: float
    zone: str
    effective_max: float
    bid_mult: float
    ask_mult: float
    room_bid: float
    room_ask: float


def risk_plan(p: CycleParams, st: CycleState) -> RiskPlan:
    """SPEC 8 steps 1-3 as `risk_plan::plan` for a fresh book, a known account and a position
    below Kill: one function, one line per monitor."""
    mid = 0.5 * (st.best_bid + st.best_ask)
    pos = st.position
    cmax = st.configured_max
    zone, new_exp, inc = assess(p, pos, cmax)
    bid_mult = inc if pos >= 0 else 1.0
    ask_mult = inc if pos <= 0 else 1.0
    if st.regime == "extreme":
        bid_mult *= p.extreme_vol_mult
        ask_mult *= p.extreme_vol_mult
    bid_mult = min(bid_mult, p.overlay_cap)
    ask_mult = min(ask_mult, p.overlay_cap)
    eff = cmax
    eff = min(eff, st.available_margin * st.leverage / mid)
    frac = {"quiet": 0.0, "normal": 0.0, "volatile": 0.5, "extreme": 1.0}[st.regime]
    eff = min(eff, cmax * (1.0 - 0.7 * frac))
    if not st.has_had_cross_venue:
        eff = min(eff, p.no_signal_cap * cmax)
    min_order = lad.round_size_up(st.min_notional * lad.MIN_NOTIONAL_BUFFER / mid, st.sz_decimals)
    if cmax >= min_order and eff < min_order:
        eff = min_order
    room_bid = max(eff - pos, 0.0)
    room_ask = max(eff + pos, 0.0)
    if pos >= 0:
        room_bid = min(room_bid, new_exp)
    if pos <= 0:
        room_ask = min(room_ask, new_exp)
    return RiskPlan(mid, zone, eff, bid_mult, ask_mult, room_bid, room_ask)


def cycle(p: CycleParams, st: CycleState) -> dict:
    plan = risk_plan(p, st)
    mid, zone, eff = plan.mid, plan.zone, plan.effective_max
    bid_mult, ask_mult = plan.bid_mult, plan.ask_mult
    room_bid, room_ask = plan.room_bid, plan.room_ask
    pos = st.position
    cmax = st.configured_max
    inp = lad.LadderInput(
        mid=mid, best_bid=st.best_bid, best_ask=st.best_ask, sz_decimals=st.sz_decimals,
        min_notional=st.min_notional, sigma_bps=st.sigma_bps, kappa=st.kappa,
        a_intensity=st.a_intensity, gamma_base=st.gamma, vol_ratio=st.vol_ratio,
        inventory_ratio=pos / cmax, toxicity_score=st.toxicity_score, thin_book=0.0,
        alpha_bps=st.alpha_bps, measured_as_bps=0.0, as_warmup=0.0, regime=st.regime, position=pos,
        effective_max=eff, target_liquidity=st.target_liquidity, room_bid=room_bid,
        room_ask=room_ask, margin_notional=st.available_margin * st.leverage, quote_bid=True,
        quote_ask=True, reduce_only=False, urgency=0.0, bid_mult=bid_mult, ask_mult=ask_mult,
    )  # fmt: skip
    bids, asks, diag = lad.quote(p.ladder, inp, st.fill_model)
    as_bps = diag["as_buffer_bps"] if st.toxicity == "normal" else AS_BPS[st.toxicity]
    fee = p.ladder.fee_bps
    # Valued at the depth without the skew: the touch at zero skew less the skewed touch.
    centre = max(diag["half_spread_bps"] + diag["as_buffer_bps"], diag["floor_bps"])
    bid_credit = centre * max(bid_mult, 1.0) - diag["bid_touch_bps"]
    ask_credit = centre * max(ask_mult, 1.0) - diag["ask_touch_bps"]

    def qv(depth: float, rank: float) -> float:
        return depth - as_bps - depth * p.queue_penalty * rank - fee

    bid_rank = 1.0 if bids and bids[0][2] == st.best_bid else 0.0
    ask_rank = 1.0 if asks and asks[0][2] == st.best_ask else 0.0
    bid_v = qv((bids[0][4] if bids else diag["bid_touch_bps"]) + bid_credit, bid_rank)
    ask_v = qv((asks[0][4] if asks else diag["ask_touch_bps"]) + ask_credit, ask_rank)
    kind, qb, qa, urgency = select_mode(
        p, zone, st.toxicity, bid_v > 0, ask_v > 0, pos, st.alpha_bps != 0.0
    )
    if kind == "flat":
        bids, asks = [], []
    elif kind == "reduce":
        inp.reduce_only, inp.urgency = True, urgency
        inp.quote_bid, inp.quote_ask = qb, qa
        if qb:
            inp.room_bid = room_bid = abs(pos)
            room_ask = 0.0
        else:
            inp.room_ask = room_ask = abs(pos)
            room_bid = 0.0
        bids, asks, diag = lad.quote(p.ladder, inp, st.fill_model)
    elif not (qb and qa):
        inp.quote_bid, inp.quote_ask = qb, qa
        bids, asks, diag = lad.quote(p.ladder, inp, st.fill_model)
    # Reconcile with the room and invariant checks.
    buys = sum(o.sz for o in st.orders if o.side == "bid")
    sells = sum(o.sz for o in st.orders if o.side == "ask")
    actions = []
    for side, desired, room, limit in (
        ("bid", bids, room_bid, cmax - pos),
        ("ask", asks, room_ask, cmax + pos),
    ):
        dec = reconcile_side(
            mid, side, [(q[2], q[3]) for q in desired], st.orders,
            p.max_bps_diff, p.size_tolerance, p.use_modify,
        )  # fmt: skip
        kept = 0.0
        for k, d in enumerate(dec):
            if d[0] == "keep":
                sz = st.orders[d[1]].sz
                if kept + sz > room * (1 + 1e-9) + 1e-9:
                    dec[k] = ("cancel", d[1])
                else:
                    kept += sz
        actions.extend(d for d in dec if d[0] == "cancel")
        exposure = buys if side == "bid" else sells
        for d in dec:
            if d[0] not in ("place", "modify"):
                continue
            q = desired[d[-1]]
            if (
                exposure + q[3] > limit * (1 + 1e-9) + 1e-9
                or kept + q[3] > room * (1 + 1e-9) + 1e-9
            ):
                if d[0] == "modify":
                    actions.append(("cancel", d[1]))
                continue
            actions.append(d)
            kept += q[3]
            exposure += q[3]
    return {
        "mode": kind,
        "zone": zone,
        "effective_max": eff,
        "bids": bids,
        "asks": asks,
        "actions": actions,
        "half_spread_bps": diag.get("half_spread_bps", math.nan),
    }
