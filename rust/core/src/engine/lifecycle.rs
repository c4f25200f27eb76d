//! The order lifecycle: the exchange's answers to our actions, order updates, fills and their
//! markouts. Each event has a typed entry (`on_order_update`, `on_fill`, `on_exchange_reply`,
//! ...) that tests, benches and the backtester call directly; the byte entries
//! (`on_user_frame`, `on_exchange_response`) parse a frame completely and then apply it through
//! the typed ones, so a malformed frame leaves the engine unchanged.

use serde::{Deserialize, Serialize};

use super::frames::{
    parse_exchange_response, parse_user_frame, ActionStatus, ExchangeReply, Fill, OrderUpdate,
    UpdateStatus, UserFrame,
};
use super::orders::{OrderState, TrackedOrder};
use super::output::ActionKind;
use super::{EngineError, QuoteEngine, SIZE_EPS};
use crate::error::Result;
use crate::protocol::errors::{classify, ErrorKind};
use crate::types::Side;

/// Batches awaiting the exchange's answer; the oldest is forgotten beyond this (its orders stay
/// tracked and counted until order updates settle them).
pub(super) const MAX_BATCHES: usize = 64;
/// Fills awaiting their 5 s markout.
pub(super) const MARKOUT_RING: usize = 128;
const MARKOUT_MS: u64 = 5_000;
/// Fill trade ids remembered to drop a fill reported twice (userFills and userEvents).
pub(super) const TID_RING: usize = 256;
const AS_EWMA_ALPHA: f64 = 0.05;
/// Markouts after which the measured adverse selection fully replaces its prior.
const AS_WARMUP_FILLS: f64 = 50.0;
/// The same for one-sided flow (a few fills a burst).
const FLOW_AS_WARMUP_FILLS: f64 = 10.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct PendingBatch {
    pub(super) id: u64,
    pub(super) kind: ActionKind,
    pub(super) count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(super) struct PendingMarkout {
    due_ms: u64,
    buy: bool,
    px: f64,
    predicted_bps: f64,
    /// Made on the side one-sided taker flow ran into (a buy while it sold).
    flow: bool,
}

/// Learned adverse selection (SPEC 7's measured buffer): EWMA of the 5 s markout of our fills
/// against us, from the fill price, and how many fed it; kept apart for fills on the side the
/// one-sided taker flow ran into (`SignalIntegrator::flow_dir`, `against_flow`).
///
/// From the fill price, not from the mid at the fill: a resting quote is mostly filled by the
/// price running through it, so the mid's move since the fill grows with the quote's depth and
/// a buffer learned from it widened the quotes without buying any edge (issue 14: +33% volume,
/// same PnL, with it off). Apart for one-sided flow: informed bursts cost several bps a fill,
/// ordinary times a tenth of one, and one buffer for both priced every quote as in a burst.
/// Apart for the side the flow runs into, not for both sides while it lasts: in a burst that
/// side is the one filled at a loss (on the toxic preset the informed orders all take it).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct AdverseSelection {
    pub ewma_bps: f64,
    pub count: u64,
    #[serde(default)]
    pub flow_ewma_bps: f64,
    #[serde(default)]
    pub flow_count: u64,
}

/// A fill on `side` is on the side one-sided taker flow of direction `flow_dir`
/// (`SignalIntegrator::flow_dir`) runs into: a buy while it sells, a sell while it buys.
#[inline]
pub fn against_flow(side: Side, flow_dir: i8) -> bool {
    matches!((side, flow_dir), (Side::Bid, -1) | (Side::Ask, 1))
}

impl AdverseSelection {
    /// Adds one fill's markout against us, bps: to the EWMA of fills against one-sided flow
    /// (`against_flow`) or to the ordinary one.
    pub fn record(&mut self, against_flow: bool, adverse_bps: f64) {
        let (ewma, count, alpha) = if against_flow {
            (&mut self.flow_ewma_bps, &mut self.flow_count, AS_EWMA_ALPHA)
        } else {
            (&mut self.ewma_bps, &mut self.count, AS_EWMA_ALPHA)
        };
        *ewma = if *count == 0 {
            adverse_bps
        } else {
            *ewma + alpha * (adverse_bps - *ewma)
        };
        *count += 1;
    }

    /// The measured buffer of fills against one-sided flow (`against_flow`) or of ordinary
    /// ones, and its warm-up progress in [0, 1] (the ladder blends it with the prior by that
    /// progress). The first warms up in fewer fills: bursts are rare and hold a few fills each.
    pub fn buffer_input(&self, against_flow: bool) -> (f64, f64) {
        if against_flow {
            (
                self.flow_ewma_bps,
                (self.flow_count as f64 / FLOW_AS_WARMUP_FILLS).min(1.0),
            )
        } else {
            (
                self.ewma_bps,
                (self.count as f64 / AS_WARMUP_FILLS).min(1.0),
            )
        }
    }
}

