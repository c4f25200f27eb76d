//! The cycle of SPEC 8, as its list of stages:
//!
//! 1. housekeeping: impulse-control refill, due markouts, one signal snapshot;
//! 2. the risk plan ([`super::risk_plan`]): Hyperliquid freshness (no book or stale -> cancel
//!    everything), account and limits, the governor (Kill -> cancel everything, then a
//!    reduce-only unwind at the touch from the next cycle on), the risk overlay (zone multiplier
//!    on the increasing side, CUSUM on the side about to be run over, Extreme volatility on both,
//!    capped at `overlay_cap`), the effective max (`min(margin capacity, configured max)`, then
//!    `zone_adjusted_max`, then the no-signal / lead-lost caps, floored at one minimum order)
//!    and each side's room;
//! 3. the ladder, queue values and `select_mode`, then the ladder for that mode;
//! 4. reconcile and emit ([`super::emit`]), paced by the token bucket, the requote interval and
//!    the address-quota planner, with the safety invariant checked on every order emitted.
//!
//! Actions of one cycle are grouped in up to three batches (cancels, modifies, places), each with
//! its own `batch` id: one batch is one exchange action (`cancelByCloid`, `batchModify`,
//! `order`), and the exchange's answer to it is fed back with `on_exchange_response(frame,
//! recv_ms, batch_id)` so its statuses (one per action, same order) can be matched.

use super::emit::CycleBatches;
use super::output::{CycleDiagnostics, CycleOutput, FlatReason};
use super::risk_plan::{plan, RiskInputs, RiskPlan, Stance};
use super::QuoteEngine;
use crate::governor::InventoryGovernor;
use crate::mode::{select_mode, ExecutionMode, ModeSelectionInput};
use crate::params::ExchangeContext;
use crate::strategy::{EmptySide, LadderInput, Quote, QuoteStrategy, RiskFeatures};
use crate::types::{Side, ToxicityRegime};

const DAY_MS: u64 = 86_400_000;

/// The lead signal's part in one cycle's quotes, bps (> 0 up): see
/// `strategy::ladder::alpha_shift_bps`.
#[derive(Debug, Clone, Copy, Default)]
struct Alpha {
    move_bps: f64,
    lean_bps: f64,
}

impl QuoteEngine {
    /// Runs one cycle at `now_ms` (same clock as every `recv_ms`). Allocation-free in steady
    /// state. The output is valid until the next call.
    pub fn cycle(&mut self, now_ms: u64) -> &CycleOutput {
        self.begin_cycle(now_ms);
        let inputs = self.risk_inputs(now_ms);
        let plan = plan(&inputs, &self.cfg);
        self.apply_plan(&plan);
        let mut batches = CycleBatches::default();
        match plan.stance {
            Stance::CancelAll => self.cancel_all(now_ms, &mut batches),
            Stance::Unwind => {
                let (rb, ra) = self.unwind_ladder(&plan);
                self.reconcile_and_emit(now_ms, &plan, rb, ra, true, &mut batches);
            }
            Stance::Quote => {
                // First: the exit's IOC is counted in the exposure the quotes then meet.
                self.taker_exit(now_ms, &plan, &mut batches);
                let mode = self.quote_ladder(&plan);
                let reduce_only = matches!(mode, ExecutionMode::InventoryReduce { .. });
                let position = self.account.position;
                let (rb, ra) = match mode {
                    ExecutionMode::InventoryReduce { buy: true, .. } => (position.abs(), 0.0),
                    ExecutionMode::InventoryReduce { buy: false, .. } => (0.0, position.abs()),
                    _ => (plan.room_bid, plan.room_ask),
                };
                self.reconcile_and_emit(now_ms, &plan, rb, ra, reduce_only, &mut batches);
            }
        }
        self.finish(&batches)
    }

