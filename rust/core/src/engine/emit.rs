//! Reconcile and emit (SPEC 8 step 6): desired quotes against our orders, paced by the token
//! bucket, the requote interval and the address-quota planner, with the safety invariant checked
//! on every order before it is emitted; then the cycle's batches are recorded as in flight.

use super::lifecycle::PendingBatch;
use super::orders::{OrderState, TrackedOrder};
use super::output::{ActionKind, CapFlags, CycleOutput, OrderStep};
use super::reconcile::{fair_order, reconcile_side, Decision, ReconcileParams};
use super::risk_plan::RiskPlan;
use super::{QuoteEngine, SIZE_EPS};
use crate::strategy::{Quote, MAX_LEVELS};
use crate::types::Side;

impl QuoteEngine {
    pub(super) fn cancel_all(&mut self, now_ms: u64, batches: &mut CycleBatches) {
        for i in 0..self.orders.len() {
            if self.orders.get(i).state != OrderState::PendingCancel {
                self.emit_cancel(i, now_ms, batches);
            }
        }
    }

    /// Cancels order `i`, unless the exchange has not acknowledged it yet: a cancel sent while
    /// its place is still in flight can overtake it (each action draws its own latency), be
    /// answered "never placed", and then the place lands and rests while the engine, told it is
    /// gone, stops counting it (SPEC 3: the venue counted such breaches in backtests). An
    /// unacknowledged order stays counted; the cycle its answer or `open` update triggers
    /// cancels it by oid, and only then is "never placed" proof that it is gone.
    fn emit_cancel(&mut self, i: usize, now_ms: u64, batches: &mut CycleBatches) -> bool {
        if self.orders.get(i).state == OrderState::PendingNew {
            return false;
        }
        let Some((batch, index)) = batches.slot(ActionKind::Cancel, &mut self.next_batch) else {
            return false;
        };
        let o = *self.orders.get(i);
        if !self.out.actions.push(OrderStep {
            kind: ActionKind::Cancel,
            side: o.side,
            px: o.px,
            sz: o.sz,
            cloid: o.cloid,
            oid: o.oid,
            target_cloid: None,
            reduce_only: o.reduce_only,
            level: 0,
            batch,
            index,
        }) {
            return false;
        }
        batches.commit(ActionKind::Cancel);
        self.bucket.force_take();
        let ord = self.orders.get_mut(i);
        ord.state = OrderState::PendingCancel;
        ord.batch = batch;
        ord.index = index;
        ord.sent_ms = ord.sent_ms.max(now_ms);
        true
    }

