//! A plain Avellaneda-Stoikov (2008) quoter: the outside reference every strategy claim is
//! measured against (SPEC 11; selected by `strategy = "avellaneda_stoikov"`).
//!
//! It replaces only the ladder: the engine's governor, mode selection, risk overlay, reconcile,
//! pre-send guard and safety invariant are the same for both strategies, and so are the fees,
//! the max position, post-only and the exchange's rounding. What it leaves out is everything the
//! GLFT ladder adds on top of the textbook model: several levels, the calibrated risk model, the
//! lead-signal (alpha) skew and its clamp, the adverse-selection buffer, the
//! `min_half_spread_bps` floor, the fill model and Kelly sizing.
//!
//! Units as in SPEC 7: depths in bps of mid, sigma in bps/sqrt(s), kappa per bps, gamma per bps
//! per unit of q, with q = position / the quote's size at zero inventory (AS's model trades one
//! unit per fill). With `tau = horizon_s`:
//!
//! - reservation price `r = mid - q * gamma * sigma^2 * tau` (in bps of mid),
//! - half-spread `delta = gamma * sigma^2 * tau / 2 + ln(1 + gamma / kappa) / gamma`,
//! - `d_bid = delta + q * gamma * sigma^2 * tau`, `d_ask = delta - q * gamma * sigma^2 * tau`.
//!
//! The infinite-horizon market maker has no terminal time, so `T - t` is a constant horizon.
//! Its default, 12 s, makes AS and GLFT agree at the SPEC priors (gamma 0.02, sigma 2, kappa
//! 0.25, A 0.5): `gamma sigma^2 tau = 0.96` bps per unit against GLFT's `c2 = 0.951`, and both
//! half-spreads at q = 0 are 4.33 bps. A comparison then measures what the ladder adds, not a
//! different appetite for risk.

use serde::{Deserialize, Serialize};

use super::ladder::{
    post_only_price, toward_touch, LadderInput, LadderOutput, LadderStrategy, Quote,
};
use super::rounding::{round_size_down, round_size_up};
use crate::params::MIN_NOTIONAL_BUFFER;
use crate::types::Side;

/// Which strategy makes the desired quotes (`strategy` in config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuoteStrategy {
    /// The GLFT ladder of SPEC 7.
    #[default]
    Glft,
    /// One level per side from the Avellaneda-Stoikov closed form.
    AvellanedaStoikov,
}

/// The closed form at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AvellanedaStoikov {
    /// `ln(1 + gamma/kappa) / gamma`: the half-spread a risk-neutral quoter would add.
    pub spread_term: f64,
    /// `gamma * sigma^2 * tau`: the reservation shift per unit of inventory, bps.
    pub inventory_term: f64,
}

impl AvellanedaStoikov {
    /// Callers guarantee `gamma, kappa > 0` and `horizon_s > 0` (config validation);
    /// `sigma` may be 0 (no inventory skew, the half-spread is the spread term alone).
    pub fn new(gamma: f64, kappa: f64, sigma_bps: f64, horizon_s: f64) -> Self {
        Self {
            spread_term: (gamma / kappa).ln_1p() / gamma,
            inventory_term: gamma * sigma_bps * sigma_bps * horizon_s,
        }
    }

    /// `delta = gamma sigma^2 tau / 2 + ln(1 + gamma/kappa) / gamma`.
    pub fn half_spread(&self) -> f64 {
        self.spread_term + 0.5 * self.inventory_term
    }

    /// Reservation price offset from mid at inventory `q`, bps (long: below mid).
    pub fn reservation_bps(&self, q: f64) -> f64 {
        -q * self.inventory_term
    }

    /// `(d_bid, d_ask)`: distances from mid of the two quotes, bps (negative: through mid).
    pub fn depths(&self, q: f64) -> (f64, f64) {
        let r = self.reservation_bps(q);
        (self.half_spread() - r, self.half_spread() + r)
    }
}