    /// Stage 1: refill, markouts, signals, and a fresh output.
    fn begin_cycle(&mut self, now_ms: u64) {
        self.cycles += 1;
        self.bucket.refill(now_ms);
        self.process_markouts(now_ms);
        self.refresh_signals(now_ms);
        let out = &mut self.out;
        out.now_ms = now_ms;
        out.mode = ExecutionMode::Flat;
        out.zone = crate::governor::PositionZone::Green;
        out.quotes.bids.clear();
        out.quotes.asks.clear();
        out.actions.clear();
        let widening = self.quota.widening(
            self.cfg.impulse_control.quota_low_watermark,
            self.cfg.reconcile.max_quota_widening,
        );
        out.diagnostics = CycleDiagnostics {
            position: self.account.position,
            quota_widening: widening,
            requote_interval_ms: (self.cfg.impulse_control.min_requote_interval_ms as f64
                * widening) as u64,
            bid_mult: 1.0,
            ask_mult: 1.0,
            ..Default::default()
        };
    }

    /// Stage 2's inputs. The stateful ones are read only where the plan reaches them (SPEC 8
    /// order): limits are re-resolved once the book is fresh and the account known, and the
    /// day's opening equity is taken once the limits are viable.
    fn risk_inputs(&mut self, now_ms: u64) -> RiskInputs {
        self.out.diagnostics.one_sided = self
            .market
            .fill_missing_side(now_ms, self.cfg.risk.one_sided_hold_ms);
        let hl_stale = self.market.hl_stale(now_ms, self.cfg.risk.hl_stale_ms);
        let gate_open = self.market.has_top() && !hl_stale && self.account.known;
        if gate_open {
            let mid = self.market.mid();
            if self.limits_dirty
                || (mid / self.limits_mid - 1.0).abs() > crate::risk::LIMITS_REFRESH_FRAC
            {
                self.refresh_limits(mid);
            }
        }
        let limits = self
            .limits
            .filter(|l| l.max_position > 0.0)
            .zip(self.governor);
        let daily_loss = gate_open && limits.is_some() && self.daily_loss_hit(now_ms);
        RiskInputs {
            now_ms,
            market: self.market,
            signals: self.signals,
            hl_stale,
            account_known: self.account.known,
            position: self.account.position,
            available_margin: self.account.available_margin,
            leverage: self.account.leverage,
            limits,
            daily_loss,
            in_kill: self.in_kill,
            no_signal_cycles: self.no_signal_cycles,
        }
    }

    /// The plan's latches and counters, and its diagnostics.
    fn apply_plan(&mut self, plan: &RiskPlan) {
        self.in_kill = plan.in_kill;
        if plan.caps.has(super::CapFlags::NO_SIGNAL) {
            self.no_signal_cycles += 1;
        }
        self.out.zone = plan.zone;
        plan.write(&mut self.out.diagnostics);
        if plan.stance == Stance::Quote {
            let s = self.signals;
            let d = &mut self.out.diagnostics;
            d.sigma_bps = s.sigma_bps;
            d.vol_ratio = s.vol_ratio;
            d.kappa = s.kappa;
            d.a_intensity = s.a_intensity;
            d.toxicity_score = s.toxicity_score;
            d.regime = s.regime;
            d.toxicity = s.toxicity;
            d.has_had_cross_venue = s.has_had_cross_venue;
            d.flow_dir = s.flow_dir;
        }
    }

