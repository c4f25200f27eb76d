//! Model gating by rolling information coefficient (SPEC 4 "ModelGating").
//!
//! Method: each predictive signal records every prediction it made together with the outcome
//! it was trying to predict (the gate must be fed every outcome, gated or not: a gate fed only
//! while open can never reopen, and one fed only sometimes decays a skilled signal). Over the
//! last `gate_window` pairs it keeps the Pearson correlation of prediction and outcome (the
//! information coefficient, IC) and the least-squares slope of outcome on prediction (how much
//! of a predicted move is realised). The weight is 0 below `gate_min_outcomes` pairs or below
//! the IC floor, rises linearly to 1 at `gate_ic_full`, and is 1 above it.
//!
//! The sums are updated in O(1) per pair (add the new pair, subtract the evicted one) and
//! recomputed from the ring every `gate_window` pairs so that rounding cannot accumulate.

use super::ring::Ring;
use crate::config::SignalConfig;

/// The signals the gate tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum GatedSignal {
    /// The lead-lag divergence predicting Hyperliquid's move over the lag.
    LeadLag,
    /// Binance's 1 s signed-volume imbalance predicting Hyperliquid's next move.
    BinanceFlow,
}

impl GatedSignal {
    pub const ALL: [GatedSignal; 2] = [GatedSignal::LeadLag, GatedSignal::BinanceFlow];

    fn index(self) -> usize {
        match self {
            GatedSignal::LeadLag => 0,
            GatedSignal::BinanceFlow => 1,
        }
    }
}

/// Rolling prediction/outcome statistics of one signal.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IcTracker {
    pairs: Ring<(f64, f64)>,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
    since_resum: usize,
    total: u64,
}

impl IcTracker {
    pub fn new(window: usize) -> Self {
        Self {
            pairs: Ring::new(window.max(2)),
            sx: 0.0,
            sy: 0.0,
            sxx: 0.0,
            syy: 0.0,
            sxy: 0.0,
            since_resum: 0,
            total: 0,
        }
    }

    #[inline]
    pub fn record(&mut self, x: f64, y: f64) {
        if !(x.is_finite() && y.is_finite()) {
            return;
        }
        if let Some((ox, oy)) = self.pairs.push((x, y)) {
            self.sx -= ox;
            self.sy -= oy;
            self.sxx -= ox * ox;
            self.syy -= oy * oy;
            self.sxy -= ox * oy;
        }
        self.sx += x;
        self.sy += y;
        self.sxx += x * x;
        self.syy += y * y;
        self.sxy += x * y;
        self.total += 1;
        self.since_resum += 1;
        if self.since_resum >= self.pairs.capacity() {
            self.resum();
        }
    }

    fn resum(&mut self) {
        self.since_resum = 0;
        let (mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for &(x, y) in self.pairs.iter() {
            sx += x;
            sy += y;
            sxx += x * x;
            syy += y * y;
            sxy += x * y;
        }
        (self.sx, self.sy, self.sxx, self.syy, self.sxy) = (sx, sy, sxx, syy, sxy);
    }

    /// Pairs in the window.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.pairs.capacity()
    }

    /// Pairs recorded since construction.
    pub fn total(&self) -> u64 {
        self.total
    }

    fn moments(&self) -> (f64, f64, f64) {
        let n = self.pairs.len() as f64;
        let vx = self.sxx - self.sx * self.sx / n;
        let vy = self.syy - self.sy * self.sy / n;
        let cxy = self.sxy - self.sx * self.sy / n;
        (vx, vy, cxy)
    }

    /// The rolling information coefficient (0 with fewer than 2 pairs or no variance).
    pub fn ic(&self) -> f64 {
        if self.pairs.len() < 2 {
            return 0.0;
        }
        let (vx, vy, cxy) = self.moments();
        if vx > 1e-12 && vy > 1e-12 {
            (cxy / (vx * vy).sqrt()).clamp(-1.0, 1.0)
        } else {
            0.0
        }
    }

    /// Least-squares slope of outcome on prediction (0 without variance).
    pub fn slope(&self) -> f64 {
        if self.pairs.len() < 2 {
            return 0.0;
        }
        let (vx, _, cxy) = self.moments();
        if vx > 1e-12 {
            cxy / vx
        } else {
            0.0
        }
    }

