//! Market models driving the venue's background book and the market's own trades (SPEC 11).
//!
//! The synthetic market is seeded and reproducible: a "true" mid follows a jump-diffusion in
//! log price on a fixed step; Binance shows it at once, Hyperliquid `lag_ms` later, so that
//! Binance leads. Market orders arrive on each side as a Poisson process; each reaches a depth
//! `d` (bps from the Hyperliquid mid) drawn from an exponential with rate `kappa`, so orders at
//! depth `d` are reached at rate `trade_rate * exp(-kappa * d)`: the `A exp(-kappa d)` intensity
//! the ladder assumes. A market order takes everything strictly better than its depth and a
//! random size at the next level, where queue position decides who is filled. Optional toxic
//! bursts add a drift to the mid and one-sided flow in its direction; the burst's extra orders
//! are informed: each moves the true mid by `toxic_impact_bps` after it trades, so a maker that
//! keeps quoting through a burst is filled at prices the market leaves behind.

use std::collections::{BTreeMap, VecDeque};

use super::config::{AssetConfig, SyntheticParams};
use super::rng::Rng;
use super::rules::{round_to_tick, step_px, AssetSpec};

/// One background level: `(px, lots, n)`.
pub type BgLevel = (i64, i64, u32);

/// A market order of the model: `last_qty` lots taken from the touch outwards, never beyond
/// `through_px` (its drawn depth).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarketOrder {
    pub is_buy: bool,
    pub through_px: i64,
    pub last_qty: i64,
}

/// What the model did to Hyperliquid over one block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HlUpdate {
    pub mid: f64,
    /// `(px, lots, n)` best first.
    pub bids: Vec<BgLevel>,
    pub asks: Vec<BgLevel>,
    pub orders: Vec<MarketOrder>,
}

/// One Binance book-ticker change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinanceBbo {
    pub time_ms: u64,
    pub bid: f64,
    pub bid_qty: f64,
    pub ask: f64,
    pub ask_qty: f64,
}

/// One Binance aggregated trade.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinanceTrade {
    pub time_ms: u64,
    pub px: f64,
    pub qty: f64,
    pub buyer_is_maker: bool,
    pub id: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BinanceUpdate {
    pub bbo: Vec<BinanceBbo>,
    pub trades: Vec<BinanceTrade>,
}

const HISTORY_MS: u64 = 10_000;

/// The seeded market of one asset.
#[derive(Debug, Clone)]
pub struct SyntheticMarket {
    p: SyntheticParams,
    spec: AssetSpec,
    multiplier: f64,
    frozen: bool,
    rng: Rng,
    start_mid: f64,
    /// Time of the last generated step; `None` until the first call fixes the start.
    t_ms: Option<u64>,
    log_mid: f64,
    hist: VecDeque<(u64, f64)>,
    burst: Option<(u64, f64)>,
    sizes: [BTreeMap<i64, f64>; 2],
    last_block_ms: Option<u64>,
    binance_ms: Option<u64>,
    binance_last: Option<(f64, f64)>,
    binance_trade_id: u64,
}

impl SyntheticMarket {
    /// A moving market (`frozen = false`) or a fixed book around `cfg.mid` with no trades.
    pub fn new(cfg: &AssetConfig, spec: AssetSpec, seed: u64, frozen: bool) -> Self {
        Self {
            p: cfg.synthetic.clone(),
            spec,
            multiplier: cfg.binance_multiplier,
            frozen,
            rng: Rng::new(seed),
            start_mid: cfg.mid,
            t_ms: None,
            log_mid: cfg.mid.ln(),
            hist: VecDeque::new(),
            burst: None,
            sizes: [BTreeMap::new(), BTreeMap::new()],
            last_block_ms: None,
            binance_ms: None,
            binance_last: None,
            binance_trade_id: 1,
        }
    }

    pub fn in_burst(&self) -> Option<f64> {
        self.burst.map(|b| b.1)
    }

