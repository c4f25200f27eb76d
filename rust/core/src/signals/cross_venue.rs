//! Trade-flow features and cross-venue features (SPEC 4 "BinanceFlowAnalyzer /
//! CrossVenueAnalyzer").
//!
//! Flow method: signed taker volume (buys +, sells -) and total volume are kept as
//! exponentially decayed sums with time constants 1 s, 5 s and 30 s; a horizon's imbalance is
//! signed / total volume, where total is at least the volume the 30 s average rate would put in
//! that horizon, so the short imbalances fade to 0 when trading stops instead of freezing at
//! their last value. O(1) per trade (three exponentials), nothing stored per trade.
//!
//! Cross-venue method: the basis is `ln(lead mid) - ln(HL mid)` in bps, its mean an EWMA over
//! the lag grid's steps (half-life `basis_half_life_s`); the divergence is the current basis
//! minus that mean: positive when the lead venue is above its usual level relative to
//! Hyperliquid (Hyperliquid is expected to rise). Flow agreement is the product of the two
//! venues' 5 s imbalances, in [-1, 1].

use super::lead_lag::GridStep;
use super::{decay, TimeMs};
use crate::config::SignalConfig;

/// Time constants of the flow horizons, ms.
pub const FLOW_HORIZONS_MS: [f64; 3] = [1_000.0, 5_000.0, 30_000.0];

/// Signed-volume imbalance at several horizons, and activity.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FlowFeatureVec {
    /// Signed / total taker volume, in [-1, 1] (buyers +).
    pub imbalance_1s: f64,
    pub imbalance_5s: f64,
    pub imbalance_30s: f64,
    /// Taker prints per second over the 5 s horizon.
    pub trade_rate: f64,
    /// Taker volume (coin or contracts) per second over the 5 s horizon.
    pub volume_rate: f64,
}

/// Decayed signed and total taker volume of one venue.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct FlowAnalyzer {
    signed: [f64; 3],
    total: [f64; 3],
    count_5s: f64,
    last: Option<TimeMs>,
    trades: u64,
}

/// The lead venue's flow analyzer (Binance aggregated trades).
pub type BinanceFlowAnalyzer = FlowAnalyzer;

impl FlowAnalyzer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a taker trade of `qty` at `t`; `is_buy` when the buyer was the aggressor.
    #[inline]
    pub fn on_trade(&mut self, qty: f64, is_buy: bool, t: TimeMs) {
        let q = qty.abs();
        if !q.is_finite() {
            return;
        }
        let f = self.factors(t);
        let s = if is_buy { q } else { -q };
        for ((signed, total), f) in self.signed.iter_mut().zip(&mut self.total).zip(f) {
            *signed = *signed * f + s;
            *total = *total * f + q;
        }
        self.count_5s = self.count_5s * f[1] + 1.0;
        self.last = Some(self.last.map_or(t, |t0| t0.max(t)));
        self.trades += 1;
    }

    fn factors(&self, t: TimeMs) -> [f64; 3] {
        match self.last {
            Some(t0) if t > t0 => {
                let dt = (t - t0) as f64;
                FLOW_HORIZONS_MS.map(|tau| (-dt / tau).exp())
            }
            _ => [1.0; 3],
        }
    }

    /// The features as of `now` (decayed to it; nothing is modified).
    pub fn features(&self, now: TimeMs) -> FlowFeatureVec {
        let f = self.factors(now);
        let total30 = self.total[2] * f[2];
        let imb = |i: usize| {
            let floor = total30 * FLOW_HORIZONS_MS[i] / FLOW_HORIZONS_MS[2];
            let denom = (self.total[i] * f[i]).max(floor);
            if denom > 0.0 {
                (self.signed[i] * f[i] / denom).clamp(-1.0, 1.0)
            } else {
                0.0
            }
        };
        let secs_5 = FLOW_HORIZONS_MS[1] * 1e-3;
        FlowFeatureVec {
            imbalance_1s: imb(0),
            imbalance_5s: imb(1),
            imbalance_30s: imb(2),
            trade_rate: self.count_5s * f[1] / secs_5,
            volume_rate: self.total[1] * f[1] / secs_5,
        }
    }

    /// Trades recorded since construction.
    pub fn trades(&self) -> u64 {
        self.trades
    }
}

/// Basis, divergence and flow across the two venues.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CrossVenueFeatures {
    /// Mean `ln(lead mid) - ln(HL mid)`, bps.
    pub basis_bps: f64,
    /// Current basis minus its mean, bps (positive: Hyperliquid expected to rise).
    pub divergence_bps: f64,
    /// Product of the two venues' 5 s imbalances.
    pub flow_agreement: f64,
    pub lead_flow: FlowFeatureVec,
    pub hl_flow: FlowFeatureVec,
    /// True when both venues have a mid and the basis has a mean.
    pub valid: bool,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CrossVenueAnalyzer {
    step_alpha_half_life_ms: f64,
    basis_mean: Option<f64>,
    pub lead_flow: BinanceFlowAnalyzer,
    pub hl_flow: FlowAnalyzer,
}

