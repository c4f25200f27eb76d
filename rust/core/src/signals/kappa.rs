//! Fill intensity `lambda(d) = A exp(-kappa d)` per volatility regime (SPEC 4
//! "RegimeKappaEstimator"), d in bps from the mid.
//!
//! Method: in the Avellaneda-Stoikov / GLFT model a quote at depth `d` is hit by the taker
//! orders that reach `d`, so the depth at which a trade prints is exponential with rate `kappa`
//! and trades arrive at rate `A`. The maximum-likelihood fit is `kappa = n / sum(d)` and
//! `A = n / T`; both sums are time-decayed (half-life `kappa_half_life_s`, the "EWMA smoothing")
//! so the fit follows the market. One fit per volatility regime, each decayed and accruing time
//! only while its regime is current (a Volatile fit is not forgotten during a Quiet hour), plus a
//! pooled fit. `kappa(regime)` is the regime's fit once it has `kappa_min_trades` prints, else the
//! pooled fit once that has, else the prior.
//!
//! `robust_kappa` is `ln 2 / median(d)` over the last `WINDOW` prints (the median of an
//! exponential is `ln 2 / kappa`): one sweep through many levels moves a mean a lot and a median
//! little. It exists once `kappa_robust_min_trades` prints were seen and is refreshed every
//! `ROBUST_EVERY` prints (the median is a selection over the window, so it is not done per
//! print). The ladder's kappa (`ladder_kappa`) is the robust one when available (for the Hip3
//! profile `0.6 robust + 0.4 prior`, SPEC 4), else the fit.

use super::ring::Ring;
use super::{decay, TimeMs};
use crate::config::StochasticConfig;
use crate::params::SpreadProfile;
use crate::types::VolRegime;

/// Prints kept per fit for the median.
pub const WINDOW: usize = 512;
/// The median is refreshed every this many prints.
pub const ROBUST_EVERY: u32 = 64;
/// Trade depths beyond this many bps are bad data (a stale mid), not fills.
const MAX_DEPTH_BPS: f64 = 2_000.0;

#[derive(Debug, Clone)]
struct KappaFit {
    sum_depth: f64,
    count: f64,
    exposure_ms: f64,
    total: u64,
    depths: Ring<f32>,
    scratch: Box<[f32]>,
    robust: Option<f64>,
    since_robust: u32,
}

impl KappaFit {
    fn new() -> Self {
        Self {
            sum_depth: 0.0,
            count: 0.0,
            exposure_ms: 0.0,
            total: 0,
            depths: Ring::new(WINDOW),
            scratch: vec![0.0; WINDOW].into_boxed_slice(),
            robust: None,
            since_robust: 0,
        }
    }

    fn advance(&mut self, dt_ms: f64, half_life_ms: f64) {
        let f = decay(dt_ms, half_life_ms);
        self.sum_depth *= f;
        self.count *= f;
        // The integral of the decay weights over the elapsed time.
        self.exposure_ms = self.exposure_ms * f + (1.0 - f) * half_life_ms / std::f64::consts::LN_2;
    }

    fn add(&mut self, d: f64, robust_min: u64) {
        self.sum_depth += d;
        self.count += 1.0;
        self.total += 1;
        self.depths.push(d as f32);
        self.since_robust += 1;
        if self.total >= robust_min && (self.robust.is_none() || self.since_robust >= ROBUST_EVERY)
        {
            self.refresh_robust();
        }
    }

    fn refresh_robust(&mut self) {
        self.since_robust = 0;
        let n = self.depths.len();
        let s = &mut self.scratch[..n];
        for (d, v) in s.iter_mut().zip(self.depths.iter()) {
            *d = *v;
        }
        let mid = n / 2;
        let (_, m, _) = s.select_nth_unstable_by(mid, f32::total_cmp);
        let median = f64::from(*m);
        self.robust = (median > 1e-9).then(|| std::f64::consts::LN_2 / median);
    }

    fn kappa(&self) -> f64 {
        self.count / self.sum_depth
    }

    fn intensity(&self) -> f64 {
        if self.exposure_ms > 0.0 {
            self.count / (self.exposure_ms * 1e-3)
        } else {
            0.0
        }
    }
}

#[derive(Debug, Clone)]
pub struct RegimeKappaEstimator {
    fits: [KappaFit; 4],
    pooled: KappaFit,
    last: Option<TimeMs>,
    regime: VolRegime,
    half_life_ms: f64,
    prior_kappa: f64,
    prior_a: f64,
    min_trades: u64,
    robust_min: u64,
    hip3_blend: f64,
}

