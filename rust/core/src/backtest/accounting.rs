//! What a backtest measures (summary.json, SPEC 11): PnL split into spread capture, inventory,
//! fees and funding; fills, volume, position, zones, quote uptime, markouts, actions; and the
//! per-time series the report plots.
//!
//! The split is exact by construction. With `m` the market mid (background liquidity only), a
//! fill of signed size `q` at `px` earns `q (m - px)` of spread; between fills the position `P`
//! earns `P dm` of inventory PnL; fees and funding are cash. Summation by parts gives
//! `cash + P_end m_end = spread + inventory`, so the four parts add up to the total.

use serde_json::{json, Value};

use crate::governor::PositionZone;

const MARKOUTS_MS: [u64; 2] = [1_000, 5_000];
const FUNDING_MS: u64 = 3_600_000;

/// Per-time series, sampled every `series_ms` (struct of arrays, for numpy).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub t_ms: Vec<f64>,
    pub mid: Vec<f64>,
    pub position: Vec<f64>,
    pub pnl_total: Vec<f64>,
    pub pnl_spread: Vec<f64>,
    pub pnl_inventory: Vec<f64>,
    pub pnl_fees: Vec<f64>,
    pub pnl_funding: Vec<f64>,
    /// Our best resting bid / ask (NaN when none).
    pub quote_bid: Vec<f64>,
    pub quote_ask: Vec<f64>,
    /// 0 Green, 1 Yellow, 2 Red, 3 Kill.
    pub zone: Vec<f64>,
}

/// One of our fills, with its markouts once due (bps in our favour; NaN until then).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fills {
    pub t_ms: Vec<f64>,
    pub px: Vec<f64>,
    /// Signed size, coins (+ buy).
    pub qty: Vec<f64>,
    pub fee: Vec<f64>,
    pub mid: Vec<f64>,
    /// 1 when we took liquidity.
    pub taker: Vec<f64>,
    pub markout_1s_bps: Vec<f64>,
    pub markout_5s_bps: Vec<f64>,
}

fn zone_index(z: PositionZone) -> usize {
    match z {
        PositionZone::Green => 0,
        PositionZone::Yellow => 1,
        PositionZone::Red => 2,
        PositionZone::Kill => 3,
    }
}

/// Running totals of one backtest.
#[derive(Debug, Clone)]
pub struct Accounting {
    pub position: f64,
    pub cash: f64,
    pub spread: f64,
    pub inventory: f64,
    pub fees: f64,
    pub funding: f64,
    pub volume: f64,
    pub max_abs_position: f64,
    pub maker_fills: u64,
    pub taker_fills: u64,
    mid: f64,
    t_ms: u64,
    start_ms: u64,
    zone: PositionZone,
    zone_since: u64,
    zone_ms: [u64; 4],
    pub uptime_ms: [u64; 2],
    pub quoted_ms: u64,
    pub actions: [u64; 4],
    pub rejects: u64,
    pub rejects_by_reason: std::collections::BTreeMap<String, u64>,
    pub breaches: u64,
    pub cycles: u64,
    pub events: u64,
    /// Frames of the recordings replayed: market frames into the venue, lead frames to the bot
    /// (a subset of `events`, which also counts simulated blocks and venue trades).
    pub recorded_events: u64,
    /// Recorded frames read but not replayed: Hyperliquid `bbo`, Binance REST snapshots of a
    /// lead recording (see `Backtest::replay_until`).
    pub recorded_skipped_bbo: u64,
    pub recorded_skipped_snapshots: u64,
    next_markout: [usize; 2],
    next_funding: u64,
    funding_rate_per_h: f64,
    series_ms: u64,
    next_sample: u64,
    pub series: Series,
    pub fills: Fills,
}

impl Accounting {
    pub fn new(start_ms: u64, series_ms: u64, funding_rate_per_h: f64) -> Self {
        Self {
            position: 0.0,
            cash: 0.0,
            spread: 0.0,
            inventory: 0.0,
            fees: 0.0,
            funding: 0.0,
            volume: 0.0,
            max_abs_position: 0.0,
            maker_fills: 0,
            taker_fills: 0,
            mid: f64::NAN,
            t_ms: start_ms,
            start_ms,
            zone: PositionZone::Green,
            zone_since: start_ms,
            zone_ms: [0; 4],
            uptime_ms: [0; 2],
            quoted_ms: 0,
            actions: [0; 4],
            rejects: 0,
            rejects_by_reason: Default::default(),
            breaches: 0,
            cycles: 0,
            events: 0,
            recorded_events: 0,
            recorded_skipped_bbo: 0,
            recorded_skipped_snapshots: 0,
            next_markout: [0; 2],
            next_funding: start_ms + FUNDING_MS,
            funding_rate_per_h,
            series_ms: series_ms.max(1),
            next_sample: start_ms,
            series: Series::default(),
            fills: Fills::default(),
        }
    }

