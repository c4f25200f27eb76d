//! What the engine was deciding while it was (not) quoting, as shares of simulated time: the
//! mode (and why Flat), why each side had no desired quote, the caps and regimes in force, and
//! how often our best order sat at the market's touch; with per-cycle counts of deferred quotes
//! per side, held quotes and throttled requotes (issue 14: the engine traded a third to two
//! thirds of the baseline's volume, and these say where the time went).
//!
//! Each cycle's state holds until the next cycle; time is added per venue block.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::engine::{CapFlags, CycleOutput};
use crate::mode::ExecutionMode;
use crate::strategy::EmptySide;
use crate::types::{ToxicityRegime, VolRegime};

/// The categorical state of one cycle.
#[derive(Debug, Clone, Copy, PartialEq)]
struct CycleState {
    mode: &'static str,
    empty: [EmptySide; 2],
    caps: CapFlags,
    toxicity: ToxicityRegime,
    regime: VolRegime,
    /// Depth of the innermost desired quote per side, bps from mid (NaN when none).
    inner_bps: [f64; 2],
    /// GLFT half-spread at q = 0 and the skew towards reducing the position (bps; NaN when the
    /// cycle did not quote).
    half_spread_bps: f64,
    reducing_skew_bps: f64,
    /// A Maker cycle with one side off: 0 none, 1 the side that would reduce the position is
    /// the one off, 2 the side that would increase it (or either, when flat).
    one_side_off: u8,
    /// The alpha (lead-signal) skew of the cycle, bps (0 when not actionable or switched off).
    alpha_bps: f64,
    /// One-sided taker flow (a run of Hyperliquid takers, or the lead's one-sided flow).
    one_sided_flow: bool,
}

/// Time shares and counts of a backtest's cycles.
#[derive(Debug, Clone, Default)]
pub struct CycleStats {
    last: Option<CycleState>,
    total_ms: u64,
    mode_ms: BTreeMap<&'static str, u64>,
    empty_ms: [BTreeMap<&'static str, u64>; 2],
    caps_ms: BTreeMap<&'static str, u64>,
    toxicity_ms: [u64; 3],
    /// Maker time with one side off, by which: [reducing side off, increasing side off].
    one_side_off_ms: [u64; 2],
    regime_ms: [u64; 4],
    /// Time with our best resting order at (or better than) the market's own best price.
    at_touch_ms: [u64; 2],
    /// Time-weighted sum of the innermost desired depth and the time it covers.
    inner_sum: [f64; 2],
    inner_ms: [u64; 2],
    half_sum: f64,
    half_ms: u64,
    skew_sum: f64,
    skew_ms: u64,
    /// Time with a non-zero alpha skew and the time-weighted sum of its size.
    alpha_ms: u64,
    alpha_abs_sum: f64,
    /// Time with one-sided taker flow.
    one_sided_flow_ms: u64,
    deferred: [u64; 2],
    held: u64,
    throttled: u64,
    cycles: u64,
}

/// `Flat:no_value`, `Maker:both`, `Maker:bid`, `InventoryReduce:ask`, ...
fn mode_name(out: &CycleOutput) -> &'static str {
    match out.mode {
        ExecutionMode::Flat if out.diagnostics.unwinding => "Unwind",
        ExecutionMode::Flat => match out.diagnostics.flat_reason.as_str() {
            "" => "Flat",
            "no_book" => "Flat:no_book",
            "hl_stale" => "Flat:hl_stale",
            "no_account" => "Flat:no_account",
            "not_viable" => "Flat:not_viable",
            "kill" => "Flat:kill",
            "daily_loss" => "Flat:daily_loss",
            "toxic" => "Flat:toxic",
            "no_value" => "Flat:no_value",
            _ => "Flat:other",
        },
        ExecutionMode::Maker {
            bid: true,
            ask: true,
        } => "Maker:both",
        ExecutionMode::Maker { bid: true, .. } => "Maker:bid",
        ExecutionMode::Maker { ask: true, .. } => "Maker:ask",
        ExecutionMode::Maker { .. } => "Maker:none",
        ExecutionMode::InventoryReduce { buy: true, .. } => "InventoryReduce:bid",
        ExecutionMode::InventoryReduce { .. } => "InventoryReduce:ask",
    }
}

fn toxicity_index(t: ToxicityRegime) -> usize {
    match t {
        ToxicityRegime::Benign => 0,
        ToxicityRegime::Normal => 1,
        ToxicityRegime::Toxic => 2,
    }
}