fn idx(r: VolRegime) -> usize {
    match r {
        VolRegime::Quiet => 0,
        VolRegime::Normal => 1,
        VolRegime::Volatile => 2,
        VolRegime::Extreme => 3,
    }
}

impl RegimeKappaEstimator {
    pub fn new(cfg: &StochasticConfig) -> Self {
        Self {
            fits: std::array::from_fn(|_| KappaFit::new()),
            pooled: KappaFit::new(),
            last: None,
            regime: VolRegime::Normal,
            half_life_ms: cfg.kappa_half_life_s * 1e3,
            prior_kappa: cfg.kappa_prior,
            prior_a: cfg.a_prior,
            min_trades: u64::from(cfg.kappa_min_trades),
            robust_min: u64::from(cfg.kappa_robust_min_trades),
            hip3_blend: cfg.hip3_kappa_blend,
        }
    }

    /// Moves the clock to `t`: the time since the last call counts as observation time of the
    /// regime that was current then; `regime` is current from now on.
    #[inline]
    pub fn advance(&mut self, t: TimeMs, regime: VolRegime) {
        if let Some(t0) = self.last {
            let dt = (t - t0).max(0) as f64;
            if dt > 0.0 {
                self.fits[idx(self.regime)].advance(dt, self.half_life_ms);
                self.pooled.advance(dt, self.half_life_ms);
            }
        }
        self.last = Some(self.last.map_or(t, |t0| t0.max(t)));
        self.regime = regime;
    }

    /// Records a trade printed `depth_bps` from the mid at `t` in `regime`. Non-finite or
    /// absurd depths are ignored.
    #[inline]
    pub fn on_trade(&mut self, depth_bps: f64, t: TimeMs, regime: VolRegime) {
        self.advance(t, regime);
        let d = depth_bps.abs();
        if d.is_nan() || d >= MAX_DEPTH_BPS {
            return;
        }
        self.fits[idx(regime)].add(d, self.robust_min);
        self.pooled.add(d, self.robust_min);
    }

    fn fit(&self, regime: VolRegime) -> Option<&KappaFit> {
        let f = &self.fits[idx(regime)];
        if f.total >= self.min_trades && f.sum_depth > 0.0 {
            Some(f)
        } else if self.pooled.total >= self.min_trades && self.pooled.sum_depth > 0.0 {
            Some(&self.pooled)
        } else {
            None
        }
    }

    /// The decayed maximum-likelihood kappa (per bps) for `regime`, or the prior when cold.
    pub fn kappa(&self, regime: VolRegime) -> f64 {
        self.fit(regime).map_or(self.prior_kappa, KappaFit::kappa)
    }

    /// The fill intensity at the mid, `A` (per s), for `regime`, or the prior when cold.
    pub fn intensity_a(&self, regime: VolRegime) -> f64 {
        self.fit(regime).map_or(self.prior_a, KappaFit::intensity)
    }

    /// `ln 2 / median depth` for `regime` (or pooled) once enough prints were seen.
    pub fn robust_kappa(&self, regime: VolRegime) -> Option<f64> {
        self.fits[idx(regime)].robust.or(self.pooled.robust)
    }

    /// The kappa the ladder uses: robust when available (Hip3: blended 0.6 / 0.4 with the
    /// prior), else the fit, else the prior.
    pub fn ladder_kappa(&self, regime: VolRegime, profile: SpreadProfile) -> f64 {
        match (self.robust_kappa(regime), profile) {
            (Some(r), SpreadProfile::Hip3) => {
                self.hip3_blend * r + (1.0 - self.hip3_blend) * self.prior_kappa
            }
            (Some(r), _) => r,
            (None, SpreadProfile::Hip3) => self.prior_kappa,
            (None, _) => self.kappa(regime),
        }
    }

    /// Prints recorded in `regime`'s own fit.
    pub fn trades(&self, regime: VolRegime) -> u64 {
        self.fits[idx(regime)].total
    }

