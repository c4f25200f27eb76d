//! `LadderStrategy` (SPEC 7): from the cycle's market, model and limit inputs to the desired
//! quotes of both sides. Allocation-free: the output lives in fixed arrays of `MAX_LEVELS`.
//!
//! Order of operations per side (mirrored line for line by `tests/reference/cycle.py`):
//! 1. gamma from the calibrated risk model, blended with the plain gamma;
//! 2. GLFT half-spread at q = 0, plus the inventory skew `q * c2` clamped to
//!    `skew_clamp_fraction` of the half-spread quoted at q = 0;
//! 3. plus the adverse-selection buffer, then the `min_half_spread_bps` floor, then the overlay
//!    multiplier (zone x breakers, capped at `overlay_cap`, on the increasing side);
//! 4. reduce-only sides move toward the touch by urgency (1.0 joins the best price);
//! 5. geometric depths from the fair price (the mid moved by the lead signal's predicted move,
//!    see [`alpha_shift_bps`]), prices rounded away from the touch, never crossing, strictly
//!    apart;
//! 6. level weights = fill probability x edge; side total = Kelly-scaled target within the room
//!    left; the best-weighted k levels that each clear min notional, water-filled under the
//!    single-order cap; sizes rounded down to lots.

use serde::{Deserialize, Serialize};

use super::avellaneda_stoikov::QuoteStrategy;
use super::depth::DynamicDepthGenerator;
use super::glft::{CalibratedRiskModel, GlftCoefficients, RiskFeatures};
use super::rounding::{price_tick, round_price, round_size_down, round_size_up};
use super::sizing::{BayesianFillModel, KellyParams, KellySizer};
use crate::config::{LadderConfig, MarketMakerConfig};
use crate::params::MIN_NOTIONAL_BUFFER;
use crate::types::{Side, VolRegime};

/// Upper bound of `ladder.num_levels` (validated by the config).
pub const MAX_LEVELS: usize = 50;
/// Multiple of the adverse-selection buffer held as risk premium in the seed's floor
/// (8.01 = fee 1.5 + AS 3.0 + 1.17 x 3.0); reported in diagnostics only.
pub const AS_RISK_MULT: f64 = 1.17;

/// One desired order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub side: Side,
    /// 0 is the level nearest the touch, in the side's full ladder (dropped levels leave gaps).
    pub level: u32,
    pub px: f64,
    pub sz: f64,
    /// Distance from mid of the rounded price, bps.
    pub depth_bps: f64,
}

const EMPTY_QUOTE: Quote = Quote {
    side: Side::Bid,
    level: 0,
    px: 0.0,
    sz: 0.0,
    depth_bps: 0.0,
};

/// The quotes of one side, nearest the touch first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SideQuotes {
    len: usize,
    items: [Quote; MAX_LEVELS],
}

impl Default for SideQuotes {
    fn default() -> Self {
        Self {
            len: 0,
            items: [EMPTY_QUOTE; MAX_LEVELS],
        }
    }
}