    /// The ladder input of a quoting cycle: market, signals, learned adverse selection, and the
    /// plan's effective max, rooms and multipliers.
    fn ladder_input(&self, plan: &RiskPlan, alpha: Alpha) -> LadderInput {
        let limits = self.limits.expect("a plan past the limits has them");
        let s = &self.signals;
        let position = self.account.position;
        let (measured_as_bps, as_warmup) = self.adverse.buffer_input(false);
        let (flow_as_bps, flow_as_warmup) = self.adverse.buffer_input(true);
        let flow_side = match s.flow_dir {
            1 => Some(Side::Ask),
            -1 => Some(Side::Bid),
            _ => None,
        };
        LadderInput {
            mid: plan.mid,
            best_bid: self.market.best_bid,
            best_ask: self.market.best_ask,
            sz_decimals: self.cfg.runtime.sz_decimals,
            min_notional: self.cfg.runtime.min_notional,
            sigma_bps: s.sigma_bps,
            kappa: s.kappa,
            a_intensity: s.a_intensity,
            gamma_base: limits.risk_aversion,
            risk: RiskFeatures {
                vol_ratio: s.vol_ratio,
                inventory_ratio: position / plan.configured_max,
                toxicity_score: s.toxicity_score,
                thin_book: s.thin_book,
            },
            alpha_bps: alpha.move_bps,
            alpha_lean_bps: alpha.lean_bps,
            measured_as_bps,
            as_warmup,
            flow_side,
            flow_as_bps,
            flow_as_warmup,
            regime: s.regime,
            position,
            effective_max: plan.effective_max,
            target_liquidity: limits.target_liquidity,
            room_bid: plan.room_bid,
            room_ask: plan.room_ask,
            margin_notional: self.account.available_margin * self.account.leverage,
            quote_bid: true,
            quote_ask: true,
            reduce_only: false,
            urgency: 0.0,
            bid_mult: plan.bid_mult,
            ask_mult: plan.ask_mult,
        }
    }

    /// The alpha of this cycle (SPEC 4): the predicted move, and the lean, the share of it the
    /// side the move runs away from moves in by, scaled down when it would push the position
    /// further (an overridden signal view gives it as is).
    fn alpha(&mut self, plan: &RiskPlan) -> Alpha {
        let s = self.signals;
        if !plan.alpha_ok {
            Alpha::default()
        } else if self.signal_override.is_some() {
            Alpha {
                move_bps: s.alpha_bps,
                lean_bps: s.alpha_bps,
            }
        } else {
            let _ = self.integrator.set_skew_context(
                self.account.position,
                plan.configured_max,
                s.alpha_bps,
            );
            Alpha {
                move_bps: s.alpha_bps,
                lean_bps: self.integrator.alpha_skew_bps(),
            }
        }
    }

