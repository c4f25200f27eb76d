//! Two-sided CUSUM on the de-meaned cross-venue divergence (SPEC 4 "CusumDetector").
//!
//! Method: each sample `x` (bps) is de-meaned and scaled by the detector's own slow estimates
//! of the mean and standard deviation of `x` (Welford over the first `cusum_min_samples`, then an
//! EWMA with half-life `cusum_half_life_s`), so a constant basis between venues is the mean and
//! never alarms, and the thresholds are in standard deviations whatever the asset. With
//! `z = (x - mean) / std`: `S+ = max(0, S+ + z - k)`, `S- = max(0, S- - z - k)`; an alarm fires
//! when either passes `h`, both sums restart, and the alarm stays active for
//! `cusum_cooldown_ms` after its last trigger. The defaults `k = 1`, `h = 10` give an in-control
//! average run length above 10^9 samples for independent Gaussian noise (Siegmund's
//! approximation) and detect a 3-sigma shift in about 6 samples.
//!
//! The statistics are updated after the sample is scored and with the deviation winsorised at
//! 4 standard deviations, so the shift being detected does not first inflate the variance that
//! would hide it.

use super::TimeMs;
use crate::config::SignalConfig;

/// Divergence noise below this (bps) is not information: the scale never drops under it, so
/// a nearly constant divergence cannot alarm on rounding noise.
pub const MIN_STD_BPS: f64 = 0.1;
/// Deviations are winsorised at this many standard deviations when updating the statistics.
const WINSOR: f64 = 4.0;

/// The CUSUM's state at one time.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct CusumState {
    /// The last sample's deviation from the running mean, in bps (`cusum_divergence_bps`).
    pub divergence_bps: f64,
    pub mean_bps: f64,
    pub std_bps: f64,
    pub s_pos: f64,
    pub s_neg: f64,
    /// True within the cooldown after a trigger.
    pub alarm: bool,
    /// +1 when the last alarm was an upward shift (the lead venue above Hyperliquid: asks
    /// are about to be run over), -1 downward (bids), 0 before any alarm.
    pub direction: i8,
    pub alarms: u64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CusumDetector {
    k: f64,
    h: f64,
    alpha: f64,
    cooldown_ms: TimeMs,
    min_samples: u64,
    n: u64,
    mean: f64,
    var: f64,
    s_pos: f64,
    s_neg: f64,
    last_dev: f64,
    alarm_until: Option<TimeMs>,
    direction: i8,
    alarms: u64,
}

impl CusumDetector {
    /// A detector fed every `cusum_sample_ms`; its half-life in samples follows from that.
    pub fn new(cfg: &SignalConfig) -> Self {
        let half_life_samples = cfg.cusum_half_life_s * 1e3 / cfg.cusum_sample_ms.max(1) as f64;
        Self::with_params(
            cfg.cusum_drift,
            cfg.cusum_threshold,
            half_life_samples,
            cfg.cusum_cooldown_ms as TimeMs,
            u64::from(cfg.cusum_min_samples),
        )
    }

    /// A detector with drift `k` and threshold `h` (standard deviations), statistics half-life
    /// in samples, cooldown in ms and warm-up samples.
    pub fn with_params(
        k: f64,
        h: f64,
        half_life_samples: f64,
        cooldown_ms: TimeMs,
        min_samples: u64,
    ) -> Self {
        Self {
            k,
            h,
            alpha: 1.0 - (-std::f64::consts::LN_2 / half_life_samples.max(1.0)).exp(),
            cooldown_ms,
            min_samples: min_samples.max(2),
            n: 0,
            mean: 0.0,
            var: 0.0,
            s_pos: 0.0,
            s_neg: 0.0,
            last_dev: 0.0,
            alarm_until: None,
            direction: 0,
            alarms: 0,
        }
    }

    /// Scores sample `x` (bps) taken at `t`; true when it triggered an alarm.
    #[inline]
    pub fn update(&mut self, x: f64, t: TimeMs) -> bool {
        if !x.is_finite() {
            return false;
        }
        self.n += 1;
        if self.n <= self.min_samples {
            // Welford: the warm-up sets the scale before anything is scored.
            let d = x - self.mean;
            self.mean += d / self.n as f64;
            self.var += (d * (x - self.mean) - self.var) / self.n as f64;
            self.last_dev = x - self.mean;
            return false;
        }
        let sd = self.var.sqrt().max(MIN_STD_BPS);
        let dev = x - self.mean;
        self.last_dev = dev;
        let z = dev / sd;
        self.s_pos = (self.s_pos + z - self.k).max(0.0);
        self.s_neg = (self.s_neg - z - self.k).max(0.0);
        let d = dev.clamp(-WINSOR * sd, WINSOR * sd);
        self.mean += self.alpha * d;
        self.var = (1.0 - self.alpha) * (self.var + self.alpha * d * d);
        let dir = if self.s_pos > self.h {
            1
        } else if self.s_neg > self.h {
            -1
        } else {
            0
        };
        if dir == 0 {
            return false;
        }
        self.direction = dir;
        self.alarms += 1;
        self.alarm_until = Some(t + self.cooldown_ms);
        self.s_pos = 0.0;
        self.s_neg = 0.0;
        true
    }

