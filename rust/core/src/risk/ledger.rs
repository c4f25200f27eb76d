//! The pre-send guard's own account of our orders and position (SPEC 3 safety invariant, SPEC 8
//! step 7), kept apart from the engine's so that the guard checks the invariant against an
//! independent view. It reads only what we send and what the exchange says: actions as they
//! leave (in flight), the answers to them, `orderUpdates`, fills (deduplicated by `tid`, the
//! position's truth) and the periodic snapshot of open orders and position.
//!
//! It errs on the side of counting too much: an order leaves the count only once the exchange
//! has said it is gone, and a cancel or modify in flight still counts the old order (a modify
//! counts old and new). "Never placed" answers a cancel conclusively only for an order that was
//! resting when the cancel left: a cancel sent while its place was in flight may have overtaken
//! it, so that order stays counted until its own answer or an update settles it. Fills reach
//! us twice, from the order side (an answer `filled`, an update with less size left or status
//! `filled`) and from the fills stream, in either order. Per oid
//! the ledger keeps R, the size the order side reported filled, and F, the size the fills
//! delivered (position moves with F only). An order counts its live size minus what F already
//! moved into position ahead of R, and R - F beyond that is counted as pending: whichever stream
//! is first, the order's size is counted once, never zero times.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::engine::frames::{ActionStatus, ExchangeReply, Fill, OrderUpdate, UpdateStatus};
use crate::protocol::errors::{classify, ErrorKind};
use crate::types::Side;

/// Size below which two sizes are equal (coin).
pub const EPS: f64 = 1e-9;
/// Oids whose order left the ledger, remembered so that fills arriving after it (the fills
/// stream and the order stream are not ordered) are not kept forever: a partly filled order
/// that is cancelled is never reported filled by the order side, so its entry would wait for a
/// report that cannot come (the soak's slow growth, issue 13). Late fills come within seconds;
/// 4096 oids are many minutes of the busiest quoting.
const MAX_GONE: usize = 4096;

/// Where one of the ledger's orders is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerState {
    /// Sent, unanswered.
    InFlight,
    Resting,
    /// A cancel of it is in flight.
    Canceling,
    /// The old side of a modify in flight.
    Modifying,
}

/// One order as the ledger counts it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LedgerOrder {
    /// The ledger's own handle (orders have no oid until answered).
    pub key: u64,
    pub is_buy: bool,
    pub px: f64,
    pub sz: f64,
    pub oid: Option<u64>,
    pub cloid: Option<u128>,
    pub state: LedgerState,
    pub reduce_only: bool,
    /// Local monotonic ms at which the exchange was last seen to hold it (0: never yet).
    pub since_ms: u64,
}

/// What a cancel or modify targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Oid(u64),
    Cloid(u128),
}

/// A new order as it leaves (a place, or the new half of a modify).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewOrder {
    pub is_buy: bool,
    pub px: f64,
    pub sz: f64,
    pub cloid: Option<u128>,
    pub reduce_only: bool,
}

/// One item of an action as it leaves: a place (`new`), a cancel (`old`) or a modify (both).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SentItem {
    pub new: Option<NewOrder>,
    pub old: Option<Target>,
}

/// An open order from the exchange's snapshot (`openOrders`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenOrder {
    pub oid: u64,
    pub cloid: Option<u128>,
    pub is_buy: bool,
    pub px: f64,
    pub sz: f64,
    pub reduce_only: bool,
}

struct Sent {
    new: Vec<Option<u64>>,
    old: Vec<Option<Target>>,
}

#[derive(Debug, Clone, Copy)]
struct FilledSizes {
    is_buy: bool,
    /// Reported filled by the order side.
    r: f64,
    /// Delivered by the fills stream (already in position).
    f: f64,
}

