//! The backtest loop (SPEC 11): the same `QuoteEngine` the live bot runs, fed the venue's frames
//! with feed latency, its actions reaching the same `MatchingEngine` the local venue runs after
//! an order latency, in the venue's blocks and intra-block order. No sockets, no signing, one
//! seeded clock: the same spec and seed give the same result bit for bit.
//!
//! Time is in ms. Between two blocks the bot side runs in time order: deliveries (market frames,
//! user frames, exchange answers, account snapshots) and cycles. A cycle is wanted after a
//! Hyperliquid book or trades frame, a user frame or an answer, no sooner than
//! `min_requote_interval_ms` after the last one, and at least every `max_cycle_interval_ms`
//! (as the live bot schedules them). An action sent at `t` with a drawn round trip `L` reaches
//! the venue at `t + L/2` and runs in the first block at or after that; its answer comes back
//! `L/2` after that block. Streams (market, user, Binance) stay in order (TCP): a frame never
//! overtakes the one before it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use serde::Deserialize;
use serde_json::{json, Value};

use super::accounting::Accounting;
use super::latency::Latency;
use super::replay::{Recorded, RecordedMarket};
use crate::check;
use crate::config::MarketMakerConfig;
use crate::engine::{ActionKind, BatchWire, QuoteEngine};
use crate::error::{Error, Result};
use crate::protocol::Action;
use crate::sim::rng::Rng;
use crate::sim::{AccountState, MarketKind, MatchingEngine, SimConfig};
use crate::types::Side;

/// Address of the backtested account on the simulated venue.
pub const BACKTEST_ADDRESS: &str = "0x00000000000000000000000000000000000b4c7e";

/// Everything a backtest needs besides the bot's config (JSON from Python; every field
/// defaulted, unknown fields refused).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BacktestSpec {
    /// The venue: fees, rules, queue model, market model, and exactly one asset.
    pub sim: SimConfig,
    /// Hyperliquid recording (shared/data format) replayed as the market (`sim.market` is then
    /// `external`); `None` for the synthetic market.
    pub hl: Option<String>,
    /// Binance recording fed to the bot as the lead venue.
    pub binance: Option<String>,
    /// Seconds of market to run (synthetic); replays stop at the recording's end or here.
    pub duration_s: f64,
    /// Venue block cadence, ms.
    pub block_ms: u64,
    pub feed_latency: String,
    pub order_latency: String,
    /// Seed of the latency draws (the market's seed is `sim.seed`).
    pub seed: u64,
    pub capital_usd: f64,
    /// The bot's hard max position, coins (the venue counts breaches against it).
    pub max_position: f64,
    /// Period of the per-time series, ms.
    pub series_ms: u64,
    /// Period of the bot's account refresh (clearinghouse state), ms.
    pub account_refresh_ms: u64,
    /// Funding rate per hour on the position's notional (positive: longs pay).
    pub funding_rate_per_h: f64,
    /// Clock of the synthetic market's first block, ms since epoch.
    pub start_ms: u64,
}

impl Default for BacktestSpec {
    fn default() -> Self {
        Self {
            sim: SimConfig::default(),
            hl: None,
            binance: None,
            duration_s: 1800.0,
            block_ms: 70,
            feed_latency: "0".into(),
            order_latency: "default".into(),
            seed: 1,
            capital_usd: 1000.0,
            max_position: 0.0,
            series_ms: 1000,
            account_refresh_ms: 5000,
            funding_rate_per_h: 0.0,
            start_ms: 1_767_225_600_000, // 2026-01-01
        }
    }
}

impl BacktestSpec {
    /// # Errors
    /// `Error::Invalid` naming the field.
    pub fn from_json(text: &str) -> Result<Self> {
        let s: Self = serde_json::from_str(text)
            .map_err(|e| Error::invalid("backtest spec", e, "is not a valid backtest spec"))?;
        s.validate()?;
        Ok(s)
    }

