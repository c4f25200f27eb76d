//! Lead-lag between the lead venue (Binance futures) and Hyperliquid (SPEC 4 "LagAnalyzer").
//!
//! Method: both mids are sampled onto one time grid (`lag_step_ms`, 25 ms: a grid point carries
//! the last mid received at or before it, on the local receive clock) and differenced into
//! log-returns in bps. Each candidate lag `L` in `[-max_lag, +max_lag]` is scored by the Pearson
//! correlation of the lead's return at step `k - L` with Hyperliquid's at step `k` over the last
//! `lag_window_ms` (positive `L`: the lead venue moves first). The best lag counts only when its
//! correlation beats the `lag_significance_quantile` (0.95) of the same best-lag score computed
//! on shuffled Hyperliquid returns (a permutation test: shuffling keeps both marginals and
//! destroys the timing). The lag is stable when the latest scan and the last
//! `lag_stability_count` scans taken `lag_stability_spacing_ms` apart (by default one window, so
//! on disjoint data) were all significant with best lags within `lag_stability_tol_ms`.
//! Consecutive scans share almost all their data: a chance peak that clears the test once clears
//! it again a second later, so "stable over consecutive scans" would add no evidence. On
//! unrelated synthetic markets that version turned actionable within minutes; requiring the same
//! lag on disjoint windows makes a false positive need two independent 5% events at one lag.
//!
//! Cost: a scan is `(1 + shuffles) x lags x window` multiply-adds (3 x 41 x 2400 with the
//! defaults, about 0.1 ms in one go). It never runs inside one call: it is cut into slices (one
//! lag's dot product of 2400 f32 pairs, or a chunk of a shuffle) and `lag_work_per_update`
//! slices run per market-data update, so every update stays sub-microsecond and a scan completes
//! over about 150 updates. The shuffled
//! scores go into a pool of the last `lag_null_pool` values shared across scans (filled on the
//! first scan, refreshed by `lag_permutations_per_scan` per scan after that): consecutive scans
//! see almost the same window, so the null distribution changes slowly and need not be
//! recomputed from scratch each time.
//!
//! Memory: two rings of `window + 2 x max_lag` returns and three scratch arrays of the same
//! size, all allocated in `new`.

use super::ring::Ring;
use super::rng::SplitMix64;
use super::TimeMs;
use crate::config::SignalConfig;

/// Swaps of a shuffle done in one slice of scan work.
const SHUFFLE_CHUNK: usize = 256;

/// The lead-lag output of one cycle (SPEC 4).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LeadLagSignal {
    /// Best lag in ms; positive when the lead venue moves first.
    pub lag_ms: i32,
    /// Correlation of the returns at that lag.
    pub correlation: f64,
    /// Hyperliquid move the lead venue predicts and Hyperliquid has not made yet, in bps,
    /// capped at `max_predicted_move_bps`; 0 unless `actionable`.
    pub predicted_move_bps: f64,
    /// True when the signal may be traded on (enough samples, significant and stable lag of at
    /// least `min_actionable_lag_ms`, both feeds fresh, model gate open).
    pub actionable: bool,
}

/// The result of the latest completed scan.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct LagEstimate {
    pub lag_ms: i32,
    pub correlation: f64,
    /// The shuffled-score quantile the correlation had to beat.
    pub null_threshold: f64,
    pub significant: bool,
    /// Significant, with best lags close together, in the latest scan and in the last
    /// `lag_stability_count` scans spaced `lag_stability_spacing_ms` apart.
    pub stable: bool,
    /// Return pairs each lag was scored on.
    pub samples: u32,
    /// Scans completed since construction.
    pub scans: u64,
}

/// One closed grid point: the last log-mid (ln(mid) x 1e4) of each venue at `time_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridStep {
    pub index: i64,
    pub time_ms: TimeMs,
    pub lead_log_bps: f64,
    pub hl_log_bps: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
enum Phase {
    Idle,
    /// Scoring lag index `lag` (0 ..= 2M) of permutation `perm` (0 is the real data).
    Score {
        perm: u32,
        lag: usize,
    },
    /// Shuffling for permutation `perm`; `next` is the Fisher-Yates cursor (counts down).
    Shuffle {
        perm: u32,
        next: usize,
    },
}