impl QuoteEngine {
    /// Applies an `orderUpdates`, `userFills` or `user` (userEvents) frame. Returns how many
    /// entries changed the engine's state.
    ///
    /// # Errors
    /// A malformed frame (the engine is unchanged).
    pub fn on_user_frame(&mut self, frame: &[u8], recv_ms: u64) -> Result<usize> {
        let parsed = parse_user_frame(frame, &self.cfg.asset)?;
        Ok(self.apply_user_frame(&parsed, recv_ms))
    }

    /// Applies a parsed user frame. Returns how many entries changed the engine's state.
    pub fn apply_user_frame(&mut self, frame: &UserFrame, recv_ms: u64) -> usize {
        match frame {
            UserFrame::Orders(updates) => updates
                .iter()
                .filter(|u| self.on_order_update(u, recv_ms))
                .count(),
            UserFrame::Fills { snapshot, fills } => {
                let mut n = 0;
                for f in fills {
                    if *snapshot {
                        // History replayed at subscription: already in the position, but its
                        // trade ids must still shadow a later duplicate.
                        self.seen_tid(f.tid);
                    } else {
                        n += usize::from(self.on_fill(f, recv_ms));
                    }
                }
                n
            }
            UserFrame::NonUserCancel(oids) => oids
                .iter()
                .filter(|&&oid| self.on_non_user_cancel(oid))
                .count(),
            UserFrame::Ignored => 0,
        }
    }

    /// One fill of ours (`userFills` or `userEvents`). A trade id seen before is dropped (the
    /// exchange reports a fill on both). Returns whether it changed the engine's state.
    pub fn on_fill(&mut self, f: &Fill, recv_ms: u64) -> bool {
        if self.seen_tid(f.tid) {
            return false;
        }
        self.apply_fill(f, recv_ms);
        true
    }

    /// An order the exchange cancelled on its own (`nonUserCancel`).
    pub fn on_non_user_cancel(&mut self, oid: u64) -> bool {
        match self.orders.position_by_oid(oid) {
            Some(i) => {
                self.order_gone(i, false);
                true
            }
            None => false,
        }
    }

    fn seen_tid(&mut self, tid: u64) -> bool {
        if tid == 0 {
            return false;
        }
        if self.tids.contains(&tid) {
            return true;
        }
        self.tids[self.tid_pos] = tid;
        self.tid_pos = (self.tid_pos + 1) % TID_RING;
        false
    }

    /// Removes order `i`, recording its outcome in the fill model.
    fn order_gone(&mut self, i: usize, filled: bool) {
        let o = self.orders.remove(i);
        if !o.ioc && (o.state != OrderState::PendingNew || filled || o.filled_any) {
            self.ladder
                .fill_model
                .record(o.depth_bps, filled || o.filled_any);
        }
    }

    /// One entry of `orderUpdates`. Returns whether it changed the engine's state.
    pub fn on_order_update(&mut self, u: &OrderUpdate, recv_ms: u64) -> bool {
        let OrderUpdate {
            oid,
            cloid,
            side,
            px,
            sz,
            status,
        } = *u;
        let found = cloid
            .and_then(|c| self.orders.position_by_cloid(c))
            .or_else(|| self.orders.position_by_oid(oid));
        match (status, found) {
            (UpdateStatus::Open, Some(i)) => {
                let o = self.orders.get_mut(i);
                o.oid = Some(oid);
                o.sz = sz;
                if o.state == OrderState::PendingNew {
                    o.state = OrderState::Resting;
                }
                self.orders.drop_replaced(i);
                true
            }
            (UpdateStatus::Open, None) => {
                // An order we do not track (placed by an earlier process, or its cloid lost):
                // it is live exposure, so track it; reconcile will cancel it.
                let mid = if self.market.has_top() {
                    self.market.mid()
                } else {
                    px
                };
                self.orders.insert(TrackedOrder {
                    cloid: cloid.unwrap_or(0),
                    oid: Some(oid),
                    side,
                    px,
                    sz,
                    reduce_only: false,
                    state: OrderState::Resting,
                    depth_bps: (px - mid).abs() / mid * 1e4,
                    batch: 0,
                    index: 0,
                    replaces: None,
                    queue_ahead: 0.0,
                    filled_any: false,
                    sent_ms: recv_ms,
                    ioc: false,
                })
            }
            (UpdateStatus::Filled, Some(i)) => {
                self.orders.drop_replaced(i);
                let i = cloid
                    .and_then(|c| self.orders.position_by_cloid(c))
                    .or_else(|| self.orders.position_by_oid(oid));
                if let Some(i) = i {
                    self.order_gone(i, true);
                }
                true
            }
            (UpdateStatus::Gone, Some(i)) => {
                self.order_gone(i, false);
                true
            }
            _ => false,
        }
    }