impl SideQuotes {
    pub fn as_slice(&self) -> &[Quote] {
        &self.items[..self.len]
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    pub(super) fn push(&mut self, q: Quote) {
        if self.len < MAX_LEVELS {
            self.items[self.len] = q;
            self.len += 1;
        }
    }

    /// Total size of the side.
    pub fn total(&self) -> f64 {
        self.as_slice().iter().map(|q| q.sz).sum()
    }
}

/// Everything one ladder computation depends on, supplied by the engine each cycle.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LadderInput {
    pub mid: f64,
    /// Best prices of the Hyperliquid book; 0 or non-finite when that side is empty.
    pub best_bid: f64,
    pub best_ask: f64,
    pub sz_decimals: u32,
    pub min_notional: f64,
    pub sigma_bps: f64,
    pub kappa: f64,
    pub a_intensity: f64,
    pub gamma_base: f64,
    pub risk: RiskFeatures,
    /// Predicted Hyperliquid move from the lead signal, bps (> 0: up). 0 when not actionable.
    /// The side it runs toward moves away by all of it.
    pub alpha_bps: f64,
    /// The share of `alpha_bps` the other side moves in by (same sign, at most as large): the
    /// signal's integrator scales it down when it would add to the position the way it leans.
    pub alpha_lean_bps: f64,
    /// Measured 5 s markout (adverse selection) of our fills, bps, and warm-up progress in [0, 1].
    pub measured_as_bps: f64,
    pub as_warmup: f64,
    /// The side one-sided taker flow runs into now (bids when it sells), if any, and
    /// the markout measured on fills made there and its warm-up: that side's buffer is blended
    /// from these instead (the engine's `AdverseSelection`).
    pub flow_side: Option<Side>,
    pub flow_as_bps: f64,
    pub flow_as_warmup: f64,
    pub regime: VolRegime,
    pub position: f64,
    /// Effective max after margin, regime and caps (SPEC 8 step 3), coin.
    pub effective_max: f64,
    pub target_liquidity: f64,
    /// Total each side may have outstanding (desired ladder), coin; computed by the engine from
    /// the effective max, the zone's new-exposure allowance and reduce-only rules.
    pub room_bid: f64,
    pub room_ask: f64,
    /// `available_margin * leverage`, USD: bounds how many levels can be funded.
    pub margin_notional: f64,
    pub quote_bid: bool,
    pub quote_ask: bool,
    /// Reduce-only: sides are limited to |position| and move toward the touch by `urgency`.
    pub reduce_only: bool,
    pub urgency: f64,
    /// Overlay multiplier per side (already capped).
    pub bid_mult: f64,
    pub ask_mult: f64,
}

/// Why a side has no desired quote (issue 13 item 4: a Maker cycle with room that quotes
/// nothing must say why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum EmptySide {
    /// The side has quotes.
    #[default]
    Quoted,
    /// The mode does not quote this side.
    Disabled,
    /// No room under the effective max (or the Kelly-scaled total is 0).
    NoRoom,
    /// The room is below one minimum order at the side's prices.
    BelowMinOrder,
    /// No valid price (a depth that is not finite, or a bid at or below 0).
    NoPrice,
}

impl EmptySide {
    pub fn as_str(self) -> &'static str {
        match self {
            EmptySide::Quoted => "quoted",
            EmptySide::Disabled => "disabled",
            EmptySide::NoRoom => "no_room",
            EmptySide::BelowMinOrder => "below_min_order",
            EmptySide::NoPrice => "no_price",
        }
    }
}

/// What the ladder decided, for the cycle's diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LadderDiagnostics {
    pub gamma: f64,
    pub c1: f64,
    pub c2: f64,
    /// GLFT half-spread at q = 0, bps.
    pub half_spread_bps: f64,
    /// Inventory skew after the clamp, bps (> 0 lowers both quotes; the alpha moves the
    /// reference price instead: [`alpha_shift_bps`]).
    pub skew_bps: f64,
    pub as_buffer_bps: f64,
    pub floor_bps: f64,
    /// Touch depth of each side after floors, overlay and urgency, bps.
    pub bid_touch_bps: f64,
    pub ask_touch_bps: f64,
    pub bid_total: f64,
    pub ask_total: f64,
    pub single_order_fraction: f64,
    pub levels_fundable: u32,
    /// Kelly fraction when active, else -1.
    pub kelly_fraction: f64,
    /// The kappa (per bps) and A (per s) the GLFT used, after the bounds.
    pub kappa: f64,
    pub a_intensity: f64,
    /// Why each side has no quote (`Quoted` when it has).
    pub bid_empty: EmptySide,
    pub ask_empty: EmptySide,
}

impl LadderDiagnostics {
    /// The touch depth of a side without skew or multipliers (bps): the GLFT term plus the
    /// adverse-selection buffer, at least the floor. The skew clamp is a share of it, and the
    /// cycle's queue value takes a side at it (`engine::cycle::skew_credit`).
    #[inline]
    pub fn unskewed_touch_bps(&self) -> f64 {
        (self.half_spread_bps + self.as_buffer_bps).max(self.floor_bps)
    }
}