const LEAD: usize = 0;
const HL: usize = 1;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LagAnalyzer {
    step_ms: TimeMs,
    max_lag_steps: usize,
    window: usize,
    min_samples: usize,
    recompute_ms: TimeMs,
    quantile: f64,
    stability_tol_ms: i32,
    stability_spacing_ms: TimeMs,
    work_per_update: u32,
    perms_per_scan: u32,
    // The grid.
    cur: [Option<f64>; 2],
    prev: [f64; 2],
    next_index: Option<i64>,
    lead_returns: Ring<f32>,
    hl_returns: Ring<f32>,
    // The scan in progress.
    phase: Phase,
    perms_this_scan: u32,
    scan_w: usize,
    last_scan_start: Option<TimeMs>,
    zb: Box<[f32]>,
    zh: Box<[f32]>,
    zp: Box<[f32]>,
    /// -inf before a permutation's first lag is scored (JSON has no infinity: saved as null).
    #[serde(with = "neg_inf_as_null")]
    best: f32,
    best_lag: i32,
    real_best: f32,
    real_best_lag: i32,
    null_pool: Ring<f32>,
    sort_scratch: Box<[f32]>,
    /// Scans kept for the stability check: (start time, best lag ms, significant).
    history: Ring<(TimeMs, i32, bool)>,
    rng: SplitMix64,
    estimate: LagEstimate,
}

impl LagAnalyzer {
    /// An analyzer with the lag grid, window and test settings of `cfg`; `seed` seeds the
    /// permutation test's shuffles.
    pub fn new(cfg: &SignalConfig, seed: u64) -> Self {
        let step = u64::from(cfg.lag_step_ms.max(1));
        let max_lag_steps = (u64::from(cfg.max_lag_ms) / step) as usize;
        let window = ((cfg.lag_window_ms / step) as usize).max(2);
        let span = window + 2 * max_lag_steps;
        let pool = (cfg.lag_null_pool as usize).max(1);
        Self {
            step_ms: step as TimeMs,
            max_lag_steps,
            window,
            min_samples: (cfg.lag_min_samples as usize).clamp(2, window),
            recompute_ms: cfg.lag_recompute_ms as TimeMs,
            quantile: cfg.lag_significance_quantile,
            stability_tol_ms: cfg.lag_stability_tol_ms as i32,
            stability_spacing_ms: cfg.lag_stability_spacing_ms as TimeMs,
            work_per_update: cfg.lag_work_per_update.max(1),
            perms_per_scan: cfg.lag_permutations_per_scan.max(1),
            cur: [None, None],
            prev: [0.0; 2],
            next_index: None,
            lead_returns: Ring::new(span),
            hl_returns: Ring::new(span),
            phase: Phase::Idle,
            perms_this_scan: 0,
            scan_w: 0,
            last_scan_start: None,
            zb: vec![0.0; span].into_boxed_slice(),
            zh: vec![0.0; span].into_boxed_slice(),
            zp: vec![0.0; window].into_boxed_slice(),
            best: f32::NEG_INFINITY,
            best_lag: 0,
            real_best: 0.0,
            real_best_lag: 0,
            null_pool: Ring::new(pool),
            sort_scratch: vec![0.0; pool].into_boxed_slice(),
            history: Ring::new((cfg.lag_stability_count as usize).max(1)),
            rng: SplitMix64::new(seed),
            estimate: LagEstimate::default(),
        }
    }

    /// Feeds the lead venue's mid as `ln(mid) x 1e4` at local receive time `t`. Grid points
    /// before `t` are closed first and passed to `on_step`, oldest first.
    #[inline]
    pub fn on_lead_log(&mut self, log_bps: f64, t: TimeMs, on_step: impl FnMut(&GridStep)) {
        self.on_value(LEAD, log_bps, t, on_step);
    }

    /// Feeds Hyperliquid's mid as `ln(mid) x 1e4` at local receive time `t`.
    #[inline]
    pub fn on_hl_log(&mut self, log_bps: f64, t: TimeMs, on_step: impl FnMut(&GridStep)) {
        self.on_value(HL, log_bps, t, on_step);
    }

    /// Feeds the lead venue's mid price and runs this update's slice of scan work.
    pub fn on_lead_mid(&mut self, mid: f64, t: TimeMs) {
        self.on_lead_log(mid.ln() * 1e4, t, |_| {});
        self.work(t);
    }

    /// Feeds Hyperliquid's mid price and runs this update's slice of scan work.
    pub fn on_hl_mid(&mut self, mid: f64, t: TimeMs) {
        self.on_hl_log(mid.ln() * 1e4, t, |_| {});
        self.work(t);
    }

    #[inline]
    fn on_value(&mut self, venue: usize, x: f64, t: TimeMs, on_step: impl FnMut(&GridStep)) {
        self.close_until(t, on_step);
        self.cur[venue] = Some(x);
        if self.next_index.is_none() {
            if let (Some(b), Some(h)) = (self.cur[LEAD], self.cur[HL]) {
                self.prev = [b, h];
                self.next_index = Some(t.div_euclid(self.step_ms) + 1);
            }
        }
    }

