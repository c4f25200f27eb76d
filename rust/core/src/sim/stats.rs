//! Market statistics measured the same way on a recording and on the synthetic market, so that
//! the presets can be calibrated to the real recordings and printed side by side (SPEC 11):
//! volatility, trade rate, trade size, taker depth, spread and depth within 5/10/25 bps.
//!
//! Book statistics are sampled on a 1 s grid; volatility is the standard deviation of 1 s log
//! returns of the mid; taker depth is each print's distance from the mid before it, bps.

use serde_json::{json, Value};

use super::config::{AssetConfig, MarketKind, SimConfig};
use super::engine::MatchingEngine;
use crate::book::{
    parse_binance_frame, parse_hl_frame, BinanceBook, BinanceMessage, HlApplied, HlBook, HlMessage,
};
use crate::error::Result;
use crate::replay::ReplayReader;

const GRID_MS: u64 = 1_000;
const BANDS_BPS: [f64; 3] = [5.0, 10.0, 25.0];

/// Accumulates the statistics of one market.
#[derive(Debug, Clone, Default)]
pub struct MarketStats {
    mid: f64,
    next_grid: Option<u64>,
    grid_mid: f64,
    rets_bps: Vec<f64>,
    spreads_bps: Vec<f64>,
    depth_usd: [Vec<f64>; 3],
    sizes_usd: Vec<f64>,
    depths_bps: Vec<f64>,
    t0: Option<u64>,
    t1: u64,
}

fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * q).round() as usize]
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

impl MarketStats {
    /// A book update at `t_ms`: both sides best first as `(px, size in coins)`.
    pub fn on_book(&mut self, t_ms: u64, bids: &[(f64, f64)], asks: &[(f64, f64)]) {
        let (Some(b), Some(a)) = (bids.first(), asks.first()) else {
            return;
        };
        if a.0 <= b.0 {
            return;
        }
        self.t0.get_or_insert(t_ms);
        self.t1 = self.t1.max(t_ms);
        self.mid = (a.0 + b.0) / 2.0;
        let next = *self.next_grid.get_or_insert(t_ms);
        if t_ms < next {
            return;
        }
        if self.grid_mid > 0.0 {
            // One return per elapsed grid step (a gap counts as several steps of one return).
            let steps = ((t_ms - next) / GRID_MS + 1) as f64;
            self.rets_bps
                .push((self.mid / self.grid_mid).ln() * 1e4 / steps.sqrt());
        }
        self.grid_mid = self.mid;
        self.next_grid = Some(next + ((t_ms - next) / GRID_MS + 1) * GRID_MS);
        self.spreads_bps.push((a.0 - b.0) / self.mid * 1e4);
        for (k, band) in BANDS_BPS.iter().enumerate() {
            let lo = self.mid * (1.0 - band * 1e-4);
            let hi = self.mid * (1.0 + band * 1e-4);
            let bid: f64 = bids.iter().filter(|l| l.0 >= lo).map(|l| l.0 * l.1).sum();
            let ask: f64 = asks.iter().filter(|l| l.0 <= hi).map(|l| l.0 * l.1).sum();
            self.depth_usd[k].push((bid + ask) / 2.0);
        }
    }

    /// The mid a recorder would have seen just before the next prints.
    pub fn note_mid(&mut self, mid: f64) {
        if mid.is_finite() && mid > 0.0 {
            self.mid = mid;
        }
    }

    /// A trade print at `t_ms`.
    pub fn on_trade(&mut self, t_ms: u64, px: f64, qty: f64) {
        if self.mid <= 0.0 {
            return;
        }
        self.t0.get_or_insert(t_ms);
        self.t1 = self.t1.max(t_ms);
        self.sizes_usd.push(px * qty);
        self.depths_bps.push((px - self.mid).abs() / self.mid * 1e4);
    }