/// Orders by oid and cloid, position from fills, and the exposure per direction.
pub struct Ledger {
    pub position: f64,
    orders: Vec<LedgerOrder>,
    sent: HashMap<u64, Sent>,
    rf: HashMap<u64, FilledSizes>,
    gone: HashSet<u64>,
    gone_order: VecDeque<u64>,
    tids: HashSet<u64>,
    tid_order: VecDeque<u64>,
    max_tids: usize,
    next_key: u64,
    pub fills: u64,
    pub volume_usd: f64,
}

impl Default for Ledger {
    /// Remembers as many fill ids as the state file hands back at a restart
    /// (`Checkpoint.recent_tids`, 10,000): a fill is reported twice within seconds, and a
    /// subscription's replay is flagged as a snapshot. 100,000 grew the set for 14 hours at the
    /// soak's fill rate (issue 13).
    fn default() -> Self {
        Self::new(10_000)
    }
}

fn is_missing_order(msg: &str) -> bool {
    classify(msg) == ErrorKind::MissingOrder
}

impl Ledger {
    /// A ledger remembering the last `max_tids` fill ids for de-duplication.
    pub fn new(max_tids: usize) -> Self {
        Self {
            position: 0.0,
            orders: Vec::with_capacity(64),
            sent: HashMap::with_capacity(64),
            rf: HashMap::new(),
            // Both windows at their full size from the start: growing them by doubling moved
            // them (and raised the RSS) in steps for the first hour of a busy run (issue 13).
            gone: HashSet::with_capacity(MAX_GONE),
            gone_order: VecDeque::with_capacity(MAX_GONE),
            tids: HashSet::with_capacity(max_tids),
            tid_order: VecDeque::with_capacity(max_tids),
            max_tids,
            next_key: 1,
            fills: 0,
            volume_usd: 0.0,
        }
    }

    pub fn orders(&self) -> &[LedgerOrder] {
        &self.orders
    }

    /// The order an oid or cloid names.
    pub fn find(&self, t: Target) -> Option<usize> {
        self.orders.iter().position(|o| match t {
            Target::Oid(oid) => o.oid == Some(oid),
            Target::Cloid(c) => o.cloid == Some(c),
        })
    }

    fn index_of_key(&self, key: u64) -> Option<usize> {
        self.orders.iter().position(|o| o.key == key)
    }

    /// (position + every live buy, -position + every live sell), the two sides of the safety
    /// invariant, counting resting, in-flight and pending-fill size.
    pub fn exposure(&self) -> (f64, f64) {
        let (mut buys, mut sells) = (0.0, 0.0);
        for o in &self.orders {
            let mut live = o.sz;
            if let Some(e) = o.oid.and_then(|oid| self.rf.get(&oid)) {
                if e.f > e.r {
                    // the fills stream ran ahead of the order side: that part is in position
                    live = (live - (e.f - e.r)).max(0.0);
                }
            }
            if o.is_buy {
                buys += live;
            } else {
                sells += live;
            }
        }
        for e in self.rf.values() {
            if e.r > e.f {
                if e.is_buy {
                    buys += e.r - e.f;
                } else {
                    sells += e.r - e.f;
                }
            }
        }
        (self.position + buys, -self.position + sells)
    }

    /// Size reported filled by the order side that the fills stream has not delivered yet.
    pub fn pending_fill(&self) -> f64 {
        self.rf.values().map(|e| (e.r - e.f).max(0.0)).sum()
    }

    /// Oids whose two fill reports the ledger still holds (bounded in a long run).
    pub fn fill_entries(&self) -> usize {
        self.rf.len()
    }

    /// Capacities of the fill-id and gone-oid windows (sets and their orders), for the tests
    /// that hold them at the size they were made with.
    #[cfg(test)]
    pub(crate) fn window_capacities(&self) -> [usize; 4] {
        [
            self.tids.capacity(),
            self.tid_order.capacity(),
            self.gone.capacity(),
            self.gone_order.capacity(),
        ]
    }

    // ---- what we send ----