    /// Closes every grid point strictly before `t` with the current values.
    fn close_until(&mut self, t: TimeMs, mut on_step: impl FnMut(&GridStep)) {
        let (Some(mut g), Some(b), Some(h)) = (self.next_index, self.cur[LEAD], self.cur[HL])
        else {
            return;
        };
        let last = (t - 1).div_euclid(self.step_ms);
        if last < g {
            return;
        }
        if last - g >= self.lead_returns.capacity() as i64 {
            // A gap longer than the whole history: nothing before it is comparable any more.
            self.restart_grid(last + 1);
            return;
        }
        while g <= last {
            self.lead_returns.push((b - self.prev[LEAD]) as f32);
            self.hl_returns.push((h - self.prev[HL]) as f32);
            self.prev = [b, h];
            on_step(&GridStep {
                index: g,
                time_ms: g * self.step_ms,
                lead_log_bps: b,
                hl_log_bps: h,
            });
            g += 1;
        }
        self.next_index = Some(g);
    }

    fn restart_grid(&mut self, next: i64) {
        self.lead_returns.clear();
        self.hl_returns.clear();
        if let (Some(b), Some(h)) = (self.cur[LEAD], self.cur[HL]) {
            self.prev = [b, h];
        }
        self.next_index = Some(next);
        self.phase = Phase::Idle;
    }

    /// Forgets the grid, the scan in progress and the stability history (the lead feed was
    /// lost); the shuffled-score pool is kept.
    pub fn reset(&mut self) {
        self.cur = [None, None];
        self.next_index = None;
        self.lead_returns.clear();
        self.hl_returns.clear();
        self.phase = Phase::Idle;
        self.last_scan_start = None;
        self.history.clear();
        self.estimate = LagEstimate {
            scans: self.estimate.scans,
            ..LagEstimate::default()
        };
    }

    /// Runs up to `lag_work_per_update` slices of scan work (starting a scan when one is due);
    /// four times as many while the shuffled-score pool is filling (the first scan shuffles the
    /// whole pool, twenty times the work of a later one).
    #[inline]
    pub fn work(&mut self, now: TimeMs) {
        let boost = if self.null_pool.is_full() { 1 } else { 4 };
        for _ in 0..self.work_per_update * boost {
            if !self.work_slice(now) {
                break;
            }
        }
    }

    /// Runs slices until the scan in progress, or one due now, has completed.
    pub fn finish_scan(&mut self, now: TimeMs) {
        if self.phase == Phase::Idle && !self.work_slice(now) {
            return;
        }
        while self.phase != Phase::Idle {
            self.work_slice(now);
        }
    }

    /// True while a scan is in progress.
    pub fn scanning(&self) -> bool {
        self.phase != Phase::Idle
    }

    /// The latest completed scan.
    pub fn estimate(&self) -> &LagEstimate {
        &self.estimate
    }

    /// Return pairs on the grid (at most `capacity`).
    pub fn samples(&self) -> usize {
        self.lead_returns.len()
    }

    /// Return pairs the grid holds at most.
    pub fn capacity(&self) -> usize {
        self.lead_returns.capacity()
    }

    /// Return pairs the next scan will score (the window once enough data arrived).
    pub fn scorable_samples(&self) -> usize {
        self.samples().saturating_sub(2 * self.max_lag_steps)
    }

    /// True when the grid holds enough pairs for an actionable signal.
    pub fn has_min_samples(&self) -> bool {
        self.scorable_samples() >= self.min_samples
    }

    /// Shuffled scores in the pool.
    pub fn null_pool_len(&self) -> usize {
        self.null_pool.len()
    }

    pub fn step_ms(&self) -> TimeMs {
        self.step_ms
    }

    /// Does one slice of scan work; false when there was nothing to do.
    fn work_slice(&mut self, now: TimeMs) -> bool {
        match self.phase {
            Phase::Idle => {
                let due = self
                    .last_scan_start
                    .is_none_or(|t0| now - t0 >= self.recompute_ms);
                if due && self.has_min_samples() {
                    self.prepare(now);
                    true
                } else {
                    false
                }
            }
            Phase::Score { perm, lag } => {
                self.score_slice(perm, lag);
                true
            }
            Phase::Shuffle { perm, next } => {
                self.shuffle_slice(perm, next);
                true
            }
        }
    }