    /// True within the cooldown of the last trigger.
    pub fn alarm(&self, now: TimeMs) -> bool {
        self.alarm_until.is_some_and(|u| now < u)
    }

    /// The last sample's deviation from the running mean, in bps.
    pub fn divergence_bps(&self) -> f64 {
        self.last_dev
    }

    pub fn state(&self, now: TimeMs) -> CusumState {
        CusumState {
            divergence_bps: self.last_dev,
            mean_bps: self.mean,
            std_bps: self.var.sqrt(),
            s_pos: self.s_pos,
            s_neg: self.s_neg,
            alarm: self.alarm(now),
            direction: self.direction,
            alarms: self.alarms,
        }
    }

    /// Samples scored or learned from.
    pub fn samples(&self) -> u64 {
        self.n
    }

    /// Restarts the sums (not the statistics): used when the input was interrupted.
    pub fn reset_sums(&mut self) {
        self.s_pos = 0.0;
        self.s_neg = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::rng::SplitMix64;

    fn det() -> CusumDetector {
        CusumDetector::new(&SignalConfig::default())
    }

    #[test]
    fn sums_by_hand() {
        let mut c = CusumDetector::with_params(1.0, 10.0, 1e12, 1_000, 2);
        c.update(-1.0, 0);
        c.update(1.0, 0); // warm-up: mean 0, variance 1
        assert!(!c.update(3.0, 1)); // z = 3: S+ = 2
        assert!((c.state(1).s_pos - 2.0).abs() < 1e-9);
        assert!(!c.update(-2.0, 2)); // z ~ -2: S+ = 0, S- = 1
        let s = c.state(2);
        assert!(s.s_pos == 0.0 && (s.s_neg - 1.0).abs() < 1e-6, "{s:?}");
        for i in 0..2 {
            assert!(!c.update(5.0, 3 + i));
        }
        assert!(c.update(5.0, 10)); // z = 5 adds 4 a sample: 12 > 10 on the third
        let s = c.state(10);
        assert!(s.alarm && s.direction == 1 && s.alarms == 1 && s.s_pos == 0.0);
        assert!(c.alarm(1_009) && !c.alarm(1_010));
    }

    #[test]
    fn a_constant_basis_never_alarms() {
        let mut c = det();
        let mut rng = SplitMix64::new(3);
        let n = if cfg!(mmfast_optimized) {
            5_000_000
        } else {
            200_000
        };
        for i in 0..n {
            assert!(!c.update(12.5 + 0.3 * rng.normal(), i * 250), "sample {i}");
        }
        let mut c = det();
        for i in 0..10_000 {
            assert!(!c.update(-7.25, i * 250));
        }
    }

    #[test]
    fn a_shift_is_found_within_the_expected_samples() {
        // Expected delay for a 3-sigma shift with k = 1, h = 10: (h + 1.166) / (3 - k) = 5.6.
        let mut delays = Vec::new();
        for seed in 0..200 {
            let mut c = det();
            let mut rng = SplitMix64::new(seed);
            for i in 0..2_000 {
                assert!(!c.update(rng.normal(), i));
            }
            let mut found = None;
            for j in 0..100 {
                if c.update(3.0 + rng.normal(), 2_000 + j) {
                    found = Some(j + 1);
                    break;
                }
            }
            let d = found.expect("shift missed");
            assert_eq!(c.state(2_000 + d).direction, 1);
            delays.push(d as f64);
        }
        let mean = delays.iter().sum::<f64>() / delays.len() as f64;
        let worst = delays.iter().cloned().fold(0.0, f64::max);
        assert!((4.5..7.0).contains(&mean), "mean delay {mean}");
        assert!(worst <= 12.0, "worst delay {worst}");
    }

    #[test]
    fn downward_shift_and_cooldown() {
        let mut c = det();
        let mut rng = SplitMix64::new(4);
        for i in 0..500 {
            c.update(rng.normal(), i * 250);
        }
        let mut t = 500 * 250;
        while !c.update(-4.0 + rng.normal(), t) {
            t += 250;
        }
        let s = c.state(t);
        assert_eq!((s.alarm, s.direction), (true, -1));
        assert!(c.alarm(t + 4_999) && !c.alarm(t + 5_000));
        assert!(s.divergence_bps < -2.0);
    }
}
