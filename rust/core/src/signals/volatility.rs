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
//!
//! The slow estimate's prior counts as `vol_slow_prior_s` seconds of data (a running mean until
//! its EWMA weight takes over): a 30-minute EWMA started at a prior keeps half its weight on the
//! prior for half an hour, and a prior below the market's volatility then reads as a fast/slow
//! ratio near 1.5, i.e. a Volatile regime, for most of a run.
//!
//! The regime has hysteresis: moving away from Normal (to Quiet, Volatile or Extreme) happens at
//! the nominal bound, moving back towards Normal only once the ratio is past that bound by
//! `vol_regime_hysteresis` of it, so a ratio hovering at a bound does not flip the effective max
//! every few seconds.
//!
//! The mid fed here should be sweep-robust: a taker sweep empties levels for one block and moves
//! the mid by a few bps and back. [`SpikeFilter`] (the median of the last three mids, one per
//! receive time) removes such one-block dislocations; the integrator feeds its output.

use super::{decay, TimeMs};
use crate::config::StochasticConfig;
use crate::types::VolRegime;

/// Mids the spike filter keeps.
pub const SPIKE_WINDOW: usize = 5;

/// The median of the last [`SPIKE_WINDOW`] mids, one per receive time (a later mid at the same
/// time replaces the earlier one: a book and a bbo frame of one block are one observation). A
/// dislocation that lasts one or two blocks is removed; a move that persists passes two updates
/// late. The synthetic market's takers sweep a quarter of its blocks; a median of three still
/// let adjacent sweeps through (sigma read 1.5x true in the test below), five does not.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct SpikeFilter {
    vals: [(TimeMs, f64); SPIKE_WINDOW],
    n: usize,
}

impl SpikeFilter {
    /// Adds `x` observed at `t`; returns the filtered value.
    #[inline]
    pub fn update(&mut self, x: f64, t: TimeMs) -> f64 {
        if self.n > 0 && self.vals[self.n - 1].0 == t {
            self.vals[self.n - 1].1 = x;
        } else if self.n < SPIKE_WINDOW {
            self.vals[self.n] = (t, x);
            self.n += 1;
        } else {
            self.vals.rotate_left(1);
            self.vals[SPIKE_WINDOW - 1] = (t, x);
        }
        self.value()
    }

