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
use super::cycle_stats::CycleStats;
use super::events::Kind;
use super::latency::Latency;
use super::replay::RecordedMarket;
use crate::book::Level;
use crate::check;
use crate::config::MarketMakerConfig;
use crate::engine::{ActionKind, BatchWire, OrderState, QuoteEngine};
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
    /// The bot's hard max position, coins (the venue counts breaches against it; a config with
    /// `max_position_usd` has the venue count against that instead).
    pub max_position: f64,
    /// Period of the per-time series, ms.
    pub series_ms: u64,
    /// Period of the bot's account refresh (clearinghouse state), ms.
    pub account_refresh_ms: u64,
    /// Funding rate per hour on the position's notional (positive: longs pay).
    pub funding_rate_per_h: f64,
    /// Clock of the synthetic market's first block, ms since epoch.
    pub start_ms: u64,
    /// Directory of the decoded-recording cache (`None`: decode the recordings every run).
    pub cache_dir: Option<String>,
    /// False: the bare replay loop (the market into the venue's blocks, no bot), to measure the
    /// loop itself against other backtesters'.
    pub quote: bool,
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
            cache_dir: None,
            quote: true,
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

/// The venue's book as an `l2Book` frame carries it: exchange time, up to 20 levels per side
/// `(px ticks, size lots, orders)`, best first.
#[derive(Debug, Default)]
struct BookFrame {
    time: u64,
    bids: Vec<(i64, i64, u32)>,
    asks: Vec<(i64, i64, u32)>,
}

