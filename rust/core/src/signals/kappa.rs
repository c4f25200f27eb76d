//! Fill intensity `lambda(d) = A exp(-kappa d)` per volatility regime (SPEC 4
//! "RegimeKappaEstimator"), d in bps from the mid.
//!
//! Method: in the Avellaneda-Stoikov / GLFT model a quote at depth `d` is hit by the taker
//! orders that reach `d`, so the depth a taker order reaches is exponential with rate `kappa`
//! and taker orders arrive on each side at rate `A`. The unit is the taker order, not the
//! print: the prints of one order (same aggressor side, same receive time: one block of one
//! frame) are aggregated into one observation at the deepest print's depth. Counting prints
//! made one sweep through five levels five shallow trades (kappa 0.41 and A 38-50/s measured
//! against 0.25 and 2 true). The fit is the maximum-likelihood one shrunk towards the priors,
//! which count as `intensity_prior_s` seconds of observation:
//! `kappa = (n + n0) / (sum(d) + n0 / kappa_prior)`, `A = (n + n0) / (2 (T + T0))` with
//! `n0 = 2 a_prior T0` (two sides), both then clamped to `[kappa_min, kappa_max]` and
//! `[a_min, a_max]`, so a burst or an empty window can never send the GLFT half-spread to 0 or
//! infinity (A once read 0.0, the half-spread `inf`; once 130, and the quotes vanished). The
//! sums are time-decayed (half-life `kappa_half_life_s`, the "EWMA smoothing") so the fit
//! follows the market. One fit per volatility regime, each decayed and accruing time
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

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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

    fn kappa(&self, p: &Priors) -> f64 {
        let n0 = p.pseudo_orders();
        ((self.count + n0) / (self.sum_depth + n0 / p.kappa)).clamp(p.kappa_min, p.kappa_max)
    }

    fn intensity(&self, p: &Priors) -> f64 {
        let n0 = p.pseudo_orders();
        let a = (self.count + n0) / (2.0 * (self.exposure_ms * 1e-3 + p.weight_s));
        if a.is_finite() {
            a.clamp(p.a_min, p.a_max)
        } else {
            p.a
        }
    }
}

/// The priors, their weight and the bounds of the fit.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct Priors {
    kappa: f64,
    a: f64,
    weight_s: f64,
    kappa_min: f64,
    kappa_max: f64,
    a_min: f64,
    a_max: f64,
}

impl Priors {
    /// Taker orders (both sides) the prior stands for.
    fn pseudo_orders(&self) -> f64 {
        2.0 * self.a * self.weight_s
    }

    fn clamp_kappa(&self, k: f64) -> f64 {
        if k.is_finite() {
            k.clamp(self.kappa_min, self.kappa_max)
        } else {
            self.kappa
        }
    }
}

