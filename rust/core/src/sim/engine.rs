//! The matching engine: accounts, orders, blocks and the exchange's rules (SPEC 11).
//!
//! Actions are submitted between blocks (signer already recovered by the caller) and executed
//! at `end_block` in the exchange's intra-block order: actions without GTC/IOC orders first, then
//! cancels, then actions with GTC/IOC orders, each group in arrival order (PROTOCOL 5.4). Within a
//! block the market model first refreshes its background book (other makers' quotes and
//! cancels), then our actions run, then the market's own takers arrive.

use std::collections::{BTreeSet, HashMap, VecDeque};

use serde_json::{json, Value};

use super::book::{Match, SimBook, TakeResult, Taker};
use super::config::{MarketKind, SimConfig};
use super::ledger::{Account, Position};
use super::limits::{IpWeight, NonceSet};
use super::market::{BinanceUpdate, MarketOrder, SyntheticMarket};
use super::queue::QueueModel;
use super::rules::{self, msg, parse_scaled, price_valid, AssetSpec};
use crate::error::{Error, Result};
use crate::protocol::{Action, Oid, OrderKind, OrderWire, Tif};

/// Address shown for the market model's side of a trade.
pub const MARKET_ADDRESS: &str = "0x0000000000000000000000000000000000000000";

/// One order ever accepted by the venue.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRecord {
    pub oid: u64,
    pub user: u32,
    pub asset: usize,
    pub is_buy: bool,
    pub px: i64,
    pub orig: i64,
    pub remaining: i64,
    pub status: &'static str,
    pub timestamp: u64,
    pub status_ts: u64,
    pub cloid: Option<String>,
    pub reduce_only: bool,
    pub tif: Tif,
}

/// A fill of one account.
#[derive(Debug, Clone, PartialEq)]
pub struct FillEvent {
    pub user: u32,
    pub asset: usize,
    pub px: i64,
    pub sz: i64,
    pub is_buy: bool,
    pub time: u64,
    pub start_szi: i64,
    pub dir: &'static str,
    pub closed_pnl: f64,
    pub oid: u64,
    pub crossed: bool,
    pub fee: f64,
    pub tid: u64,
    pub cloid: Option<String>,
}

/// A public trade.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeEvent {
    pub asset: usize,
    pub px: i64,
    pub sz: i64,
    pub aggressor_buy: bool,
    pub time: u64,
    pub tid: u64,
    pub buyer: Option<u32>,
    pub seller: Option<u32>,
}

/// A change of an order's status (snapshot of the order at that moment).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderEvent {
    pub order: OrderRecord,
    pub time: u64,
}

/// A safety-invariant breach seen by the venue.
#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    pub user: u32,
    pub asset: usize,
    pub time: u64,
    pub position: i64,
    pub resting_buy: i64,
    pub resting_sell: i64,
    pub max_position: i64,
}

/// An account's standing on one asset (`MatchingEngine::account_state`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AccountState {
    /// Signed position, coins.
    pub position: f64,
    pub account_value: f64,
    pub available_margin: f64,
    pub leverage: f64,
    /// Resting size per direction, lots.
    pub resting_buy: i64,
    pub resting_sell: i64,
    /// Safety-invariant breaches the venue counted on this asset.
    pub breaches: u64,
    pub requests_used: u64,
    pub request_cap: u64,
}

/// Everything that happened in one block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlockOutput {
    pub time: u64,
    /// `(ticket, /exchange response body)` for every action of the block.
    pub responses: Vec<(u64, Value)>,
    pub fills: Vec<FillEvent>,
    pub trades: Vec<TradeEvent>,
    pub orders: Vec<OrderEvent>,
    /// Assets whose book changed.
    pub changed: BTreeSet<usize>,
    pub breaches: Vec<Breach>,
}

struct Pending {
    ticket: u64,
    user: u32,
    class: u8,
    seq: u64,
    action: Action<'static>,
}

/// The simulated exchange.
pub struct MatchingEngine {
    pub(super) cfg: SimConfig,
    pub(super) assets: Vec<AssetSpec>,
    by_id: HashMap<u32, usize>,
    pub(super) by_coin: HashMap<String, usize>,
    /// Perp dex names; index 0 is the main dex `""`.
    pub(super) dexes: Vec<String>,
    pub(super) books: Vec<SimBook>,
    markets: Vec<Option<SyntheticMarket>>,
    pub(super) mids: Vec<f64>,
    pub(super) accounts: Vec<Account>,
    pub(super) by_address: HashMap<String, u32>,
    agents: HashMap<String, String>,
    /// Vaults and sub-accounts -> their leader (master): who may name them as `vaultAddress`.
    vault_leaders: HashMap<String, String>,
    nonces: HashMap<String, NonceSet>,
    ip: IpWeight,
    pending: Vec<Pending>,
    pub(super) orders: HashMap<u64, OrderRecord>,
    pub(super) cloids: HashMap<(u32, String), u64>,
    /// Orders no longer open, oldest first: the records `orderStatus` still answers for. Past
    /// `ORDER_HISTORY` the oldest are forgotten (with their cloid), so a long run keeps the open
    /// orders and a bounded recent history instead of every order ever placed.
    retired: VecDeque<u64>,
    pub(super) fills: Vec<Vec<FillEvent>>,
    next_oid: u64,
    next_tid: u64,
    next_ticket: u64,
    seq: u64,
    out: BlockOutput,
    pub(super) now: u64,
}

/// Fills kept per account for `userFills` (the exchange's by-time answer holds up to 10000).
const FILL_HISTORY: usize = 10_000;

