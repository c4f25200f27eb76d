//! The GLFT closed form (SPEC 7) and the log-additive `CalibratedRiskModel` that supplies its
//! gamma.
//!
//! Units throughout: depths in bps of mid, sigma in bps/sqrt(s), kappa per bps, A per s, gamma
//! per bps per unit of q. Mixing these with the price-fraction units of the original paper gives
//! absurd spreads (SPEC 1).

use serde::{Deserialize, Serialize};

/// The two GLFT coefficients: `c1` is the risk-neutral half-spread, `c2` the price of one unit of
/// inventory (half of it is added to each side at q = 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlftCoefficients {
    pub c1: f64,
    pub c2: f64,
}

impl GlftCoefficients {
    /// `c1 = ln(1 + gamma/kappa) / gamma`,
    /// `c2 = sqrt(sigma^2 gamma / (2 kappa A) * (1 + gamma/kappa)^(1 + kappa/gamma))`.
    ///
    /// Callers guarantee `gamma, kappa, a > 0` (config validation and the risk model's bounds);
    /// `sigma` may be 0 (then `c2 = 0`).
    pub fn new(gamma: f64, kappa: f64, a: f64, sigma: f64) -> Self {
        let g_over_k = gamma / kappa;
        let c1 = g_over_k.ln_1p() / gamma;
        let c2 = (sigma * sigma * gamma / (2.0 * kappa * a)
            * (1.0 + g_over_k).powf(1.0 + kappa / gamma))
        .sqrt();
        Self { c1, c2 }
    }

    /// Half-spread at zero inventory: `c1 + c2 / 2`.
    pub fn half_spread(&self) -> f64 {
        self.c1 + 0.5 * self.c2
    }

    /// `(d_bid, d_ask)` at inventory `q` (position over per-level unit size):
    /// `d_bid = c1 + (2q + 1)/2 c2`, `d_ask = c1 - (2q - 1)/2 c2`.
    pub fn depths(&self, q: f64) -> (f64, f64) {
        (
            self.c1 + (2.0 * q + 1.0) * 0.5 * self.c2,
            self.c1 - (2.0 * q - 1.0) * 0.5 * self.c2,
        )
    }
}

/// Features of the calibrated risk model, each documented with its scale.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RiskFeatures {
    /// Fast over slow volatility; 1 when calm or unknown.
    pub vol_ratio: f64,
    /// `position / max_position`, signed; only its square enters the model.
    pub inventory_ratio: f64,
    /// Toxicity score of the flow decomposition, in [0, 1].
    pub toxicity_score: f64,
    /// How thin the book is near the touch, in [0, 1] (0: normal depth, 1: empty).
    pub thin_book: f64,
}

/// Coefficients of `ln gamma = ln gamma_base + sum(beta_i x_i)`.
///
/// Defaults are chosen so that each feature alone at its extreme roughly doubles gamma
/// (`e^0.7 = 2.0`), and all together reach the 5x bound: a volatility ratio of 3 (the Extreme
/// boundary) gives `x_vol = ln 3 = 1.1`, times 0.6 = +0.66; a full position +0.7; fully toxic
/// flow +0.7; an empty book +0.4.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibratedRiskModel {
    pub beta_vol: f64,
    pub beta_inventory: f64,
    pub beta_toxicity: f64,
    pub beta_thin_book: f64,
}

/// Bounds of the calibrated gamma relative to gamma_base (SPEC 7).
pub const GAMMA_MIN_MULT: f64 = 0.5;
pub const GAMMA_MAX_MULT: f64 = 5.0;

impl Default for CalibratedRiskModel {
    fn default() -> Self {
        Self {
            beta_vol: 0.6,
            beta_inventory: 0.7,
            beta_toxicity: 0.7,
            beta_thin_book: 0.4,
        }
    }
}

impl CalibratedRiskModel {
    /// The calibrated gamma, bounded to `[0.5, 5] x gamma_base`. Features are clamped to their
    /// documented ranges and a non-finite one counts as neutral, so one bad estimate cannot send
    /// gamma to 0 or infinity.
    pub fn gamma(&self, gamma_base: f64, x: &RiskFeatures) -> f64 {
        let clean = |v: f64, lo: f64, hi: f64, neutral: f64| {
            if v.is_finite() {
                v.clamp(lo, hi)
            } else {
                neutral
            }
        };
        let x_vol = clean(x.vol_ratio, 0.1, 10.0, 1.0).ln();
        let inv = clean(x.inventory_ratio, -2.0, 2.0, 0.0);
        let log_mult = self.beta_vol * x_vol
            + self.beta_inventory * inv * inv
            + self.beta_toxicity * clean(x.toxicity_score, 0.0, 1.0, 0.0)
            + self.beta_thin_book * clean(x.thin_book, 0.0, 1.0, 0.0);
        gamma_base * log_mult.exp().clamp(GAMMA_MIN_MULT, GAMMA_MAX_MULT)
    }