    /// Stage 3: the ladder, queue values at each side's innermost desired depth (SPEC 6), the
    /// mode, and the ladder for that mode, left in `out.quotes`.
    fn quote_ladder(&mut self, plan: &RiskPlan) -> ExecutionMode {
        let alpha = self.alpha(plan);
        self.out.diagnostics.alpha_bps = alpha.move_bps;
        let mut inp = self.ladder_input(plan, alpha);
        self.ladder.quote(&inp, &mut self.scratch.ladder);
        // One adverse-selection number: the queue value's Normal regime prices the buffer the
        // ladder just quoted with (prior blended with the measured markouts).
        self.queue
            .set_normal_as_bps(self.scratch.ladder.diag.as_buffer_bps);
        let s = self.signals;
        let position = self.account.position;
        let lad = &self.scratch.ladder;
        let bid_rank = self.queue_rank(Side::Bid, lad.bids.as_slice().first());
        let ask_rank = self.queue_rank(Side::Ask, lad.asks.as_slice().first());
        // SPEC 6: the depth of the side's innermost desired quote (after floors and rounding);
        // the touch depth when the side has no quote.
        let inner = |q: Option<&Quote>, touch: f64| q.map_or(touch, |q| q.depth_bps);
        // A side the skew moved in earns, beyond its spread, the inventory risk (or predicted
        // move) the GLFT priced into that move; a side it moved out gives it up. The value is
        // therefore taken at the depth the side would have without the skew (`skew_credit`):
        // at the skewed depth the reducing side looked worthless exactly when the inventory
        // needed it, and rule 7 turned it off (issue 14: the reducing side was dark 13% of the
        // time at gamma 0.2, and the position then drifted into Yellow).
        let (bid_credit, ask_credit) = skew_credit(&lad.diag, plan.bid_mult, plan.ask_mult);
        let bid_depth = inner(lad.bids.as_slice().first(), lad.diag.bid_touch_bps) + bid_credit;
        let ask_depth = inner(lad.asks.as_slice().first(), lad.diag.ask_touch_bps) + ask_credit;
        let bid_value = self.queue.queue_value(bid_depth, s.toxicity, bid_rank);
        let ask_value = self.queue.queue_value(ask_depth, s.toxicity, ask_rank);
        // The Avellaneda-Stoikov baseline has no queue-value rule (SPEC 6 prices the ladder's
        // own depths): it quotes wherever the governor's rules let it, as the textbook does.
        let baseline = self.ladder.strategy == QuoteStrategy::AvellanedaStoikov;
        let mode = select_mode(
            &ModeSelectionInput {
                position_zone: plan.zone,
                toxicity_regime: s.toxicity,
                bid_has_value: baseline || bid_value > 0.0,
                ask_has_value: baseline || ask_value > 0.0,
                has_alpha: plan.alpha_ok && alpha.move_bps != 0.0,
                position,
            },
            self.cfg.mode_policy,
        );
        self.out.mode = mode;
        let d = &mut self.out.diagnostics;
        d.bid_queue_value = bid_value;
        d.ask_queue_value = ask_value;
        match mode {
            ExecutionMode::Flat => {
                d.flat_reason = if s.toxicity == ToxicityRegime::Toxic {
                    FlatReason::Toxic
                } else {
                    FlatReason::NoValue
                };
                self.scratch.ladder.bids.clear();
                self.scratch.ladder.asks.clear();
                self.scratch.ladder.diag.bid_empty = EmptySide::Disabled;
                self.scratch.ladder.diag.ask_empty = EmptySide::Disabled;
            }
            ExecutionMode::Maker { bid, ask } => {
                if !(bid && ask) {
                    inp.quote_bid = bid;
                    inp.quote_ask = ask;
                    self.ladder.quote(&inp, &mut self.scratch.ladder);
                }
            }
            ExecutionMode::InventoryReduce { urgency, buy } => {
                d.reduce_only = true;
                inp.reduce_only = true;
                inp.urgency = urgency;
                inp.quote_bid = buy;
                inp.quote_ask = !buy;
                if buy {
                    inp.room_bid = position.abs();
                } else {
                    inp.room_ask = position.abs();
                }
                self.ladder.quote(&inp, &mut self.scratch.ladder);
            }
        }
        let lad = &self.scratch.ladder;
        let d = &mut self.out.diagnostics;
        d.half_spread_bps = lad.diag.half_spread_bps;
        d.skew_bps = lad.diag.skew_bps;
        d.bid_touch_bps = lad.diag.bid_touch_bps;
        d.ask_touch_bps = lad.diag.ask_touch_bps;
        // What the GLFT used (bounded), not the raw estimate (the AS baseline reports none).
        if lad.diag.kappa > 0.0 {
            d.kappa = lad.diag.kappa;
            d.a_intensity = lad.diag.a_intensity;
        }
        d.bid_empty = lad.diag.bid_empty;
        d.ask_empty = lad.diag.ask_empty;
        self.out.quotes = self.scratch.ladder;
        mode
    }