/// Closed orders (filled, canceled, rejected IOC) kept for `orderStatus`, venue-wide.
pub const ORDER_HISTORY: usize = 10_000;

fn lower(a: &str) -> String {
    a.to_ascii_lowercase()
}

/// How orders are looked up by client id: the cloid's lowercase hex, as `info` queries name it.
fn cloid_key(c: &crate::protocol::Cloid) -> String {
    String::from_utf8_lossy(&c.to_hex()).into_owned()
}

fn ok(kind: &str, data: Option<Value>) -> Value {
    match data {
        Some(d) => json!({"status": "ok", "response": {"type": kind, "data": d}}),
        None => json!({"status": "ok", "response": {"type": kind}}),
    }
}

fn err(text: impl Into<String>) -> Value {
    json!({"status": "err", "response": text.into()})
}

fn order_error(text: String) -> Value {
    json!({ "error": text })
}

impl MatchingEngine {
    /// # Errors
    /// `Error::Invalid` if the config does not validate.
    pub fn new(cfg: SimConfig) -> Result<Self> {
        cfg.validate()?;
        let mut dexes = vec![String::new()];
        let mut per_dex: HashMap<String, u32> = HashMap::new();
        let mut assets = Vec::new();
        for a in &cfg.assets {
            let dex = a.coin.split_once(':').map_or("", |(d, _)| d).to_string();
            if !dexes.contains(&dex) {
                dexes.push(dex.clone());
            }
            let dex_index = dexes.iter().position(|d| *d == dex).expect("pushed") as u32;
            let index = *per_dex
                .entry(dex.clone())
                .and_modify(|i| *i += 1)
                .or_insert(0);
            let id = if dex_index == 0 {
                index
            } else {
                100_000 + dex_index * 10_000 + index
            };
            assets.push(AssetSpec {
                id,
                coin: a.coin.clone(),
                sz_decimals: a.sz_decimals,
                max_leverage: a.max_leverage,
                dex,
                dex_index,
                index,
            });
        }
        let markets = cfg
            .assets
            .iter()
            .zip(&assets)
            .enumerate()
            .map(|(i, (a, spec))| match cfg.market {
                MarketKind::External => None,
                kind => Some(SyntheticMarket::new(
                    a,
                    spec.clone(),
                    cfg.seed.wrapping_add(i as u64),
                    kind == MarketKind::Static,
                )),
            })
            .collect();
        Ok(Self {
            by_id: assets.iter().enumerate().map(|(i, a)| (a.id, i)).collect(),
            by_coin: assets
                .iter()
                .enumerate()
                .map(|(i, a)| (a.coin.clone(), i))
                .collect(),
            books: vec![SimBook::default(); assets.len()],
            mids: cfg.assets.iter().map(|a| a.mid).collect(),
            markets,
            dexes,
            assets,
            cfg,
            accounts: Vec::new(),
            by_address: HashMap::new(),
            agents: HashMap::new(),
            vault_leaders: HashMap::new(),
            nonces: HashMap::new(),
            ip: IpWeight::default(),
            pending: Vec::new(),
            orders: HashMap::new(),
            cloids: HashMap::new(),
            retired: VecDeque::new(),
            fills: Vec::new(),
            next_oid: 1,
            next_tid: 1,
            next_ticket: 1,
            seq: 0,
            out: BlockOutput::default(),
            now: 0,
        })
    }

    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    pub fn assets(&self) -> &[AssetSpec] {
        &self.assets
    }

    pub fn asset_index(&self, coin: &str) -> Option<usize> {
        self.by_coin.get(coin).copied()
    }

    pub fn book(&self, asset: usize) -> &SimBook {
        &self.books[asset]
    }

    /// Current mark (the book's mid, or the model's mid when a side is empty).
    pub fn mid(&self, asset: usize) -> f64 {
        let b = &self.books[asset];
        let spec = &self.assets[asset];
        match (b.best_bid(), b.best_ask()) {
            (Some(bid), Some(ask)) => (spec.px_to_f64(bid) + spec.px_to_f64(ask)) / 2.0,
            _ => self.mids[asset],
        }
    }

    /// Mid of the market's own liquidity (accounts' orders left out), or the model's mid when
    /// a side has none: the reference price of PnL and markouts in the backtester.
    pub fn market_mid(&self, asset: usize) -> f64 {
        if self.markets[asset].is_some() {
            return self.mids[asset];
        }
        let b = &self.books[asset];
        let spec = &self.assets[asset];
        match (b.best_bg(true), b.best_bg(false)) {
            (Some(bid), Some(ask)) => (spec.px_to_f64(bid) + spec.px_to_f64(ask)) / 2.0,
            _ => self.mids[asset],
        }
    }

    /// What account `u` holds on `asset`, as the exchange would report it.
    pub fn account_state(&self, u: u32, asset: usize) -> AccountState {
        let acct = &self.accounts[u as usize];
        let p = &acct.positions[asset];
        let (value, pos_m, ord_m) = self.account_summary(u);
        AccountState {
            position: self.assets[asset].sz_to_f64(p.szi),
            account_value: value,
            available_margin: (value - pos_m - ord_m).max(0.0),
            leverage: f64::from(p.leverage),
            resting_buy: p.resting_buy,
            resting_sell: p.resting_sell,
            breaches: p.breaches,
            requests_used: acct.n_requests,
            request_cap: self.request_cap(u),
        }
    }

    /// The address of account `u`.
    pub fn address_of(&self, u: u32) -> &str {
        &self.accounts[u as usize].address
    }