/// The desired quotes of both sides.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LadderOutput {
    pub bids: SideQuotes,
    pub asks: SideQuotes,
    pub diag: LadderDiagnostics,
}

impl LadderOutput {
    pub fn side(&self, side: Side) -> &SideQuotes {
        match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        }
    }
}

/// The ladder stage and its learned state (fill posteriors, Kelly statistics). `strategy`
/// selects what `quote` computes: the GLFT ladder, or the Avellaneda-Stoikov baseline
/// (`avellaneda_stoikov.rs`), which every stage around it treats the same way.
#[derive(Debug, Clone, PartialEq)]
pub struct LadderStrategy {
    pub cfg: LadderConfig,
    /// Bounds and priors of the intensity model (`stochastic`): the GLFT never sees a kappa or
    /// A outside them, whatever a caller or an estimator hands in.
    pub intensity: IntensityBounds,
    pub strategy: QuoteStrategy,
    /// Avellaneda-Stoikov's constant horizon `T - t`, s.
    pub as_horizon_s: f64,
    pub fee_bps: f64,
    pub skew_clamp_fraction: f64,
    pub risk_model: CalibratedRiskModel,
    pub fill_model: BayesianFillModel,
    pub kelly: KellySizer,
}

/// The intensity model's bounds and the priors that replace a value that is not finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntensityBounds {
    pub kappa_min: f64,
    pub kappa_max: f64,
    pub a_min: f64,
    pub a_max: f64,
    pub kappa_prior: f64,
    pub a_prior: f64,
    pub sigma_prior: f64,
}

impl IntensityBounds {
    pub fn from_config(cfg: &MarketMakerConfig) -> Self {
        let s = &cfg.stochastic;
        Self {
            kappa_min: s.kappa_min,
            kappa_max: s.kappa_max,
            a_min: s.a_min,
            a_max: s.a_max,
            kappa_prior: s.kappa_prior,
            a_prior: s.a_prior,
            sigma_prior: s.sigma_prior_bps,
        }
    }

    /// `(kappa, a, sigma)` made safe for the GLFT: kappa and A within their bounds (the prior
    /// when not finite), sigma finite and >= 0 (the prior when not).
    pub fn sanitize(&self, kappa: f64, a: f64, sigma: f64) -> (f64, f64, f64) {
        let k = if kappa.is_finite() {
            kappa.clamp(self.kappa_min, self.kappa_max)
        } else {
            self.kappa_prior
        };
        let a = if a.is_finite() {
            a.clamp(self.a_min, self.a_max)
        } else {
            self.a_prior
        };
        let s = if sigma.is_finite() {
            sigma.max(0.0)
        } else {
            self.sigma_prior
        };
        (k, a, s)
    }
}

/// Side-independent numbers of one computation.
struct Common {
    tick_bps: f64,
    levels: usize,
}

impl LadderStrategy {
    pub fn new(cfg: &MarketMakerConfig) -> Self {
        Self {
            cfg: cfg.ladder.clone(),
            intensity: IntensityBounds::from_config(cfg),
            strategy: cfg.strategy,
            as_horizon_s: cfg.avellaneda_stoikov.horizon_s,
            fee_bps: cfg.fee_bps,
            skew_clamp_fraction: cfg.signals.skew_clamp_fraction,
            risk_model: CalibratedRiskModel::default(),
            fill_model: BayesianFillModel::default(),
            kelly: KellySizer::default(),
        }
    }

    fn kelly_params(&self) -> KellyParams {
        KellyParams {
            fraction: self.cfg.kelly_fraction,
            min_fills: self.cfg.kelly_min_fills,
            min_win_rate: self.cfg.kelly_min_win_rate,
            min_edge_bps: self.cfg.kelly_min_edge_bps,
            max_fraction: self.cfg.kelly_max_fraction,
        }
    }

