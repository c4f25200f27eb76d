//! Volatility of the Hyperliquid mid and its regime (SPEC 4 "Volatility").
//!
//! Method: an EWMA of squared log-returns divided by their elapsed time, so irregular samples
//! each estimate the variance rate (bps^2 per s); the EWMA weight of a sample grows with its
//! elapsed time (`1 - 2^(-dt / half_life)`), so the estimate is a time average, not a count
//! average. Two half-lives run side by side (60 s fast, 30 min slow); their ratio gives the
//! regime. Both start at the prior, which the EWMA itself then forgets: the prior's weight after
//! `T` seconds of data is `2^(-T / half_life)`.
//!
//! Mid updates closer than `vol_min_interval_ms` to the last sample are folded into the next
//! sample (the return runs from the last sample): this damps the bid-ask bounce of a mid that
//! updates many times a second without biasing a random walk. A gap longer than
//! `vol_max_gap_ms` (a reconnect) restarts the chain rather than feeding one huge return.

use super::{decay, TimeMs};
use crate::config::StochasticConfig;
use crate::types::VolRegime;

#[derive(Debug, Clone)]
pub struct VolatilityEstimator {
    fast_half_life_ms: f64,
    slow_half_life_ms: f64,
    min_interval_ms: TimeMs,
    max_gap_ms: TimeMs,
    /// Upper bounds of the fast/slow ratio for Quiet, Normal and Volatile.
    bounds: [f64; 3],
    /// Variance rates in bps^2 / s.
    var_fast: f64,
    var_slow: f64,
    /// The last sample: time and ln(mid) x 1e4.
    anchor: Option<(TimeMs, f64)>,
    samples: u64,
    observed_ms: f64,
}

impl VolatilityEstimator {
    /// An estimator at the prior (`sigma_prior_bps` for both half-lives).
    pub fn new(cfg: &StochasticConfig) -> Self {
        let prior = cfg.sigma_prior_bps * cfg.sigma_prior_bps;
        Self {
            fast_half_life_ms: cfg.vol_half_life_s * 1e3,
            slow_half_life_ms: cfg.vol_slow_half_life_s * 1e3,
            min_interval_ms: cfg.vol_min_interval_ms as TimeMs,
            max_gap_ms: cfg.vol_max_gap_ms as TimeMs,
            bounds: [
                cfg.vol_quiet_below,
                cfg.vol_normal_below,
                cfg.vol_volatile_below,
            ],
            var_fast: prior,
            var_slow: prior,
            anchor: None,
            samples: 0,
            observed_ms: 0.0,
        }
    }

    /// Feeds a mid given as `ln(mid) x 1e4` (log-bps) at time `t`. Times earlier than the last
    /// sample are ignored.
    #[inline]
    pub fn update_log(&mut self, log_bps: f64, t: TimeMs) {
        let Some((t0, x0)) = self.anchor else {
            self.anchor = Some((t, log_bps));
            return;
        };
        let dt = t - t0;
        if dt < self.min_interval_ms.max(1) {
            return;
        }
        if dt > self.max_gap_ms {
            self.anchor = Some((t, log_bps));
            return;
        }
        let dt_ms = dt as f64;
        let r = log_bps - x0;
        let x = r * r / (dt_ms * 1e-3);
        let wf = 1.0 - decay(dt_ms, self.fast_half_life_ms);
        let ws = 1.0 - decay(dt_ms, self.slow_half_life_ms);
        self.var_fast += wf * (x - self.var_fast);
        self.var_slow += ws * (x - self.var_slow);
        self.anchor = Some((t, log_bps));
        self.samples += 1;
        self.observed_ms += dt_ms;
    }

    /// Feeds a mid price (must be finite and > 0; the integrator checks it).
    pub fn update(&mut self, mid: f64, t: TimeMs) {
        self.update_log(mid.ln() * 1e4, t);
    }

    /// Fast (60 s half-life) volatility in bps per sqrt(second).
    pub fn sigma_bps(&self) -> f64 {
        self.var_fast.sqrt()
    }

    /// Slow (30 min half-life) volatility in bps per sqrt(second).
    pub fn sigma_slow_bps(&self) -> f64 {
        self.var_slow.sqrt()
    }

    /// Fast / slow volatility (1 at the prior).
    pub fn ratio(&self) -> f64 {
        if self.var_slow > 0.0 {
            (self.var_fast / self.var_slow).sqrt()
        } else {
            1.0
        }
    }

    /// The regime from the fast/slow ratio: Quiet < 0.7 <= Normal < 1.5 <= Volatile < 3 <=
    /// Extreme by default.
    pub fn regime(&self) -> VolRegime {
        let r = self.ratio();
        if r < self.bounds[0] {
            VolRegime::Quiet
        } else if r < self.bounds[1] {
            VolRegime::Normal
        } else if r < self.bounds[2] {
            VolRegime::Volatile
        } else {
            VolRegime::Extreme
        }
    }

    /// The fraction fed to `InventoryGovernor::zone_adjusted_max` (SPEC 3, 4).
    pub fn regime_volatility_fraction(&self) -> f64 {
        self.regime().volatility_fraction()
    }