    /// The market mid at `t_ms` (call on every change, in time order, before fills at `t_ms`).
    pub fn on_mid(&mut self, t_ms: u64, mid: f64) {
        if !(mid.is_finite() && mid > 0.0) {
            return;
        }
        if self.mid.is_finite() {
            self.inventory += self.position * (mid - self.mid);
        }
        self.mid = mid;
        self.t_ms = self.t_ms.max(t_ms);
        while self.t_ms >= self.next_funding {
            // Positive rate: longs pay shorts.
            self.funding -= self.position * self.mid * self.funding_rate_per_h;
            self.next_funding += FUNDING_MS;
        }
        for (k, &lag) in MARKOUTS_MS.iter().enumerate() {
            while self.next_markout[k] < self.fills.t_ms.len()
                && self.fills.t_ms[self.next_markout[k]] as u64 + lag <= t_ms
            {
                let i = self.next_markout[k];
                let px = self.fills.px[i];
                let sign = self.fills.qty[i].signum();
                let bps = sign * (mid - px) / px * 1e4;
                if k == 0 {
                    self.fills.markout_1s_bps[i] = bps;
                } else {
                    self.fills.markout_5s_bps[i] = bps;
                }
                self.next_markout[k] += 1;
            }
        }
    }

    /// One of our fills: signed size `qty` (coins) at `px`, paying `fee` (USD).
    pub fn on_fill(&mut self, t_ms: u64, qty: f64, px: f64, fee: f64, taker: bool) {
        let mid = if self.mid.is_finite() { self.mid } else { px };
        self.spread += qty * (mid - px);
        self.cash -= qty * px;
        self.fees += fee;
        self.volume += qty.abs() * px;
        self.position += qty;
        self.max_abs_position = self.max_abs_position.max(self.position.abs());
        if taker {
            self.taker_fills += 1;
        } else {
            self.maker_fills += 1;
        }
        let f = &mut self.fills;
        f.t_ms.push(t_ms as f64);
        f.px.push(px);
        f.qty.push(qty);
        f.fee.push(fee);
        f.mid.push(mid);
        f.taker.push(f64::from(u8::from(taker)));
        f.markout_1s_bps.push(f64::NAN);
        f.markout_5s_bps.push(f64::NAN);
    }

    /// An action the exchange refused, counted by its reason (numbers left out).
    pub fn reject(&mut self, reason: &str) {
        self.rejects += 1;
        let key: String = reason
            .split(|c: char| c.is_ascii_digit())
            .next()
            .unwrap_or(reason)
            .trim()
            .chars()
            .take(60)
            .collect();
        *self.rejects_by_reason.entry(key).or_default() += 1;
    }

    pub fn on_zone(&mut self, t_ms: u64, zone: PositionZone) {
        let i = zone_index(self.zone);
        self.zone_ms[i] += t_ms.saturating_sub(self.zone_since);
        self.zone_since = t_ms.max(self.zone_since);
        self.zone = zone;
    }

    /// Time `[t0, t1)` with our orders resting on the bid / ask side.
    pub fn on_quoting(&mut self, dt_ms: u64, bid: bool, ask: bool) {
        self.quoted_ms += dt_ms;
        if bid {
            self.uptime_ms[0] += dt_ms;
        }
        if ask {
            self.uptime_ms[1] += dt_ms;
        }
    }

    /// Samples the series up to `t_ms` with our current best quotes.
    pub fn sample(&mut self, t_ms: u64, quote_bid: f64, quote_ask: f64) {
        if !self.mid.is_finite() {
            return;
        }
        let total = self.total();
        while self.next_sample <= t_ms {
            let s = &mut self.series;
            s.t_ms.push(self.next_sample as f64);
            s.mid.push(self.mid);
            s.position.push(self.position);
            s.pnl_total.push(total);
            s.pnl_spread.push(self.spread);
            s.pnl_inventory.push(self.inventory);
            s.pnl_fees.push(-self.fees);
            s.pnl_funding.push(self.funding);
            s.quote_bid.push(quote_bid);
            s.quote_ask.push(quote_ask);
            s.zone.push(zone_index(self.zone) as f64);
            self.next_sample += self.series_ms;
        }
    }