    /// Stage 3 in Kill with a position to unwind (SPEC 3 `kill_unwind`): reduce-only quotes at
    /// the touch on the reducing side, sized to the whole position, with no overlay, alpha or
    /// learned features. Returns each side's room.
    fn unwind_ladder(&mut self, plan: &RiskPlan) -> (f64, f64) {
        let position = self.account.position;
        let buy = position < 0.0;
        let d = &mut self.out.diagnostics;
        d.unwinding = true;
        d.reduce_only = true;
        self.out.mode = ExecutionMode::Flat;
        let inp = LadderInput {
            risk: RiskFeatures::default(),
            as_warmup: 0.0,
            flow_side: None,
            effective_max: plan.configured_max,
            target_liquidity: position.abs(),
            room_bid: if buy { position.abs() } else { 0.0 },
            room_ask: if buy { 0.0 } else { position.abs() },
            margin_notional: f64::INFINITY,
            quote_bid: buy,
            quote_ask: !buy,
            reduce_only: true,
            urgency: 1.0,
            bid_mult: 1.0,
            ask_mult: 1.0,
            ..self.ladder_input(plan, Alpha::default())
        };
        self.ladder.quote(&inp, &mut self.scratch.ladder);
        self.out.quotes = self.scratch.ladder;
        (inp.room_bid, inp.room_ask)
    }

    fn refresh_limits(&mut self, mid: f64) {
        let ctx = ExchangeContext {
            mark_px: mid,
            account_value: self.account.account_value,
            available_margin: self.account.available_margin,
            max_leverage: self.account.leverage,
            fee_bps: self.cfg.fee_bps,
            sz_decimals: self.cfg.runtime.sz_decimals,
            min_notional: self.cfg.runtime.min_notional,
        };
        self.limits = crate::risk::resolve_limits(&self.cfg, &ctx).ok();
        self.governor = self
            .limits
            .filter(|l| l.max_position > 0.0)
            .and_then(|l| InventoryGovernor::with_zones(l.max_position, self.cfg.zones).ok());
        if self.governor.is_none() {
            self.limits = None;
        }
        self.limits_mid = mid;
        self.limits_dirty = false;
    }

    /// Equity lost since the day began reached `risk.daily_loss_limit_usd`. The day's opening
    /// equity is the caller's (`set_day_start_equity`, from the UTC calendar and the carried
    /// losses of SPEC 10) when given; otherwise the engine takes the equity it first sees in each
    /// 24 h window of `now_ms`, which are UTC days when `now_ms` is epoch time.
    fn daily_loss_hit(&mut self, now_ms: u64) -> bool {
        let value = self.account.account_value;
        let start = match self.day_start_equity {
            Some(v) => v,
            None => {
                let day = now_ms / DAY_MS;
                match self.day {
                    Some((d, v)) if d == day => v,
                    _ => {
                        self.day = Some((day, value));
                        value
                    }
                }
            }
        };
        let limit = self.cfg.risk.daily_loss_limit_usd;
        limit > 0.0 && start - value >= limit
    }

    /// Queue rank at `q`'s price (SPEC 6): 0 when the level is empty or beyond the visible book
    /// (no one ahead); for an order of ours resting there, the size still ahead of it over the
    /// level's size; for a new order, 1 (it joins the back: everything visible is ahead).
    fn queue_rank(&self, side: Side, q: Option<&Quote>) -> f64 {
        let Some(q) = q else { return 0.0 };
        let level = self.visible_qty(side, q.px);
        if level <= 0.0 {
            return 0.0;
        }
        for o in self.orders.iter() {
            if o.side == side && o.px == q.px && o.state == super::OrderState::Resting {
                return (o.queue_ahead / level).clamp(0.0, 1.0);
            }
        }
        1.0
    }
}

/// Per side, the depth the skew took away from it (bps; negative when it widened the side):
/// the touch at zero skew, `max(half + buffer, floor) x multiplier`, less the side's touch.
pub(crate) fn skew_credit(
    d: &crate::strategy::LadderDiagnostics,
    bid_mult: f64,
    ask_mult: f64,
) -> (f64, f64) {
    let centre = d.unskewed_touch_bps();
    let credit = |mult: f64, touch: f64| {
        let c = centre * mult.max(1.0) - touch;
        if c.is_finite() {
            c
        } else {
            0.0
        }
    };
    (
        credit(bid_mult, d.bid_touch_bps),
        credit(ask_mult, d.ask_touch_bps),
    )
}
