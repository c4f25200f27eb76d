//! Level weights and side totals (SPEC 7): the `BayesianFillModel` (fill probability per depth
//! bucket) and the `KellySizer` (how much of the effective max the measured edge justifies).

use serde::{Deserialize, Serialize};

/// Width of a depth bucket.
pub const BUCKET_BPS: f64 = 2.0;
/// Buckets cover [0, 128) bps; deeper quotes share the last bucket.
pub const NUM_BUCKETS: usize = 64;
/// Below this many attempts in a bucket its posterior is not trusted: the prior alone is used.
pub const MIN_ATTEMPTS: u32 = 5;
/// Pseudo-attempts the intensity prior is worth in the Beta posterior. Ten lets about twenty real
/// outcomes outweigh the prior, quick enough to follow a market, slow enough to ignore noise.
pub const PRIOR_STRENGTH: f64 = 10.0;
/// Life of one attempt (a resting order) in the prior `1 - exp(-lambda(d) T)`: the engine
/// requotes at least every 5 s (SPEC 8), so an order that survives is re-counted about that often.
pub const ATTEMPT_HORIZON_S: f64 = 5.0;

/// Fill probability per 2 bps depth bucket: a Beta posterior whose prior comes from the intensity
/// model `lambda(d) = A exp(-kappa d)`, updated by fill / no-fill outcomes of our own orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BayesianFillModel {
    fills: Vec<u32>,
    attempts: Vec<u32>,
}

impl Default for BayesianFillModel {
    fn default() -> Self {
        Self {
            fills: vec![0; NUM_BUCKETS],
            attempts: vec![0; NUM_BUCKETS],
        }
    }
}

/// Bucket of a depth in bps (negative depths, inside the spread, count as bucket 0).
pub fn bucket(depth_bps: f64) -> usize {
    if depth_bps.is_finite() && depth_bps > 0.0 {
        ((depth_bps / BUCKET_BPS) as usize).min(NUM_BUCKETS - 1)
    } else {
        0
    }
}

/// The intensity prior for one attempt at `depth_bps`: `1 - exp(-A exp(-kappa d) T)`.
pub fn prior_fill_probability(depth_bps: f64, kappa: f64, a: f64) -> f64 {
    let d = depth_bps.max(0.0);
    -(-(a * (-kappa * d).exp() * ATTEMPT_HORIZON_S)).exp_m1()
}

impl BayesianFillModel {
    /// Records the outcome of one attempt (an order that rested at this depth and was filled or
    /// cancelled unfilled).
    pub fn record(&mut self, depth_bps: f64, filled: bool) {
        let b = bucket(depth_bps);
        if self.attempts.len() != NUM_BUCKETS {
            *self = Self::default(); // a corrupted restored state is reset, not indexed out
        }
        self.attempts[b] = self.attempts[b].saturating_add(1);
        if filled {
            self.fills[b] = self.fills[b].saturating_add(1).min(self.attempts[b]);
        }
    }

    /// Posterior mean fill probability of the bucket holding `depth_bps`; the prior (evaluated at
    /// `depth_bps`) while the bucket has fewer than `MIN_ATTEMPTS` attempts.
    pub fn fill_probability(&self, depth_bps: f64, kappa: f64, a: f64) -> f64 {
        let p0 = prior_fill_probability(depth_bps, kappa, a);
        let b = bucket(depth_bps);
        let (n, k) = match (self.attempts.get(b), self.fills.get(b)) {
            (Some(&n), Some(&k)) => (n, k),
            _ => return p0,
        };
        if n < MIN_ATTEMPTS {
            return p0;
        }
        (p0 * PRIOR_STRENGTH + f64::from(k)) / (PRIOR_STRENGTH + f64::from(n))
    }

    pub fn attempts(&self, depth_bps: f64) -> u32 {
        self.attempts.get(bucket(depth_bps)).copied().unwrap_or(0)
    }
}

/// Activation rules and scale of the Kelly sizer (from `LadderConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KellyParams {
    pub fraction: f64,
    pub min_fills: u32,
    pub min_win_rate: f64,
    pub min_edge_bps: f64,
    pub max_fraction: f64,
}

/// Quarter-Kelly sizing from the markouts of our own fills.
///
/// Design choice (the SPEC leaves the mapping open): while inactive the side total is the target
/// liquidity (no evidence, no change: the cold bot must still quote to learn). Once active
/// (>= 20 fills, win rate >= 0.55, mean edge >= 2 bps) the side total is at most
/// `fraction * f* * effective_max`, where `f* = p - (1 - p) / b` with `b` the ratio of mean win
/// to mean loss; the fraction is capped at 0.5. So Kelly is a statistically-grounded brake on a
/// thin edge; the target liquidity stays the ceiling, as SPEC 7 bounds the total by it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KellySizer {
    fills: u64,
    wins: u64,
    sum_win_bps: f64,
    sum_loss_bps: f64,
}