    pub(super) fn reconcile_and_emit(
        &mut self,
        now_ms: u64,
        plan: &RiskPlan,
        room_bid: f64,
        room_ask: f64,
        reduce_only: bool,
        batches: &mut CycleBatches,
    ) {
        let (mid, configured_max) = (plan.mid, plan.configured_max);
        let widening = self.out.diagnostics.quota_widening;
        let rc = &self.cfg.reconcile;
        let params = ReconcileParams {
            max_bps_diff: rc.max_bps_diff * widening,
            size_tolerance: (rc.size_tolerance * widening).min(1.0),
            use_modify: rc.use_modify,
        };
        let action_cost = rc.action_cost_bps;
        let max_actions = rc.max_actions_per_cycle;
        if widening > 1.0 {
            self.out.diagnostics.caps.set(CapFlags::QUOTA);
        }
        let interval = self.out.diagnostics.requote_interval_ms;
        let throttled = self
            .last_requote_ms
            .is_some_and(|t| now_ms < t.saturating_add(interval));
        let position = self.account.position;
        let mut exposure = self.orders.exposure();
        let mut emitted_requotes = 0u32;
        // Per side: decisions, keeps that overflow the room cancelled, cancels emitted; then the
        // two sides' requotes share the budget fairly (`fair_order`).
        let mut kept = [0.0f64; 2];
        let mut requotes = [[(0u32, 0usize); MAX_LEVELS]; 2];
        let mut n_requotes = [0usize; 2];
        for (s, side) in [Side::Bid, Side::Ask].into_iter().enumerate() {
            let room = match side {
                Side::Bid => room_bid,
                Side::Ask => room_ask,
            };
            // Borrowed field by field, not copied: the quotes are ~2 KB a side.
            let dec = &mut self.scratch.decisions[s];
            dec.clear();
            let desired = self.out.quotes.side(side).as_slice();
            reconcile_side(mid, side, desired, self.orders.as_slice(), &params, dec);
            // Kept orders must fit in the room: cancel the deepest keeps that do not.
            let n = self.scratch.decisions[s].as_slice().len();
            for k in 0..n {
                if let Decision::Keep { order, .. } = self.scratch.decisions[s].as_slice()[k] {
                    let sz = self.orders.get(order).sz;
                    if kept[s] + sz > room * (1.0 + SIZE_EPS) + SIZE_EPS {
                        self.scratch.decisions[s].set(k, Decision::Cancel { order });
                    } else {
                        kept[s] += sz;
                    }
                }
            }
            for k in 0..n {
                match self.scratch.decisions[s].as_slice()[k] {
                    Decision::Cancel { order } => {
                        self.emit_cancel(order, now_ms, batches);
                    }
                    Decision::Place { quote } | Decision::Modify { quote, .. } => {
                        if n_requotes[s] < MAX_LEVELS {
                            let level = self.out.quotes.side(side).as_slice()[quote].level;
                            requotes[s][n_requotes[s]] = (level, k);
                            n_requotes[s] += 1;
                        }
                    }
                    Decision::Hold { .. } => self.out.diagnostics.held += 1,
                    Decision::Keep { .. } => {}
                }
            }
        }
        let mut order = [(Side::Bid, 0usize); 2 * MAX_LEVELS];
        let [bid_req, ask_req] = &mut requotes;
        let n_order = fair_order(
            &mut bid_req[..n_requotes[0]],
            &mut ask_req[..n_requotes[1]],
            self.cycles % 2 == 0,
            &mut order,
        );
        for &(side, k) in &order[..n_order] {
            let s = match side {
                Side::Bid => 0,
                Side::Ask => 1,
            };
            let room = match side {
                Side::Bid => room_bid,
                Side::Ask => room_ask,
            };
            let dec = self.scratch.decisions[s].as_slice()[k];
            let (quote, old) = match dec {
                Decision::Place { quote } => (quote, None),
                Decision::Modify { order, quote } => (quote, Some(order)),
                _ => continue,
            };
            let q = self.out.quotes.side(side).as_slice()[quote];
            let fits_invariant = exposure.fits(side, q.sz, position, configured_max);
            let fits_room = kept[s] + q.sz <= room * (1.0 + SIZE_EPS) + SIZE_EPS;
            let worth = widening <= 1.0
                || match old {
                    Some(o) => (self.orders.get(o).px - q.px).abs() / mid * 1e4 >= action_cost,
                    None => {
                        self.queue
                            .queue_value(q.depth_bps, self.signals.toxicity, 0.0)
                            >= action_cost
                    }
                };
            let budget = emitted_requotes < max_actions
                && !self.orders.is_full()
                && self.bucket.available() >= 1;
            if throttled || !worth || !budget || !fits_invariant || !fits_room {
                let d = &mut self.out.diagnostics;
                d.deferred += 1;
                d.throttled |= throttled;
                match side {
                    Side::Bid => d.deferred_bid += 1,
                    Side::Ask => d.deferred_ask += 1,
                }
                // A stale order that cannot be modified in place is still wrong where it
                // is: cancel it and place its replacement once room frees up.
                if let Some(o) = old {
                    if !throttled && (!fits_invariant || !fits_room) {
                        self.emit_cancel(o, now_ms, batches);
                    }
                }
                continue;
            }
            let emitted = match old {
                None => self.emit_place(&q, reduce_only, now_ms, batches),
                Some(o) => self.emit_modify(o, &q, reduce_only, now_ms, batches),
            };
            if emitted {
                self.bucket.take();
                emitted_requotes += 1;
                kept[s] += q.sz;
                match side {
                    Side::Bid => exposure.buys += q.sz,
                    Side::Ask => exposure.sells += q.sz,
                }
            } else {
                self.out.diagnostics.deferred += 1;
            }
        }
        if emitted_requotes > 0 {
            self.last_requote_ms = Some(now_ms);
        }
    }

    fn new_order(&mut self, q: &Quote, reduce_only: bool, now_ms: u64) -> TrackedOrder {
        TrackedOrder {
            cloid: self.cloids.next_cloid(),
            oid: None,
            side: q.side,
            px: q.px,
            sz: q.sz,
            reduce_only,
            state: OrderState::PendingNew,
            depth_bps: q.depth_bps,
            batch: 0,
            index: 0,
            replaces: None,
            queue_ahead: self.visible_ahead(q),
            filled_any: false,
            sent_ms: now_ms,
            ioc: false,
        }
    }

    fn visible_ahead(&self, q: &Quote) -> f64 {
        self.visible_qty(q.side, q.px)
    }

    fn emit_place(
        &mut self,
        q: &Quote,
        reduce_only: bool,
        now_ms: u64,
        batches: &mut CycleBatches,
    ) -> bool {
        self.emit_new(ActionKind::Place, q, reduce_only, now_ms, batches)
    }