    fn prepare(&mut self, now: TimeMs) {
        self.last_scan_start = Some(now);
        let m = self.max_lag_steps;
        let n = self.lead_returns.len().min(self.window + 2 * m);
        self.scan_w = n - 2 * m;
        copy_tail(&self.lead_returns, n, &mut self.zb[..n]);
        copy_tail(&self.hl_returns, n, &mut self.zh[..n]);
        let ok_b = standardise(&mut self.zb[..n]);
        let ok_h = standardise(&mut self.zh[m..m + self.scan_w]);
        if !(ok_b && ok_h) {
            // A venue that did not move over the window carries no timing information.
            self.real_best = 0.0;
            self.real_best_lag = 0;
            self.finish(false);
            return;
        }
        let missing = (self.null_pool.capacity() - self.null_pool.len()) as u32;
        self.perms_this_scan = self.perms_per_scan.max(missing);
        self.best = f32::NEG_INFINITY;
        self.best_lag = 0;
        self.phase = Phase::Score { perm: 0, lag: 0 };
    }

    fn score_slice(&mut self, perm: u32, lag: usize) {
        let m = self.max_lag_steps;
        let w = self.scan_w;
        // Lag index `lag` is the lag `lag - m` steps: lead return k - L against HL return k.
        let l = lag as i64 - m as i64;
        let b0 = (m as i64 - l) as usize;
        let lead = &self.zb[b0..b0 + w];
        let hl = if perm == 0 {
            &self.zh[m..m + w]
        } else {
            &self.zp[..w]
        };
        let corr = dot(lead, hl) / w as f32;
        if corr > self.best {
            self.best = corr;
            self.best_lag = l as i32;
        }
        if lag < 2 * m {
            self.phase = Phase::Score { perm, lag: lag + 1 };
            return;
        }
        if perm == 0 {
            self.real_best = self.best;
            self.real_best_lag = self.best_lag;
        } else {
            self.null_pool.push(self.best);
        }
        if perm < self.perms_this_scan {
            if perm == 0 {
                self.zp[..w].copy_from_slice(&self.zh[m..m + w]);
            }
            self.phase = Phase::Shuffle {
                perm: perm + 1,
                next: w,
            };
        } else {
            self.finish(true);
        }
    }

    fn shuffle_slice(&mut self, perm: u32, next: usize) {
        let stop = next.saturating_sub(SHUFFLE_CHUNK).max(1);
        let mut i = next;
        while i > stop {
            i -= 1;
            let j = self.rng.below(i + 1);
            self.zp.swap(i, j);
        }
        self.best = f32::NEG_INFINITY;
        self.best_lag = 0;
        self.phase = if i <= 1 {
            Phase::Score { perm, lag: 0 }
        } else {
            Phase::Shuffle { perm, next: i }
        };
    }

    fn finish(&mut self, scored: bool) {
        self.phase = Phase::Idle;
        let threshold = self.null_quantile();
        let enough_null = self.null_pool.len() * 2 >= self.null_pool.capacity();
        let significant = scored && enough_null && self.real_best > threshold;
        let lag_ms = self.real_best_lag * self.step_ms as i32;
        let started = self.last_scan_start.unwrap_or(0);
        let spaced = self
            .history
            .back()
            .is_none_or(|&(t, _, _)| started - t >= self.stability_spacing_ms);
        if spaced {
            self.history.push((started, lag_ms, significant));
        }
        let stable = significant && self.history.is_full() && {
            let mut lo = lag_ms;
            let mut hi = lag_ms;
            let mut all = true;
            for &(_, l, s) in self.history.iter() {
                all &= s;
                lo = lo.min(l);
                hi = hi.max(l);
            }
            all && hi - lo <= self.stability_tol_ms
        };
        self.estimate = LagEstimate {
            lag_ms,
            correlation: f64::from(self.real_best),
            null_threshold: f64::from(threshold),
            significant,
            stable,
            samples: self.scan_w as u32,
            scans: self.estimate.scans + 1,
        };
    }

    /// The `quantile` of the pool, linearly interpolated between order statistics.
    fn null_quantile(&mut self) -> f32 {
        let n = self.null_pool.len();
        if n == 0 {
            return f32::INFINITY;
        }
        let s = &mut self.sort_scratch[..n];
        for (d, v) in s.iter_mut().zip(self.null_pool.iter()) {
            *d = *v;
        }
        s.sort_unstable_by(f32::total_cmp);
        let pos = self.quantile * (n - 1) as f64;
        let lo = pos.floor() as usize;
        let hi = (lo + 1).min(n - 1);
        let frac = (pos - lo as f64) as f32;
        s[lo] + frac * (s[hi] - s[lo])
    }
}