    /// # Errors
    /// `Error::Invalid` naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        self.sim.validate()?;
        if self.sim.assets.len() != 1 {
            return Err(Error::invalid(
                "sim.assets",
                self.sim.assets.len(),
                "a backtest trades exactly one asset",
            ));
        }
        check::positive("duration_s", self.duration_s)?;
        if self.block_ms == 0 {
            return Err(Error::invalid("block_ms", 0, "must be > 0"));
        }
        if self.series_ms == 0 {
            return Err(Error::invalid("series_ms", 0, "must be > 0"));
        }
        check::positive("capital_usd", self.capital_usd)?;
        check::non_negative("max_position", self.max_position)?;
        check::finite("funding_rate_per_h", self.funding_rate_per_h)?;
        Latency::parse("feed_latency", &self.feed_latency)?;
        Latency::parse("order_latency", &self.order_latency)?;
        Ok(())
    }
}

#[derive(Debug)]
enum Delivery {
    /// A Hyperliquid market frame (l2Book or trades).
    Hl(Vec<u8>),
    /// A user frame (orderUpdates, userFills).
    User(Vec<u8>),
    /// The exchange's answer to one action batch.
    Answer {
        batch: u64,
        body: Vec<u8>,
    },
    BinanceTop {
        bid: f64,
        ask: f64,
    },
    Binance(Vec<u8>),
    Account(AccountState),
}

#[derive(Debug)]
struct Timed<T> {
    t: u64,
    seq: u64,
    item: T,
}

impl<T> PartialEq for Timed<T> {
    fn eq(&self, o: &Self) -> bool {
        (self.t, self.seq) == (o.t, o.seq)
    }
}
impl<T> Eq for Timed<T> {}
impl<T> PartialOrd for Timed<T> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Timed<T> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.t, self.seq).cmp(&(o.t, o.seq))
    }
}

#[derive(Debug)]
struct Outgoing {
    batch: u64,
    back_ms: u64,
    action: Action<'static>,
}

/// Streams whose frames stay in order.
#[derive(Clone, Copy)]
enum Stream {
    Market = 0,
    User = 1,
    Binance = 2,
    Rest = 3,
}

/// One backtest, run in chunks (`run_until`) so a caller can show progress.
pub struct Backtest {
    spec: BacktestSpec,
    venue: MatchingEngine,
    engine: QuoteEngine,
    user: u32,
    asset: usize,
    coin: String,
    binance_mult: f64,
    synthetic: bool,
    feed: Latency,
    order: Latency,
    rng: Rng,
    inbox: BinaryHeap<Reverse<Timed<Delivery>>>,
    outbox: BinaryHeap<Reverse<Timed<Outgoing>>>,
    tickets: HashMap<u64, (u64, u64)>,
    stream_last: [u64; 4],
    seq: u64,
    start: u64,
    end: u64,
    next_block: u64,
    next_cycle: Option<u64>,
    last_cycle: u64,
    min_cycle_ms: u64,
    max_cycle_ms: u64,
    next_account: u64,
    replay: Option<RecordedMarket>,
    acct: Accounting,
    /// Reused lists for building each batch's exchange action (the same path as signing).
    wire: BatchWire,
    done: bool,
}