    /// Prints each fit keeps for its median.
    pub fn window(&self) -> usize {
        self.pooled.depths.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::rng::SplitMix64;

    fn est() -> RegimeKappaEstimator {
        RegimeKappaEstimator::new(&StochasticConfig::default())
    }

    #[test]
    fn cold_is_the_prior() {
        let k = est();
        assert_eq!(k.kappa(VolRegime::Normal), 0.25);
        assert_eq!(k.intensity_a(VolRegime::Normal), 0.5);
        assert_eq!(k.robust_kappa(VolRegime::Normal), None);
        assert_eq!(
            k.ladder_kappa(VolRegime::Normal, SpreadProfile::Default),
            0.25
        );
        assert_eq!(k.ladder_kappa(VolRegime::Normal, SpreadProfile::Hip3), 0.25);
    }

    #[test]
    fn fit_by_hand() {
        let c = StochasticConfig {
            kappa_min_trades: 2,
            kappa_robust_min_trades: 3,
            ..StochasticConfig::default()
        };
        let mut k = RegimeKappaEstimator::new(&c);
        // Same-time prints: no decay between them.
        k.on_trade(2.0, 0, VolRegime::Normal);
        k.on_trade(4.0, 0, VolRegime::Normal);
        assert_eq!(k.kappa(VolRegime::Normal), 2.0 / 6.0);
        assert_eq!(k.robust_kappa(VolRegime::Normal), None);
        k.on_trade(-3.0, 0, VolRegime::Normal);
        assert_eq!(k.kappa(VolRegime::Normal), 3.0 / 9.0);
        // Median of 2, 3, 4 is 3.
        let r = k.robust_kappa(VolRegime::Normal).unwrap();
        assert!((r - std::f64::consts::LN_2 / 3.0).abs() < 1e-12);
        assert_eq!(k.ladder_kappa(VolRegime::Normal, SpreadProfile::Default), r);
        let hip3 = k.ladder_kappa(VolRegime::Normal, SpreadProfile::Hip3);
        assert!((hip3 - (0.6 * r + 0.4 * 0.25)).abs() < 1e-12);
        // A cold regime falls back to the pooled fit.
        assert_eq!(k.kappa(VolRegime::Extreme), 3.0 / 9.0);
        assert_eq!(k.trades(VolRegime::Extreme), 0);
    }

    #[test]
    fn recovers_kappa_and_a_from_exponential_depths() {
        let mut k = est();
        let mut rng = SplitMix64::new(42);
        let (kappa, a) = (0.25, 2.0);
        let mut t = 0.0;
        // 30 minutes of Poisson trades at rate A with Exp(kappa) depths.
        while t < 1_800_000.0 {
            t += rng.exponential(1_000.0 / a);
            k.on_trade(rng.exponential(1.0 / kappa), t as i64, VolRegime::Normal);
        }
        k.advance(t as i64, VolRegime::Normal);
        let fit = k.kappa(VolRegime::Normal);
        let robust = k.robust_kappa(VolRegime::Normal).unwrap();
        assert!((fit / kappa - 1.0).abs() < 0.15, "fit {fit}");
        assert!((robust / kappa - 1.0).abs() < 0.15, "robust {robust}");
        let got_a = k.intensity_a(VolRegime::Normal);
        assert!((got_a / a - 1.0).abs() < 0.15, "A {got_a}");
    }

    #[test]
    fn regimes_are_fitted_apart_and_the_robust_fit_shrugs_off_a_sweep() {
        let c = StochasticConfig {
            kappa_half_life_s: 1e6,
            ..StochasticConfig::default()
        };
        let mut k = RegimeKappaEstimator::new(&c);
        let mut rng = SplitMix64::new(8);
        let mut t = 0i64;
        for _ in 0..400 {
            t += 500;
            k.on_trade(rng.exponential(4.0), t, VolRegime::Normal);
            k.on_trade(rng.exponential(10.0), t + 1, VolRegime::Volatile);
        }
        let n = k.kappa(VolRegime::Normal);
        let v = k.kappa(VolRegime::Volatile);
        assert!(
            (n / 0.25 - 1.0).abs() < 0.15 && (v / 0.1 - 1.0).abs() < 0.15,
            "{n} {v}"
        );
        // A sweep of 40 prints at 200 bps: the mean fit collapses, the median barely moves.
        let before = k.robust_kappa(VolRegime::Normal).unwrap();
        for _ in 0..40 {
            k.on_trade(200.0, t + 2, VolRegime::Normal);
        }
        assert!(k.kappa(VolRegime::Normal) < 0.5 * n);
        let after = k.robust_kappa(VolRegime::Normal).unwrap();
        assert!((after / before - 1.0).abs() < 0.25, "{before} {after}");
        assert_eq!(k.window(), WINDOW);
    }
}