    /// The statistics as a JSON object (NaN as null).
    pub fn report(&self) -> Value {
        let span_s = self.t1.saturating_sub(self.t0.unwrap_or(self.t1)) as f64 / 1000.0;
        let sd = {
            let m = mean(&self.rets_bps);
            let n = self.rets_bps.len() as f64;
            if n > 1.0 {
                (self.rets_bps.iter().map(|r| (r - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
            } else {
                f64::NAN
            }
        };
        let f = |x: f64| if x.is_finite() { json!(x) } else { Value::Null };
        json!({
            "span_s": span_s,
            "sigma_bps_per_sqrt_s": f(sd),
            "trades_per_s": f(self.sizes_usd.len() as f64 / span_s.max(1e-9)),
            "trade_usd_median": f(quantile(&self.sizes_usd, 0.5)),
            "trade_usd_mean": f(mean(&self.sizes_usd)),
            "trade_usd_p90": f(quantile(&self.sizes_usd, 0.9)),
            "taker_depth_bps_median": f(quantile(&self.depths_bps, 0.5)),
            "taker_depth_bps_p90": f(quantile(&self.depths_bps, 0.9)),
            "taker_depth_bps_p99": f(quantile(&self.depths_bps, 0.99)),
            "spread_bps_median": f(quantile(&self.spreads_bps, 0.5)),
            "depth_usd_5bps": f(mean(&self.depth_usd[0])),
            "depth_usd_10bps": f(mean(&self.depth_usd[1])),
            "depth_usd_25bps": f(mean(&self.depth_usd[2])),
        })
    }
}

fn levels(
    side: &crate::book::BookSide,
    to_f64: impl Fn(crate::book::Level) -> (f64, f64),
) -> Vec<(f64, f64)> {
    side.iter().map(to_f64).collect()
}

/// Statistics of a recording (Hyperliquid l2Book/trades or Binance depth/trade streams).
///
/// # Errors
/// An unreadable recording or a malformed frame.
pub fn recording_stats(path: &str) -> Result<Value> {
    let mut st = MarketStats::default();
    let mut hl: Option<HlBook> = None;
    let mut bn = BinanceBook::new();
    let mut r = ReplayReader::open(path)?;
    while let Some((ns, frame)) = r.next_frame()? {
        let t = ns / 1_000_000;
        if frame.starts_with(b"{\"channel\"") {
            let book = match hl.as_mut() {
                Some(b) => b,
                None => hl.insert(HlBook::new(5)?),
            };
            match book.apply(frame) {
                Ok(HlApplied::Snapshot) => {
                    let l2 = book.book();
                    let bids = levels(l2.bids(), |l| book.level_f64(l));
                    let asks = levels(l2.asks(), |l| book.level_f64(l));
                    st.on_book(t, &bids, &asks);
                }
                Ok(_) => {
                    if let Ok(HlMessage::Trades(trades)) = parse_hl_frame(frame) {
                        for tr in trades.iter() {
                            if let (Ok(px), Ok(sz)) = (tr.px.parse::<f64>(), tr.sz.parse::<f64>()) {
                                st.on_trade(t, px, sz);
                            }
                        }
                    }
                }
                Err(_) => {}
            }
            continue;
        }
        if frame.windows(14).any(|w| w == b"\"lastUpdateId\"") && !frame.starts_with(b"{\"stream\"")
        {
            bn.apply_snapshot(frame)?;
            continue;
        }
        match parse_binance_frame(frame)? {
            BinanceMessage::Trade(tr) => {
                if let (Ok(px), Ok(q)) = (tr.px.parse::<f64>(), tr.qty.parse::<f64>()) {
                    st.on_trade(t, px, q);
                }
            }
            BinanceMessage::DepthUpdate(_) if bn.apply(frame)?.applied() => {
                let l2 = bn.book();
                let bids = levels(l2.bids(), |l| bn.level_f64(l));
                let asks = levels(l2.asks(), |l| bn.level_f64(l));
                st.on_book(t, &bids, &asks);
            }
            _ => {}
        }
    }
    Ok(st.report())
}

/// Statistics of `seconds` of the synthetic market of `asset` (its own book and takers, no
/// accounts), blocks of `block_ms`.
///
/// # Errors
/// An invalid asset config.
pub fn synthetic_stats(
    asset: AssetConfig,
    seed: u64,
    seconds: f64,
    block_ms: u64,
) -> Result<Value> {
    let mut e = MatchingEngine::new(SimConfig {
        market: MarketKind::Synthetic,
        seed,
        assets: vec![asset],
        ..SimConfig::default()
    })?;
    let mut st = MarketStats::default();
    let t0 = 1_767_225_600_000u64;
    let n = (seconds * 1000.0 / block_ms as f64) as u64;
    for i in 0..=n {
        let t = t0 + i * block_ms;
        // Book as it stands before the block's takers (what a recorder sees between prints).
        let out = e.end_block(t);
        let spec = e.assets()[0].clone();
        st.note_mid(e.market_mid(0));
        for tr in &out.trades {
            st.on_trade(t, spec.px_to_f64(tr.px), spec.sz_to_f64(tr.sz));
        }
        let lv = |is_bid| -> Vec<(f64, f64)> {
            e.book(0)
                .levels(is_bid, 1000)
                .into_iter()
                .map(|(px, sz, _)| (spec.px_to_f64(px), spec.sz_to_f64(sz)))
                .collect()
        };
        st.on_book(t, &lv(true), &lv(false));
    }
    Ok(st.report())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn print_recording_and_preset_stats() {
        for name in [
            "hyperliquid_btcusd_20250126.gz",
            "usdm_btcusdt_20240808.gz",
            "usdm_ethusdt_20240808.gz",
        ] {
            let p = crate::book::tests::real(name).display().to_string();
            let s = recording_stats(&p).unwrap();
            assert!(s["trades_per_s"].as_f64().unwrap() > 0.0, "{name} {s}");
            eprintln!("{name}: {s}");
        }
        for preset in super::super::presets::PRESETS {
            let asset = AssetConfig {
                coin: "BTC".into(),
                sz_decimals: 5,
                max_leverage: 40,
                mid: 100_000.0,
                synthetic: super::super::config::SyntheticParams::preset(preset, "BTC").unwrap(),
                ..AssetConfig::default()
            };
            let s = synthetic_stats(asset, 1, 300.0, 70).unwrap();
            eprintln!("synthetic:{preset}: {s}");
        }
    }
}