    /// Creates (or tops up) a funded account. Returns its index.
    ///
    /// # Errors
    /// `Error::Invalid` for a malformed address or a non-finite amount.
    pub fn add_account(&mut self, address: &str, usdc: f64) -> Result<u32> {
        crate::check::finite("usdc", usdc)?;
        let a = lower(address);
        if a.len() != 42 || !a.starts_with("0x") || !a[2..].bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::invalid(
                "address",
                address,
                "must be 0x and 40 hex digits",
            ));
        }
        if let Some(&u) = self.by_address.get(&a) {
            self.accounts[u as usize].usdc += usdc;
            return Ok(u);
        }
        let lev = self.cfg.default_leverage;
        let positions = self
            .assets
            .iter()
            .map(|s| Position {
                leverage: lev.min(s.max_leverage),
                ..Position::default()
            })
            .collect();
        let u = self.accounts.len() as u32;
        self.accounts.push(Account {
            address: a.clone(),
            usdc,
            positions,
            ..Account::default()
        });
        self.fills.push(Vec::new());
        self.by_address.insert(a, u);
        Ok(u)
    }

    /// Tells the venue an account's limit in USD on one coin (`max_position_usd`, SPEC 2: the
    /// source of truth, the coin ceiling recomputed at the mark), so that it counts breaches
    /// itself. The venue holds it to the notional at its own mid (the market's liquidity, our
    /// orders left out), with `tolerance` for a bot that re-resolves its coin ceiling only when
    /// the mark moved more than that fraction: the ceiling is `usd / (mid * (1 - tolerance))`
    /// rounded down to a lot, recomputed at every check of the account. Exposure at or under
    /// it is never a breach whatever mark within the tolerance the bot resolved at; above it is.
    ///
    /// # Errors
    /// `Error::Invalid` for an unknown account or coin, a non-positive USD limit or a tolerance
    /// outside [0, 1).
    pub fn set_max_position_usd(
        &mut self,
        address: &str,
        coin: &str,
        usd: f64,
        tolerance: f64,
    ) -> Result<()> {
        crate::check::positive("max_position_usd", usd)?;
        if !(0.0..1.0).contains(&tolerance) {
            return Err(Error::invalid("tolerance", tolerance, "must be in [0, 1)"));
        }
        let (u, i) = self.account_asset(address, coin)?;
        let lots = self.usd_ceiling(i, usd, tolerance);
        let p = &mut self.accounts[u as usize].positions[i];
        p.max_position_usd = Some((usd, tolerance));
        p.max_position = Some(lots);
        p.check_invariant();
        Ok(())
    }

    /// The coin ceiling of a USD limit at the market's mid now, lots.
    fn usd_ceiling(&self, asset: usize, usd: f64, tolerance: f64) -> i64 {
        let mid = self.market_mid(asset);
        let lots =
            usd / (mid * (1.0 - tolerance)) * 10f64.powi(self.assets[asset].sz_decimals as i32);
        (lots * (1.0 + 1e-12)).floor() as i64
    }

    fn account_asset(&self, address: &str, coin: &str) -> Result<(u32, usize)> {
        let u = *self
            .by_address
            .get(&lower(address))
            .ok_or_else(|| Error::invalid("address", address, "is not an account"))?;
        let i = self
            .asset_index(coin)
            .ok_or_else(|| Error::invalid("coin", coin, "is not listed"))?;
        Ok((u, i))
    }

    /// Tells the venue an account's max position on one coin (the bot's hard ceiling), so that
    /// it counts safety-invariant breaches itself.
    ///
    /// # Errors
    /// `Error::Invalid` for an unknown account or coin, or a negative size.
    pub fn set_max_position(&mut self, address: &str, coin: &str, max_position: f64) -> Result<()> {
        crate::check::non_negative("max_position", max_position)?;
        let (u, i) = self.account_asset(address, coin)?;
        let lots = self.assets[i].sz_from_f64(max_position);
        let p = &mut self.accounts[u as usize].positions[i];
        p.max_position = Some(lots);
        p.max_position_usd = None;
        p.check_invariant();
        Ok(())
    }

    /// Lets `agent` sign for `master` (an `approveAgent`, or a preconfigured API wallet).
    ///
    /// # Errors
    /// `Error::Invalid` when the master is not an account.
    pub fn add_agent(&mut self, agent: &str, master: &str) -> Result<()> {
        let m = lower(master);
        if !self.by_address.contains_key(&m) {
            return Err(Error::invalid("master", master, "is not an account"));
        }
        self.agents.insert(lower(agent), m);
        Ok(())
    }

    /// Makes the account `vault` a vault (or sub-account) led by `leader`: the leader and its
    /// agents may then trade for it with `vaultAddress`.
    ///
    /// # Errors
    /// `Error::Invalid` when either address is not an account.
    pub fn add_vault(&mut self, vault: &str, leader: &str) -> Result<()> {
        let (v, l) = (lower(vault), lower(leader));
        if !self.by_address.contains_key(&v) {
            return Err(Error::invalid("vault", vault, "is not an account"));
        }
        if !self.by_address.contains_key(&l) {
            return Err(Error::invalid("leader", leader, "is not an account"));
        }
        self.vault_leaders.insert(v, l);
        Ok(())
    }

    /// The account an action acts for: the signer's own (`master`) or a `vaultAddress` that
    /// authorised it (the exchange's rule: the vault's leader, or an agent approved for either).
    fn acting_account(
        &self,
        signer: &str,
        master: String,
        vault: Option<&str>,
    ) -> std::result::Result<String, String> {
        let Some(v) = vault.map(lower) else {
            return Ok(master);
        };
        if v == master {
            return Ok(v);
        }
        match self.vault_leaders.get(&v) {
            None => Err(format!("Vault not registered: {v}")),
            Some(leader) if *leader == master => Ok(v),
            Some(_) => Err(format!(
                "L1 error: User or API Wallet {signer} does not exist."
            )),
        }
    }

    /// The account a signer acts for: itself if it is an account, else its master.
    pub fn user_of(&self, signer: &str) -> Option<String> {
        let s = lower(signer);
        if self.by_address.contains_key(&s) {
            return Some(s);
        }
        self.agents.get(&s).cloned()
    }

    /// Charges REST weight to an IP; false when over the per-minute limit (HTTP 429).
    pub fn charge_ip(&mut self, ip: &str, weight: u32, now_ms: u64) -> bool {
        self.ip
            .charge(ip, weight, self.cfg.ip_weight_per_min, now_ms)
    }

    /// Sets the clock used to stamp events applied between blocks (replay).
    pub fn set_time(&mut self, now_ms: u64) {
        self.now = now_ms;
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    fn request_cap(&self, u: u32) -> u64 {
        self.cfg.request_buffer + self.accounts[u as usize].cum_volume as u64
    }

    /// Accepts a signed action for the next block, or refuses it with the exchange's top-level
    /// error. `signer` is the address recovered from the signature.
    ///
    /// # Errors
    /// The exact `{"status":"err"}` message: unknown signer, nonce, expired, unparsable action,
    /// address budget.
    pub fn submit(
        &mut self,
        signer: &str,
        action_json: &[u8],
        nonce: u64,
        vault: Option<&str>,
        expires_after: Option<u64>,
        now_ms: u64,
    ) -> std::result::Result<u64, String> {
        let signer = lower(signer);
        let Some(master) = self.user_of(&signer) else {
            return Err(format!(
                "L1 error: User or API Wallet {signer} does not exist."
            ));
        };
        let user_addr = self.acting_account(&signer, master, vault)?;
        let u = self.by_address[&user_addr];
        self.nonces
            .entry(signer)
            .or_default()
            .check_and_insert(nonce, now_ms)?;
        if let Some(e) = expires_after {
            if e < now_ms {
                return Err(format!(
                    "Action expired: expiresAfter {e} < block time {now_ms}"
                ));
            }
        }
        let action = Action::from_json(action_json).map_err(|e| {
            format!("Failed to deserialize the JSON body into the target type: {e}")
        })?;
        self.enqueue(u, action, now_ms)
    }

    /// Queues a typed action of account `user` for the next block, without signature or nonce
    /// (the backtester: the same rules, budget and block order as a signed submit).
    ///
    /// # Errors
    /// An unknown account, or the exchange's address-budget message.
    pub fn submit_typed(
        &mut self,
        user: u32,
        action: Action<'static>,
        now_ms: u64,
    ) -> std::result::Result<u64, String> {
        if user as usize >= self.accounts.len() {
            return Err(format!("unknown account {user}"));
        }
        self.enqueue(user, action, now_ms)
    }

    fn enqueue(
        &mut self,
        u: u32,
        action: Action<'static>,
        now_ms: u64,
    ) -> std::result::Result<u64, String> {
        let n = action.request_count() as u64;
        let cap = self.request_cap(u);
        let acct = &mut self.accounts[u as usize];
        let cap = if action.is_cancel() {
            (cap + 100_000).min(2 * cap)
        } else {
            cap
        };
        if acct.n_requests + n > cap {
            // When limited, one request per 10 s still goes through.
            if now_ms < acct.last_limited_ms + 10_000 {
                return Err(format!(
                    "Too many cumulative requests sent ({} > {cap}) for cumulative volume traded ${:.2}. Place taker orders to free up 1 request per USDC traded.",
                    acct.n_requests + n,
                    acct.cum_volume
                ));
            }
            acct.last_limited_ms = now_ms;
        }
        acct.n_requests += n;
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.seq += 1;
        self.pending.push(Pending {
            ticket,
            user: u,
            class: action.block_class(),
            seq: self.seq,
            action,
        });
        Ok(ticket)
    }

    /// Runs one block at `now_ms`: market refresh, queued actions in the exchange's order, the
    /// market's own takers. Returns everything that happened.
    pub fn end_block(&mut self, now_ms: u64) -> BlockOutput {
        self.now = now_ms;
        // Events of replayed frames applied since the last block are reported with this block.
        self.out.time = now_ms;
        let mut market_orders = Vec::new();
        for i in 0..self.assets.len() {
            if let Some(m) = self.markets[i].as_mut() {
                let upd = m.hl_block(now_ms);
                self.mids[i] = upd.mid;
                self.apply_book(i, &upd.bids, &upd.asks);
                market_orders.push((i, upd.orders));
            }
        }
        self.run_scheduled_cancels();
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_by_key(|p| (p.class, p.seq));
        for p in pending {
            let resp = self.execute(p.user, p.action);
            self.out.responses.push((p.ticket, resp));
            self.check_user(p.user);
        }
        for (i, orders) in market_orders {
            for o in orders {
                self.market_order(i, o, None);
            }
        }
        self.forget_old_orders();
        std::mem::take(&mut self.out)
    }

    /// Drops the oldest closed orders past `ORDER_HISTORY` (and their cloids, unless reused).
    fn forget_old_orders(&mut self) {
        while self.retired.len() > ORDER_HISTORY {
            let Some(oid) = self.retired.pop_front() else {
                break;
            };
            if let Some(rec) = self.orders.remove(&oid) {
                if let Some(c) = rec.cloid {
                    let key = (rec.user, c);
                    if self.cloids.get(&key) == Some(&oid) {
                        self.cloids.remove(&key);
                    }
                }
            }
        }
    }

    /// Order records held (open and recently closed).
    pub fn order_records(&self) -> usize {
        self.orders.len()
    }

    /// Binance feed of the synthetic market of `asset` since the last poll.
    pub fn binance_poll(&mut self, asset: usize, now_ms: u64) -> BinanceUpdate {
        match self.markets[asset].as_mut() {
            Some(m) => m.binance_poll(now_ms),
            None => BinanceUpdate::default(),
        }
    }

    /// Replaces the background book of `asset` (a market-model or replay update). Real orders
    /// the new book would cross are taken by the market first.
    pub fn apply_book(&mut self, asset: usize, bids: &[(i64, i64, u32)], asks: &[(i64, i64, u32)]) {
        let q = self.cfg.queue;
        if let Some(&(best_ask, _, _)) = asks.first() {
            self.market_take_real(asset, false, best_ask);
        }
        if let Some(&(best_bid, _, _)) = bids.first() {
            self.market_take_real(asset, true, best_bid);
        }
        let b = &mut self.books[asset];
        b.set_background(true, bids, &q);
        b.set_background(false, asks, &q);
        self.out.changed.insert(asset);
    }

    /// Sets one level's background (replay of a level change). A level that reaches our resting
    /// orders on the other side takes them first, as a new book does (`apply_book`): left
    /// resting, they crossed the book the feed then showed (a Binance depth replay aborted with
    /// "best bid must be below best ask" once a quote sat at the touch).
    pub fn apply_level(&mut self, asset: usize, is_bid: bool, px: i64, sz: i64, n: u32) {
        if sz > 0 {
            self.market_take_real(asset, is_bid, px);
        }
        let q: QueueModel = self.cfg.queue;
        self.books[asset].set_level_background(is_bid, px, sz, n, &q);
        self.out.changed.insert(asset);
    }

    /// The market (not an account) buys or sells every real order at or through `limit`.
    fn market_take_real(&mut self, asset: usize, is_buy: bool, limit: i64) {
        let mut res = TakeResult::default();
        self.books[asset].take(
            Taker {
                is_buy,
                limit: Some(limit),
                qty: i64::MAX,
                user: None,
                include_bg: false,
            },
            &mut res,
        );
        self.settle(asset, is_buy, None, &res);
    }

    /// A market order of the model (`last_limit` None: `last_qty` from the touch outwards up to
    /// `through_px`) or a replayed trade (`last_limit` its price).
    pub fn market_order(&mut self, asset: usize, o: MarketOrder, last_limit: Option<i64>) {
        let mut res = TakeResult::default();
        let book = &mut self.books[asset];
        match last_limit {
            // A recorded trade at `limit`: everything better was gone (our orders there are
            // taken), then its size at its price, queue first.
            Some(limit) => {
                let strict = if o.is_buy { limit - 1 } else { limit + 1 };
                book.take(
                    Taker {
                        is_buy: o.is_buy,
                        limit: Some(strict),
                        qty: i64::MAX,
                        user: None,
                        include_bg: false,
                    },
                    &mut res,
                );
                book.take(
                    Taker {
                        is_buy: o.is_buy,
                        limit: Some(limit),
                        qty: o.last_qty,
                        user: None,
                        include_bg: true,
                    },
                    &mut res,
                );
            }
            // A model order: its size from the touch outwards, never beyond its drawn depth,
            // however thin the book.
            None => {
                book.take(
                    Taker {
                        is_buy: o.is_buy,
                        limit: Some(o.through_px),
                        qty: o.last_qty,
                        user: None,
                        include_bg: true,
                    },
                    &mut res,
                );
            }
        }
        self.settle(asset, o.is_buy, None, &res);
    }

    fn fee(&self, px: f64, sz: i64, lot: f64, crossed: bool) -> f64 {
        let bps = if crossed {
            self.cfg.taker_fee_bps
        } else {
            self.cfg.maker_fee_bps
        };
        px * sz as f64 * lot * bps * 1e-4
    }

    fn lot(&self, asset: usize) -> f64 {
        10f64.powi(-(self.assets[asset].sz_decimals as i32))
    }

    /// Books every match of one taker: trades, maker and taker fills, order states.
    fn settle(
        &mut self,
        asset: usize,
        taker_buy: bool,
        taker: Option<(u32, u64)>,
        res: &TakeResult,
    ) {
        for &(oid, _, _) in &res.stp_cancelled {
            self.finish_order(oid, "selfTradeCanceled", false);
        }
        for m in &res.matches {
            self.settle_match(asset, taker_buy, taker, m);
        }
        if !res.matches.is_empty() || !res.stp_cancelled.is_empty() {
            self.out.changed.insert(asset);
        }
    }

    fn settle_match(
        &mut self,
        asset: usize,
        taker_buy: bool,
        taker: Option<(u32, u64)>,
        m: &Match,
    ) {
        let tid = self.next_tid;
        self.next_tid += 1;
        let maker_user = m.maker.map(|(_, u)| u);
        let taker_user = taker.map(|(u, _)| u);
        let (buyer, seller) = if taker_buy {
            (taker_user, maker_user)
        } else {
            (maker_user, taker_user)
        };
        self.out.trades.push(TradeEvent {
            asset,
            px: m.px,
            sz: m.sz,
            aggressor_buy: taker_buy,
            time: self.now,
            tid,
            buyer,
            seller,
        });
        if let Some((oid, u)) = m.maker {
            let mut margined = false;
            if let Some(rec) = self.orders.get_mut(&oid) {
                rec.remaining -= m.sz;
                margined = !rec.reduce_only;
            }
            let ntl = self.assets[asset].px_to_f64(m.px) * self.assets[asset].sz_to_f64(m.sz);
            let p = &mut self.accounts[u as usize].positions[asset];
            if margined {
                p.resting_notional -= ntl;
            }
            if taker_buy {
                p.resting_sell -= m.sz;
            } else {
                p.resting_buy -= m.sz;
            }
            self.account_fill(u, asset, oid, !taker_buy, m.px, m.sz, false, tid);
            if m.maker_done {
                self.finish_order(oid, "filled", false);
            }
        }
        if let Some((u, oid)) = taker {
            if let Some(rec) = self.orders.get_mut(&oid) {
                rec.remaining -= m.sz;
            }
            self.account_fill(u, asset, oid, taker_buy, m.px, m.sz, true, tid);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn account_fill(
        &mut self,
        u: u32,
        asset: usize,
        oid: u64,
        is_buy: bool,
        px: i64,
        sz: i64,
        crossed: bool,
        tid: u64,
    ) {
        let lot = self.lot(asset);
        let pxf = self.assets[asset].px_to_f64(px);
        let fee = self.fee(pxf, sz, lot, crossed);
        let acct = &mut self.accounts[u as usize];
        let eff = acct.positions[asset].apply_fill(is_buy, pxf, sz, lot, fee);
        acct.usdc += eff.closed_pnl - fee;
        acct.cum_volume += pxf * sz as f64 * lot;
        let cloid = self.orders.get(&oid).and_then(|r| r.cloid.clone());
        let f = FillEvent {
            user: u,
            asset,
            px,
            sz,
            is_buy,
            time: self.now,
            start_szi: eff.start_szi,
            dir: eff.dir,
            closed_pnl: eff.closed_pnl,
            oid,
            crossed,
            fee,
            tid,
            cloid,
        };
        let history = &mut self.fills[u as usize];
        history.push(f.clone());
        // The exchange answers `userFills` with the 2000 most recent (and by time up to 10000):
        // keep 10000, trimmed in chunks, so a long run does not grow by one entry per fill.
        if history.len() >= 2 * FILL_HISTORY {
            history.drain(..history.len() - FILL_HISTORY);
        }
        self.out.fills.push(f);
        self.check_user(u);
    }

    /// Moves an order out of the open set with a final status and reports it.
    fn finish_order(&mut self, oid: u64, status: &'static str, remove_from_book: bool) {
        let Some(rec) = self.orders.get_mut(&oid) else {
            return;
        };
        if rec.status != "open" {
            return;
        }
        if remove_from_book {
            self.books[rec.asset].remove(rec.is_buy, rec.px, oid);
            self.out.changed.insert(rec.asset);
        }
        rec.status = status;
        rec.status_ts = self.now;
        let (u, asset, is_buy, left) = (rec.user, rec.asset, rec.is_buy, rec.remaining);
        self.retired.push_back(oid);
        let ntl = if rec.reduce_only {
            0.0
        } else {
            self.assets[asset].px_to_f64(rec.px) * self.assets[asset].sz_to_f64(left)
        };
        let snapshot = rec.clone();
        let acct = &mut self.accounts[u as usize];
        acct.open.remove(&oid);
        if status != "filled" {
            let p = &mut acct.positions[asset];
            p.resting_notional -= ntl;
            if is_buy {
                p.resting_buy -= left;
            } else {
                p.resting_sell -= left;
            }
        }
        self.out.orders.push(OrderEvent {
            order: snapshot,
            time: self.now,
        });
        self.check_user(u);
    }

    fn check_user(&mut self, u: u32) {
        let now = self.now;
        for i in 0..self.accounts[u as usize].positions.len() {
            if let Some((usd, tol)) = self.accounts[u as usize].positions[i].max_position_usd {
                let lots = self.usd_ceiling(i, usd, tol);
                self.accounts[u as usize].positions[i].max_position = Some(lots);
            }
        }
        let acct = &mut self.accounts[u as usize];
        for (i, p) in acct.positions.iter_mut().enumerate() {
            if p.check_invariant() {
                self.out.breaches.push(Breach {
                    user: u,
                    asset: i,
                    time: now,
                    position: p.szi,
                    resting_buy: p.resting_buy,
                    resting_sell: p.resting_sell,
                    max_position: p.max_position.unwrap_or(0),
                });
            }
        }
    }

    fn run_scheduled_cancels(&mut self) {
        let now = self.now;
        for u in 0..self.accounts.len() {
            if self.accounts[u].schedule_cancel.is_some_and(|t| t <= now) {
                self.accounts[u].schedule_cancel = None;
                let open: Vec<u64> = self.accounts[u].open.iter().copied().collect();
                for oid in open {
                    self.finish_order(oid, "scheduledCancel", true);
                }
            }
        }
    }

    fn execute(&mut self, u: u32, action: Action<'static>) -> Value {
        match action {
            Action::Order { orders, .. } => {
                let statuses: Vec<Value> = orders.iter().map(|o| self.place(u, o, false)).collect();
                ok("order", Some(json!({ "statuses": statuses })))
            }
            Action::Cancel { cancels, .. } => {
                let statuses: Vec<Value> = cancels
                    .iter()
                    .map(|c| {
                        let oid = self
                            .orders
                            .get(&c.oid)
                            .filter(|r| r.user == u && self.assets[r.asset].id == c.asset)
                            .map(|r| r.oid);
                        self.cancel_status(c.asset, oid)
                    })
                    .collect();
                ok("cancel", Some(json!({ "statuses": statuses })))
            }
            Action::CancelByCloid { cancels, .. } => {
                let statuses: Vec<Value> = cancels
                    .iter()
                    .map(|c| {
                        let oid =
                            self.cloids
                                .get(&(u, cloid_key(&c.cloid)))
                                .copied()
                                .filter(|oid| {
                                    self.orders
                                        .get(oid)
                                        .is_some_and(|r| self.assets[r.asset].id == c.asset)
                                });
                        self.cancel_status(c.asset, oid)
                    })
                    .collect();
                ok("cancel", Some(json!({ "statuses": statuses })))
            }
            Action::Modify {
                oid,
                order,
                always_place,
            } => {
                let s = self.modify(u, &oid, &order, always_place);
                match s.get("error").and_then(Value::as_str) {
                    Some(e) => err(e),
                    None => ok("default", None),
                }
            }
            Action::BatchModify {
                modifies,
                always_place,
            } => {
                let statuses: Vec<Value> = modifies
                    .iter()
                    .map(|m| self.modify(u, &m.oid, &m.order, always_place))
                    .collect();
                ok("order", Some(json!({ "statuses": statuses })))
            }
            Action::ScheduleCancel { time } => {
                let acct = &self.accounts[u as usize];
                if acct.cum_volume < self.cfg.schedule_cancel_min_volume {
                    return err(format!(
                        "Cannot set scheduled cancel time until enough volume traded. Required: ${}. Traded: ${:.2}.",
                        rules::fmt_f64(self.cfg.schedule_cancel_min_volume, 2),
                        acct.cum_volume
                    ));
                }
                match time {
                    Some(t) if t < self.now + 5_000 => {
                        err("Scheduled cancel time too early, must be at least 5 seconds from now.")
                    }
                    t => {
                        self.accounts[u as usize].schedule_cancel = t;
                        ok("default", None)
                    }
                }
            }
            Action::UpdateLeverage {
                asset, leverage, ..
            } => match self.by_id.get(&asset).copied() {
                Some(i) if leverage >= 1 && leverage <= self.assets[i].max_leverage => {
                    self.accounts[u as usize].positions[i].leverage = leverage;
                    ok("default", None)
                }
                Some(_) => err("Invalid leverage value"),
                None => err(format!("Invalid asset {asset}")),
            },
            Action::Noop => ok("default", None),
        }
    }

    fn cancel_status(&mut self, asset_id: u32, oid: Option<u64>) -> Value {
        let open = oid.filter(|o| self.orders.get(o).is_some_and(|r| r.status == "open"));
        match open {
            Some(oid) => {
                self.finish_order(oid, "canceled", true);
                json!("success")
            }
            None => order_error(format!("{} asset={asset_id}", msg::CANCEL_MISSING)),
        }
    }

    fn resolve_target(&self, u: u32, target: &Oid) -> Option<u64> {
        let oid = match target {
            Oid::Oid(o) => *o,
            Oid::Cloid(c) => *self.cloids.get(&(u, cloid_key(c)))?,
        };
        self.orders
            .get(&oid)
            .filter(|r| r.user == u && r.status == "open")
            .map(|r| r.oid)
    }

    /// Modify = cancel and replace with a new oid. Deterministic rejections of the new order
    /// (asset, tick, size) leave the old order alone; after the cancel leg, the new order is
    /// placed as ALO unless `always_place` (a GTC is turned into ALO, PROTOCOL 3.2).
    fn modify(&mut self, u: u32, target: &Oid, order: &OrderWire, always_place: bool) -> Value {
        let Some(oid) = self.resolve_target(u, target) else {
            return order_error(msg::MODIFY_MISSING.to_string());
        };
        if let Err(e) = self.prevalidate(order) {
            return e;
        }
        self.finish_order(oid, "canceled", true);
        self.place(u, order, !always_place)
    }

    /// Parses asset, price and size of an order wire.
    fn prevalidate(&self, o: &OrderWire) -> std::result::Result<(usize, i64, i64), Value> {
        let Some(&i) = self.by_id.get(&o.asset) else {
            return Err(order_error(format!("Invalid asset {}", o.asset)));
        };
        let spec = &self.assets[i];
        let px = match parse_scaled(o.px.as_str(), spec.px_decimals()) {
            Ok(px) if price_valid(px, spec.px_decimals()) => px,
            _ => return Err(order_error(spec.with_suffix(msg::TICK))),
        };
        let sz = match parse_scaled(o.sz.as_str(), spec.sz_decimals) {
            Ok(sz) if sz > 0 => sz,
            _ => return Err(order_error(spec.with_suffix(msg::BAD_SIZE))),
        };
        Ok((i, px, sz))
    }

    fn account_value(&self, u: u32) -> f64 {
        let acct = &self.accounts[u as usize];
        let upnl: f64 = acct
            .positions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.szi != 0)
            .map(|(i, p)| p.szi as f64 * self.lot(i) * (self.mid(i) - p.entry_px))
            .sum();
        acct.usdc + upnl
    }

    /// Margin in use: positions at mark and open orders at their price, each over leverage.
    pub(super) fn margin_used(&self, u: u32) -> (f64, f64) {
        let acct = &self.accounts[u as usize];
        let pos: f64 = acct
            .positions
            .iter()
            .enumerate()
            .map(|(i, p)| (p.szi.abs() as f64) * self.lot(i) * self.mid(i) / f64::from(p.leverage))
            .sum();
        // Kept as a running sum per asset: placing an order stays O(assets), not O(orders).
        let orders: f64 = acct
            .positions
            .iter()
            .map(|p| p.resting_notional.max(0.0) / f64::from(p.leverage))
            .sum();
        (pos, orders)
    }

    pub(super) fn account_summary(&self, u: u32) -> (f64, f64, f64) {
        let av = self.account_value(u);
        let (pos, ord) = self.margin_used(u);
        (av, pos, ord)
    }

    /// Places one order; returns its status entry.
    fn place(&mut self, u: u32, o: &OrderWire, force_alo: bool) -> Value {
        let (i, px, mut sz) = match self.prevalidate(o) {
            Ok(v) => v,
            Err(e) => return e,
        };
        let spec = self.assets[i].clone();
        let mut tif = match o.kind {
            OrderKind::Limit(tif) => tif,
            OrderKind::Trigger { .. } => {
                return order_error(format!(
                    "Trigger orders are not supported by the local venue. asset={}",
                    spec.id
                ))
            }
        };
        if force_alo && tif == Tif::Gtc {
            tif = Tif::Alo;
        }
        let notional = px as f64 * sz as f64 * 1e-6;
        if notional < self.cfg.min_notional_usd && !o.reduce_only {
            return order_error(spec.min_notional_error(self.cfg.min_notional_usd));
        }
        let szi = self.accounts[u as usize].positions[i].szi;
        if o.reduce_only {
            if (o.is_buy && szi >= 0) || (!o.is_buy && szi <= 0) {
                return order_error(spec.with_suffix(msg::REDUCE_ONLY));
            }
            sz = sz.min(szi.abs());
        }
        let book = &self.books[i];
        let (bid, ask) = (book.best_bid(), book.best_ask());
        if tif == Tif::Alo {
            let crosses = if o.is_buy {
                ask.is_some_and(|a| px >= a)
            } else {
                bid.is_some_and(|b| px <= b)
            };
            if crosses {
                return order_error(spec.alo_error(bid, ask));
            }
        }
        let acct = &self.accounts[u as usize];
        let limit = (self.cfg.open_order_limit + (acct.cum_volume / 5e6) as usize).min(5000);
        if tif != Tif::Ioc && acct.open.len() >= limit {
            return order_error(spec.with_suffix(msg::TOO_MANY_ORDERS));
        }
        if !o.reduce_only {
            let opposite = if o.is_buy { -szi } else { szi };
            let increasing = (sz - opposite.max(0)).max(0);
            let lev = f64::from(acct.positions[i].leverage);
            let need = spec.px_to_f64(px) * spec.sz_to_f64(increasing) / lev;
            let (av, pos_m, ord_m) = self.account_summary(u);
            if increasing > 0 && need > av - pos_m - ord_m + 1e-9 {
                return order_error(spec.with_suffix(msg::MARGIN));
            }
        }
        let oid = self.next_oid;
        self.next_oid += 1;
        let cloid = o.cloid.as_ref().map(cloid_key);
        let rec = OrderRecord {
            oid,
            user: u,
            asset: i,
            is_buy: o.is_buy,
            px,
            orig: sz,
            remaining: sz,
            status: "open",
            timestamp: self.now,
            status_ts: self.now,
            cloid: cloid.clone(),
            reduce_only: o.reduce_only,
            tif,
        };
        self.orders.insert(oid, rec);
        if let Some(c) = &cloid {
            self.cloids.insert((u, c.clone()), oid);
        }
        let mut left = sz;
        let mut res = TakeResult::default();
        if tif != Tif::Alo {
            left = self.books[i].take(
                Taker {
                    is_buy: o.is_buy,
                    limit: Some(px),
                    qty: sz,
                    user: Some(u),
                    include_bg: true,
                },
                &mut res,
            );
            self.settle(i, o.is_buy, Some((u, oid)), &res);
        }
        let filled = sz - left;
        let with_cloid = |mut v: Value| {
            if let Some(c) = &cloid {
                v["cloid"] = json!(c);
            }
            v
        };
        if left > 0 && tif != Tif::Ioc {
            self.books[i].add(o.is_buy, px, oid, u, left);
            let acct = &mut self.accounts[u as usize];
            acct.open.insert(oid);
            let p = &mut acct.positions[i];
            if !o.reduce_only {
                p.resting_notional += spec.px_to_f64(px) * spec.sz_to_f64(left);
            }
            if o.is_buy {
                p.resting_buy += left;
            } else {
                p.resting_sell += left;
            }
            self.out.changed.insert(i);
            let snapshot = self.orders[&oid].clone();
            self.out.orders.push(OrderEvent {
                order: snapshot,
                time: self.now,
            });
            return json!({ "resting": with_cloid(json!({ "oid": oid })) });
        }
        self.retired.push_back(oid);
        let rec = self.orders.get_mut(&oid).expect("inserted above");
        if filled == 0 {
            rec.status = "iocCancelRejected";
            return order_error(spec.with_suffix(msg::IOC_CANCEL));
        }
        rec.status = if left == 0 { "filled" } else { "canceled" };
        let snapshot = rec.clone();
        self.out.orders.push(OrderEvent {
            order: snapshot,
            time: self.now,
        });
        let notional: f64 = res
            .matches
            .iter()
            .map(|m| spec.px_to_f64(m.px) * m.sz as f64)
            .sum();
        let avg = notional / filled as f64;
        json!({ "filled": with_cloid(json!({
            "totalSz": spec.fmt_sz(filled),
            "avgPx": rules::fmt_f64(avg, 8),
            "oid": oid,
        })) })
    }
}