    /// Single-order cap fraction of the effective max for a volatility regime.
    pub fn single_order_fraction(&self, regime: VolRegime) -> f64 {
        let f = &self.cfg.single_order_fraction;
        match regime {
            VolRegime::Quiet => f.quiet,
            VolRegime::Normal => f.normal,
            VolRegime::Volatile => f.volatile,
            VolRegime::Extreme => f.extreme,
        }
    }

    /// Adverse-selection buffer: `w * measured + (1 - w) * prior`. The measured markout is not
    /// floored at 0: it is an EWMA of 5 s markouts whose noise (+-0.4 bps on the calibrated
    /// presets) dwarfs their mean (0.1 bps), and clipping it biased the buffer up and the quotes
    /// out (issue 14: unclipped, calm +0.81 -> +1.88 and default -0.03 -> +0.92 USD per 30 min
    /// against the baseline, seeds 101-120). Favourable markouts may bring the side in; the
    /// `min_half_spread_bps` floor (validated > 0) still bounds every quote's depth.
    pub fn as_buffer(&self, measured_bps: f64, warmup: f64) -> f64 {
        let w = if warmup.is_finite() {
            warmup.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let m = if measured_bps.is_finite() {
            measured_bps
        } else {
            self.cfg.as_prior_bps
        };
        w * m + (1.0 - w) * self.cfg.as_prior_bps
    }

    /// Computes the desired quotes into `out` (cleared first). Inputs are trusted to be finite
    /// (the engine validates at its boundary); a non-positive mid yields no quotes.
    pub fn quote(&self, inp: &LadderInput, out: &mut LadderOutput) {
        out.bids.clear();
        out.asks.clear();
        out.diag = LadderDiagnostics::default();
        if !(inp.mid.is_finite() && inp.mid > 0.0) {
            return;
        }
        if self.strategy == QuoteStrategy::AvellanedaStoikov {
            return self.quote_avellaneda_stoikov(inp, out);
        }
        let gamma =
            self.risk_model
                .blended_gamma(inp.gamma_base, &inp.risk, self.cfg.risk_model_blend);
        let (kappa, a_intensity, sigma) =
            self.intensity
                .sanitize(inp.kappa, inp.a_intensity, inp.sigma_bps);
        let coef = GlftCoefficients::new(gamma, kappa, a_intensity, sigma);
        let levels_cfg = (self.cfg.num_levels as usize).clamp(1, MAX_LEVELS);
        let unit = inp.target_liquidity / levels_cfg as f64;
        let q = if unit > 0.0 { inp.position / unit } else { 0.0 };
        let half = coef.half_spread();
        let as_buffer = self.as_buffer(inp.measured_as_bps, inp.as_warmup);
        let floor = self.cfg.min_half_spread_bps;
        // SPEC 4: the skew is clamped to a share of the half-spread the ladder quotes at q = 0
        // (GLFT term plus the adverse-selection buffer, at least the floor), not of the GLFT
        // term alone: wherever the buffer or the floor sets the depth (every calibrated preset:
        // GLFT 0.7 bps under a 1-8 bps floor) the old clamp held the inventory skew to a
        // fraction of a bps, the position drifted into Yellow and one side went dark (issue 14:
        // Yellow 21% of the time vs the baseline's 2%).
        let d = &mut out.diag;
        d.half_spread_bps = half;
        d.as_buffer_bps = as_buffer;
        d.floor_bps = floor;
        let clamp = self.skew_clamp_fraction * d.unskewed_touch_bps();
        // The alpha is not part of the clamped skew: it moves the price the depths are measured
        // from (`post_only_price`). Clamped with the inventory skew to 80% of the half-spread
        // (SPEC 4), a predicted move larger than the half-spread left the side it runs toward
        // in its path: the fills the signal exists to avoid (issue 14: a 15 bps Binance jump
        // seen 150 ms ahead still filled the bid 10.6 bps through).
        let skew = (q * coef.c2).clamp(-clamp, clamp);
        let min_order_notional = inp.min_notional * MIN_NOTIONAL_BUFFER;
        let fundable = if inp.margin_notional.is_finite() && inp.margin_notional > 0.0 {
            (inp.margin_notional / min_order_notional).floor().min(1e6) as usize
        } else {
            0
        };
        let common = Common {
            tick_bps: price_tick(inp.mid, inp.sz_decimals) / inp.mid * 1e4,
            levels: levels_cfg,
        };
        let d = &mut out.diag;
        d.gamma = gamma;
        d.kappa = kappa;
        d.a_intensity = a_intensity;
        d.c1 = coef.c1;
        d.c2 = coef.c2;
        d.skew_bps = skew;
        d.single_order_fraction = self.single_order_fraction(inp.regime);
        d.levels_fundable = fundable.min(u32::MAX as usize) as u32;
        let kp = self.kelly_params();
        d.kelly_fraction = self.kelly.fraction(&kp).unwrap_or(-1.0);
        let base_total = self
            .kelly
            .side_total(&kp, inp.target_liquidity, inp.effective_max);
        for side in [Side::Bid, Side::Ask] {
            let (enabled, glft_d, mult, room) = match side {
                Side::Bid => (inp.quote_bid, half + skew, inp.bid_mult, inp.room_bid),
                Side::Ask => (inp.quote_ask, half - skew, inp.ask_mult, inp.room_ask),
            };
            let buffer = if inp.flow_side == Some(side) {
                self.as_buffer(inp.flow_as_bps, inp.flow_as_warmup)
            } else {
                as_buffer
            };
            let mut touch = (glft_d + buffer).max(floor) * mult.max(1.0);
            if inp.reduce_only {
                touch = toward_touch(inp, side, touch);
            }
            // On the calibrated books a resting quote fills by the price running through it,
            // whole: the size shown is the volume traded. The reducing side may show up to the
            // whole position, so one such fill brings it back (issue 14: calm volume +25%).
            let total = if inp.reduce_only {
                inp.position.abs().min(room)
            } else if crate::governor::is_reducing(inp.position, side == Side::Bid) {
                base_total
                    .max(self.cfg.reduce_size_share * inp.position.abs())
                    .min(room)
            } else {
                base_total.min(room)
            };
            // Reduce-only orders need no margin; new exposure is limited to what margin funds,
            // but one level always remains possible (SPEC 3: never below one valid order).
            let levels = if inp.reduce_only {
                common.levels
            } else {
                common.levels.min(fundable.max(1))
            };
            match side {
                Side::Bid => d.bid_touch_bps = touch,
                Side::Ask => d.ask_touch_bps = touch,
            }
            let empty = if !enabled {
                Some(EmptySide::Disabled)
            } else if total.is_nan() || total <= 0.0 {
                Some(EmptySide::NoRoom)
            } else {
                None
            };
            if let Some(e) = empty {
                match side {
                    Side::Bid => d.bid_empty = e,
                    Side::Ask => d.ask_empty = e,
                }
                continue;
            }
            let target = match side {
                Side::Bid => &mut out.bids,
                Side::Ask => &mut out.asks,
            };
            let e = self.build_side(
                &LadderInput {
                    kappa,
                    a_intensity,
                    ..*inp
                },
                &common,
                side,
                touch,
                buffer,
                total,
                levels,
                d.single_order_fraction,
                target,
            );
            match side {
                Side::Bid => d.bid_empty = e,
                Side::Ask => d.ask_empty = e,
            }
        }
        out.diag.bid_total = out.bids.total();
        out.diag.ask_total = out.asks.total();
    }

    #[allow(clippy::too_many_arguments)]
    fn build_side(
        &self,
        inp: &LadderInput,
        c: &Common,
        side: Side,
        touch: f64,
        as_buffer: f64,
        total: f64,
        levels: usize,
        single_fraction: f64,
        out: &mut SideQuotes,
    ) -> EmptySide {
        let mut depth = [0.0f64; MAX_LEVELS];
        let mut px = [0.0f64; MAX_LEVELS];
        let mut weight = [0.0f64; MAX_LEVELS];
        let mut min_sz = [0.0f64; MAX_LEVELS];
        let mut cap = [0.0f64; MAX_LEVELS];
        let n = levels.min(MAX_LEVELS);
        // The price this side's depths are measured from (once per side, not per level).
        let shift = alpha_shift_bps(inp, side);
        let fair = inp.mid * (1.0 + shift * 1e-4);
        DynamicDepthGenerator::new(self.cfg.depth_ratio).generate(
            touch,
            c.tick_bps,
            &mut depth[..n],
        );
        let mut valid = 0usize;
        let mut prev = f64::NAN;
        for i in 0..n {
            let mut p = post_only_price(inp, side, fair, depth[i]);
            // Strictly apart from the level inside.
            if prev.is_finite() {
                match side {
                    Side::Bid if p >= prev => {
                        p = round_price(
                            prev - price_tick(prev, inp.sz_decimals),
                            inp.sz_decimals,
                            false,
                        );
                    }
                    Side::Ask if p <= prev => {
                        p = round_price(
                            prev + price_tick(prev, inp.sz_decimals),
                            inp.sz_decimals,
                            true,
                        );
                    }
                    _ => {}
                }
            }
            if p.is_nan() || p <= 0.0 {
                break; // a bid at or below zero: no deeper level exists
            }
            prev = p;
            px[i] = p;
            depth[i] = match side {
                Side::Bid => (inp.mid - p) / inp.mid * 1e4,
                Side::Ask => (p - inp.mid) / inp.mid * 1e4,
            };
            // The edge is earned against the fair price the level was placed from.
            let fair_depth = match side {
                Side::Bid => depth[i] + shift,
                Side::Ask => depth[i] - shift,
            };
            let edge = (fair_depth - self.fee_bps - as_buffer).max(0.0);
            weight[i] = self
                .fill_model
                .fill_probability(depth[i], inp.kappa, inp.a_intensity)
                * edge;
            min_sz[i] = round_size_up(inp.min_notional * MIN_NOTIONAL_BUFFER / p, inp.sz_decimals);
            cap[i] = (single_fraction * inp.effective_max)
                .max(min_sz[i])
                .min(total);
            valid = i + 1;
        }
        // Levels ranked by weight, best first (ties: nearer the touch first).
        let mut rank = [0usize; MAX_LEVELS];
        for (i, r) in rank.iter_mut().enumerate().take(valid) {
            *r = i;
        }
        let rank = &mut rank[..valid];
        for i in 1..rank.len() {
            let mut j = i;
            while j > 0 && weight[rank[j]] > weight[rank[j - 1]] {
                rank.swap(j, j - 1);
                j -= 1;
            }
        }
        let mut alloc = [0.0f64; MAX_LEVELS];
        for k in (1..=valid).rev() {
            let chosen = &rank[..k];
            water_fill(chosen, &weight, &cap, total, &mut alloc);
            let mut ok = true;
            for &i in chosen {
                alloc[i] = round_size_down(alloc[i], inp.sz_decimals);
                if alloc[i] < min_sz[i] {
                    ok = false;
                }
            }
            if ok {
                for i in 0..valid {
                    if chosen.contains(&i) {
                        out.push(Quote {
                            side,
                            level: i as u32,
                            px: px[i],
                            sz: alloc[i],
                            depth_bps: depth[i],
                        });
                    }
                }
                return EmptySide::Quoted;
            }
        }
        if valid == 0 {
            EmptySide::NoPrice
        } else {
            EmptySide::BelowMinOrder
        }
    }
}

/// A reduce-only side's depth moved toward the best price of its own side by urgency (1.0
/// joins it); unchanged when that side of the book is empty.
pub(super) fn toward_touch(inp: &LadderInput, side: Side, depth_bps: f64) -> f64 {
    let best = match side {
        Side::Bid => inp.best_bid,
        Side::Ask => inp.best_ask,
    };
    if !(best.is_finite() && best > 0.0) {
        return depth_bps;
    }
    let join = match side {
        Side::Bid => (inp.mid - best) / inp.mid * 1e4,
        Side::Ask => (best - inp.mid) / inp.mid * 1e4,
    };
    let u = inp.urgency.clamp(0.0, 1.0);
    join + (1.0 - u) * (depth_bps - join)
}

/// How far the lead signal moves `side`'s reference price from the mid, bps (> 0 up): the side
/// the predicted move runs toward (the ask when it is up) by all of it, so that a move seen on
/// the lead venue does not run through it; the other side by the lean only. A reduce-only side
/// is not moved: its urgency is measured from the book's own best price.
#[inline]
pub(super) fn alpha_shift_bps(inp: &LadderInput, side: Side) -> f64 {
    if inp.reduce_only {
        return 0.0;
    }
    let runs_toward = match side {
        Side::Bid => inp.alpha_bps < 0.0,
        Side::Ask => inp.alpha_bps > 0.0,
    };
    if runs_toward {
        inp.alpha_bps
    } else {
        inp.alpha_lean_bps
    }
}

/// The price `depth_bps` from `reference` on `side` (the mid, or for the ladder the mid moved
/// by [`alpha_shift_bps`]), rounded away from the touch, and moved off the other side of the
/// book if it would cross it (post-only).
// Inlined into both ladders' level loops (once it had a second caller LLVM kept it out of
// line: +1,000 instructions a steady cycle, callgrind).
#[inline]
pub(super) fn post_only_price(
    inp: &LadderInput,
    side: Side,
    reference: f64,
    depth_bps: f64,
) -> f64 {
    let (raw, up) = match side {
        Side::Bid => (reference * (1.0 - depth_bps * 1e-4), false),
        Side::Ask => (reference * (1.0 + depth_bps * 1e-4), true),
    };
    let p = round_price(raw, inp.sz_decimals, up);
    match side {
        Side::Bid if inp.best_ask.is_finite() && inp.best_ask > 0.0 && p >= inp.best_ask => {
            round_price(
                inp.best_ask - price_tick(inp.best_ask, inp.sz_decimals),
                inp.sz_decimals,
                false,
            )
        }
        Side::Ask if inp.best_bid.is_finite() && inp.best_bid > 0.0 && p <= inp.best_bid => {
            round_price(
                inp.best_bid + price_tick(inp.best_bid, inp.sz_decimals),
                inp.sz_decimals,
                true,
            )
        }
        _ => p,
    }
}

/// Splits `total` over `chosen` in proportion to `weight` (uniformly when every weight is 0),
/// no level above its cap: levels whose share exceeds the cap are fixed at it and the rest is
/// shared again among the others.
fn water_fill(chosen: &[usize], weight: &[f64], cap: &[f64], total: f64, alloc: &mut [f64]) {
    let mut fixed = [false; MAX_LEVELS];
    let mut remaining = total;
    for _ in 0..=chosen.len() {
        let mut wsum = 0.0;
        let mut free = 0usize;
        for &i in chosen {
            if !fixed[i] {
                wsum += weight[i];
                free += 1;
            }
        }
        if free == 0 {
            return;
        }
        let share = |i: usize| {
            if wsum > 0.0 {
                remaining * weight[i] / wsum
            } else {
                remaining / free as f64
            }
        };
        let mut newly = 0.0;
        let mut any = false;
        for &i in chosen {
            if !fixed[i] && share(i) >= cap[i] {
                fixed[i] = true;
                alloc[i] = cap[i];
                newly += cap[i];
                any = true;
            }
        }
        if !any {
            for &i in chosen {
                if !fixed[i] {
                    alloc[i] = share(i);
                }
            }
            return;
        }
        remaining = (remaining - newly).max(0.0);
    }
}