    fn advance_to(&mut self, now_ms: u64) {
        let t0 = *self.t_ms.get_or_insert_with(|| {
            self.hist.push_back((now_ms, self.start_mid));
            now_ms
        });
        if self.frozen {
            return;
        }
        let step = self.p.step_ms;
        let dt = step as f64 / 1000.0;
        let mut t = t0;
        while t + step <= now_ms {
            t += step;
            let mut d = self.p.sigma_bps * 1e-4 * dt.sqrt() * self.rng.normal();
            if self
                .rng
                .bernoulli(self.p.jump_rate_per_min * step as f64 / 60_000.0)
            {
                d += self.p.jump_sd_bps * 1e-4 * self.rng.normal();
            }
            if let Some((until, _)) = self.burst {
                if t >= until {
                    self.burst = None;
                }
            }
            if self.burst.is_none()
                && self
                    .rng
                    .bernoulli(self.p.toxic_rate_per_min * step as f64 / 60_000.0)
            {
                let dir = if self.rng.bernoulli(0.5) { 1.0 } else { -1.0 };
                self.burst = Some((t + self.p.toxic_duration_ms, dir));
            }
            if let Some((_, dir)) = self.burst {
                d += dir * self.p.toxic_drift_bps_per_s * 1e-4 * dt;
            }
            self.log_mid += d;
            self.hist.push_back((t, self.log_mid.exp()));
        }
        self.t_ms = Some(t);
        while self.hist.len() > 1 && self.hist[0].0 + HISTORY_MS < t {
            self.hist.pop_front();
        }
    }

    /// The true mid at `t_ms` (the last step at or before it).
    fn true_mid(&self, t_ms: u64) -> f64 {
        let i = self.hist.partition_point(|&(t, _)| t <= t_ms);
        self.hist[i.saturating_sub(1)].1
    }

    fn hl_lag(&self) -> u64 {
        self.p.lag_ms.max(0) as u64
    }

    fn binance_lag(&self) -> u64 {
        (-self.p.lag_ms).max(0) as u64
    }

    /// Hyperliquid mid at `now_ms`.
    pub fn hl_mid(&mut self, now_ms: u64) -> f64 {
        self.advance_to(now_ms);
        self.true_mid(now_ms.saturating_sub(self.hl_lag()))
    }

    /// Advances to `now_ms` and returns Hyperliquid's new background book and the market
    /// orders that arrived since the last block.
    pub fn hl_block(&mut self, now_ms: u64) -> HlUpdate {
        let mid = self.hl_mid(now_ms);
        let (bids, asks) = self.background(mid);
        let dt = self
            .last_block_ms
            .map_or(0.0, |t| now_ms.saturating_sub(t) as f64 / 1000.0);
        self.last_block_ms = Some(now_ms);
        let mut orders = Vec::new();
        if !self.frozen && dt > 0.0 {
            let dir = self.burst.map_or(0.0, |b| b.1);
            let mult = |side: f64| {
                if dir == side {
                    self.p.toxic_flow_mult
                } else {
                    1.0
                }
            };
            // Of the burst side's orders, the share above the normal rate is informed.
            let informed_share = if dir != 0.0 && self.p.toxic_impact_bps > 0.0 {
                1.0 - 1.0 / self.p.toxic_flow_mult.max(1.0)
            } else {
                0.0
            };
            let mut impact_bps = 0.0;
            let n_buy = self.rng.poisson(self.p.trade_rate * dt * mult(1.0));
            let n_sell = self.rng.poisson(self.p.trade_rate * dt * mult(-1.0));
            let (mut nb, mut ns) = (n_buy, n_sell);
            let scale = 10f64.powi(self.spec.px_decimals() as i32);
            while nb + ns > 0 {
                let is_buy = self.rng.uniform() * f64::from(nb + ns) < f64::from(nb);
                if is_buy {
                    nb -= 1;
                } else {
                    ns -= 1;
                }
                let d = self.rng.exp(1.0 / self.p.kappa);
                let px = if is_buy {
                    (mid * (1.0 + d * 1e-4) * scale).ceil() as i64
                } else {
                    (mid * (1.0 - d * 1e-4) * scale).floor() as i64
                };
                let usd = self.p.trade_usd * (self.p.trade_size_sigma * self.rng.normal()).exp();
                let last_qty = self.spec.sz_from_f64(usd / mid).max(1);
                orders.push(MarketOrder {
                    is_buy,
                    through_px: px,
                    last_qty,
                });
                if informed_share > 0.0
                    && (dir > 0.0) == is_buy
                    && self.rng.bernoulli(informed_share)
                {
                    impact_bps += dir * self.p.toxic_impact_bps;
                }
            }
            // The price follows the informed orders from the next step on: Binance shows it
            // then, Hyperliquid `lag_ms` later; this block's orders trade at the old book.
            self.log_mid += impact_bps * 1e-4;
        }
        HlUpdate {
            mid,
            bids,
            asks,
            orders,
        }
    }