    /// Returns sampled so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Weight the data (rather than the prior) has in the fast estimate, in [0, 1].
    pub fn warmup(&self) -> f64 {
        1.0 - decay(self.observed_ms, self.fast_half_life_ms)
    }

    /// Forgets the return chain (not the estimates): the next mid starts a new chain.
    pub fn break_chain(&mut self) {
        self.anchor = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::rng::SplitMix64;

    fn cfg() -> StochasticConfig {
        StochasticConfig::default()
    }

    #[test]
    fn starts_at_the_prior_in_the_normal_regime() {
        let v = VolatilityEstimator::new(&cfg());
        assert_eq!(v.sigma_bps(), 2.0);
        assert_eq!(v.sigma_slow_bps(), 2.0);
        assert_eq!(v.regime(), VolRegime::Normal);
        assert_eq!(v.regime_volatility_fraction(), 0.0);
        assert_eq!(v.warmup(), 0.0);
    }

    #[test]
    fn one_sample_by_hand() {
        let mut v = VolatilityEstimator::new(&cfg());
        v.update_log(0.0, 0);
        // 3 bps in 1 s: x = 9 bps^2/s; fast weight 1 - 2^(-1/60).
        v.update_log(3.0, 1_000);
        let w = 1.0 - 2f64.powf(-1.0 / 60.0);
        let want = 4.0 + w * (9.0 - 4.0);
        assert!((v.sigma_bps() - want.sqrt()).abs() < 1e-12);
        let ws = 1.0 - 2f64.powf(-1.0 / 1800.0);
        assert!((v.sigma_slow_bps() - (4.0 + ws * 5.0).sqrt()).abs() < 1e-12);
        assert_eq!(v.samples(), 1);
    }

    #[test]
    fn close_updates_fold_into_the_next_sample_and_gaps_restart() {
        let mut v = VolatilityEstimator::new(&cfg());
        v.update_log(0.0, 0);
        v.update_log(50.0, 100); // inside the 200 ms minimum: no sample
        assert_eq!(v.samples(), 0);
        v.update_log(2.0, 1_000); // the return runs from t = 0: 2 bps over 1 s
        let w = 1.0 - 2f64.powf(-1.0 / 60.0);
        assert!((v.sigma_bps() - (4.0 + w * (4.0 - 4.0)).sqrt()).abs() < 1e-12);
        v.update_log(500.0, 60_000); // 59 s gap: restart, no sample
        assert_eq!(v.samples(), 1);
        v.update_log(500.0, 60_500);
        assert_eq!(v.samples(), 2);
    }

    #[test]
    fn regime_thresholds() {
        let mut v = VolatilityEstimator::new(&cfg());
        for (fast, want) in [
            (1.3, VolRegime::Quiet),
            (1.5, VolRegime::Normal),
            (2.9, VolRegime::Normal),
            (3.0, VolRegime::Volatile),
            (5.9, VolRegime::Volatile),
            (6.0, VolRegime::Extreme),
        ] {
            v.var_slow = 4.0;
            v.var_fast = fast * fast;
            assert_eq!(v.regime(), want, "ratio {}", fast / 2.0);
        }
        assert_eq!(v.regime_volatility_fraction(), 1.0);
    }

    /// A random walk sampled at irregular times with a known volatility.
    fn feed_walk(v: &mut VolatilityEstimator, rng: &mut SplitMix64, sigma: f64, t0: i64, n: usize) {
        let mut t = t0;
        let mut x = 0.0;
        for _ in 0..n {
            let dt = 50 + rng.below(400) as i64;
            t += dt;
            x += sigma * (dt as f64 / 1000.0).sqrt() * rng.normal();
            v.update_log(x, t);
        }
    }

    #[test]
    fn recovers_two_bps_per_sqrt_second_within_ten_percent() {
        let mut c = cfg();
        c.sigma_prior_bps = 0.5;
        let mut v = VolatilityEstimator::new(&c);
        let mut rng = SplitMix64::new(2024);
        // 10 minutes of a 2 bps/sqrt(s) walk: the prior's weight is 2^-10 in the fast estimate.
        feed_walk(&mut v, &mut rng, 2.0, 0, 2_400);
        assert!(
            (v.sigma_bps() / 2.0 - 1.0).abs() < 0.10,
            "{}",
            v.sigma_bps()
        );
        assert!(v.warmup() > 0.99);
    }

    #[test]
    fn a_volatility_burst_is_volatile_then_extreme() {
        let mut c = cfg();
        c.sigma_prior_bps = 1.0;
        let mut v = VolatilityEstimator::new(&c);
        let mut rng = SplitMix64::new(5);
        feed_walk(&mut v, &mut rng, 1.0, 0, 20_000);
        assert_eq!(v.regime(), VolRegime::Normal);
        feed_walk(&mut v, &mut rng, 2.2, 10_000_000, 800);
        assert_eq!(v.regime(), VolRegime::Volatile, "{}", v.ratio());
        feed_walk(&mut v, &mut rng, 10.0, 20_000_000, 800);
        assert_eq!(v.regime(), VolRegime::Extreme, "{}", v.ratio());
        feed_walk(&mut v, &mut rng, 0.3, 30_000_000, 2_000);
        assert_eq!(v.regime(), VolRegime::Quiet, "{}", v.ratio());
    }
}