    pub fn clear(&mut self) {
        self.pairs.clear();
        (self.sx, self.sy, self.sxx, self.syy, self.sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        self.since_resum = 0;
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ModelGating {
    trackers: [IcTracker; 2],
    floor: f64,
    full: f64,
    min_outcomes: usize,
}

impl ModelGating {
    pub fn new(cfg: &SignalConfig) -> Self {
        let window = cfg.gate_window as usize;
        Self {
            trackers: [IcTracker::new(window), IcTracker::new(window)],
            floor: cfg.gate_ic_floor,
            full: cfg.gate_ic_full,
            min_outcomes: cfg.gate_min_outcomes as usize,
        }
    }

    /// Records one prediction of `signal` and the outcome it was made for.
    #[inline]
    pub fn record(&mut self, signal: GatedSignal, prediction: f64, outcome: f64) {
        self.trackers[signal.index()].record(prediction, outcome);
    }

    pub fn tracker(&self, signal: GatedSignal) -> &IcTracker {
        &self.trackers[signal.index()]
    }

    pub fn ic(&self, signal: GatedSignal) -> f64 {
        self.tracker(signal).ic()
    }

    pub fn slope(&self, signal: GatedSignal) -> f64 {
        self.tracker(signal).slope()
    }

    /// The signal's weight in [0, 1]: 0 until `gate_min_outcomes` outcomes and below the IC
    /// floor, 1 at or above `gate_ic_full`, linear between.
    pub fn weight(&self, signal: GatedSignal) -> f64 {
        let t = self.tracker(signal);
        if t.len() < self.min_outcomes {
            return 0.0;
        }
        let ic = t.ic();
        if ic < self.floor {
            0.0
        } else {
            ((ic - self.floor) / (self.full - self.floor)).min(1.0)
        }
    }

    /// True when the signal contributes (weight > 0).
    pub fn is_open(&self, signal: GatedSignal) -> bool {
        self.weight(signal) > 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::rng::SplitMix64;

    #[test]
    fn ic_and_slope_by_hand() {
        let mut t = IcTracker::new(3);
        t.record(1.0, 2.0);
        t.record(2.0, 4.0);
        t.record(3.0, 6.0);
        assert!((t.ic() - 1.0).abs() < 1e-12);
        assert!((t.slope() - 2.0).abs() < 1e-12);
        // Evicts (1, 2): pairs (2, 4), (3, 6), (4, 0).
        t.record(4.0, 0.0);
        let (xs, ys) = ([2.0, 3.0, 4.0], [4.0, 6.0, 0.0]);
        let mx = 3.0;
        let my = 10.0 / 3.0;
        let cxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        let vx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
        let vy: f64 = ys.iter().map(|y| (y - my) * (y - my)).sum();
        assert!((t.ic() - cxy / (vx * vy).sqrt()).abs() < 1e-12);
        assert!((t.slope() - cxy / vx).abs() < 1e-12);
        assert_eq!((t.len(), t.capacity(), t.total()), (3, 3, 4));
        t.record(f64::NAN, 1.0);
        assert_eq!(t.total(), 4);
    }

    /// A skilled signal fed every outcome keeps its full weight however long it runs (the
    /// origin project's gate, fed only some outcomes, decayed its lead signal to 5%).
    #[test]
    fn a_skilled_signal_keeps_its_weight() {
        let cfg = SignalConfig::default();
        let mut g = ModelGating::new(&cfg);
        let mut rng = SplitMix64::new(1);
        assert_eq!(g.weight(GatedSignal::LeadLag), 0.0);
        let mut weights = Vec::new();
        for i in 0..200_000 {
            let x = rng.normal();
            let y = 0.4 * x + rng.normal(); // IC about 0.37
            g.record(GatedSignal::LeadLag, x, y);
            if i >= cfg.gate_min_outcomes as usize && i % 1_000 == 0 {
                weights.push(g.weight(GatedSignal::LeadLag));
            }
        }
        assert!(weights.iter().all(|&w| w == 1.0), "{weights:?}");
        let ic = g.ic(GatedSignal::LeadLag);
        assert!((0.25..0.5).contains(&ic), "{ic}");
        assert!((g.slope(GatedSignal::LeadLag) - 0.4).abs() < 0.2);
        // The other signal was never fed: still closed.
        assert!(!g.is_open(GatedSignal::BinanceFlow));
    }

    #[test]
    fn a_signal_that_loses_its_skill_is_muted_and_comes_back() {
        let cfg = SignalConfig::default();
        let mut g = ModelGating::new(&cfg);
        let mut rng = SplitMix64::new(2);
        for _ in 0..1_000 {
            let x = rng.normal();
            g.record(GatedSignal::BinanceFlow, x, 0.5 * x + rng.normal());
        }
        assert!(g.is_open(GatedSignal::BinanceFlow));
        for _ in 0..1_000 {
            g.record(GatedSignal::BinanceFlow, rng.normal(), -0.2 * rng.normal());
        }
        for _ in 0..1_000 {
            let x = rng.normal();
            g.record(GatedSignal::BinanceFlow, x, -0.5 * x + rng.normal());
        }
        assert_eq!(g.weight(GatedSignal::BinanceFlow), 0.0);
        for _ in 0..1_000 {
            let x = rng.normal();
            g.record(GatedSignal::BinanceFlow, x, 0.5 * x + rng.normal());
        }
        assert_eq!(g.weight(GatedSignal::BinanceFlow), 1.0);
    }

    #[test]
    fn weight_ramps_between_floor_and_full() {
        let cfg = SignalConfig {
            gate_min_outcomes: 2,
            ..SignalConfig::default()
        };
        let mut g = ModelGating::new(&cfg);
        // IC exactly 0.06: halfway between 0.02 and 0.10 is weight 0.5. Build it from pairs
        // (x, y) with corr 0.06 exactly: y = 0.06 x + sqrt(1 - 0.06^2) z, x and z orthogonal.
        let xs = [1.0, -1.0, 1.0, -1.0];
        let zs = [1.0, 1.0, -1.0, -1.0];
        let b = (1.0f64 - 0.0036).sqrt();
        for (x, z) in xs.iter().zip(zs) {
            g.record(GatedSignal::LeadLag, *x, 0.06 * x + b * z);
        }
        assert!((g.ic(GatedSignal::LeadLag) - 0.06).abs() < 1e-12);
        assert!((g.weight(GatedSignal::LeadLag) - 0.5).abs() < 1e-9);
    }
}