    /// Background levels around `mid`: touch at `half_spread_bps` (at least one tick), sizes
    /// from a growing profile with slowly varying log-normal noise per price.
    fn background(&mut self, mid: f64) -> (Vec<BgLevel>, Vec<BgLevel>) {
        let d = self.spec.px_decimals();
        let scale = 10f64.powi(d as i32);
        let hs = mid * self.p.half_spread_bps * 1e-4;
        let mut bid = round_to_tick(((mid - hs) * scale).floor() as i64, d, true);
        let mut ask = round_to_tick(((mid + hs) * scale).ceil() as i64, d, false);
        if ask <= bid {
            ask = step_px(bid, d, true);
        }
        if (bid as f64) >= mid * scale {
            bid = step_px(bid, d, false);
        }
        let mut out = [Vec::new(), Vec::new()];
        for (side, start) in [(0usize, bid), (1usize, ask)] {
            let mut px = start;
            let mut keep = BTreeMap::new();
            let mut gap_bps = self.p.level_spacing_bps;
            for i in 0..self.p.levels {
                if px <= 0 {
                    break;
                }
                if i > 0 && self.p.level_spacing_bps > 0.0 {
                    // The depth profile: gaps between levels grow away from the touch.
                    let want = (mid * gap_bps * 1e-4 * scale).round() as i64;
                    let prev = out[side].last().map_or(start, |l: &BgLevel| l.0);
                    let target = if side == 1 { prev + want } else { prev - want };
                    let stepped = step_px(prev, d, side == 1);
                    px = round_to_tick(target, d, side == 0);
                    if (side == 1 && px < stepped) || (side == 0 && px > stepped) {
                        px = stepped;
                    }
                    gap_bps *= self.p.level_spacing_growth;
                    if px <= 0 {
                        break;
                    }
                }
                let target = self.p.level_usd * (1.0 + self.p.level_growth * i as f64) / mid;
                let prev = self.sizes[side].get(&px).copied();
                let size = match prev {
                    Some(s) if !self.frozen && self.p.size_noise > 0.0 => {
                        let noisy = s * (self.p.size_noise * self.rng.normal()).exp();
                        0.8 * noisy + 0.2 * target
                    }
                    Some(s) => s,
                    None if !self.frozen && self.p.size_noise > 0.0 => {
                        target * (self.p.size_noise * self.rng.normal()).exp()
                    }
                    None => target,
                };
                keep.insert(px, size);
                let lots = self.spec.sz_from_f64(size).max(1);
                let n = (1.0 + size * mid / 5_000.0).min(50.0) as u32;
                out[side].push((px, lots, n));
                if self.p.level_spacing_bps <= 0.0 {
                    px = step_px(px, d, side == 1);
                }
            }
            self.sizes[side] = keep;
        }
        let [bids, asks] = out;
        (bids, asks)
    }

    /// Advances to `now_ms` and returns Binance's book-ticker changes and aggregated trades since
    /// the last poll, each stamped with its step time.
    pub fn binance_poll(&mut self, now_ms: u64) -> BinanceUpdate {
        self.advance_to(now_ms);
        let from = self
            .binance_ms
            .unwrap_or(now_ms.saturating_sub(self.p.step_ms));
        self.binance_ms = Some(now_ms);
        let mut out = BinanceUpdate::default();
        let steps: Vec<u64> = self
            .hist
            .iter()
            .map(|h| h.0)
            .filter(|&t| t > from && t <= now_ms)
            .collect();
        let steps = if steps.is_empty() && self.frozen && self.binance_last.is_none() {
            vec![now_ms]
        } else {
            steps
        };
        let tick = self.p.binance_tick;
        let dt = self.p.step_ms as f64 / 1000.0;
        for t in steps {
            let mid = self.true_mid(t.saturating_sub(self.binance_lag())) / self.multiplier;
            let hs = (mid * self.p.binance_half_spread_bps * 1e-4).max(tick / 2.0);
            let bid = ((mid - hs) / tick + 1e-9).floor() * tick;
            let mut ask = ((mid + hs) / tick - 1e-9).ceil() * tick;
            if ask <= bid + tick / 2.0 {
                ask = bid + tick;
            }
            let (bid, ask) = (round_dp(bid, tick), round_dp(ask, tick));
            if self.binance_last != Some((bid, ask)) {
                self.binance_last = Some((bid, ask));
                let q = |r: &mut Rng| round_qty(r.exp(30_000.0) / mid);
                let (bq, aq) = (q(&mut self.rng), q(&mut self.rng));
                out.bbo.push(BinanceBbo {
                    time_ms: t,
                    bid,
                    bid_qty: bq,
                    ask,
                    ask_qty: aq,
                });
            }
            if self.frozen {
                continue;
            }
            let n = self.rng.poisson(self.p.binance_trade_rate * dt);
            let bias = self.burst.map_or(0.0, |b| 0.3 * b.1);
            for _ in 0..n {
                let is_buy = self.rng.bernoulli(0.5 + bias);
                let qty = round_qty(self.rng.exp(2_000.0) / mid);
                out.trades.push(BinanceTrade {
                    time_ms: t,
                    px: if is_buy { ask } else { bid },
                    qty,
                    buyer_is_maker: !is_buy,
                    id: self.binance_trade_id,
                });
                self.binance_trade_id += 1;
            }
        }
        out
    }
}