impl LadderStrategy {
    /// The Avellaneda-Stoikov quotes into `out`: one level per side, `size = min(target
    /// liquidity, single-order cap, room)`, overlay multipliers on positive depths (the
    /// governor's zone widening), reduce-only sides moved toward the touch by urgency as the
    /// ladder does, prices rounded away from the touch and never crossing.
    pub(super) fn quote_avellaneda_stoikov(&self, inp: &LadderInput, out: &mut LadderOutput) {
        let model =
            AvellanedaStoikov::new(inp.gamma_base, inp.kappa, inp.sigma_bps, self.as_horizon_s);
        let single_fraction = self.single_order_fraction(inp.regime);
        // The quote's size at zero inventory (before room) is AS's unit of inventory.
        let min_sz_mid = round_size_up(
            inp.min_notional * MIN_NOTIONAL_BUFFER / inp.mid,
            inp.sz_decimals,
        );
        let unit = inp
            .target_liquidity
            .min((single_fraction * inp.effective_max).max(min_sz_mid));
        let q = if unit > 0.0 { inp.position / unit } else { 0.0 };
        let (d_bid, d_ask) = model.depths(q);
        let d = &mut out.diag;
        d.gamma = inp.gamma_base;
        d.c1 = model.spread_term;
        d.c2 = model.inventory_term;
        d.half_spread_bps = model.half_spread();
        d.skew_bps = -model.reservation_bps(q);
        d.single_order_fraction = single_fraction;
        d.levels_fundable = 1;
        d.kelly_fraction = -1.0;
        for side in [Side::Bid, Side::Ask] {
            let (enabled, depth, mult, room) = match side {
                Side::Bid => (inp.quote_bid, d_bid, inp.bid_mult, inp.room_bid),
                Side::Ask => (inp.quote_ask, d_ask, inp.ask_mult, inp.room_ask),
            };
            let mut touch = if depth > 0.0 {
                depth * mult.max(1.0)
            } else {
                depth
            };
            if inp.reduce_only {
                touch = toward_touch(inp, side, touch);
            }
            match side {
                Side::Bid => out.diag.bid_touch_bps = touch,
                Side::Ask => out.diag.ask_touch_bps = touch,
            }
            let total = if inp.reduce_only {
                inp.position.abs().min(room)
            } else {
                inp.target_liquidity.min(room)
            };
            // Textbook AS quotes around the mid: the lead signal moves no price of its.
            let px = post_only_price(inp, side, inp.mid, touch);
            if !enabled || px.is_nan() || px <= 0.0 {
                continue;
            }
            // Min notional at the quote's own price, as the exchange checks it.
            let min_sz =
                round_size_up(inp.min_notional * MIN_NOTIONAL_BUFFER / px, inp.sz_decimals);
            let cap = (single_fraction * inp.effective_max).max(min_sz);
            let sz = round_size_down(total.min(cap), inp.sz_decimals);
            if sz.is_nan() || sz < min_sz || sz <= 0.0 {
                continue;
            }
            let depth_bps = match side {
                Side::Bid => (inp.mid - px) / inp.mid * 1e4,
                Side::Ask => (px - inp.mid) / inp.mid * 1e4,
            };
            let target = match side {
                Side::Bid => &mut out.bids,
                Side::Ask => &mut out.asks,
            };
            target.push(Quote {
                side,
                level: 0,
                px,
                sz,
                depth_bps,
            });
        }
        out.diag.bid_total = out.bids.total();
        out.diag.ask_total = out.asks.total();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// By hand at the SPEC priors, tau = 12 s: gamma sigma^2 tau = 0.02 * 4 * 12 = 0.96;
    /// ln(1.08) / 0.02 = 3.848052; delta = 3.848052 + 0.48 = 4.328052.
    /// q = +2 (long): r = -1.92; d_bid = 4.328052 + 1.92 = 6.248052, d_ask = 2.408052.
    #[test]
    fn closed_form_by_hand() {
        let m = AvellanedaStoikov::new(0.02, 0.25, 2.0, 12.0);
        assert!(close(m.spread_term, 3.848052, 1e-6), "{}", m.spread_term);
        assert!(close(m.inventory_term, 0.96, 1e-12));
        assert!(close(m.half_spread(), 4.328052, 1e-6));
        assert_eq!(m.depths(0.0), (m.half_spread(), m.half_spread()));
        let (b, a) = m.depths(2.0);
        assert!(
            close(b, 6.248052, 1e-6) && close(a, 2.408052, 1e-6),
            "{b} {a}"
        );
        let (b, a) = m.depths(-2.0);
        assert!(
            close(b, 2.408052, 1e-6) && close(a, 6.248052, 1e-6),
            "{b} {a}"
        );
        // Far enough long, the ask goes through mid (post-only then holds it off the bid).
        assert!(m.depths(10.0).1 < 0.0);
        // No volatility: no skew, the spread term alone.
        let calm = AvellanedaStoikov::new(0.02, 0.25, 0.0, 12.0);
        assert_eq!(calm.depths(5.0), (calm.spread_term, calm.spread_term));
    }
}