    /// `blend * calibrated + (1 - blend) * gamma_base` (`risk_model_blend` of the config).
    pub fn blended_gamma(&self, gamma_base: f64, x: &RiskFeatures, blend: f64) -> f64 {
        blend * self.gamma(gamma_base, x) + (1.0 - blend) * gamma_base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// Hand computation with the SPEC priors (gamma 0.02, kappa 0.25, A 0.5, sigma 2):
    /// gamma/kappa = 0.08; c1 = ln(1.08)/0.02 = 0.0769610411/0.02 = 3.848052;
    /// (1.08)^(1 + 12.5) = exp(13.5 * 0.0769610411) = exp(1.038974) = 2.826316;
    /// c2 = sqrt(4 * 0.02 / (2 * 0.25 * 0.5) * 2.826316) = sqrt(0.32 * 2.826316)
    ///    = sqrt(0.904422) = 0.951011.
    #[test]
    fn glft_hand_computed_at_priors() {
        let c = GlftCoefficients::new(0.02, 0.25, 0.5, 2.0);
        assert!(close(c.c1, 3.848052, 1e-6), "c1 {}", c.c1);
        assert!(close(c.c2, 0.951011, 1e-6), "c2 {}", c.c2);
        // Half-spread near 4 bps before fees: 3.848052 + 0.475505 = 4.323557.
        assert!(close(c.half_spread(), 4.323557, 1e-6));
        // q = 0: both sides at the half-spread.
        let (b, a) = c.depths(0.0);
        assert!(close(b, 4.323557, 1e-6) && close(a, 4.323557, 1e-6));
        // q = +2 (long): bid = c1 + 2.5 c2 = 6.225578, ask = c1 - 1.5 c2 = 2.421536.
        let (b, a) = c.depths(2.0);
        assert!(close(b, 6.225578, 1e-6), "bid {b}");
        assert!(close(a, 2.421536, 1e-6), "ask {a}");
        // q = -2 (short): bid = c1 - 1.5 c2 = 2.421536, ask = c1 + 2.5 c2 = 6.225578.
        let (b, a) = c.depths(-2.0);
        assert!(close(b, 2.421536, 1e-6) && close(a, 6.225578, 1e-6));
    }

    #[test]
    fn zero_sigma_leaves_only_c1() {
        let c = GlftCoefficients::new(0.02, 0.25, 0.5, 0.0);
        assert_eq!(c.c2, 0.0);
        assert_eq!(c.depths(3.0), (c.c1, c.c1));
    }

    #[test]
    fn risk_model_is_neutral_at_rest_and_bounded() {
        let m = CalibratedRiskModel::default();
        let calm = RiskFeatures {
            vol_ratio: 1.0,
            ..Default::default()
        };
        assert!(close(m.gamma(0.02, &calm), 0.02, 1e-15));
        // ln gamma is additive: inventory at max alone multiplies by e^0.7.
        let full = RiskFeatures {
            vol_ratio: 1.0,
            inventory_ratio: -1.0,
            ..Default::default()
        };
        assert!(close(m.gamma(0.02, &full), 0.02 * 0.7f64.exp(), 1e-15));
        let worst = RiskFeatures {
            vol_ratio: 10.0,
            inventory_ratio: 2.0,
            toxicity_score: 1.0,
            thin_book: 1.0,
        };
        assert!(close(m.gamma(0.02, &worst), 0.1, 1e-15), "capped at 5x");
        let quietest = RiskFeatures {
            vol_ratio: 0.1,
            ..Default::default()
        };
        assert!(
            close(m.gamma(0.02, &quietest), 0.01, 1e-15),
            "floored at 0.5x"
        );
        let broken = RiskFeatures {
            vol_ratio: f64::NAN,
            inventory_ratio: f64::INFINITY,
            toxicity_score: f64::NAN,
            thin_book: f64::NEG_INFINITY,
        };
        assert!(close(m.gamma(0.02, &broken), 0.02, 1e-15));
        assert!(close(m.blended_gamma(0.02, &full, 0.0), 0.02, 1e-15));
        let half = m.blended_gamma(0.02, &full, 0.5);
        assert!(close(half, 0.5 * 0.02 * 0.7f64.exp() + 0.01, 1e-15));
    }
}