impl Backtest {
    /// Builds the venue, the account and the engine.
    ///
    /// # Errors
    /// An invalid spec, an engine config for another coin, or an unreadable recording.
    pub fn new(cfg: MarketMakerConfig, mut spec: BacktestSpec) -> Result<Self> {
        let replay = match (&spec.hl, &spec.binance) {
            (Some(hl), bn) => Some(RecordedMarket::load(hl, bn.as_deref())?),
            (None, Some(_)) => {
                return Err(Error::invalid(
                    "binance",
                    spec.binance.as_deref().unwrap_or(""),
                    "a Binance recording leads a Hyperliquid one: give --hl too",
                ))
            }
            (None, None) => None,
        };
        if let Some(r) = &replay {
            spec.sim.market = MarketKind::External;
            let a = &mut spec.sim.assets[0];
            if a.coin != r.coin {
                return Err(Error::invalid(
                    "coin",
                    &a.coin,
                    "is not the coin of the Hyperliquid recording",
                ));
            }
            a.mid = r.first_mid;
        }
        spec.validate()?;
        if cfg.asset != spec.sim.assets[0].coin {
            return Err(Error::invalid(
                "asset",
                &cfg.asset,
                "the bot's asset must be the backtested coin",
            ));
        }
        let feed = Latency::parse("feed_latency", &spec.feed_latency)?;
        let order = Latency::parse("order_latency", &spec.order_latency)?;
        let mut venue = MatchingEngine::new(spec.sim.clone())?;
        let user = venue.add_account(BACKTEST_ADDRESS, spec.capital_usd)?;
        let coin = spec.sim.assets[0].coin.clone();
        if spec.max_position > 0.0 {
            venue.set_max_position(BACKTEST_ADDRESS, &coin, spec.max_position)?;
        }
        let spec_asset = venue.assets()[0].clone();
        let min_cycle_ms = cfg.impulse_control.min_requote_interval_ms;
        let max_cycle_ms = cfg.impulse_control.max_cycle_interval_ms.max(1);
        let mut engine = QuoteEngine::new(cfg, spec.seed)?;
        engine.set_runtime(spec_asset.id, spec_asset.sz_decimals)?;
        let (start, end) = match &replay {
            Some(r) => {
                let end = r.end_ms.min(r.start_ms + (spec.duration_s * 1000.0) as u64);
                (r.start_ms, end)
            }
            None => (
                spec.start_ms,
                spec.start_ms + (spec.duration_s * 1000.0).round() as u64,
            ),
        };
        venue.set_time(start);
        let st = venue.account_state(user, 0);
        engine.set_account(
            Some(0.0),
            Some(st.available_margin),
            Some(st.account_value),
            Some(st.leverage),
        )?;
        engine.set_quota(st.requests_used, st.request_cap);
        let acct = Accounting::new(start, spec.series_ms, spec.funding_rate_per_h);
        Ok(Self {
            binance_mult: spec.sim.assets[0].binance_multiplier,
            synthetic: replay.is_none(),
            rng: Rng::new(spec.seed ^ 0x6c61_7465_6e63_7921),
            next_block: start,
            next_account: start + spec.account_refresh_ms.max(1),
            spec,
            venue,
            engine,
            user,
            asset: 0,
            coin,
            feed,
            order,
            inbox: BinaryHeap::new(),
            outbox: BinaryHeap::new(),
            tickets: HashMap::new(),
            stream_last: [0; 4],
            seq: 0,
            start,
            end,
            next_cycle: None,
            last_cycle: 0,
            min_cycle_ms,
            max_cycle_ms,
            replay,
            acct,
            wire: BatchWire::default(),
            done: false,
        })
    }

    pub fn start_ms(&self) -> u64 {
        self.start
    }

    pub fn end_ms(&self) -> u64 {
        self.end
    }