fn round_dp(x: f64, tick: f64) -> f64 {
    let dp = (-tick.log10()).ceil().max(0.0) as i32;
    let f = 10f64.powi(dp);
    (x * f).round() / f
}

fn round_qty(q: f64) -> f64 {
    ((q * 1000.0).round() / 1000.0).max(0.001)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> AssetSpec {
        AssetSpec {
            id: 0,
            coin: "ETH".into(),
            sz_decimals: 4,
            max_leverage: 25,
            dex: String::new(),
            dex_index: 0,
            index: 0,
        }
    }

    fn cfg() -> AssetConfig {
        AssetConfig {
            mid: 2000.0,
            ..AssetConfig::default()
        }
    }

    #[test]
    fn same_seed_same_market() {
        let run = |seed| {
            let mut m = SyntheticMarket::new(&cfg(), spec(), seed, false);
            let mut v = Vec::new();
            for i in 0..50u64 {
                let u = m.hl_block(1_000_000 + i * 70);
                v.push((u.mid.to_bits(), u.bids[0], u.asks[0], u.orders.len()));
            }
            v
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn book_is_valid_uncrossed_and_straddles_the_mid() {
        let mut m = SyntheticMarket::new(&cfg(), spec(), 9, false);
        for i in 0..200u64 {
            let u = m.hl_block(i * 70);
            let (b, a) = (u.bids[0].0, u.asks[0].0);
            assert!(b < a);
            assert!((b as f64) < u.mid * 100.0 && (a as f64) > u.mid * 100.0);
            for w in u.bids.windows(2) {
                assert!(w[0].0 > w[1].0);
            }
            for l in u.bids.iter().chain(&u.asks) {
                assert!(super::super::rules::price_valid(l.0, 2) && l.1 > 0);
            }
        }
    }

    #[test]
    fn trade_depths_follow_the_exponential_law() {
        // Over many blocks the share of market orders reaching beyond d bps is exp(-kappa d).
        let mut c = cfg();
        c.synthetic.sigma_bps = 0.0;
        c.synthetic.jump_rate_per_min = 0.0;
        c.synthetic.trade_rate = 50.0;
        c.synthetic.kappa = 0.5;
        let mut m = SyntheticMarket::new(&c, spec(), 5, false);
        let (mut n, mut beyond2, mut beyond4) = (0, 0, 0);
        for i in 0..2000u64 {
            let u = m.hl_block(i * 100);
            for o in u.orders {
                let d = (o.through_px as f64 / 100.0 - u.mid).abs() / u.mid * 1e4;
                n += 1;
                beyond2 += usize::from(d > 2.0);
                beyond4 += usize::from(d > 4.0);
            }
        }
        let (p2, p4) = (beyond2 as f64 / n as f64, beyond4 as f64 / n as f64);
        // rounding to the price grid moves depths by < 0.05 bps at 2000
        assert!((p2 - (-1.0f64).exp()).abs() < 0.02, "p2 {p2} n {n}");
        assert!((p4 - (-2.0f64).exp()).abs() < 0.02, "p4 {p4}");
        assert!((n as f64 - 2.0 * 50.0 * 199.9).abs() < 4.0 * (2.0 * 50.0 * 200.0f64).sqrt());
    }

    #[test]
    fn binance_leads_hyperliquid_by_the_lag() {
        let mut c = cfg();
        c.synthetic.lag_ms = 200;
        c.synthetic.sigma_bps = 20.0;
        c.synthetic.binance_half_spread_bps = 0.0;
        c.synthetic.binance_tick = 0.0001;
        let mut m = SyntheticMarket::new(&c, spec(), 2, false);
        let mut bn = Vec::new();
        for t in (0..5_000u64).step_by(10) {
            for b in m.binance_poll(t).bbo {
                bn.push((b.time_ms, (b.bid + b.ask) / 2.0));
            }
            if t >= 1_000 && t % 100 == 0 {
                let hl = m.hl_mid(t);
                // Hyperliquid now equals Binance 200 ms ago (to the Binance tick)
                let past = bn.iter().rev().find(|(bt, _)| *bt <= t - 200).unwrap().1;
                assert!((hl - past).abs() < 0.0002, "t {t}: hl {hl} binance {past}");
            }
        }
    }

    #[test]
    fn toxic_bursts_drift_the_mid_in_their_direction() {
        let mut c = cfg();
        c.synthetic.sigma_bps = 0.0;
        c.synthetic.jump_rate_per_min = 0.0;
        c.synthetic.toxic_rate_per_min = 6000.0; // starts within the first steps
        c.synthetic.toxic_duration_ms = 1_000_000;
        c.synthetic.toxic_drift_bps_per_s = 10.0;
        let mut m = SyntheticMarket::new(&c, spec(), 1, false);
        m.hl_mid(0);
        let before = m.hl_mid(1_000);
        let dir = m.in_burst().expect("a burst started");
        let after = m.hl_mid(11_000);
        let moved_bps = (after / before).ln() * 1e4;
        assert!(
            (moved_bps - dir * 100.0).abs() < 1.0,
            "{moved_bps} dir {dir}"
        );
    }

    #[test]
    fn informed_orders_move_the_price_after_they_trade() {
        // A burst that never ends, no drift and no noise: the mid moves only by the informed
        // orders' impact. Buys arrive at 10/s x 5 in the burst's direction, 4 in 5 informed:
        // 40/s x 10 s x 0.1 bps = 40 bps expected (sd of the count sqrt(400) x 0.1 = 2 bps).
        let mut c = cfg();
        c.synthetic.sigma_bps = 0.0;
        c.synthetic.jump_rate_per_min = 0.0;
        c.synthetic.toxic_rate_per_min = 6000.0;
        c.synthetic.toxic_duration_ms = 1_000_000;
        c.synthetic.toxic_drift_bps_per_s = 0.0;
        c.synthetic.toxic_flow_mult = 5.0;
        c.synthetic.toxic_impact_bps = 0.1;
        c.synthetic.trade_rate = 10.0;
        c.synthetic.lag_ms = 200;
        let mut m = SyntheticMarket::new(&c, spec(), 4, false);
        m.hl_block(0);
        let start = m.hl_block(1_000).mid;
        let dir = m.in_burst().expect("a burst started");
        let mut with_dir = 0usize;
        let mut last = start;
        for i in 1..=100u64 {
            let u = m.hl_block(1_000 + i * 100);
            with_dir += u.orders.iter().filter(|o| o.is_buy == (dir > 0.0)).count();
            last = u.mid;
        }
        let moved_bps = (last / start).ln() * 1e4 * dir;
        assert!((moved_bps - 40.0).abs() < 8.0, "moved {moved_bps} bps");
        assert!(with_dir > 400, "burst-side orders {with_dir}");
        // The move reaches Hyperliquid after the trades that caused it, lag_ms later: against
        // a copy of the market that skips the block (the path is otherwise deterministic), the
        // mid is unchanged until then and moved by whole impacts after.
        let mut impacts = 0.0;
        for i in 0..10u64 {
            let t = 11_100 + i * 1_000;
            let mut skip = m.clone();
            m.hl_block(t);
            assert_eq!(m.hl_mid(t + 190), skip.hl_mid(t + 190));
            let k = (m.hl_mid(t + 210) / skip.hl_mid(t + 210)).ln() * 1e4 * dir / 0.1;
            assert!((k - k.round()).abs() < 1e-6 && k > -1e-9, "{k}");
            impacts += k;
        }
        assert!(impacts > 10.0, "{impacts}");
        // Without impact the same burst leaves the mid where it was.
        c.synthetic.toxic_impact_bps = 0.0;
        let mut flat = SyntheticMarket::new(&c, spec(), 4, false);
        flat.hl_block(0);
        let a = flat.hl_block(1_000).mid;
        let b = flat.hl_block(11_000).mid;
        assert_eq!(a, b);
    }

    #[test]
    fn frozen_market_never_moves_or_trades() {
        let mut m = SyntheticMarket::new(&cfg(), spec(), 1, true);
        let a = m.hl_block(0);
        let b = m.hl_block(10_000);
        assert_eq!(a.bids, b.bids);
        assert_eq!(b.mid, 2000.0);
        assert!(b.orders.is_empty());
        assert_eq!(a.bids[0].0, 199_990);
        assert_eq!(a.asks[0].0, 200_010);
    }
}