impl KellySizer {
    /// Records one fill's realised edge (5 s markout net of fee, bps; > 0 is a win). Non-finite
    /// values are ignored.
    pub fn record(&mut self, edge_bps: f64) {
        if !edge_bps.is_finite() {
            return;
        }
        self.fills += 1;
        if edge_bps > 0.0 {
            self.wins += 1;
            self.sum_win_bps += edge_bps;
        } else {
            self.sum_loss_bps -= edge_bps;
        }
    }

    pub fn fills(&self) -> u64 {
        self.fills
    }

    /// The capped Kelly fraction of the effective max, or `None` while the activation rules are
    /// not met.
    pub fn fraction(&self, p: &KellyParams) -> Option<f64> {
        if self.fills < u64::from(p.min_fills) || self.fills == 0 {
            return None;
        }
        let n = self.fills as f64;
        let win_rate = self.wins as f64 / n;
        let mean_edge = (self.sum_win_bps - self.sum_loss_bps) / n;
        if win_rate < p.min_win_rate || mean_edge < p.min_edge_bps {
            return None;
        }
        let losses = self.fills - self.wins;
        let f_star = if losses == 0 || self.sum_loss_bps <= 0.0 {
            win_rate
        } else {
            let avg_win = self.sum_win_bps / self.wins as f64;
            let avg_loss = self.sum_loss_bps / losses as f64;
            win_rate - (1.0 - win_rate) * avg_loss / avg_win
        };
        Some((p.fraction * f_star).clamp(0.0, p.max_fraction))
    }

    /// The side total before the room limit: the target, or less when active Kelly says so.
    pub fn side_total(&self, p: &KellyParams, target: f64, effective_max: f64) -> f64 {
        match self.fraction(p) {
            Some(f) => target.min(f * effective_max),
            None => target,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> KellyParams {
        KellyParams {
            fraction: 0.25,
            min_fills: 20,
            min_win_rate: 0.55,
            min_edge_bps: 2.0,
            max_fraction: 0.5,
        }
    }

    #[test]
    fn prior_alone_below_five_attempts_then_posterior() {
        let mut m = BayesianFillModel::default();
        let p0 = prior_fill_probability(9.0, 0.25, 0.5);
        // 1 - exp(-0.5 e^-2.25 * 5) = 1 - exp(-0.263498) = 0.231641
        assert!((p0 - 0.231641).abs() < 1e-6, "{p0}");
        for _ in 0..4 {
            m.record(9.0, true);
        }
        assert_eq!(
            m.fill_probability(9.0, 0.25, 0.5),
            p0,
            "4 attempts: prior only"
        );
        m.record(9.5, false); // same 2 bps bucket [8, 10)
        assert_eq!(m.attempts(8.0), 5);
        let post = m.fill_probability(9.0, 0.25, 0.5);
        assert!((post - (p0 * 10.0 + 4.0) / 15.0).abs() < 1e-15);
        // Other buckets are untouched.
        assert_eq!(
            m.fill_probability(11.0, 0.25, 0.5),
            prior_fill_probability(11.0, 0.25, 0.5)
        );
        assert_eq!(bucket(500.0), NUM_BUCKETS - 1);
        assert_eq!(bucket(-3.0), 0);
    }

    #[test]
    fn kelly_activates_only_with_evidence() {
        let p = params();
        let mut k = KellySizer::default();
        for i in 0..19 {
            k.record(if i % 3 == 0 { -2.0 } else { 6.0 });
        }
        assert_eq!(k.fraction(&p), None, "19 fills");
        assert_eq!(k.side_total(&p, 0.2, 1.0), 0.2);
        k.record(6.0);
        // 20 fills: 13 wins of 6 bps, 7 losses of 2 bps. p = 0.65, mean edge (78-14)/20 = 3.2,
        // b = 6/2 = 3, f* = 0.65 - 0.35/3 = 0.533333, quarter = 0.133333.
        let f = k.fraction(&p).unwrap();
        assert!((f - 0.25 * (0.65 - 0.35 / 3.0)).abs() < 1e-12, "{f}");
        assert!((k.side_total(&p, 0.2, 1.0) - f).abs() < 1e-12);
        assert_eq!(
            k.side_total(&p, 0.05, 1.0),
            0.05,
            "target stays the ceiling"
        );
    }

    #[test]
    fn kelly_stays_off_below_win_rate_or_edge() {
        let p = params();
        let mut k = KellySizer::default();
        for i in 0..40 {
            k.record(if i % 2 == 0 { 10.0 } else { -1.0 }); // win rate 0.5
        }
        assert_eq!(k.fraction(&p), None);
        let mut k = KellySizer::default();
        for _ in 0..40 {
            k.record(1.0); // all wins, edge 1 bp < 2
        }
        assert_eq!(k.fraction(&p), None);
        let mut k = KellySizer::default();
        for _ in 0..40 {
            k.record(5.0); // no losses: f* = 1, quarter 0.25
        }
        assert_eq!(k.fraction(&p), Some(0.25));
        let big = KellyParams { fraction: 1.0, ..p };
        assert_eq!(k.fraction(&big), Some(0.5), "capped at 0.5");
    }
}