    /// Simulated time reached, ms.
    pub fn now_ms(&self) -> u64 {
        self.next_block.min(self.end)
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    pub fn accounting(&self) -> &Accounting {
        &self.acct
    }

    pub fn engine(&self) -> &QuoteEngine {
        &self.engine
    }

    pub fn venue(&self) -> &MatchingEngine {
        &self.venue
    }

    /// Runs blocks up to `limit_ms` (or the end). Returns true when the backtest is over.
    ///
    /// # Errors
    /// An engine error on a frame the venue produced (a defect, reported rather than hidden).
    pub fn run_until(&mut self, limit_ms: u64) -> Result<bool> {
        let stop = limit_ms.min(self.end);
        while !self.done && self.next_block <= stop {
            let tb = self.next_block;
            self.bot_until(tb)?;
            self.block(tb);
            self.next_block += self.spec.block_ms;
            if self.next_block > self.end {
                self.done = true;
            }
        }
        Ok(self.done)
    }

    /// Runs to the end and returns the summary.
    ///
    /// # Errors
    /// As [`Self::run_until`].
    pub fn run(&mut self) -> Result<Value> {
        self.run_until(u64::MAX)?;
        Ok(self.summary())
    }

    /// The summary.json object (deterministic: no wall-clock figures).
    pub fn summary(&mut self) -> Value {
        let end = self.now_ms();
        let mut s = self.acct.summary(end);
        let st = self.venue.account_state(self.user, self.asset);
        s["invariant_breaches"] = json!(st.breaches);
        s["venue_position"] = json!(st.position);
        s["coin"] = json!(self.coin);
        s["block_ms"] = json!(self.spec.block_ms);
        s["feed_latency"] = json!(self.spec.feed_latency);
        s["order_latency"] = json!(self.spec.order_latency);
        s["max_position"] = json!(self.spec.max_position);
        s
    }

    fn push(&mut self, stream: Stream, t: u64, d: Delivery) {
        let s = stream as usize;
        let t = if matches!(stream, Stream::Rest) {
            t
        } else {
            let t = t.max(self.stream_last[s]);
            self.stream_last[s] = t;
            t
        };
        self.seq += 1;
        self.inbox.push(Reverse(Timed {
            t,
            seq: self.seq,
            item: d,
        }));
    }

    fn feed_at(&mut self, t: u64) -> u64 {
        t + self.feed.sample_ms(&mut self.rng)
    }

    fn want_cycle(&mut self, t: u64) {
        if self.next_cycle.is_none() {
            self.next_cycle = Some(t.max(self.last_cycle + self.min_cycle_ms));
        }
    }

    /// The bot side up to (not including) `tb`.
    fn bot_until(&mut self, tb: u64) -> Result<()> {
        loop {
            let t_in = self.inbox.peek().map(|d| d.0.t);
            let t_cycle = self
                .next_cycle
                .unwrap_or(self.last_cycle + self.max_cycle_ms)
                .max(self.start);
            match t_in {
                Some(t) if t <= t_cycle && t < tb => {
                    let Reverse(d) = self.inbox.pop().expect("peeked");
                    self.deliver(d.t, d.item)?;
                }
                _ if t_cycle < tb => self.run_cycle(t_cycle)?,
                _ => return Ok(()),
            }
        }
    }

    fn deliver(&mut self, t: u64, d: Delivery) -> Result<()> {
        match d {
            Delivery::Hl(frame) => {
                self.engine.on_hl_frame(&frame, t)?;
                self.want_cycle(t);
            }
            Delivery::User(frame) => {
                self.engine.on_user_frame(&frame, t)?;
                self.want_cycle(t);
            }
            Delivery::Answer { batch, body } => {
                // An answer to a batch the engine already forgot is not an error of the run.
                let _ = self.engine.on_exchange_response(&body, t, batch);
                self.want_cycle(t);
            }
            Delivery::BinanceTop { bid, ask } => {
                let m = self.binance_mult;
                self.engine.on_binance_top(bid * m, ask * m, t)?;
            }
            Delivery::Binance(frame) => {
                self.engine.on_binance_frame(&frame, t)?;
            }
            Delivery::Account(st) => {
                self.engine.set_account(
                    None,
                    Some(st.available_margin),
                    Some(st.account_value),
                    Some(st.leverage),
                )?;
                self.engine.set_quota(st.requests_used, st.request_cap);
            }
        }
        Ok(())
    }

    fn run_cycle(&mut self, t: u64) -> Result<()> {
        self.next_cycle = None;
        self.last_cycle = t;
        self.acct.cycles += 1;
        let asset_id = self.venue.assets()[self.asset].id;
        let out = self.engine.cycle(t);
        let zone = out.zone;
        // One exchange action per engine batch, batches in the engine's order, built as the
        // signer builds them (`BatchWire`) and handed to the matching engine typed.
        let mut batches = Vec::with_capacity(3);
        for (batch, kind) in out.actions.batches() {
            let n = out
                .actions
                .as_slice()
                .iter()
                .filter(|a| a.batch == batch)
                .count();
            let action = self
                .wire
                .build(&out.actions, batch, asset_id)
                .map(|a| a.map(Action::into_owned));
            batches.push((batch, kind, n, action));
        }
        self.acct.on_zone(t, zone);
        for (batch, kind, n, action) in batches {
            self.acct.actions[match kind {
                ActionKind::Place => 0,
                ActionKind::Cancel => 1,
                ActionKind::Modify => 2,
            }] += n as u64;
            let action = match action {
                Ok(Some(a)) => a,
                Ok(None) => continue,
                Err(e) => {
                    // A price or size the wire cannot carry: refused before sending, as the
                    // signer would.
                    self.acct.reject(&e.to_string());
                    let body = json!({"status": "err", "response": e.to_string()});
                    self.push(
                        Stream::Rest,
                        t,
                        Delivery::Answer {
                            batch,
                            body: body.to_string().into_bytes(),
                        },
                    );
                    continue;
                }
            };
            let rtt = self.order.sample_ms(&mut self.rng);
            let there = rtt / 2;
            self.seq += 1;
            self.outbox.push(Reverse(Timed {
                t: t + there,
                seq: self.seq,
                item: Outgoing {
                    batch,
                    back_ms: rtt - there,
                    action,
                },
            }));
        }
        Ok(())
    }

    /// One venue block at `tb`.
    fn block(&mut self, tb: u64) {
        while self.outbox.peek().is_some_and(|o| o.0.t <= tb) {
            let Reverse(o) = self.outbox.pop().expect("peeked");
            let Outgoing {
                batch,
                back_ms,
                action,
            } = o.item;
            match self.venue.submit_typed(self.user, action, tb) {
                Ok(ticket) => {
                    self.tickets.insert(ticket, (batch, back_ms));
                }
                Err(msg) => {
                    self.acct.reject(&msg);
                    let body = json!({"status": "err", "response": msg});
                    self.push(
                        Stream::Rest,
                        tb + back_ms,
                        Delivery::Answer {
                            batch,
                            body: body.to_string().into_bytes(),
                        },
                    );
                }
            }
        }
        if let Some(r) = self.replay.as_mut() {
            let mut binance = Vec::new();
            while let Some(ev) = r.next_before(tb) {
                self.acct.events += 1;
                match ev {
                    Recorded::L2 { t, data } => {
                        self.venue.set_time(t);
                        let _ = self.venue.apply_l2_wire(&data);
                    }
                    Recorded::Trades { t, data } => {
                        self.venue.set_time(t);
                        let _ = self.venue.apply_trades_wire(&data);
                    }
                    Recorded::Binance { t, frame } => binance.push((t, frame)),
                }
            }
            for (t, frame) in binance {
                let at = self.feed_at(t);
                self.push(Stream::Binance, at, Delivery::Binance(frame));
            }
        }
        let out = self.venue.end_block(tb);
        let mid = self.venue.market_mid(self.asset);
        self.acct.on_mid(tb, mid);
        self.acct.events += 1;
        let lot_f = |sz: i64, spec: &crate::sim::rules::AssetSpec| spec.sz_to_f64(sz);
        let spec = self.venue.assets()[self.asset].clone();
        let address = self.venue.address_of(self.user).to_string();
        let mut my_fills = Vec::new();
        for f in out.fills.iter().filter(|f| f.user == self.user) {
            let q = lot_f(f.sz, &spec);
            let qty = if f.is_buy { q } else { -q };
            self.acct
                .on_fill(f.time, qty, spec.px_to_f64(f.px), f.fee, f.crossed);
            my_fills.push(self.venue.fill_json(f));
        }
        for (ticket, resp) in &out.responses {
            if let Some((batch, back)) = self.tickets.remove(ticket) {
                for e in answer_errors(resp) {
                    self.acct.reject(e);
                }
                let body = serde_json::to_vec(resp).unwrap_or_default();
                self.push(Stream::Rest, tb + back, Delivery::Answer { batch, body });
            }
        }
        let updates: Vec<Value> = out
            .orders
            .iter()
            .filter(|o| o.order.user == self.user)
            .map(|o| {
                json!({
                    "order": self.venue.order_json(&o.order),
                    "status": o.order.status,
                    "statusTimestamp": o.time,
                })
            })
            .collect();
        let at = self.feed_at(tb);
        if !updates.is_empty() {
            let frame = json!({"channel": "orderUpdates", "data": updates});
            self.push(
                Stream::User,
                at,
                Delivery::User(frame.to_string().into_bytes()),
            );
        }
        if !my_fills.is_empty() {
            let frame = json!({"channel": "userFills", "data": {
                "user": address, "isSnapshot": false, "fills": my_fills}});
            self.push(
                Stream::User,
                at,
                Delivery::User(frame.to_string().into_bytes()),
            );
        }
        let trades: Vec<Value> = out
            .trades
            .iter()
            .filter(|t| t.asset == self.asset)
            .map(|t| self.venue.trade_json(t))
            .collect();
        if !trades.is_empty() {
            self.acct.events += trades.len() as u64;
            let frame = json!({"channel": "trades", "data": trades});
            self.push(
                Stream::Market,
                at,
                Delivery::Hl(frame.to_string().into_bytes()),
            );
        }
        if out.changed.contains(&self.asset) {
            let frame = json!({"channel": "l2Book", "data": self.venue.l2_json(self.asset, 20)});
            self.push(
                Stream::Market,
                at,
                Delivery::Hl(frame.to_string().into_bytes()),
            );
        }
        if self.synthetic {
            let upd = self.venue.binance_poll(self.asset, tb);
            self.acct.events += (upd.bbo.len() + upd.trades.len()) as u64;
            let symbol = self.spec.sim.assets[0].binance_symbol.clone();
            for b in upd.bbo {
                let at = self.feed_at(b.time_ms);
                self.push(
                    Stream::Binance,
                    at,
                    Delivery::BinanceTop {
                        bid: b.bid,
                        ask: b.ask,
                    },
                );
            }
            for tr in upd.trades {
                let frame = format!(
                    r#"{{"e":"aggTrade","E":{t},"s":"{symbol}","a":{id},"p":"{px}","q":"{q}","f":{id},"l":{id},"T":{t},"m":{m}}}"#,
                    t = tr.time_ms,
                    id = tr.id,
                    px = tr.px,
                    q = tr.qty,
                    m = tr.buyer_is_maker
                );
                let at = self.feed_at(tr.time_ms);
                self.push(Stream::Binance, at, Delivery::Binance(frame.into_bytes()));
            }
        }
        let st = self.venue.account_state(self.user, self.asset);
        self.acct
            .on_quoting(self.spec.block_ms, st.resting_buy > 0, st.resting_sell > 0);
        if tb >= self.next_account {
            self.next_account = tb + self.spec.account_refresh_ms.max(1);
            let at = self.feed_at(tb);
            self.push(Stream::Rest, at, Delivery::Account(st));
        }
        let (mut qb, mut qa) = (f64::NAN, f64::NAN);
        for o in self.engine.orders() {
            match o.side {
                Side::Bid => qb = if qb.is_nan() { o.px } else { qb.max(o.px) },
                Side::Ask => qa = if qa.is_nan() { o.px } else { qa.min(o.px) },
            }
        }
        self.acct.sample(tb, qb, qa);
    }
}

/// The error texts of an exchange answer (a top-level error, or per-order errors).
fn answer_errors(resp: &Value) -> Vec<&str> {
    if resp.get("status").and_then(Value::as_str) == Some("err") {
        return vec![resp
            .get("response")
            .and_then(Value::as_str)
            .unwrap_or("err")];
    }
    resp.pointer("/response/data/statuses")
        .and_then(Value::as_array)
        .map(|st| {
            st.iter()
                .filter_map(|s| s.get("error").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}