fn regime_index(r: VolRegime) -> usize {
    match r {
        VolRegime::Quiet => 0,
        VolRegime::Normal => 1,
        VolRegime::Volatile => 2,
        VolRegime::Extreme => 3,
    }
}

impl CycleStats {
    /// Records one cycle's output: its state from now on, and its counts.
    pub fn on_cycle(&mut self, out: &CycleOutput) {
        let d = &out.diagnostics;
        self.cycles += 1;
        self.deferred[0] += u64::from(d.deferred_bid);
        self.deferred[1] += u64::from(d.deferred_ask);
        self.held += u64::from(d.held);
        self.throttled += u64::from(d.throttled);
        let inner = |q: Option<&crate::strategy::Quote>| q.map_or(f64::NAN, |q| q.depth_bps);
        self.last = Some(CycleState {
            mode: mode_name(out),
            empty: [d.bid_empty, d.ask_empty],
            caps: d.caps,
            toxicity: d.toxicity,
            regime: d.regime,
            inner_bps: [
                inner(out.quotes.bids.as_slice().first()),
                inner(out.quotes.asks.as_slice().first()),
            ],
            half_spread_bps: if d.half_spread_bps > 0.0 {
                d.half_spread_bps
            } else {
                f64::NAN
            },
            // A positive skew lowers both quotes: it reduces a long position.
            one_side_off: match out.mode {
                ExecutionMode::Maker { bid, ask } if bid != ask => {
                    // The bid reduces a short position; the side that is off is !bid or !ask.
                    let reducing_is_bid = d.position < 0.0;
                    let off_is_bid = !bid;
                    if d.position != 0.0 && off_is_bid == reducing_is_bid {
                        1
                    } else {
                        2
                    }
                }
                _ => 0,
            },
            reducing_skew_bps: if d.position != 0.0 && d.half_spread_bps > 0.0 {
                d.skew_bps * d.position.signum()
            } else {
                f64::NAN
            },
            alpha_bps: d.alpha_bps,
            one_sided_flow: d.flow_dir != 0,
        });
    }

    /// Adds `dt_ms` of the last cycle's state; `at_touch` per side: our best resting order is at
    /// the market's best price on that side.
    pub fn on_time(&mut self, dt_ms: u64, at_touch: [bool; 2]) {
        let Some(s) = self.last else { return };
        self.total_ms += dt_ms;
        *self.mode_ms.entry(s.mode).or_default() += dt_ms;
        for (side, touch) in at_touch.into_iter().enumerate() {
            *self.empty_ms[side]
                .entry(s.empty[side].as_str())
                .or_default() += dt_ms;
            if touch {
                self.at_touch_ms[side] += dt_ms;
            }
            if s.inner_bps[side].is_finite() {
                self.inner_sum[side] += s.inner_bps[side] * dt_ms as f64;
                self.inner_ms[side] += dt_ms;
            }
        }
        if s.half_spread_bps.is_finite() {
            self.half_sum += s.half_spread_bps * dt_ms as f64;
            self.half_ms += dt_ms;
        }
        if s.reducing_skew_bps.is_finite() {
            self.skew_sum += s.reducing_skew_bps * dt_ms as f64;
            self.skew_ms += dt_ms;
        }
        if s.alpha_bps != 0.0 {
            self.alpha_ms += dt_ms;
            self.alpha_abs_sum += s.alpha_bps.abs() * dt_ms as f64;
        }
        if s.one_sided_flow {
            self.one_sided_flow_ms += dt_ms;
        }
        if s.one_side_off > 0 {
            self.one_side_off_ms[usize::from(s.one_side_off - 1)] += dt_ms;
        }
        for name in s.caps.names() {
            *self.caps_ms.entry(name).or_default() += dt_ms;
        }
        self.toxicity_ms[toxicity_index(s.toxicity)] += dt_ms;
        self.regime_ms[regime_index(s.regime)] += dt_ms;
    }