#[derive(Debug)]
enum Delivery {
    /// The venue's `l2Book`.
    Book(BookFrame),
    /// The venue's `trades`: `(px, sz, aggressor buys)`.
    Trades(Vec<(f64, f64, bool)>),
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
    /// A recorded lead `bookTicker` (prices in the lead's own units).
    LeadTop {
        bid: f64,
        ask: f64,
    },
    /// A recorded lead `aggTrade`.
    LeadAggTrade {
        px: f64,
        qty: f64,
        buyer_is_maker: bool,
    },
    /// Any other recorded lead frame (trade, depth): proof the feed is alive.
    LeadAlive,
    /// A lead frame of another symbol: the bot reads and ignores it.
    Ignored,
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
    /// Whether the synthetic market's Binance symbol is the bot's lead symbol.
    lead_is_synthetic_symbol: bool,
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
    /// Buffers of delivered book and trades frames, reused.
    book_pool: Vec<BookFrame>,
    trade_pool: Vec<Vec<(f64, f64, bool)>>,
    /// Scratch of a replayed book frame (no allocation per frame).
    book_bids: Vec<(i64, i64, u32)>,
    book_asks: Vec<(i64, i64, u32)>,
    acct: Accounting,
    /// Time shares of the engine's decisions (summary `cycle_stats`).
    stats: CycleStats,
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
        let (coin, sz_decimals) = spec
            .sim
            .assets
            .first()
            .map(|a| (a.coin.clone(), a.sz_decimals))
            .ok_or_else(|| {
                Error::invalid("sim.assets", 0, "a backtest trades exactly one asset")
            })?;
        let replay = match (&spec.hl, &spec.binance) {
            (Some(hl), bn) => Some(RecordedMarket::load(
                hl,
                bn.as_deref(),
                spec.cache_dir.as_deref().map(std::path::Path::new),
                &coin,
                sz_decimals,
            )?),
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
        if let Some(usd) = cfg.max_position_usd {
            // The configured USD limit itself, held at the venue's own mid (SPEC 2: the source
            // of truth), not the bot's coin ceiling of the moment.
            venue.set_max_position_usd(
                BACKTEST_ADDRESS,
                &coin,
                usd,
                crate::risk::LIMITS_REFRESH_FRAC,
            )?;
        } else if spec.max_position > 0.0 {
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
            lead_is_synthetic_symbol: spec.sim.assets[0]
                .binance_symbol
                .eq_ignore_ascii_case(&engine.config().lead.symbol),
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
            book_pool: Vec::new(),
            trade_pool: Vec::new(),
            book_bids: Vec::new(),
            book_asks: Vec::new(),
            acct,
            stats: CycleStats::default(),
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

    /// Market records of the replayed recordings (0 on the synthetic market).
    pub fn replay_events(&self) -> u64 {
        self.replay.as_ref().map_or(0, |r| r.market_events)
    }

    /// How each recording was obtained (market, then lead).
    pub fn replay_sources(&self) -> Vec<&'static str> {
        self.replay
            .as_ref()
            .map(|r| r.sources.iter().map(|s| s.as_str()).collect())
            .unwrap_or_default()
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

    /// The venue, to hand-build a case (tests).
    #[cfg(test)]
    pub(crate) fn venue_mut(&mut self) -> &mut MatchingEngine {
        &mut self.venue
    }

    /// The backtested account on the venue.
    pub fn user(&self) -> u32 {
        self.user
    }

    /// Runs blocks up to `limit_ms` (or the end). Returns true when the backtest is over.
    ///
    /// # Errors
    /// An engine error on a frame the venue produced (a defect, reported rather than hidden).
    pub fn run_until(&mut self, limit_ms: u64) -> Result<bool> {
        let stop = limit_ms.min(self.end);
        while !self.done && self.next_block <= stop {
            let tb = self.next_block;
            if self.spec.quote {
                self.bot_until(tb)?;
                self.block(tb);
            } else {
                self.replay_until(tb);
                let _ = self.venue.end_block(tb);
            }
            self.next_block += self.spec.block_ms;
            if self.replay.is_some() && tb < self.end && self.next_block > self.end {
                // A last, shorter block at the end, so that every recorded frame up to the end
                // is replayed (the synthetic market keeps whole blocks: its summaries stay as
                // they were).
                self.next_block = self.end;
            } else if self.next_block > self.end {
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
        s["cycle_stats"] = self.stats.summary();
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
            Delivery::Book(mut b) => {
                let level = |&(px, qty, _): &(i64, i64, u32)| Level { px, qty };
                self.engine.on_hl_levels(
                    b.time,
                    b.bids.iter().map(level),
                    b.asks.iter().map(level),
                    t,
                )?;
                b.bids.clear();
                b.asks.clear();
                self.book_pool.push(b);
                self.want_cycle(t);
            }
            Delivery::Trades(mut trades) => {
                for &(px, sz, is_buy) in &trades {
                    self.engine.on_hl_trade(px, sz, is_buy, t)?;
                }
                self.engine.note_hl_alive(t);
                trades.clear();
                self.trade_pool.push(trades);
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
            Delivery::LeadTop { bid, ask } => {
                let m = self.engine.config().lead.price_multiplier;
                self.engine.on_binance_top(bid * m, ask * m, t)?;
            }
            Delivery::LeadAggTrade {
                px,
                qty,
                buyer_is_maker,
            } => self
                .engine
                .on_binance_agg_trade(px, qty, buyer_is_maker, t)?,
            Delivery::LeadAlive => self.engine.note_binance_alive(t),
            Delivery::Ignored => {}
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
        self.stats.on_cycle(out);
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
                ActionKind::Take => 3,
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

    /// Market records replayed into the venue, lead records queued for the bot: everything
    /// recorded at or before `tb`. One pass over typed records: no JSON, no allocation.
    fn replay_until(&mut self, tb: u64) {
        let Some(r) = self.replay.take() else { return };
        let lead_ours = r
            .lead_symbol
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(&self.engine.config().lead.symbol));
        let recs = &r.recs;
        let mut i = r.pos;
        while i < recs.len() && recs[i].t_ms <= tb {
            let h = recs[i];
            let body = if h.kind.is_book() { h.levels() } else { 0 };
            let levels = &recs[i + 1..(i + 1 + body).min(recs.len())];
            let market = r.is_market[i];
            i += 1 + body;
            if !market && h.kind == Kind::BnSnapshot {
                // A REST depth snapshot taken during the recording is not a stream frame.
                self.acct.recorded_skipped_snapshots += 1;
                continue;
            }
            if h.kind == Kind::HlBbo {
                // Not applied, as the paper venue's replay (venue/replay.py) does not apply it:
                // the replayed market is the venue's book, rebuilt from each recorded l2Book and
                // traded by the recorded trades, and the bot reads the venue's own book and bbo
                // (live, the engine overlays bbo frames on its book: SPEC 9). Overlaying a
                // recorded top on the venue's book between snapshots would move our queue
                // position by levels the recording never showed in depth.
                self.acct.recorded_skipped_bbo += 1;
                continue;
            }
            // The summary counts frames (a trades frame once).
            let frame = u64::from(h.kind != Kind::HlTrade || h.n == 1);
            self.acct.events += frame;
            self.acct.recorded_events += frame;
            if market {
                self.venue.set_time(h.t_ms);
                self.replay_market(h, levels);
            } else if lead_ours {
                let at = self.feed_at(h.t_ms);
                let d = match h.kind {
                    Kind::BnTop => Delivery::LeadTop {
                        bid: h.a as f64 / 1e8,
                        ask: h.b as f64 / 1e8,
                    },
                    Kind::BnAggTrade => Delivery::LeadAggTrade {
                        px: h.a as f64 / 1e8,
                        qty: h.b as f64 / 1e8,
                        buyer_is_maker: h.flag,
                    },
                    _ => Delivery::LeadAlive,
                };
                self.push(Stream::Binance, at, d);
            } else {
                // Another symbol's frame: the bot ignores it, but it travels the stream all the
                // same (its latency drawn, the frames after it behind it).
                let at = self.feed_at(h.t_ms);
                self.push(Stream::Binance, at, Delivery::Ignored);
            }
        }
        let mut r = r;
        r.pos = i;
        self.replay = Some(r);
    }

    /// One recorded market frame into the venue (records in venue units).
    fn replay_market(&mut self, h: super::events::Rec, levels: &[super::events::Rec]) {
        let a = self.asset;
        match h.kind {
            Kind::HlBook | Kind::BnSnapshot => {
                self.book_bids.clear();
                self.book_asks.clear();
                for l in levels {
                    let v = if l.flag {
                        &mut self.book_bids
                    } else {
                        &mut self.book_asks
                    };
                    v.push((l.a, l.b, l.n));
                }
                if h.kind == Kind::BnSnapshot {
                    // A REST snapshot lists levels in price order only per side; and its zero
                    // sizes mean nothing.
                    self.book_bids.retain(|l| l.1 > 0);
                    self.book_asks.retain(|l| l.1 > 0);
                    self.book_bids.sort_by_key(|l| std::cmp::Reverse(l.0));
                    self.book_asks.sort_by_key(|l| l.0);
                }
                self.venue
                    .apply_l2_levels(a, &self.book_bids, &self.book_asks);
            }
            Kind::BnDepth => {
                for l in levels {
                    self.venue.apply_level(a, l.flag, l.a, l.b, l.n.max(1));
                }
            }
            Kind::HlTrade | Kind::BnTrade | Kind::BnAggTrade => {
                // A Binance trade's buyer is the maker when the seller took.
                let is_buy = if h.kind == Kind::HlTrade {
                    h.flag
                } else {
                    !h.flag
                };
                self.venue.market_order(
                    a,
                    crate::sim::market::MarketOrder {
                        is_buy,
                        through_px: h.a,
                        last_qty: h.b,
                    },
                    Some(h.a),
                );
            }
            Kind::BnTop | Kind::Level | Kind::HlBbo => {}
        }
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
        self.replay_until(tb);
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
        // The market frames the bot would read (`trades`, `l2Book` of 20 levels), handed over
        // typed: the same values the frames' text would carry, in pooled buffers.
        let mut trades = self.trade_pool.pop().unwrap_or_default();
        trades.extend(
            out.trades
                .iter()
                .filter(|t| t.asset == self.asset)
                .map(|t| (spec.px_to_f64(t.px), spec.sz_to_f64(t.sz), t.aggressor_buy)),
        );
        if trades.is_empty() {
            self.trade_pool.push(trades);
        } else {
            self.acct.events += trades.len() as u64;
            self.push(Stream::Market, at, Delivery::Trades(trades));
        }
        if out.changed.contains(&self.asset) {
            let mut b = self.book_pool.pop().unwrap_or_default();
            let book = self.venue.book(self.asset);
            book.levels_into(true, 20, &mut b.bids);
            book.levels_into(false, 20, &mut b.asks);
            b.time = tb;
            self.push(Stream::Market, at, Delivery::Book(b));
        }
        if self.synthetic {
            let upd = self.venue.binance_poll(self.asset, tb);
            self.acct.events += (upd.bbo.len() + upd.trades.len()) as u64;
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
                // The `aggTrade` frame of the lead symbol, typed (the values its text carries).
                let at = self.feed_at(tr.time_ms);
                let d = if self.lead_is_synthetic_symbol {
                    Delivery::LeadAggTrade {
                        px: tr.px,
                        qty: tr.qty,
                        buyer_is_maker: tr.buyer_is_maker,
                    }
                } else {
                    Delivery::Ignored
                };
                self.push(Stream::Binance, at, d);
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
        self.stats.on_time(self.spec.block_ms, self.at_touch(&st));
        self.acct.sample(tb, qb, qa);
    }
}

impl Backtest {
    /// Per side: one of our resting orders is at (or better than) the best price holding the
    /// market's own liquidity, i.e. we are at the touch (post-only: never through it).
    fn at_touch(&self, st: &AccountState) -> [bool; 2] {
        let spec = &self.venue.assets()[self.asset];
        let book = self.venue.book(self.asset);
        let tol = |px: f64| px * 1e-9;
        let mut out = [false; 2];
        for (i, is_bid, resting) in [(0, true, st.resting_buy), (1, false, st.resting_sell)] {
            if resting <= 0 {
                continue;
            }
            let Some(touch) = book.best_bg(is_bid).map(|p| spec.px_to_f64(p)) else {
                continue;
            };
            out[i] = self.engine.orders().iter().any(|o| {
                o.state == OrderState::Resting
                    && match (o.side, is_bid) {
                        (Side::Bid, true) => o.px >= touch - tol(touch),
                        (Side::Ask, false) => o.px <= touch + tol(touch),
                        _ => false,
                    }
            });
        }
        out
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