    /// Total PnL marked at the market mid: cash plus position at mid, less fees, plus funding.
    pub fn total(&self) -> f64 {
        let mark = if self.mid.is_finite() {
            self.position * self.mid
        } else {
            0.0
        };
        self.cash + mark - self.fees + self.funding
    }

    fn mean(v: &[f64]) -> Option<f64> {
        let xs: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
    }

    /// The summary.json object (deterministic fields; the caller adds wall-clock figures).
    pub fn summary(&mut self, end_ms: u64) -> Value {
        self.on_zone(end_ms, self.zone);
        let span = end_ms.saturating_sub(self.start_ms).max(1) as f64;
        let z: u64 = self.zone_ms.iter().sum::<u64>().max(1);
        let zf = |i: usize| self.zone_ms[i] as f64 / z as f64;
        let quoted = self.quoted_ms.max(1) as f64;
        json!({
            "pnl_total": self.total(),
            "pnl_spread": self.spread,
            "pnl_inventory": self.inventory,
            "pnl_fees": -self.fees,
            "pnl_funding": self.funding,
            "fees_usd": self.fees,
            "fills": self.maker_fills + self.taker_fills,
            "maker_fills": self.maker_fills,
            "taker_fills": self.taker_fills,
            "volume_usd": self.volume,
            "position_end": self.position,
            "max_abs_position": self.max_abs_position,
            "zone_time_frac": {"Green": zf(0), "Yellow": zf(1), "Red": zf(2), "Kill": zf(3)},
            "quote_uptime_bid": self.uptime_ms[0] as f64 / quoted,
            "quote_uptime_ask": self.uptime_ms[1] as f64 / quoted,
            "markout_1s_bps": Self::mean(&self.fills.markout_1s_bps),
            "markout_5s_bps": Self::mean(&self.fills.markout_5s_bps),
            "actions": {"place": self.actions[0], "cancel": self.actions[1], "modify": self.actions[2], "take": self.actions[3]},
            "rejects": self.rejects,
            "rejects_by_reason": self.rejects_by_reason,
            "invariant_breaches": self.breaches,
            "cycles": self.cycles,
            "events": self.events,
            "recorded_events": self.recorded_events,
            "recorded_skipped": {
                "bbo": self.recorded_skipped_bbo,
                "rest_snapshot": self.recorded_skipped_snapshots,
            },
            "sim_duration_s": span / 1000.0,
            "mid_end": if self.mid.is_finite() { Some(self.mid) } else { None },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_add_up_to_the_total_by_hand() {
        let mut a = Accounting::new(0, 1000, 0.0);
        a.on_mid(0, 100.0);
        a.on_fill(10, 1.0, 99.9, 0.01, false); // spread +0.1
        a.on_mid(20, 101.0); // inventory +1
        a.on_fill(30, -1.0, 101.2, 0.02, false); // spread +0.2
        a.on_mid(40, 90.0); // flat: nothing
        assert!((a.spread - 0.3).abs() < 1e-12);
        assert!((a.inventory - 1.0).abs() < 1e-12);
        assert!((a.total() - (101.2 - 99.9 - 0.03)).abs() < 1e-12);
        assert!((a.spread + a.inventory - a.fees + a.funding - a.total()).abs() < 1e-12);
    }

    #[test]
    fn markouts_are_signed_in_our_favour() {
        let mut a = Accounting::new(0, 1000, 0.0);
        a.on_mid(0, 100.0);
        a.on_fill(0, 1.0, 100.0, 0.0, false);
        a.on_mid(1_000, 101.0);
        a.on_mid(5_000, 99.0);
        assert!((a.fills.markout_1s_bps[0] - 100.0).abs() < 1e-9);
        assert!((a.fills.markout_5s_bps[0] + 100.0).abs() < 1e-9);
    }

    #[test]
    fn funding_is_charged_hourly_on_the_position() {
        let mut a = Accounting::new(0, 1000, 0.0001);
        a.on_mid(0, 100.0);
        a.on_fill(0, 2.0, 100.0, 0.0, false);
        a.on_mid(FUNDING_MS, 100.0);
        assert!((a.funding + 2.0 * 100.0 * 0.0001).abs() < 1e-12);
        assert!((a.total() - a.funding).abs() < 1e-12);
    }
}