    /// The summary.json `cycle_stats` object: time shares (0..1 of the time after the first
    /// cycle), mean inner depths (bps), and counts.
    pub fn summary(&self) -> Value {
        let t = self.total_ms.max(1) as f64;
        let share = |m: &BTreeMap<&'static str, u64>| -> BTreeMap<&'static str, f64> {
            m.iter().map(|(k, v)| (*k, *v as f64 / t)).collect()
        };
        let mean_inner =
            |i: usize| (self.inner_ms[i] > 0).then(|| self.inner_sum[i] / self.inner_ms[i] as f64);
        json!({
            "mode_time_frac": share(&self.mode_ms),
            "bid_empty_time_frac": share(&self.empty_ms[0]),
            "ask_empty_time_frac": share(&self.empty_ms[1]),
            "caps_time_frac": share(&self.caps_ms),
            "toxicity_time_frac": {
                "Benign": self.toxicity_ms[0] as f64 / t,
                "Normal": self.toxicity_ms[1] as f64 / t,
                "Toxic": self.toxicity_ms[2] as f64 / t,
            },
            "vol_regime_time_frac": {
                "Quiet": self.regime_ms[0] as f64 / t,
                "Normal": self.regime_ms[1] as f64 / t,
                "Volatile": self.regime_ms[2] as f64 / t,
                "Extreme": self.regime_ms[3] as f64 / t,
            },
            "at_touch_time_frac_bid": self.at_touch_ms[0] as f64 / t,
            "at_touch_time_frac_ask": self.at_touch_ms[1] as f64 / t,
            "inner_depth_bps_bid": mean_inner(0),
            "inner_depth_bps_ask": mean_inner(1),
            "reducing_side_off_time_frac": self.one_side_off_ms[0] as f64 / t,
            "increasing_side_off_time_frac": self.one_side_off_ms[1] as f64 / t,
            "half_spread_bps": (self.half_ms > 0).then(|| self.half_sum / self.half_ms as f64),
            "reducing_skew_bps": (self.skew_ms > 0).then(|| self.skew_sum / self.skew_ms as f64),
            "alpha_time_frac": self.alpha_ms as f64 / t,
            "alpha_abs_bps": (self.alpha_ms > 0).then(|| self.alpha_abs_sum / self.alpha_ms as f64),
            "one_sided_flow_time_frac": self.one_sided_flow_ms as f64 / t,
            "deferred_bid": self.deferred[0],
            "deferred_ask": self.deferred[1],
            "held": self.held,
            "throttled_cycles": self.throttled,
            "cycles": self.cycles,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::FlatReason;

    #[test]
    fn time_shares_follow_each_cycles_state_until_the_next() {
        let mut st = CycleStats::default();
        st.on_time(70, [true, true]); // before the first cycle: not counted
        let mut out = CycleOutput::default();
        out.diagnostics.flat_reason = FlatReason::NoValue;
        out.diagnostics.deferred_bid = 2;
        st.on_cycle(&out);
        st.on_time(100, [false, false]);
        // Long 0.3, quoting the bid only: the reducing side (ask) is the one off.
        out.mode = ExecutionMode::Maker {
            bid: true,
            ask: false,
        };
        out.diagnostics.position = 0.3;
        out.diagnostics.half_spread_bps = 1.0;
        out.diagnostics.skew_bps = 0.5;
        out.diagnostics.ask_empty = EmptySide::Disabled;
        out.diagnostics.held = 1;
        out.diagnostics.alpha_bps = -0.4;
        out.diagnostics.flow_dir = -1;
        st.on_cycle(&out);
        st.on_time(300, [true, false]);
        let s = st.summary();
        assert_eq!(s["mode_time_frac"]["Flat:no_value"], 0.25);
        assert_eq!(s["mode_time_frac"]["Maker:bid"], 0.75);
        assert_eq!(s["ask_empty_time_frac"]["disabled"], 0.75);
        assert_eq!(s["reducing_side_off_time_frac"], 0.75);
        assert_eq!(s["increasing_side_off_time_frac"], 0.0);
        assert_eq!(s["at_touch_time_frac_bid"], 0.75);
        assert_eq!(s["at_touch_time_frac_ask"], 0.0);
        assert_eq!(s["reducing_skew_bps"], 0.5);
        assert_eq!(s["alpha_time_frac"], 0.75);
        assert_eq!(s["alpha_abs_bps"], 0.4);
        assert_eq!(s["one_sided_flow_time_frac"], 0.75);
        // Counts add per cycle (the second cycle kept deferred_bid = 2).
        assert_eq!(
            (s["deferred_bid"].as_u64(), s["held"].as_u64()),
            (Some(4), Some(1))
        );
        assert_eq!(s["cycles"], 2);
    }
}