/// Serde for a score that is -inf until the first value: `null` in JSON.
mod neg_inf_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f32, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_some(v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
        Ok(Option::<f32>::deserialize(d)?.unwrap_or(f32::NEG_INFINITY))
    }
}

fn copy_tail(r: &Ring<f32>, n: usize, out: &mut [f32]) {
    let (a, b) = r.tail_slices(n);
    out[..a.len()].copy_from_slice(a);
    out[a.len()..a.len() + b.len()].copy_from_slice(b);
}

/// Z-scores `xs` in place; false when it has no variance.
fn standardise(xs: &mut [f32]) -> bool {
    let n = xs.len() as f64;
    let mean = xs.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = xs
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n;
    if var.is_nan() || var <= 1e-18 {
        return false;
    }
    let inv = 1.0 / var.sqrt();
    for x in xs {
        *x = ((f64::from(*x) - mean) * inv) as f32;
    }
    true
}

/// Dot product with eight independent accumulators so that the compiler vectorises it.
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s = acc.iter().sum::<f32>();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> SignalConfig {
        SignalConfig::default()
    }

    #[test]
    fn grid_closes_points_with_the_last_value_before_them() {
        let mut a = LagAnalyzer::new(&cfg(), 1);
        let mut steps = Vec::new();
        a.on_lead_log(100.0, 10, |s| steps.push(*s));
        a.on_hl_log(200.0, 12, |s| steps.push(*s)); // grid starts: next point is 25 ms
        a.on_lead_log(103.0, 30, |s| steps.push(*s)); // closes 25 with the values at 12
        a.on_hl_log(201.0, 76, |s| steps.push(*s)); // closes 50 and 75
        a.on_lead_log(104.0, 76, |s| steps.push(*s)); // same ms: nothing new to close
        a.on_hl_log(205.0, 101, |s| steps.push(*s)); // closes 100
        let got: Vec<(i64, f64, f64)> = steps
            .iter()
            .map(|s| (s.time_ms, s.lead_log_bps, s.hl_log_bps))
            .collect();
        assert_eq!(
            got,
            vec![
                (25, 100.0, 200.0),
                (50, 103.0, 200.0),
                (75, 103.0, 200.0),
                (100, 104.0, 201.0),
            ]
        );
        let r: Vec<(f32, f32)> = (0..4)
            .map(|i| (a.lead_returns.get(i).unwrap(), a.hl_returns.get(i).unwrap()))
            .collect();
        assert_eq!(r, vec![(0.0, 0.0), (3.0, 0.0), (0.0, 0.0), (1.0, 1.0)]);
    }

    #[test]
    fn memory_is_fixed_at_construction() {
        let c = cfg();
        let mut a = LagAnalyzer::new(&c, 1);
        // 60 s window / 25 ms + 2 x 20 lag steps.
        assert_eq!(a.capacity(), 2400 + 40);
        for i in 0..10_000i64 {
            a.on_lead_mid(100.0 + (i % 7) as f64, i * 10);
            a.on_hl_mid(100.0 + (i % 5) as f64, i * 10 + 3);
        }
        assert_eq!(a.samples(), a.capacity());
        assert_eq!(a.null_pool.capacity(), c.lag_null_pool as usize);
        assert_eq!(a.history.capacity(), c.lag_stability_count as usize);
        assert!(a.null_pool_len() <= c.lag_null_pool as usize);
    }

    #[test]
    fn a_gap_longer_than_the_history_restarts_the_grid() {
        let mut a = LagAnalyzer::new(&cfg(), 1);
        a.on_lead_mid(100.0, 0);
        a.on_hl_mid(100.0, 0);
        a.on_lead_mid(101.0, 1_000);
        assert_eq!(a.samples(), 39);
        let mut n = 0;
        a.on_lead_log(4.0, 3_600_000, |_| n += 1);
        assert_eq!((n, a.samples()), (0, 0));
        a.on_hl_log(4.0, 3_600_100, |_| n += 1);
        assert_eq!(n, 4);
    }

    #[test]
    fn dot_matches_the_naive_sum() {
        let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.5 - 3.0).collect();
        let b: Vec<f32> = (0..37).map(|i| (i as f32).sin()).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-4);
    }

    #[test]
    fn interpolated_quantile() {
        let mut a = LagAnalyzer::new(&cfg(), 1);
        for v in 1..=21 {
            a.null_pool.push(v as f32);
        }
        // Pool keeps the last 40; 21 values 1..=21: the 0.95 quantile is at position 19.
        assert!((a.null_quantile() - 20.0).abs() < 1e-6);
    }
}