/// The taker order being aggregated: its time, side, deepest print and regime.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct OpenOrder {
    t: TimeMs,
    is_buy: bool,
    depth: f64,
    regime: VolRegime,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RegimeKappaEstimator {
    fits: [KappaFit; 4],
    pooled: KappaFit,
    last: Option<TimeMs>,
    regime: VolRegime,
    open: Option<OpenOrder>,
    half_life_ms: f64,
    priors: Priors,
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
            open: None,
            half_life_ms: cfg.kappa_half_life_s * 1e3,
            priors: Priors {
                kappa: cfg.kappa_prior,
                a: cfg.a_prior,
                weight_s: cfg.intensity_prior_s,
                kappa_min: cfg.kappa_min,
                kappa_max: cfg.kappa_max,
                a_min: cfg.a_min,
                a_max: cfg.a_max,
            },
            min_trades: u64::from(cfg.kappa_min_trades),
            robust_min: u64::from(cfg.kappa_robust_min_trades),
            hip3_blend: cfg.hip3_kappa_blend,
        }
    }

    /// Moves the clock to `t`: the time since the last call counts as observation time of the
    /// regime that was current then; `regime` is current from now on. A taker order still being
    /// aggregated is recorded once the clock passes its time.
    #[inline]
    pub fn advance(&mut self, t: TimeMs, regime: VolRegime) {
        if self.open.is_some_and(|o| t > o.t) {
            self.close_order();
        }
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

    /// Records a trade printed `depth_bps` from the mid at `t` in `regime`, the taker buying when
    /// `is_buy`. Prints of one taker order (same side, same time) are one observation at the
    /// deepest print. Non-finite or absurd depths are ignored.
    #[inline]
    pub fn on_trade(&mut self, depth_bps: f64, is_buy: bool, t: TimeMs, regime: VolRegime) {
        let t = self.last.map_or(t, |l| l.max(t));
        if let Some(o) = self.open {
            if o.t != t || o.is_buy != is_buy {
                self.close_order();
            }
        }
        self.advance(t, regime);
        let d = depth_bps.abs();
        if d.is_nan() || d >= MAX_DEPTH_BPS {
            return;
        }
        match &mut self.open {
            Some(o) => o.depth = o.depth.max(d),
            None => {
                self.open = Some(OpenOrder {
                    t,
                    is_buy,
                    depth: d,
                    regime,
                })
            }
        }
    }

    /// Records the open taker order, if any.
    fn close_order(&mut self) {
        if let Some(o) = self.open.take() {
            self.fits[idx(o.regime)].add(o.depth, self.robust_min);
            self.pooled.add(o.depth, self.robust_min);
        }
    }

    /// Records the taker order being aggregated now (a caller that knows no more prints of it
    /// will come: end of data, a test).
    pub fn flush(&mut self) {
        self.close_order();
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

    /// The decayed, shrunk and bounded kappa (per bps) for `regime`, or the prior when cold.
    pub fn kappa(&self, regime: VolRegime) -> f64 {
        self.fit(regime)
            .map_or(self.priors.kappa, |f| f.kappa(&self.priors))
    }

    /// The fill intensity at the mid per side, `A` (per s), for `regime` (shrunk and bounded),
    /// or the prior when cold. Always finite and within `[a_min, a_max]`.
    pub fn intensity_a(&self, regime: VolRegime) -> f64 {
        self.fit(regime)
            .map_or(self.priors.a, |f| f.intensity(&self.priors))
    }

    /// `ln 2 / median depth` for `regime` (or pooled) once enough taker orders were seen,
    /// within `[kappa_min, kappa_max]`.
    pub fn robust_kappa(&self, regime: VolRegime) -> Option<f64> {
        self.fits[idx(regime)]
            .robust
            .or(self.pooled.robust)
            .map(|k| self.priors.clamp_kappa(k))
    }

    /// The kappa the ladder uses: robust when available (Hip3: blended 0.6 / 0.4 with the
    /// prior), else the fit, else the prior.
    pub fn ladder_kappa(&self, regime: VolRegime, profile: SpreadProfile) -> f64 {
        match (self.robust_kappa(regime), profile) {
            (Some(r), SpreadProfile::Hip3) => {
                self.hip3_blend * r + (1.0 - self.hip3_blend) * self.priors.kappa
            }
            (Some(r), _) => r,
            (None, SpreadProfile::Hip3) => self.priors.kappa,
            (None, _) => self.kappa(regime),
        }
    }

    /// The pooled fit over every regime: `(kappa, A, taker orders)`, shrunk and bounded as
    /// `kappa` and `intensity_a` are (the calibration reads it with a negligible prior).
    pub fn pooled(&self) -> (f64, f64, u64) {
        let f = &self.pooled;
        if f.sum_depth > 0.0 {
            (f.kappa(&self.priors), f.intensity(&self.priors), f.total)
        } else {
            (self.priors.kappa, self.priors.a, f.total)
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

    /// No decay, a negligible prior weight: the plain maximum-likelihood fit.
    fn plain(min_trades: u32, robust_min: u32) -> RegimeKappaEstimator {
        RegimeKappaEstimator::new(&StochasticConfig {
            kappa_min_trades: min_trades,
            kappa_robust_min_trades: robust_min,
            kappa_half_life_s: 1e12,
            intensity_prior_s: 1e-9,
            ..StochasticConfig::default()
        })
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
        let mut k = plain(2, 3);
        k.on_trade(2.0, true, 0, VolRegime::Normal);
        k.on_trade(4.0, false, 1_000, VolRegime::Normal);
        k.flush();
        assert!((k.kappa(VolRegime::Normal) - 2.0 / 6.0).abs() < 1e-9);
        assert_eq!(k.robust_kappa(VolRegime::Normal), None);
        k.on_trade(-3.0, true, 2_000, VolRegime::Normal);
        k.advance(4_000, VolRegime::Normal);
        assert!((k.kappa(VolRegime::Normal) - 3.0 / 9.0).abs() < 1e-9);
        // Three orders over 4 s on two sides: A = 3 / (2 x 4) per side.
        assert!((k.intensity_a(VolRegime::Normal) / (3.0 / 8.0) - 1.0).abs() < 1e-3);
        // Median of 2, 3, 4 is 3.
        let r = k.robust_kappa(VolRegime::Normal).unwrap();
        assert!((r - std::f64::consts::LN_2 / 3.0).abs() < 1e-6);
        assert_eq!(k.ladder_kappa(VolRegime::Normal, SpreadProfile::Default), r);
        let hip3 = k.ladder_kappa(VolRegime::Normal, SpreadProfile::Hip3);
        assert!((hip3 - (0.6 * r + 0.4 * 0.25)).abs() < 1e-9);
        // A cold regime falls back to the pooled fit.
        assert!((k.kappa(VolRegime::Extreme) - 3.0 / 9.0).abs() < 1e-9);
        assert_eq!(k.trades(VolRegime::Extreme), 0);
    }

    /// One taker order sweeping five levels prints five trades in one frame: one observation,
    /// at the deepest level. Before the fix this read as five trades of mean depth 1.5 bps.
    #[test]
    fn the_prints_of_one_taker_order_count_once_at_their_deepest_depth() {
        let mut k = plain(1, 1);
        for d in [0.5, 1.0, 1.5, 2.0, 2.5] {
            k.on_trade(d, true, 10, VolRegime::Normal);
        }
        // A sell order in the same block is another order.
        k.on_trade(1.0, false, 10, VolRegime::Normal);
        k.advance(20, VolRegime::Normal);
        assert_eq!(k.trades(VolRegime::Normal), 2);
        assert!((k.kappa(VolRegime::Normal) - 2.0 / 3.5).abs() < 1e-9);
        let r = k.robust_kappa(VolRegime::Normal).unwrap();
        // Median of {1.0, 2.5} over an even window takes the upper element.
        assert!((r - std::f64::consts::LN_2 / 2.5).abs() < 1e-6, "{r}");
    }

    /// The synthetic market's own model: taker orders at `a` per side, each reaching an
    /// exponential depth and printing at every level (0.3 bps apart) it sweeps.
    #[test]
    fn recovers_kappa_and_a_per_taker_order_from_sweeps() {
        let mut k = RegimeKappaEstimator::new(&StochasticConfig {
            intensity_prior_s: 10.0,
            ..StochasticConfig::default()
        });
        let mut rng = SplitMix64::new(42);
        let (kappa, a) = (0.25, 2.0);
        let mut t = 0.0;
        while t < 1_800_000.0 {
            t += rng.exponential(1_000.0 / (2.0 * a));
            let reach = rng.exponential(1.0 / kappa);
            let buy = rng.unit() < 0.5;
            let mut d = 0.3;
            while d < reach {
                k.on_trade(d, buy, t as i64, VolRegime::Normal);
                d += 0.3;
            }
            k.on_trade(reach, buy, t as i64, VolRegime::Normal);
        }
        k.advance(t as i64 + 1, VolRegime::Normal);
        let fit = k.kappa(VolRegime::Normal);
        let robust = k.robust_kappa(VolRegime::Normal).unwrap();
        assert!((fit / kappa - 1.0).abs() < 0.15, "fit {fit}");
        assert!((robust / kappa - 1.0).abs() < 0.2, "robust {robust}");
        let got_a = k.intensity_a(VolRegime::Normal);
        assert!((got_a / a - 1.0).abs() < 0.15, "A {got_a}");
    }

    /// Issue 13 item 4: A once reached 130 (a burst in a regime with seconds of exposure) and
    /// 0.0 (a fit with no exposure time); either broke the GLFT half-spread.
    #[test]
    fn intensity_and_kappa_stay_finite_and_bounded() {
        let c = StochasticConfig::default();
        let mut k = RegimeKappaEstimator::new(&c);
        // 500 orders inside one second, all at depth ~0: the raw fit reads A = 250, kappa inf.
        for i in 0..500 {
            k.on_trade(0.0, i % 2 == 0, i, VolRegime::Volatile);
        }
        k.advance(1_000, VolRegime::Volatile);
        let (a, kap) = (
            k.intensity_a(VolRegime::Volatile),
            k.kappa(VolRegime::Volatile),
        );
        assert!(a <= c.a_max && a >= c.a_min, "A {a}");
        assert!(kap <= c.kappa_max && kap >= c.kappa_min, "kappa {kap}");
        // Then nothing for a day: A decays towards the prior, never to 0.
        k.advance(86_400_000, VolRegime::Volatile);
        let a = k.intensity_a(VolRegime::Volatile);
        assert!(a.is_finite() && a >= c.a_min, "A {a}");
        let g = crate::strategy::GlftCoefficients::new(0.02, kap, a, 2.0);
        assert!(g.half_spread().is_finite() && g.half_spread() > 0.0);
        // Every observation exactly at the mid: median 0 gives no robust kappa, never inf.
        assert!(k
            .robust_kappa(VolRegime::Volatile)
            .is_none_or(f64::is_finite));
    }

    #[test]
    fn regimes_are_fitted_apart() {
        let c = StochasticConfig {
            kappa_half_life_s: 1e6,
            ..StochasticConfig::default()
        };
        let mut k = RegimeKappaEstimator::new(&c);
        let mut rng = SplitMix64::new(8);
        let mut t = 0i64;
        for _ in 0..400 {
            t += 500;
            k.on_trade(rng.exponential(4.0), true, t, VolRegime::Normal);
            k.on_trade(rng.exponential(10.0), false, t + 1, VolRegime::Volatile);
        }
        k.advance(t + 2, VolRegime::Normal);
        let n = k.kappa(VolRegime::Normal);
        let v = k.kappa(VolRegime::Volatile);
        assert!(
            (n / 0.25 - 1.0).abs() < 0.15 && (v / 0.1 - 1.0).abs() < 0.2,
            "{n} {v}"
        );
        assert_eq!(k.window(), WINDOW);
    }
}
