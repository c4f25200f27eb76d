"""Reference of `mmfast_core::strategy` (SPEC 7): the ladder of one cycle."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

MAX_LEVELS = 50
MIN_NOTIONAL_BUFFER = 1.15
GAMMA_MIN_MULT, GAMMA_MAX_MULT = 0.5, 5.0
BUCKET_BPS, NUM_BUCKETS, MIN_ATTEMPTS = 2.0, 64, 5
PRIOR_STRENGTH, ATTEMPT_HORIZON_S = 10.0, 5.0
GRID_EPS = 1e-12
SINGLE_ORDER_FRACTION = {"quiet": 0.50, "normal": 0.25, "volatile": 0.15, "extreme": 0.10}
BETAS = {"vol": 0.6, "inventory": 0.7, "toxicity": 0.7, "thin_book": 0.4}


def _round_half_away(v: float) -> float:
    return math.copysign(math.floor(abs(v) + 0.5), v)


# ---- rounding (PROTOCOL 4.3) ----


def price_decimals(px: float, sz_decimals: int) -> int:
    max_dec = max(6 - sz_decimals, 0)
    int_digits = math.floor(math.log10(px)) + 1 if px > 0 else 1
    return min(max(5 - int_digits, 0), max_dec)


def price_tick(px: float, sz_decimals: int) -> float:
    return 1.0 / 10.0 ** price_decimals(px, sz_decimals)


def _round_scaled(x: float, dec: int, up: bool) -> float:
    s = 10.0**dec
    v = x * s
    r = _round_half_away(v)
    if abs(v - r) <= GRID_EPS * max(abs(r), 1.0):
        return r / s
    return (math.ceil(v) if up else math.floor(v)) / s


def round_price(px: float, sz_decimals: int, up: bool) -> float:
    if not (math.isfinite(px) and px > 0):
        return px
    return _round_scaled(px, price_decimals(px, sz_decimals), up)


def is_valid_price(px: float, sz_decimals: int) -> bool:
    if not (math.isfinite(px) and px > 0):
        return False
    if abs(px - _round_half_away(px)) <= GRID_EPS * max(abs(px), 1.0):
        return True
    v = px * 10.0 ** price_decimals(px, sz_decimals)
    return abs(v - _round_half_away(v)) <= GRID_EPS * max(abs(v), 1.0)


def round_size_down(sz: float, sz_decimals: int) -> float:
    return _round_scaled(sz, sz_decimals, False) if math.isfinite(sz) and sz > 0 else 0.0


def round_size_up(sz: float, sz_decimals: int) -> float:
    return _round_scaled(sz, sz_decimals, True) if math.isfinite(sz) and sz > 0 else 0.0


# ---- GLFT and gamma ----


def glft(gamma: float, kappa: float, a: float, sigma: float) -> tuple[float, float]:
    g_over_k = gamma / kappa
    c1 = math.log1p(g_over_k) / gamma
    c2 = math.sqrt(
        sigma * sigma * gamma / (2.0 * kappa * a) * (1.0 + g_over_k) ** (1.0 + kappa / gamma)
    )
    return c1, c2


def calibrated_gamma(
    gamma_base: float, vol_ratio: float, inventory_ratio: float, toxicity: float, thin: float
) -> float:
    def clean(v: float, lo: float, hi: float, neutral: float) -> float:
        return min(max(v, lo), hi) if math.isfinite(v) else neutral

    x_vol = math.log(clean(vol_ratio, 0.1, 10.0, 1.0))
    inv = clean(inventory_ratio, -2.0, 2.0, 0.0)
    log_mult = (
        BETAS["vol"] * x_vol
        + BETAS["inventory"] * inv * inv
        + BETAS["toxicity"] * clean(toxicity, 0.0, 1.0, 0.0)
        + BETAS["thin_book"] * clean(thin, 0.0, 1.0, 0.0)
    )
    return gamma_base * min(max(math.exp(log_mult), GAMMA_MIN_MULT), GAMMA_MAX_MULT)


# ---- fill model and Kelly (cold: prior only; Kelly inactive) ----


def prior_fill_probability(depth_bps: float, kappa: float, a: float) -> float:
    d = max(depth_bps, 0.0)
    return -math.expm1(-(a * math.exp(-kappa * d) * ATTEMPT_HORIZON_S))


def bucket(depth_bps: float) -> int:
    if math.isfinite(depth_bps) and depth_bps > 0:
        return min(int(depth_bps / BUCKET_BPS), NUM_BUCKETS - 1)
    return 0


@dataclass
class FillModel:
    fills: list[int] = field(default_factory=lambda: [0] * NUM_BUCKETS)
    attempts: list[int] = field(default_factory=lambda: [0] * NUM_BUCKETS)

    def probability(self, depth_bps: float, kappa: float, a: float) -> float:
        p0 = prior_fill_probability(depth_bps, kappa, a)
        b = bucket(depth_bps)
        n, k = self.attempts[b], self.fills[b]
        if n < MIN_ATTEMPTS:
            return p0
        return (p0 * PRIOR_STRENGTH + k) / (PRIOR_STRENGTH + n)


# ---- the ladder ----


@dataclass
class LadderParams:
    num_levels: int = 5
    min_half_spread_bps: float = 8.01
    as_prior_bps: float = 3.0
    depth_ratio: float = 1.5
    risk_model_blend: float = 1.0
    fee_bps: float = 1.5
    skew_clamp_fraction: float = 0.8
    # Outside reduce-only the reducing side shows at least this share of |position|.
    reduce_size_share: float = 0.0
    # Intensity bounds and priors (`stochastic`): the GLFT never sees kappa or A outside them.
    kappa_min: float = 0.02
    kappa_max: float = 5.0
    a_min: float = 0.01
    a_max: float = 50.0
    kappa_prior: float = 0.25
    a_prior: float = 0.5
    sigma_prior: float = 2.0


@dataclass
class LadderInput:
    mid: float
    best_bid: float
    best_ask: float
    sz_decimals: int
    min_notional: float
    sigma_bps: float
    kappa: float
    a_intensity: float
    gamma_base: float
    vol_ratio: float
    inventory_ratio: float
    toxicity_score: float
    thin_book: float
    alpha_bps: float
    measured_as_bps: float
    as_warmup: float
    regime: str
    position: float
    effective_max: float
    target_liquidity: float
    room_bid: float
    room_ask: float
    margin_notional: float
    quote_bid: bool
    quote_ask: bool
    reduce_only: bool
    urgency: float
    bid_mult: float
    ask_mult: float
    # The share of alpha_bps the side it runs away from moves in by (None: all of it).
    alpha_lean_bps: float | None = None
    # The side one-sided taker flow runs into ("bid" when it sells), None: none; that side's
    # buffer is blended from the markout measured there.
    flow_side: str | None = None
    flow_as_bps: float = 0.0
    flow_as_warmup: float = 0.0


def alpha_shift(inp: LadderInput, side: str) -> float:
    """How far the lead signal moves `side`'s reference price from the mid, bps: the side the
    predicted move runs toward by all of it, the other by the lean; a reduce-only side not at
    all."""
    if inp.reduce_only:
        return 0.0
    runs_toward = inp.alpha_bps < 0 if side == "bid" else inp.alpha_bps > 0
    if runs_toward:
        return inp.alpha_bps
    return inp.alpha_bps if inp.alpha_lean_bps is None else inp.alpha_lean_bps


# A quote: (side, level, px, sz, depth_bps)
Quote = tuple[str, int, float, float, float]


def as_buffer(p: LadderParams, measured: float, warmup: float) -> float:
    w = min(max(warmup, 0.0), 1.0) if math.isfinite(warmup) else 0.0
    m = measured if math.isfinite(measured) else p.as_prior_bps
    return w * m + (1.0 - w) * p.as_prior_bps


def depths(touch: float, tick: float, n: int, ratio: float) -> list[float]:
    out = []
    d = max(touch, 0.0)
    prev = -math.inf
    for _ in range(n):
        v = max(d, prev + tick)
        out.append(v)
        prev = v
        d *= ratio
    return out


def water_fill(
    chosen: list[int], weight: list[float], cap: list[float], total: float
) -> dict[int, float]:
    alloc: dict[int, float] = {}
    fixed: set[int] = set()
    remaining = total
    for _ in range(len(chosen) + 1):
        free = [i for i in chosen if i not in fixed]
        if not free:
            return alloc
        wsum = 0.0
        for i in free:
            wsum += weight[i]

        def share(
            i: int, remaining: float = remaining, wsum: float = wsum, nfree: int = len(free)
        ) -> float:
            return remaining * weight[i] / wsum if wsum > 0 else remaining / nfree

        newly = 0.0
        hit = False
        for i in chosen:
            if i not in fixed and share(i) >= cap[i]:
                fixed.add(i)
                alloc[i] = cap[i]
                newly += cap[i]
                hit = True
        if not hit:
            for i in free:
                alloc[i] = share(i)
            return alloc
        remaining = max(remaining - newly, 0.0)
    return alloc


def quote(
    p: LadderParams, inp: LadderInput, fill_model: FillModel | None = None
) -> tuple[list[Quote], list[Quote], dict[str, float]]:
    """Returns (bids, asks, diagnostics) exactly as `LadderStrategy::quote`."""
    fm = fill_model or FillModel()
    if not (math.isfinite(inp.mid) and inp.mid > 0):
        return [], [], {}
    gamma_cal = calibrated_gamma(
        inp.gamma_base, inp.vol_ratio, inp.inventory_ratio, inp.toxicity_score, inp.thin_book
    )
    gamma = p.risk_model_blend * gamma_cal + (1.0 - p.risk_model_blend) * inp.gamma_base
    kappa = p.kappa_prior
    if math.isfinite(inp.kappa):
        kappa = min(max(inp.kappa, p.kappa_min), p.kappa_max)
    a = p.a_prior
    if math.isfinite(inp.a_intensity):
        a = min(max(inp.a_intensity, p.a_min), p.a_max)
    sigma = max(inp.sigma_bps, 0.0) if math.isfinite(inp.sigma_bps) else p.sigma_prior
    inp = replace(inp, kappa=kappa, a_intensity=a, sigma_bps=sigma)
    c1, c2 = glft(gamma, inp.kappa, inp.a_intensity, inp.sigma_bps)
    levels_cfg = min(max(p.num_levels, 1), MAX_LEVELS)
    unit = inp.target_liquidity / levels_cfg
    q = inp.position / unit if unit > 0 else 0.0
    half = c1 + 0.5 * c2
    buf = as_buffer(p, inp.measured_as_bps, inp.as_warmup)
    floor = p.min_half_spread_bps
    # The clamp's reference is the half-spread quoted at q = 0 (buffer and floor included).
    clamp = p.skew_clamp_fraction * max(half + buf, floor)
    skew = min(max(q * c2, -clamp), clamp)
    min_order_notional = inp.min_notional * MIN_NOTIONAL_BUFFER
    if math.isfinite(inp.margin_notional) and inp.margin_notional > 0:
        fundable = int(min(math.floor(inp.margin_notional / min_order_notional), 1e6))
    else:
        fundable = 0
    tick_bps = price_tick(inp.mid, inp.sz_decimals) / inp.mid * 1e4
    single_fraction = SINGLE_ORDER_FRACTION[inp.regime]
    # Kelly is inactive in the reference's scope (no fills recorded): the target is the total.
    base_total = inp.target_liquidity
    diag = {
        "gamma": gamma,
        "c1": c1,
        "c2": c2,
        "half_spread_bps": half,
        "skew_bps": skew,
        "as_buffer_bps": buf,
        "floor_bps": floor,
    }
    sides: dict[str, list[Quote]] = {"bid": [], "ask": []}
    for side in ("bid", "ask"):
        if side == "bid":
            enabled, glft_d, mult, room, best = (
                inp.quote_bid,
                half + skew,
                inp.bid_mult,
                inp.room_bid,
                inp.best_bid,
            )
        else:
            enabled, glft_d, mult, room, best = (
                inp.quote_ask,
                half - skew,
                inp.ask_mult,
                inp.room_ask,
                inp.best_ask,
            )
        side_buf = (
            as_buffer(p, inp.flow_as_bps, inp.flow_as_warmup) if inp.flow_side == side else buf
        )
        touch = max(glft_d + side_buf, floor) * max(mult, 1.0)
        if inp.reduce_only and math.isfinite(best) and best > 0:
            join = (
                (inp.mid - best) / inp.mid * 1e4
                if side == "bid"
                else (best - inp.mid) / inp.mid * 1e4
            )
            u = min(max(inp.urgency, 0.0), 1.0)
            touch = join + (1.0 - u) * (touch - join)
        reducing = inp.position < 0 if side == "bid" else inp.position > 0
        if inp.reduce_only:
            total = min(abs(inp.position), room)
        elif reducing:
            total = min(max(base_total, p.reduce_size_share * abs(inp.position)), room)
        else:
            total = min(base_total, room)
        levels = levels_cfg if inp.reduce_only else min(levels_cfg, max(fundable, 1))
        diag[f"{side}_touch_bps"] = touch
        if not enabled or not (total > 0):
            continue
        sides[side] = _build_side(
            p, inp, fm, side, touch, total, levels, tick_bps, side_buf, single_fraction
        )
    return sides["bid"], sides["ask"], diag


def _build_side(
    p: LadderParams,
    inp: LadderInput,
    fm: FillModel,
    side: str,
    touch: float,
    total: float,
    n: int,
    tick_bps: float,
    buf: float,
    single_fraction: float,
) -> list[Quote]:
    szd = inp.sz_decimals
    up = side == "ask"
    depth = depths(touch, tick_bps, n, p.depth_ratio)
    px: list[float] = []
    weight: list[float] = []
    min_sz: list[float] = []
    cap: list[float] = []
    prev = math.nan
    shift = alpha_shift(inp, side)
    fair = inp.mid * (1.0 + shift * 1e-4)
    for i in range(n):
        raw = fair * (1.0 - depth[i] * 1e-4) if side == "bid" else fair * (1.0 + depth[i] * 1e-4)
        px_i = round_price(raw, szd, up)
        if (
            side == "bid"
            and math.isfinite(inp.best_ask)
            and inp.best_ask > 0
            and px_i >= inp.best_ask
        ):
            px_i = round_price(inp.best_ask - price_tick(inp.best_ask, szd), szd, False)
        if (
            side == "ask"
            and math.isfinite(inp.best_bid)
            and inp.best_bid > 0
            and px_i <= inp.best_bid
        ):
            px_i = round_price(inp.best_bid + price_tick(inp.best_bid, szd), szd, True)
        if math.isfinite(prev):
            if side == "bid" and px_i >= prev:
                px_i = round_price(prev - price_tick(prev, szd), szd, False)
            if side == "ask" and px_i <= prev:
                px_i = round_price(prev + price_tick(prev, szd), szd, True)
        if not (px_i > 0):
            break
        prev = px_i
        px.append(px_i)
        d = (inp.mid - px_i) / inp.mid * 1e4 if side == "bid" else (px_i - inp.mid) / inp.mid * 1e4
        depth[i] = d
        fair_d = d + shift if side == "bid" else d - shift
        edge = max(fair_d - p.fee_bps - buf, 0.0)
        weight.append(fm.probability(d, inp.kappa, inp.a_intensity) * edge)
        m = round_size_up(inp.min_notional * MIN_NOTIONAL_BUFFER / px_i, szd)
        min_sz.append(m)
        cap.append(min(max(single_fraction * inp.effective_max, m), total))
    valid = len(px)
    rank = sorted(range(valid), key=lambda i: (-weight[i], i))
    for k in range(valid, 0, -1):
        chosen = rank[:k]
        alloc = water_fill(chosen, weight, cap, total)
        sizes = {i: round_size_down(alloc.get(i, 0.0), szd) for i in chosen}
        if all(sizes[i] >= min_sz[i] for i in chosen):
            return [(side, i, px[i], sizes[i], depth[i]) for i in sorted(chosen)]
    return []