impl CrossVenueAnalyzer {
    pub fn new(cfg: &SignalConfig) -> Self {
        Self {
            step_alpha_half_life_ms: cfg.basis_half_life_s * 1e3,
            basis_mean: None,
            lead_flow: FlowAnalyzer::new(),
            hl_flow: FlowAnalyzer::new(),
        }
    }

    /// Updates the mean basis with one closed grid step `step_ms` long.
    #[inline]
    pub fn on_step(&mut self, step: &GridStep, step_ms: TimeMs) {
        let basis = step.lead_log_bps - step.hl_log_bps;
        self.basis_mean = Some(match self.basis_mean {
            None => basis,
            Some(m) => {
                let a = 1.0 - decay(step_ms as f64, self.step_alpha_half_life_ms);
                m + a * (basis - m)
            }
        });
    }

    /// The mean basis, bps (None before the first grid step).
    pub fn basis_bps(&self) -> Option<f64> {
        self.basis_mean
    }

    /// The divergence of the given log mids (ln(mid) x 1e4) from the mean basis, bps.
    #[inline]
    pub fn divergence(&self, lead_log: f64, hl_log: f64) -> Option<f64> {
        self.basis_mean.map(|m| lead_log - hl_log - m)
    }

    pub fn features(
        &self,
        now: TimeMs,
        lead_log: Option<f64>,
        hl_log: Option<f64>,
    ) -> CrossVenueFeatures {
        let lead_flow = self.lead_flow.features(now);
        let hl_flow = self.hl_flow.features(now);
        let divergence = match (lead_log, hl_log) {
            (Some(b), Some(h)) => self.divergence(b, h),
            _ => None,
        };
        CrossVenueFeatures {
            basis_bps: self.basis_mean.unwrap_or(0.0),
            divergence_bps: divergence.unwrap_or(0.0),
            flow_agreement: lead_flow.imbalance_5s * hl_flow.imbalance_5s,
            lead_flow,
            hl_flow,
            valid: divergence.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imbalance_by_hand() {
        let mut f = FlowAnalyzer::new();
        f.on_trade(3.0, true, 0);
        f.on_trade(1.0, false, 0);
        let v = f.features(0);
        assert_eq!(
            (v.imbalance_1s, v.imbalance_5s, v.imbalance_30s),
            (0.5, 0.5, 0.5)
        );
        assert!((v.trade_rate - 2.0 / 5.0).abs() < 1e-12);
        assert!((v.volume_rate - 4.0 / 5.0).abs() < 1e-12);
        // One second later a 2-lot sell: 1 s sums decay by e^-1.
        f.on_trade(2.0, false, 1_000);
        let e1 = (-1.0f64).exp();
        let v = f.features(1_000);
        let want = (2.0 * e1 - 2.0) / (4.0 * e1 + 2.0);
        assert!((v.imbalance_1s - want).abs() < 1e-12, "{}", v.imbalance_1s);
    }

    #[test]
    fn short_imbalances_fade_when_trading_stops() {
        let mut f = FlowAnalyzer::new();
        for i in 0..100 {
            f.on_trade(1.0, true, i * 100);
        }
        let v = f.features(9_900);
        assert!(v.imbalance_1s > 0.99);
        let v = f.features(19_900);
        assert!(v.imbalance_1s < 0.01, "{v:?}");
        assert!(v.imbalance_30s > 0.99);
    }

    #[test]
    fn divergence_is_measured_from_the_mean_basis() {
        let cfg = SignalConfig::default();
        let mut c = CrossVenueAnalyzer::new(&cfg);
        assert_eq!(c.divergence(10.0, 0.0), None);
        assert!(!c.features(0, Some(1.0), Some(0.0)).valid);
        let step = |i: i64, b: f64| GridStep {
            index: i,
            time_ms: i * 25,
            lead_log_bps: 1_000.0 + b,
            hl_log_bps: 1_000.0,
        };
        c.on_step(&step(1, 8.0), 25);
        assert_eq!(c.basis_bps(), Some(8.0));
        c.on_step(&step(2, 10.0), 25);
        let a = 1.0 - 2f64.powf(-25.0 / 60_000.0);
        assert!((c.basis_bps().unwrap() - (8.0 + 2.0 * a)).abs() < 1e-12);
        let f = c.features(50, Some(1_011.0), Some(1_000.0));
        assert!(f.valid && (f.divergence_bps - (3.0 - 2.0 * a)).abs() < 1e-9);
    }
}