    /// The filtered value: the median of the values held (the lower middle one of an even
    /// count); NaN when empty.
    #[inline]
    pub fn value(&self) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        let mut v = [0.0f64; SPIKE_WINDOW];
        for (d, s) in v.iter_mut().zip(&self.vals[..self.n]) {
            *d = s.1;
        }
        let v = &mut v[..self.n];
        v.sort_unstable_by(f64::total_cmp);
        v[(self.n - 1) / 2]
    }

    /// Forgets every value (a reconnect: the next mid starts afresh).
    pub fn reset(&mut self) {
        self.n = 0;
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct VolatilityEstimator {
    fast_half_life_ms: f64,
    slow_half_life_ms: f64,
    min_interval_ms: TimeMs,
    max_gap_ms: TimeMs,
    /// Upper bounds of the fast/slow ratio for Quiet, Normal and Volatile.
    bounds: [f64; 3],
    hysteresis: f64,
    slow_prior_ms: f64,
    regime: VolRegime,
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
            hysteresis: cfg.vol_regime_hysteresis,
            slow_prior_ms: cfg.vol_slow_prior_s * 1e3,
            regime: VolRegime::Normal,
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
        // A running mean over the data and the prior's pseudo-time until the EWMA weighs more.
        let ws = (1.0 - decay(dt_ms, self.slow_half_life_ms))
            .max(dt_ms / (self.observed_ms + dt_ms + self.slow_prior_ms));
        self.var_fast += wf * (x - self.var_fast);
        self.var_slow += ws * (x - self.var_slow);
        self.anchor = Some((t, log_bps));
        self.samples += 1;
        self.observed_ms += dt_ms;
        self.regime = self.next_regime(self.ratio());
    }

    /// The regime of ratio `r` without hysteresis.
    fn classify(&self, r: f64) -> VolRegime {
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

    /// The regime after ratio `r`, from the current one (see the module doc).
    fn next_regime(&self, r: f64) -> VolRegime {
        let cur = self.regime;
        let raw = self.classify(r);
        let rank = |g: VolRegime| match g {
            VolRegime::Quiet => 0usize,
            VolRegime::Normal => 1,
            VolRegime::Volatile => 2,
            VolRegime::Extreme => 3,
        };
        let (c, k) = (rank(cur), rank(raw));
        let h = self.hysteresis;
        if k > c && c == 0 {
            // Quiet back towards Normal: past the Quiet bound by h.
            if r >= self.bounds[0] * (1.0 + h) {
                return raw;
            }
            return cur;
        }
        if k < c && c >= 2 {
            // Volatile / Extreme back towards Normal: below the current regime's bound by h.
            if r < self.bounds[c - 1] * (1.0 - h) {
                return raw;
            }
            return cur;
        }
        raw
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
    /// Extreme by default, with hysteresis towards Normal (updated at each sample).
    pub fn regime(&self) -> VolRegime {
        self.regime
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
        // The slow one: a running mean with the prior worth 300 s of data.
        let ws: f64 = 1.0 / 301.0;
        assert!((v.sigma_slow_bps() - (4.0 + ws * 5.0).sqrt()).abs() < 1e-12);
        assert_eq!(v.samples(), 1);
    }

    #[test]
    fn close_updates_fold_into_the_next_sample_and_gaps_restart() {
        let mut v = VolatilityEstimator::new(&StochasticConfig {
            vol_min_interval_ms: 200,
            ..cfg()
        });
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
            assert_eq!(v.classify(v.ratio()), want, "ratio {}", fast / 2.0);
        }
        v.regime = VolRegime::Extreme;
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
    fn regime_moves_back_towards_normal_only_past_the_hysteresis_band() {
        let mut v = VolatilityEstimator::new(&cfg()); // bounds 0.7 / 1.5 / 3, hysteresis 0.15
        let seq = [
            (1.49, VolRegime::Normal),
            (1.50, VolRegime::Volatile), // away from Normal: at the bound
            (1.40, VolRegime::Volatile), // hovering below the bound: stays
            (1.30, VolRegime::Volatile),
            (1.27, VolRegime::Normal), // below 1.5 x 0.85 = 1.275
            (0.69, VolRegime::Quiet),
            (0.75, VolRegime::Quiet), // needs 0.7 x 1.15 = 0.805
            (0.81, VolRegime::Normal),
            (3.10, VolRegime::Extreme),
            (2.80, VolRegime::Extreme), // needs < 2.55
            (2.00, VolRegime::Volatile),
        ];
        for (r, want) in seq {
            v.regime = v.next_regime(r);
            assert_eq!(v.regime, want, "ratio {r}");
        }
    }

    /// The regime flip rate of a stationary walk whose ratio hovers near 1 is what hysteresis
    /// and the slow prior's pseudo-time are for: with the prior at half the true volatility the
    /// old estimator read Volatile for most of the first half hour.
    #[test]
    fn a_low_prior_does_not_read_as_a_volatile_half_hour() {
        let mut c = cfg();
        c.sigma_prior_bps = 1.0; // the market runs at 2.1
        let mut v = VolatilityEstimator::new(&c);
        let mut rng = SplitMix64::new(77);
        let mut volatile = 0;
        let mut t = 0i64;
        let mut x = 0.0;
        for i in 0..9_000 {
            let dt = 200i64;
            t += dt;
            x += 2.1 * (dt as f64 / 1000.0).sqrt() * rng.normal();
            v.update_log(x, t);
            if i > 1_500 && v.regime() != VolRegime::Normal {
                volatile += 1;
            }
        }
        // After 5 minutes, under 5% of 25 minutes off Normal.
        assert!(volatile < 375, "{volatile} of 7500 samples off Normal");
    }

    #[test]
    fn spike_filter_removes_short_dislocations_and_passes_moves() {
        let mut f = SpikeFilter::default();
        assert!(f.value().is_nan());
        assert_eq!(f.update(0.0, 0), 0.0);
        assert_eq!(f.update(0.2, 70), 0.0);
        assert_eq!(f.update(0.1, 140), 0.1);
        // A sweep moves the mid 3 bps for one block (book and bbo frames at one time) ...
        assert_eq!(f.update(3.0, 210), 0.1);
        assert_eq!(f.update(3.1, 210), 0.1);
        // ... and a second sweep the other way the next block ...
        assert_eq!(f.update(-2.0, 280), 0.1);
        // ... and the market is back.
        assert_eq!(f.update(0.3, 350), 0.2);
        // A move that persists passes two blocks late.
        assert_eq!(f.update(5.0, 420), 0.3);
        assert_eq!(f.update(5.0, 490), 3.1);
        assert_eq!(f.update(5.0, 560), 5.0);
        f.reset();
        assert_eq!(f.update(9.0, 630), 9.0);
    }

    /// A walk at 2 bps/sqrt(s) observed in 70 ms blocks of which a quarter are dislocated by a
    /// sweep (2-4 bps for that block): the raw mid read at the old 200 ms sampling more than
    /// twice the volatility; the filtered one at the default sampling is within 15%.
    #[test]
    fn filtered_mid_is_sweep_robust() {
        let mut c = cfg();
        c.sigma_prior_bps = 2.0;
        let mut old = c.clone();
        old.vol_min_interval_ms = 200;
        let mut raw = VolatilityEstimator::new(&old);
        let mut filt = VolatilityEstimator::new(&c);
        let mut f = SpikeFilter::default();
        let mut rng = SplitMix64::new(3);
        let (mut t, mut x) = (0i64, 0.0);
        for _ in 0..30_000 {
            t += 70;
            x += 2.0 * 0.07f64.sqrt() * rng.normal();
            let seen = if rng.unit() < 0.25 {
                x + (2.0 + 2.0 * rng.unit()) * if rng.unit() < 0.5 { 1.0 } else { -1.0 }
            } else {
                x
            };
            raw.update_log(seen, t);
            filt.update_log(f.update(seen, t), t);
        }
        assert!(raw.sigma_bps() > 2.0 * 2.0, "raw {}", raw.sigma_bps());
        assert!(
            (filt.sigma_bps() / 2.0 - 1.0).abs() < 0.15,
            "filtered {}",
            filt.sigma_bps()
        );
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