    fn apply_fill(&mut self, f: &Fill, recv_ms: u64) {
        let signed = if f.side == Side::Bid { f.sz } else { -f.sz };
        self.account.position = match f.start_position {
            Some(start) => start + signed,
            None => self.account.position + signed,
        };
        self.limits_dirty = true;
        let idx = f
            .cloid
            .and_then(|c| self.orders.position_by_cloid(c))
            .or_else(|| self.orders.position_by_oid(f.oid));
        let mut depth = f64::NAN;
        // A taker exit's fill is not a maker's fill: its markout would teach the adverse
        // selection, Kelly and queue-value models a price they never quoted.
        let maker = idx.is_none_or(|i| !self.orders.get(i).ioc);
        if let Some(i) = idx {
            let o = self.orders.get_mut(i);
            o.sz -= f.sz;
            o.filled_any = true;
            depth = o.depth_bps;
            if o.sz <= SIZE_EPS * f.sz.max(1e-12) {
                self.orders.drop_replaced(i);
                if let Some(i) = f
                    .cloid
                    .and_then(|c| self.orders.position_by_cloid(c))
                    .or_else(|| self.orders.position_by_oid(f.oid))
                {
                    self.order_gone(i, true);
                }
            }
        }
        if maker && self.market.has_top() {
            let mid = self.market.mid();
            if !depth.is_finite() {
                depth = (f.px - mid).abs() / mid * 1e4;
            }
            let predicted = self.queue.queue_value(depth, self.signals.toxicity, 0.0);
            if self.markout_len < MARKOUT_RING {
                self.markouts[self.markout_len] = PendingMarkout {
                    due_ms: recv_ms + MARKOUT_MS,
                    buy: f.side == Side::Bid,
                    px: f.px,
                    predicted_bps: predicted,
                    flow: against_flow(f.side, self.integrator.flow_dir(recv_ms as i64)),
                };
                self.markout_len += 1;
            }
        }
    }

    /// Applies the exchange's answer to the batch `batch_id` (the `batch` of the actions sent in
    /// that exchange action). Returns how many orders it settled.
    ///
    /// # Errors
    /// A malformed response, or a batch id that is not in flight (the engine is unchanged).
    pub fn on_exchange_response(
        &mut self,
        frame: &[u8],
        _recv_ms: u64,
        batch_id: u64,
    ) -> Result<usize> {
        let reply = parse_exchange_response(frame)?;
        self.on_exchange_reply(&reply, batch_id)
    }

