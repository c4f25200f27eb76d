//! Runs of Hyperliquid taker orders on one side (issue 14): Page's CUSUM on each side's
//! arrival rate, testing the side's ordinary rate `r0` against `signals.run_rate_mult` (`k`)
//! times it.
//!
//! Why: an informed burst arrives as a run of same-side taker orders several times the ordinary
//! rate. The markout-based toxicity (`flow`) learns of it 1-5 s after the fills it costs, the
//! lead venue's 1 s flow imbalance about a second in (on the toxic preset, a third of a 3 s
//! burst); the orders themselves say it after a few arrivals.
//!
//! Method: each side's statistic `S` gains `ln k` per taker order of that side and loses
//! `(k - 1) r0` per ms between them (the log-likelihood ratio of a Poisson rate `k r0` against
//! `r0`), floored at 0 and capped at twice the threshold, so a run is over at most
//! `threshold / ((k - 1) r0)` after its orders stop. `r0` is half the rate of taker orders of
//! both sides, counted with an exponential window of `signals.run_rate_window_s`. A side is in a
//! run while `S >= signals.run_threshold`; nothing is a run before `signals.run_min_orders`
//! orders have been seen. Prints of one taker order (the same time and side) count once.

use serde::{Deserialize, Serialize};

use super::TimeMs;
use crate::config::SignalConfig;

/// Page's CUSUM on the arrival rate of each side's taker orders.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TakerRunDetector {
    ln_k: f64,
    k_minus_1: f64,
    threshold: f64,
    window_ms: f64,
    min_orders: u64,
    /// Exponentially windowed count of taker orders (both sides) and of elapsed ms.
    count: f64,
    span_ms: f64,
    orders: u64,
    /// Statistic of buy runs and of sell runs, as of `last_ms`.
    s: [f64; 2],
    last_ms: Option<TimeMs>,
    last_print: Option<(TimeMs, bool)>,
}

impl TakerRunDetector {
    pub fn new(s: &SignalConfig) -> Self {
        Self {
            ln_k: s.run_rate_mult.ln(),
            k_minus_1: s.run_rate_mult - 1.0,
            threshold: s.run_threshold,
            window_ms: s.run_rate_window_s * 1e3,
            min_orders: u64::from(s.run_min_orders),
            ..Self::default()
        }
    }

    /// The ordinary rate of one side's taker orders, per ms (0 before any time has passed).
    pub fn side_rate_per_ms(&self) -> f64 {
        if self.span_ms > 0.0 {
            0.5 * self.count / self.span_ms
        } else {
            0.0
        }
    }

    /// The statistics of buy and sell runs decayed to `now`.
    fn at(&self, now: TimeMs) -> [f64; 2] {
        let dt = self.last_ms.map_or(0.0, |t| (now - t).max(0) as f64);
        let drop = self.k_minus_1 * self.side_rate_per_ms() * dt;
        [(self.s[0] - drop).max(0.0), (self.s[1] - drop).max(0.0)]
    }

    /// Feeds one trade print of a taker order: whether it bought, and its time.
    pub fn on_trade(&mut self, is_buy: bool, t: TimeMs) {
        if self.last_print == Some((t, is_buy)) {
            return; // another print of the same taker order
        }
        self.last_print = Some((t, is_buy));
        self.s = self.at(t);
        if let Some(last) = self.last_ms {
            let dt = (t - last).max(0) as f64;
            let keep = (-dt / self.window_ms).exp();
            self.count *= keep;
            self.span_ms = self.span_ms * keep + self.window_ms * (1.0 - keep);
        }
        self.last_ms = Some(t);
        self.count += 1.0;
        self.orders += 1;
        let i = usize::from(!is_buy);
        self.s[i] = (self.s[i] + self.ln_k).min(2.0 * self.threshold);
    }

    /// +1 while the buy side is in a run, -1 while the sell side is, else 0 (also before
    /// `run_min_orders` orders, and when both are).
    pub fn dir(&self, now: TimeMs) -> i8 {
        if self.orders < self.min_orders {
            return 0;
        }
        let [buy, sell] = self.at(now);
        match (buy >= self.threshold, sell >= self.threshold) {
            (true, false) => 1,
            (false, true) => -1,
            _ => 0,
        }
    }
}