    /// Records an action as it leaves; `id` is what its answer will be matched by.
    pub fn on_send(&mut self, id: u64, items: &[SentItem]) {
        let mut sent = Sent {
            new: Vec::with_capacity(items.len()),
            old: Vec::with_capacity(items.len()),
        };
        for it in items {
            if let Some(t) = it.old {
                if let Some(i) = self.find(t) {
                    let o = &mut self.orders[i];
                    if o.state == LedgerState::Resting {
                        o.state = if it.new.is_some() {
                            LedgerState::Modifying
                        } else {
                            LedgerState::Canceling
                        };
                    }
                }
            }
            let key = it.new.map(|n| {
                let key = self.next_key;
                self.next_key += 1;
                self.orders.push(LedgerOrder {
                    key,
                    is_buy: n.is_buy,
                    px: n.px,
                    sz: n.sz,
                    oid: None,
                    cloid: n.cloid,
                    state: LedgerState::InFlight,
                    reduce_only: n.reduce_only,
                    since_ms: 0,
                });
                key
            });
            sent.new.push(key);
            sent.old.push(it.old);
        }
        self.sent.insert(id, sent);
    }

    /// The number of items of the action sent as `id`, while it awaits its answer.
    pub fn in_flight_items(&self, id: u64) -> Option<usize> {
        self.sent.get(&id).map(|s| s.new.len())
    }