    /// Applies a parsed answer to the batch `batch_id`. Returns how many orders it settled.
    ///
    /// # Errors
    /// A batch id that is not in flight (the engine is unchanged).
    pub fn on_exchange_reply(&mut self, reply: &ExchangeReply, batch_id: u64) -> Result<usize> {
        let slot = self
            .batches
            .iter()
            .position(|b| b.is_some_and(|b| b.id == batch_id))
            .ok_or(EngineError::UnknownBatch(batch_id))?;
        let batch = self.batches[slot].take().expect("found above");
        let status_of = |index: u32| -> Option<ActionStatus> {
            match reply {
                ExchangeReply::Statuses(st) => {
                    // A pre-validation failure answers the whole batch with one error.
                    if st.len() == 1 && batch.count > 1 {
                        if let ActionStatus::Error(e) = &st[0] {
                            return Some(ActionStatus::Error(e.clone()));
                        }
                    }
                    st.get(index as usize).cloned()
                }
                ExchangeReply::Ok => Some(ActionStatus::Success),
                ExchangeReply::Err(e) => Some(ActionStatus::Error(e.clone())),
            }
        };
        let top_level_err = matches!(reply, ExchangeReply::Err(_));
        let mut settled = 0usize;
        let mut i = 0usize;
        while i < self.orders.len() {
            let o = *self.orders.get(i);
            if o.batch != batch_id {
                i += 1;
                continue;
            }
            let Some(st) = status_of(o.index) else {
                i += 1;
                continue;
            };
            settled += 1;
            // Settled: a rescan after a removal must not see it again.
            self.orders.get_mut(i).batch = 0;
            let is_new_half = o.state == OrderState::PendingNew;
            match (batch.kind, is_new_half, st) {
                // Places and the new half of modifies.
                (
                    ActionKind::Place | ActionKind::Modify | ActionKind::Take,
                    true,
                    ActionStatus::Resting { oid, .. },
                ) => {
                    let ord = self.orders.get_mut(i);
                    ord.oid = Some(oid);
                    ord.state = OrderState::Resting;
                    // An IOC never rests; if a venue says it does, it is an ordinary order
                    // now, which reconcile sees and cancels (it matches no quote).
                    ord.ioc = false;
                    if self.orders.drop_replaced(i).is_some() {
                        i = 0; // swap_remove moved entries: rescan
                        continue;
                    }
                }
                // A single modify's `default` answer: the cancel-replace happened.
                (ActionKind::Place | ActionKind::Modify, true, ActionStatus::Success)
                    if self.orders.drop_replaced(i).is_some() =>
                {
                    i = 0;
                    continue;
                }
                // A take is gone with its answer: filled (in part; the rest is cancelled) or
                // refused ("could not immediately match"); its fills arrive on userFills.
                (
                    ActionKind::Place | ActionKind::Modify | ActionKind::Take,
                    true,
                    ActionStatus::Filled { .. },
                ) => {
                    self.orders.drop_replaced(i);
                    if let Some(j) = self.orders.position_by_cloid(o.cloid) {
                        self.order_gone(j, true);
                    }
                    i = 0;
                    continue;
                }
                (
                    ActionKind::Place | ActionKind::Modify | ActionKind::Take,
                    true,
                    ActionStatus::Error(e),
                ) => {
                    // Never placed. For a modify the old order is still there as far as we
                    // know (back to resting: counted, the safe side), unless the answer says
                    // the exchange no longer holds it ("Cannot modify canceled or filled
                    // order"): then it is gone, as for a cancel, and a fill, if any, arrives
                    // on userFills. Kept as resting, it was modified again every cycle and
                    // refused every time, and the side never quoted again (issue 13: after a
                    // freeze whose cancel answers were lost).
                    let new = self.orders.remove(i);
                    if let Some(j) = new.replaces.and_then(|c| self.orders.position_by_cloid(c)) {
                        if classify(&e) == ErrorKind::MissingOrder {
                            self.order_gone(j, false);
                        } else {
                            self.orders.get_mut(j).state = OrderState::Resting;
                        }
                    }
                    i = 0;
                    continue;
                }
                // The old half of a modify: settled through its new half.
                (ActionKind::Modify, false, _) => {}
                // Cancels.
                (ActionKind::Cancel, _, ActionStatus::Success) => {
                    self.order_gone(i, false);
                    continue;
                }
                (ActionKind::Cancel, _, ActionStatus::Error(_)) if !top_level_err => {
                    // "Order was never placed, already canceled, or filled": gone either way;
                    // a fill, if any, arrives on userFills.
                    self.order_gone(i, false);
                    continue;
                }
                (ActionKind::Cancel, _, ActionStatus::Error(_)) => {
                    // The whole cancel action failed: the order is still live.
                    let ord = self.orders.get_mut(i);
                    ord.state = if ord.oid.is_some() {
                        OrderState::Resting
                    } else {
                        OrderState::PendingNew
                    };
                }
                _ => {}
            }
            i += 1;
        }
        Ok(settled)
    }

    /// The learned adverse selection (5 s markouts of our fills).
    pub fn adverse_selection(&self) -> AdverseSelection {
        self.adverse
    }

    /// Settles the markouts due at `now_ms` against the current mid: adverse selection, the
    /// Kelly sizer's edges and the queue-value model's outcomes.
    pub(super) fn process_markouts(&mut self, now_ms: u64) {
        if self.markout_len == 0 || !self.market.has_top() {
            return;
        }
        let mid = self.market.mid();
        let fee = self.cfg.fee_bps;
        let mut i = 0;
        while i < self.markout_len {
            let m = self.markouts[i];
            if m.due_ms > now_ms {
                i += 1;
                continue;
            }
            let sign = if m.buy { 1.0 } else { -1.0 };
            let markout = sign * (mid - m.px) / m.px * 1e4;
            self.adverse.record(m.flow, -markout);
            let edge = markout - fee;
            self.ladder.kelly.record(edge);
            self.queue.record_outcome(m.predicted_bps, edge);
            self.markout_len -= 1;
            self.markouts[i] = self.markouts[self.markout_len];
        }
    }
}