    /// A new order of `kind`: a post-only place, or a take (the taker exit's IOC, tracked with
    /// `ioc` set). Emitted into its kind's batch and tracked; false when it could not be.
    pub(super) fn emit_new(
        &mut self,
        kind: ActionKind,
        q: &Quote,
        reduce_only: bool,
        now_ms: u64,
        batches: &mut CycleBatches,
    ) -> bool {
        let Some((batch, index)) = batches.slot(kind, &mut self.next_batch) else {
            return false;
        };
        let mut o = self.new_order(q, reduce_only, now_ms);
        o.batch = batch;
        o.index = index;
        o.ioc = kind == ActionKind::Take;
        if !self.out.actions.push(OrderStep {
            kind,
            side: q.side,
            px: q.px,
            sz: q.sz,
            cloid: o.cloid,
            oid: None,
            target_cloid: None,
            reduce_only,
            level: q.level,
            batch,
            index,
        }) {
            return false;
        }
        batches.commit(kind);
        self.orders.insert(o)
    }

    fn emit_modify(
        &mut self,
        old_i: usize,
        q: &Quote,
        reduce_only: bool,
        now_ms: u64,
        batches: &mut CycleBatches,
    ) -> bool {
        let Some((batch, index)) = batches.slot(ActionKind::Modify, &mut self.next_batch) else {
            return false;
        };
        let old = *self.orders.get(old_i);
        let mut o = self.new_order(q, reduce_only, now_ms);
        o.batch = batch;
        o.index = index;
        o.replaces = Some(old.cloid);
        if !self.out.actions.push(OrderStep {
            kind: ActionKind::Modify,
            side: q.side,
            px: q.px,
            sz: q.sz,
            cloid: o.cloid,
            oid: old.oid,
            target_cloid: Some(old.cloid),
            reduce_only,
            level: q.level,
            batch,
            index,
        }) {
            return false;
        }
        batches.commit(ActionKind::Modify);
        let prev = self.orders.get_mut(old_i);
        prev.state = OrderState::PendingCancel;
        prev.batch = batch;
        prev.index = index;
        // The old order's fill-model outcome: replaced unfilled.
        if !prev.filled_any {
            let depth = prev.depth_bps;
            self.ladder.fill_model.record(depth, false);
            self.orders.get_mut(old_i).filled_any = true; // outcome recorded once
        }
        self.orders.insert(o)
    }

    pub(super) fn finish(&mut self, batches: &CycleBatches) -> &CycleOutput {
        for (kind, b) in batches.used() {
            let slot = self
                .batches
                .iter()
                .position(Option::is_none)
                .unwrap_or_else(|| {
                    // Forget the oldest batch: its orders stay tracked (and counted).
                    let oldest = self
                        .batches
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, b)| b.map_or(u64::MAX, |b| b.id))
                        .map_or(0, |(i, _)| i);
                    oldest
                });
            self.batches[slot] = Some(PendingBatch {
                id: b.0,
                kind,
                count: b.1,
            });
        }
        // The address quota counts every action of a batch (SPEC 8); `set_quota` resyncs it.
        if self.quota.known {
            self.quota.used += self.out.actions.len() as u64;
        }
        let e = self.orders.exposure();
        let d = &mut self.out.diagnostics;
        d.exposure_buys = e.buys;
        d.exposure_sells = e.sells;
        d.tokens = self.bucket.available();
        &self.out
    }
}

/// Batch ids of one cycle, one per action kind, allocated on first use.
#[derive(Debug, Default)]
pub(super) struct CycleBatches {
    /// (id, count) per kind: cancel, modify, place, take.
    ids: [Option<(u64, u32)>; 4],
}

impl CycleBatches {
    fn idx(kind: ActionKind) -> usize {
        match kind {
            ActionKind::Cancel => 0,
            ActionKind::Modify => 1,
            ActionKind::Place => 2,
            ActionKind::Take => 3,
        }
    }

    /// The (batch id, index) the next action of `kind` gets; `commit` makes it count.
    pub(super) fn slot(&mut self, kind: ActionKind, next: &mut u64) -> Option<(u64, u32)> {
        let e = &mut self.ids[Self::idx(kind)];
        if e.is_none() {
            *e = Some((*next, 0));
            *next += 1;
        }
        e.map(|(id, n)| (id, n))
    }

    pub(super) fn commit(&mut self, kind: ActionKind) {
        if let Some((_, n)) = &mut self.ids[Self::idx(kind)] {
            *n += 1;
        }
    }

    fn used(&self) -> impl Iterator<Item = (ActionKind, (u64, u32))> + '_ {
        [
            ActionKind::Cancel,
            ActionKind::Modify,
            ActionKind::Place,
            ActionKind::Take,
        ]
        .into_iter()
        .zip(self.ids)
        .filter_map(|(k, e)| e.filter(|(_, n)| *n > 0).map(|e| (k, e)))
    }
}