    /// Applies the exchange's answer (or one rebuilt from a lookup) to the action sent as `id`.
    pub fn on_reply(&mut self, id: u64, reply: &ExchangeReply, now_ms: u64) {
        let Some(sent) = self.sent.remove(&id) else {
            return;
        };
        let n = sent.new.len();
        for i in 0..n {
            let status = match reply {
                ExchangeReply::Ok => &ActionStatus::Success,
                ExchangeReply::Err(_) => &ActionStatus::Waiting, // handled below as an error
                ExchangeReply::Statuses(s) => match s.get(i) {
                    Some(st) => st,
                    // Pre-validation rejects the batch with one error: it applies to all.
                    None if s.len() == 1 && matches!(s[0], ActionStatus::Error(_)) => &s[0],
                    None => &ActionStatus::Waiting,
                },
            };
            let err = match (reply, status) {
                (ExchangeReply::Err(m), _) | (_, ActionStatus::Error(m)) => Some(m.as_str()),
                (_, ActionStatus::Waiting) => Some(""),
                _ => None,
            };
            let new = sent.new[i];
            let old = sent.old[i].and_then(|t| self.find(t).map(|j| self.orders[j].key));
            match (status, err) {
                (ActionStatus::Resting { oid, .. }, None) => {
                    if let Some(j) = new.and_then(|k| self.index_of_key(k)) {
                        let o = &mut self.orders[j];
                        o.state = LedgerState::Resting;
                        o.oid = Some(*oid);
                        o.since_ms = now_ms;
                    }
                    if let Some(k) = old.filter(|k| Some(*k) != new) {
                        self.remove_key(k); // a modify that placed its new order cancelled the old
                    }
                }
                (ActionStatus::Filled { oid, total_sz, .. }, None) => {
                    if let Some(j) = new.and_then(|k| self.index_of_key(k)) {
                        let (is_buy, sz, key) =
                            (self.orders[j].is_buy, self.orders[j].sz, self.orders[j].key);
                        let filled = if *total_sz > 0.0 { *total_sz } else { sz };
                        // Reported before the order leaves: after, the oid takes no report.
                        self.reported(*oid, is_buy, filled);
                        self.remove_key(key);
                    }
                    if let Some(k) = old.filter(|k| Some(*k) != new) {
                        self.remove_key(k);
                    }
                }
                (ActionStatus::Success, None) => {
                    if let Some(k) = old {
                        self.remove_key(k);
                    }
                }
                (_, e) => {
                    if let Some(k) = new {
                        self.remove_key(k);
                    }
                    if let Some(k) = old {
                        let was_resting = self.index_of_key(k).is_some_and(|j| {
                            matches!(
                                self.orders[j].state,
                                LedgerState::Canceling | LedgerState::Modifying
                            )
                        });
                        if e.is_some_and(is_missing_order) && was_resting {
                            self.remove_key(k); // already gone: filled or cancelled
                        } else if let Some(j) = self.index_of_key(k) {
                            let o = &mut self.orders[j];
                            if matches!(o.state, LedgerState::Canceling | LedgerState::Modifying) {
                                o.state = LedgerState::Resting;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Drops an action that never left (refused before sending).
    pub fn forget(&mut self, id: u64) {
        let Some(sent) = self.sent.remove(&id) else {
            return;
        };
        for k in sent.new.into_iter().flatten() {
            self.remove_key(k);
        }
        for t in sent.old.into_iter().flatten() {
            if let Some(j) = self.find(t) {
                let o = &mut self.orders[j];
                if matches!(o.state, LedgerState::Canceling | LedgerState::Modifying) {
                    o.state = LedgerState::Resting;
                }
            }
        }
    }

    // ---- what the exchange streams ----

    /// One `orderUpdates` entry of our coin.
    pub fn on_order_update(&mut self, u: &OrderUpdate, now_ms: u64) {
        let known = self
            .find(Target::Oid(u.oid))
            .or_else(|| u.cloid.and_then(|c| self.find(Target::Cloid(c))));
        match (u.status, known) {
            (UpdateStatus::Open, None) => {
                // Not ours as far as we know (an earlier process's, or an ack not seen yet):
                // count it until reconciliation decides.
                let key = self.next_key;
                self.next_key += 1;
                self.orders.push(LedgerOrder {
                    key,
                    is_buy: u.side == Side::Bid,
                    px: u.px,
                    sz: u.sz,
                    oid: Some(u.oid),
                    cloid: u.cloid,
                    state: LedgerState::Resting,
                    reduce_only: false,
                    since_ms: now_ms,
                });
            }
            (UpdateStatus::Open, Some(j)) => {
                let o = &mut self.orders[j];
                o.oid = Some(u.oid);
                if o.state == LedgerState::InFlight {
                    o.state = LedgerState::Resting;
                    o.since_ms = now_ms;
                }
                if u.sz < o.sz - EPS {
                    let (is_buy, part) = (o.is_buy, o.sz - u.sz);
                    o.sz = u.sz;
                    self.reported(u.oid, is_buy, part); // a partial fill
                }
            }
            (UpdateStatus::Other, _) | (_, None) => {}
            (status, Some(j)) => {
                let o = self.orders[j];
                if status == UpdateStatus::Filled && o.sz > EPS {
                    self.reported(u.oid, o.is_buy, o.sz);
                }
                self.remove_key(o.key);
            }
        }
    }

    fn remember_tid(&mut self, tid: u64) -> bool {
        if self.tids.contains(&tid) {
            return false;
        }
        // The oldest leaves before the newest enters, so neither window ever holds one more
        // than its size (which would make it grow: `new`).
        if self.tid_order.len() >= self.max_tids {
            if let Some(t) = self.tid_order.pop_front() {
                self.tids.remove(&t);
            }
        }
        self.tids.insert(tid);
        self.tid_order.push_back(tid);
        true
    }

    /// One fill of our coin; false for a `tid` already counted.
    pub fn on_fill(&mut self, f: &Fill) -> bool {
        if !self.remember_tid(f.tid) {
            return false;
        }
        let is_buy = f.side == Side::Bid;
        self.position += if is_buy { f.sz } else { -f.sz };
        self.fills += 1;
        self.volume_usd += f.sz * f.px;
        let e = self.rf.entry(f.oid).or_insert(FilledSizes {
            is_buy,
            r: 0.0,
            f: 0.0,
        });
        e.f += f.sz;
        self.prune(f.oid);
        true
    }

    /// Marks a fill as counted without moving the position: history replayed in a subscription
    /// snapshot, or stored by a previous run, already inside the position read from the exchange.
    pub fn mark_seen(&mut self, tid: u64) {
        self.remember_tid(tid);
    }

    pub fn seen(&self, tid: u64) -> bool {
        self.tids.contains(&tid)
    }

    /// An order the exchange cancelled by itself (`nonUserCancel`).
    pub fn on_gone(&mut self, oid: u64) {
        if let Some(j) = self.find(Target::Oid(oid)) {
            let k = self.orders[j].key;
            self.remove_key(k);
        }
    }

    // ---- truth from the exchange ----

    /// Replaces resting orders and position with the exchange's snapshot. In-flight placements
    /// stay (their answers are still coming); pending fills are now in `position`.
    pub fn reset_from_exchange(&mut self, position: f64, open: &[OpenOrder], now_ms: u64) {
        self.position = position;
        self.orders.retain(|o| o.state == LedgerState::InFlight);
        self.rf.clear();
        for oo in open {
            let matched = oo.cloid.and_then(|c| {
                self.orders
                    .iter()
                    .position(|o| o.state == LedgerState::InFlight && o.cloid == Some(c))
            });
            if let Some(j) = matched {
                let o = &mut self.orders[j];
                o.oid = Some(oo.oid);
                o.state = LedgerState::Resting;
                o.sz = oo.sz;
                o.since_ms = now_ms;
                continue;
            }
            let key = self.next_key;
            self.next_key += 1;
            self.orders.push(LedgerOrder {
                key,
                is_buy: oo.is_buy,
                px: oo.px,
                sz: oo.sz,
                oid: Some(oo.oid),
                cloid: oo.cloid,
                state: LedgerState::Resting,
                reduce_only: oo.reduce_only,
                since_ms: now_ms,
            });
        }
    }

    /// Drops the orders the exchange no longer holds: not in `open_oids`, not in flight, and
    /// acknowledged before `asked_ms` (when the snapshot was asked for). Returns them.
    pub fn drop_gone(&mut self, open_oids: &HashSet<u64>, asked_ms: u64) -> Vec<LedgerOrder> {
        let gone: Vec<LedgerOrder> = self
            .orders
            .iter()
            .filter(|o| {
                o.state != LedgerState::InFlight
                    && o.oid.is_some_and(|oid| !open_oids.contains(&oid))
                    && o.since_ms < asked_ms
            })
            .copied()
            .collect();
        for o in &gone {
            self.remove_key(o.key);
        }
        gone
    }

    // ---- internals ----

    fn remove_key(&mut self, key: u64) {
        if let Some(j) = self.index_of_key(key) {
            let o = self.orders.remove(j);
            if let Some(oid) = o.oid {
                if !self.gone.contains(&oid) {
                    if self.gone_order.len() >= MAX_GONE {
                        if let Some(old) = self.gone_order.pop_front() {
                            self.gone.remove(&old);
                        }
                    }
                    self.gone.insert(oid);
                    self.gone_order.push_back(oid);
                }
                self.prune(oid);
            }
        }
    }

    fn reported(&mut self, oid: u64, is_buy: bool, sz: f64) {
        let e = self.rf.entry(oid).or_insert(FilledSizes {
            is_buy,
            r: 0.0,
            f: 0.0,
        });
        e.r += sz;
        self.prune(oid);
    }

    /// Forgets an oid once it is off the book and both streams agree on its fills, or once its
    /// order has left the ledger and the fills delivered cover what was reported: no report
    /// comes for a gone order, and more fills only move the position, so the entry no longer
    /// changes the exposure. (An oid not yet known is not gone: its fills may come before the
    /// answer that reports them.)
    fn prune(&mut self, oid: u64) {
        if let Some(e) = self.rf.get(&oid) {
            let settled =
                (e.r - e.f).abs() <= EPS || (e.r <= e.f + EPS && self.gone.contains(&oid));
            if settled && !self.orders.iter().any(|o| o.oid == Some(oid)) {
                self.rf.remove(&oid);
            }
        }
    }
}
