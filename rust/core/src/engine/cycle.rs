//! `QuoteEngine` and the cycle of SPEC 8.
//!
//! One cycle, in order: impulse-control refill and due markouts; Hyperliquid freshness (no book
//! or stale -> cancel everything); account and limits; the governor (Kill -> cancel everything,
//! then a reduce-only unwind at the touch from the next cycle on); the risk overlay (zone
//! multiplier on the increasing side, CUSUM on the side about to be run over, Extreme volatility
//! on both, capped at `overlay_cap`); the effective max (`min(margin capacity, configured max)`,
//! then `zone_adjusted_max`, then the no-signal / lead-lost caps, floored at one minimum order);
//! queue values and `select_mode`; the ladder for that mode; reconcile, paced by the token
//! bucket, the requote interval and the address-quota planner; and the safety invariant checked
//! on every order before it is emitted.
//!
//! Actions of one cycle are grouped in up to three batches (cancels, modifies, places), each with
//! its own `batch` id: one batch is one exchange action (`cancelByCloid`, `batchModify`,
//! `order`), and the exchange's answer to it is fed back with `on_exchange_response(frame,
//! recv_ms, batch_id)` so its statuses (one per action, same order) can be matched.

use serde::{Deserialize, Serialize};

use super::frames::{
    parse_exchange_response, parse_user_frame, ActionStatus, ExchangeReply, Fill, UpdateStatus,
    UserFrame,
};
use super::orders::{CloidGen, Exposure, OrderState, OrderTracker, TrackedOrder};
use super::reconcile::{
    reconcile_side, AddressQuota, Decision, Decisions, ReconcileParams, TokenBucket,
};
use super::EngineError;
use crate::book::HlBook;
use crate::config::{LeadVenue, MarketMakerConfig, ResolvedLimits};
use crate::error::{check, Result};
use crate::governor::{InventoryGovernor, PositionZone};
use crate::mode::{select_mode, ExecutionMode, ModeSelectionInput};
use crate::params::{ExchangeContext, MIN_NOTIONAL_BUFFER};
use crate::queue_value::QueueValueHeuristic;
use crate::signals::{CapReason, SignalIntegrator, SignalSnapshot};
use crate::strategy::{
    round_size_up, LadderInput, LadderOutput, LadderStrategy, Quote, RiskFeatures,
};
use crate::types::{Side, ToxicityRegime, VolRegime};

/// Actions one cycle may emit.
pub const MAX_ACTIONS: usize = 256;
/// Batches awaiting the exchange's answer; the oldest is forgotten beyond this (its orders stay
/// tracked and counted until order updates settle them).
const MAX_BATCHES: usize = 64;
/// Fills awaiting their 5 s markout.
const MARKOUT_RING: usize = 128;
const MARKOUT_MS: u64 = 5_000;
/// Fill trade ids remembered to drop a fill reported twice (userFills and userEvents).
const TID_RING: usize = 256;
/// Markouts after which the measured adverse selection fully replaces its prior.
const AS_WARMUP_FILLS: f64 = 50.0;
const AS_EWMA_ALPHA: f64 = 0.05;
/// Relative slack of the exposure checks (lot arithmetic in f64).
const SIZE_EPS: f64 = 1e-9;
const DAY_MS: u64 = 86_400_000;

/// What an action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionKind {
    Place,
    Cancel,
    Modify,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Place => "place",
            ActionKind::Cancel => "cancel",
            ActionKind::Modify => "modify",
        }
    }
}

/// One exchange action. Places and modifies are post-only (ALO).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Action {
    pub kind: ActionKind,
    pub side: Side,
    /// Price and size of the new order (place, modify) or of the order cancelled.
    pub px: f64,
    pub sz: f64,
    /// Place / modify: the new order's cloid. Cancel: the target's cloid (0 when the order is not
    /// ours and only its oid is known).
    pub cloid: u128,
    /// Cancel / modify: the target's exchange oid when known.
    pub oid: Option<u64>,
    /// Modify: the cloid of the order being replaced.
    pub target_cloid: Option<u128>,
    pub reduce_only: bool,
    /// Ladder level of the new order.
    pub level: u32,
    /// Batch id (one exchange action) and index of this action inside it.
    pub batch: u64,
    pub index: u32,
}

const EMPTY_ACTION: Action = Action {
    kind: ActionKind::Cancel,
    side: Side::Bid,
    px: 0.0,
    sz: 0.0,
    cloid: 0,
    oid: None,
    target_cloid: None,
    reduce_only: false,
    level: 0,
    batch: 0,
    index: 0,
};

/// The actions of one cycle, per side: cancels, then modifies and places (a modify that cannot
/// fit becomes a cancel after them). Send each batch as one exchange action, cancels first.
#[derive(Debug, Clone)]
pub struct Actions {
    len: usize,
    items: [Action; MAX_ACTIONS],
}

impl Default for Actions {
    fn default() -> Self {
        Self {
            len: 0,
            items: [EMPTY_ACTION; MAX_ACTIONS],
        }
    }
}

impl Actions {
    pub fn as_slice(&self) -> &[Action] {
        &self.items[..self.len]
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn push(&mut self, a: Action) -> bool {
        if self.len < MAX_ACTIONS {
            self.items[self.len] = a;
            self.len += 1;
            true
        } else {
            false
        }
    }
}

/// Which reductions of the effective max and which breakers applied this cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CapFlags(pub u32);

impl CapFlags {
    pub const MARGIN: u32 = 1;
    pub const REGIME: u32 = 1 << 1;
    pub const NO_SIGNAL: u32 = 1 << 2;
    pub const LEAD_LOST: u32 = 1 << 3;
    pub const MIN_ORDER_FLOOR: u32 = 1 << 4;
    pub const ZONE: u32 = 1 << 5;
    pub const CUSUM: u32 = 1 << 6;
    pub const EXTREME_VOL: u32 = 1 << 7;
    pub const OVERLAY_CAP: u32 = 1 << 8;
    pub const QUOTA: u32 = 1 << 9;
    pub const NEW_EXPOSURE: u32 = 1 << 10;

    const NAMES: [(u32, &'static str); 11] = [
        (Self::MARGIN, "margin"),
        (Self::REGIME, "regime"),
        (Self::NO_SIGNAL, "no_signal"),
        (Self::LEAD_LOST, "lead_lost"),
        (Self::MIN_ORDER_FLOOR, "min_order_floor"),
        (Self::ZONE, "zone"),
        (Self::CUSUM, "cusum"),
        (Self::EXTREME_VOL, "extreme_vol"),
        (Self::OVERLAY_CAP, "overlay_cap"),
        (Self::QUOTA, "quota"),
        (Self::NEW_EXPOSURE, "new_exposure"),
    ];

    pub fn has(self, flag: u32) -> bool {
        self.0 & flag != 0
    }

    fn set(&mut self, flag: u32) {
        self.0 |= flag;
    }

    /// Names of the flags set, in a fixed order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(f, _)| self.0 & f != 0)
            .map(|(_, n)| n)
    }
}

/// Why a cycle quotes nothing (or only unwinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FlatReason {
    #[default]
    None,
    /// No Hyperliquid top of book yet.
    NoBook,
    /// Hyperliquid data older than `risk.hl_stale_ms`.
    HlStale,
    /// `set_account` was never called: margin and position unknown.
    NoAccount,
    /// The limits leave no valid order (max position below one minimum order).
    NotViable,
    /// Position at or beyond the max.
    Kill,
    /// Equity loss since the UTC day began reached `risk.daily_loss_limit_usd`.
    DailyLoss,
    /// Toxic flow and a flat position (SPEC 5 rule 3).
    Toxic,
    /// No queue value on either side and no alpha (SPEC 5 rule 6).
    NoValue,
}

impl FlatReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FlatReason::None => "",
            FlatReason::NoBook => "no_book",
            FlatReason::HlStale => "hl_stale",
            FlatReason::NoAccount => "no_account",
            FlatReason::NotViable => "not_viable",
            FlatReason::Kill => "kill",
            FlatReason::DailyLoss => "daily_loss",
            FlatReason::Toxic => "toxic",
            FlatReason::NoValue => "no_value",
        }
    }
}

/// Numbers behind one cycle's decisions.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CycleDiagnostics {
    pub mid: f64,
    pub position: f64,
    pub configured_max: f64,
    pub effective_max: f64,
    pub half_spread_bps: f64,
    pub skew_bps: f64,
    pub bid_touch_bps: f64,
    pub ask_touch_bps: f64,
    pub bid_mult: f64,
    pub ask_mult: f64,
    pub bid_queue_value: f64,
    pub ask_queue_value: f64,
    pub room_bid: f64,
    pub room_ask: f64,
    pub exposure_buys: f64,
    pub exposure_sells: f64,
    pub caps: CapFlags,
    pub flat_reason: FlatReason,
    pub reduce_only: bool,
    /// Kill zone: reduce-only quotes at the touch on the reducing side.
    pub unwinding: bool,
    /// Requotes held back by `min_requote_interval_ms` (times the quota widening).
    pub throttled: bool,
    pub quota_widening: f64,
    pub requote_interval_ms: u64,
    pub tokens: u32,
    /// Places / modifies not emitted this cycle (budget, invariant or throttle).
    pub deferred: u32,
    /// A Binance feed that was live has gone stale.
    pub lead_stale: bool,
    /// The no-signal warning is due this cycle (every `signals.warn_every_cycles`).
    pub no_signal_warning: bool,
    /// The signal view the cycle used (SPEC 4).
    pub sigma_bps: f64,
    pub vol_ratio: f64,
    pub kappa: f64,
    pub a_intensity: f64,
    pub toxicity_score: f64,
    pub regime: VolRegime,
    pub toxicity: ToxicityRegime,
    /// Alpha skew applied (0 unless the lead signal is actionable).
    pub alpha_bps: f64,
    pub has_had_cross_venue: bool,
}

/// What one cycle decided.
#[derive(Debug, Clone)]
pub struct CycleOutput {
    pub now_ms: u64,
    pub mode: ExecutionMode,
    pub zone: PositionZone,
    /// Desired quotes after the mode (empty when Flat, except the Kill unwind).
    pub quotes: LadderOutput,
    pub actions: Actions,
    pub diagnostics: CycleDiagnostics,
}

impl Default for CycleOutput {
    fn default() -> Self {
        Self {
            now_ms: 0,
            mode: ExecutionMode::Flat,
            zone: PositionZone::Green,
            quotes: LadderOutput::default(),
            actions: Actions::default(),
            diagnostics: CycleDiagnostics::default(),
        }
    }
}

/// The market inputs the cycle reads, kept up to date by the frame handlers.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MarketView {
    pub best_bid: f64,
    pub best_ask: f64,
    pub bid_sz: f64,
    pub ask_sz: f64,
    /// Local receive time of the last Hyperliquid book, bbo or pong.
    pub hl_recv_ms: Option<u64>,
    pub binance_bid: f64,
    pub binance_ask: f64,
    pub binance_recv_ms: Option<u64>,
}

impl MarketView {
    pub fn has_top(&self) -> bool {
        self.best_bid > 0.0 && self.best_ask > 0.0 && self.best_bid < self.best_ask
    }

    pub fn mid(&self) -> f64 {
        0.5 * (self.best_bid + self.best_ask)
    }
}

/// What the signal layer says this cycle (SPEC 4). The default is the cold start: priors,
/// Normal toxicity, no alpha, no cross-venue signal yet.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SignalView {
    pub sigma_bps: f64,
    pub vol_ratio: f64,
    pub regime: VolRegime,
    pub toxicity: ToxicityRegime,
    pub toxicity_score: f64,
    pub kappa: f64,
    pub a_intensity: f64,
    /// Predicted Hyperliquid move from the lead signal, bps; used only when `alpha_actionable`.
    pub alpha_bps: f64,
    pub alpha_actionable: bool,
    /// Sticky: true from the first valid cross-venue signal on.
    pub has_had_cross_venue: bool,
    /// Side about to be run over while a CUSUM alarm is active.
    pub cusum_alarm: Option<Side>,
    /// Thinness of the book near the touch in [0, 1].
    pub thin_book: f64,
    /// The integrator reports the lead feed lost (disabled, or silent after being live).
    pub lead_lost: bool,
}

impl SignalView {
    pub fn cold(cfg: &MarketMakerConfig) -> Self {
        Self {
            sigma_bps: cfg.stochastic.sigma_prior_bps,
            vol_ratio: 1.0,
            regime: VolRegime::Normal,
            toxicity: ToxicityRegime::Normal,
            toxicity_score: 0.0,
            kappa: cfg.stochastic.kappa_prior,
            a_intensity: cfg.stochastic.a_prior,
            alpha_bps: 0.0,
            alpha_actionable: false,
            has_had_cross_venue: false,
            cusum_alarm: None,
            thin_book: 0.0,
            lead_lost: false,
        }
    }

    /// The view of one integrator snapshot. `alpha_bps` is the lead signal's predicted move;
    /// the cycle turns it into the alpha skew with the position context (SPEC 4).
    pub fn from_snapshot(s: &SignalSnapshot) -> Self {
        Self {
            sigma_bps: s.sigma_bps,
            vol_ratio: if s.sigma_slow_bps > 0.0 {
                s.sigma_bps / s.sigma_slow_bps
            } else {
                1.0
            },
            regime: s.regime,
            toxicity: s.toxicity,
            toxicity_score: s.flow.toxicity_score,
            kappa: s.kappa,
            a_intensity: s.intensity_a,
            alpha_bps: s.lead_lag.predicted_move_bps,
            alpha_actionable: s.lead_lag.actionable,
            has_had_cross_venue: s.has_had_cross_venue,
            // +1: the lead venue moved above Hyperliquid, our asks are about to be lifted.
            cusum_alarm: match (s.cusum.alarm, s.cusum.direction) {
                (true, d) if d > 0 => Some(Side::Ask),
                (true, d) if d < 0 => Some(Side::Bid),
                _ => None,
            },
            thin_book: 0.0,
            lead_lost: s.cap_reason == CapReason::LeadLost,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Account {
    position: f64,
    available_margin: f64,
    account_value: f64,
    leverage: f64,
    known: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct PendingBatch {
    id: u64,
    kind: ActionKind,
    count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct PendingMarkout {
    due_ms: u64,
    buy: bool,
    px: f64,
    mid_at_fill: f64,
    predicted_bps: f64,
}

/// Learned adverse selection: EWMA of the 5 s markout against us, and how many fed it.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct AdverseSelection {
    pub ewma_bps: f64,
    pub count: u64,
}

/// Scratch space of one cycle, kept between cycles so the cycle never allocates.
#[derive(Debug, Clone, Default)]
struct Scratch {
    ladder: LadderOutput,
    decisions: Decisions,
}

/// The quote engine. See the module doc for the cycle.
#[derive(Debug, Clone)]
pub struct QuoteEngine {
    pub(super) cfg: MarketMakerConfig,
    pub(super) ladder: LadderStrategy,
    pub(super) queue: QueueValueHeuristic,
    pub(super) adverse: AdverseSelection,
    pub(super) orders: OrderTracker,
    cloids: CloidGen,
    bucket: TokenBucket,
    quota: AddressQuota,
    pub(super) market: MarketView,
    pub(super) hl_book: HlBook,
    signals: SignalView,
    /// Set by `set_signals`: replaces the integrator's view (research, tests, backtests).
    signal_override: Option<SignalView>,
    pub(super) integrator: SignalIntegrator,
    lead_disabled: bool,
    account: Account,
    limits: Option<ResolvedLimits>,
    governor: Option<InventoryGovernor>,
    limits_mid: f64,
    limits_dirty: bool,
    day: Option<(u64, f64)>,
    day_start_equity: Option<f64>,
    next_batch: u64,
    batches: [Option<PendingBatch>; MAX_BATCHES],
    markouts: [PendingMarkout; MARKOUT_RING],
    markout_len: usize,
    tids: [u64; TID_RING],
    tid_pos: usize,
    in_kill: bool,
    last_requote_ms: Option<u64>,
    cycles: u64,
    no_signal_cycles: u64,
    out: CycleOutput,
    scratch: Box<Scratch>,
}

impl QuoteEngine {
    /// Builds an engine for a validated config. `seed` makes this process's cloid prefix (pass
    /// fresh randomness in production, a fixed number in a backtest).
    ///
    /// # Errors
    /// The config's violations, all at once.
    pub fn new(cfg: MarketMakerConfig, seed: u64) -> Result<Self> {
        cfg.validate()?;
        let ic = &cfg.impulse_control;
        Ok(Self {
            ladder: LadderStrategy::new(&cfg),
            queue: QueueValueHeuristic::new(cfg.queue, cfg.fee_bps),
            adverse: AdverseSelection::default(),
            orders: OrderTracker::default(),
            cloids: CloidGen::new(seed),
            bucket: TokenBucket::new(ic.actions_per_minute, ic.burst),
            quota: AddressQuota::default(),
            market: MarketView::default(),
            signals: SignalView::cold(&cfg),
            signal_override: None,
            integrator: SignalIntegrator::new(&cfg),
            lead_disabled: false,
            account: Account {
                leverage: f64::from(cfg.leverage),
                ..Default::default()
            },
            limits: None,
            governor: None,
            limits_mid: 0.0,
            limits_dirty: true,
            day: None,
            day_start_equity: None,
            next_batch: 1,
            batches: [None; MAX_BATCHES],
            markouts: [PendingMarkout::default(); MARKOUT_RING],
            markout_len: 0,
            tids: [0; TID_RING],
            tid_pos: 0,
            in_kill: false,
            last_requote_ms: None,
            cycles: 0,
            no_signal_cycles: 0,
            out: CycleOutput::default(),
            scratch: Box::default(),
            hl_book: HlBook::new(cfg.runtime.sz_decimals)?.for_coin(&cfg.asset),
            cfg,
        })
    }

    pub fn config(&self) -> &MarketMakerConfig {
        &self.cfg
    }

    pub fn orders(&self) -> &[TrackedOrder] {
        self.orders.as_slice()
    }

    pub fn position(&self) -> f64 {
        self.account.position
    }

    pub fn market(&self) -> &MarketView {
        &self.market
    }

    pub fn signals(&self) -> &SignalView {
        &self.signals
    }

    pub fn exposure(&self) -> Exposure {
        self.orders.exposure()
    }

    /// The configured max at the last resolve, if known.
    pub fn configured_max(&self) -> Option<f64> {
        self.limits.map(|l| l.max_position)
    }

    pub fn last_output(&self) -> &CycleOutput {
        &self.out
    }

    /// Sets the asset's exchange facts (from `meta`): asset id and size decimals.
    ///
    /// # Errors
    /// `sz_decimals` above 6 (perps allow at most 6 price decimals in all).
    pub fn set_runtime(&mut self, asset_id: u32, sz_decimals: u32) -> Result<()> {
        if sz_decimals > 6 {
            return Err(crate::Error::invalid(
                "sz_decimals",
                sz_decimals,
                "perps have at most 6",
            ));
        }
        self.hl_book = HlBook::new(sz_decimals)?.for_coin(&self.cfg.asset);
        self.cfg.runtime = crate::config::AssetRuntimeConfig::perp(asset_id, sz_decimals);
        self.limits_dirty = true;
        Ok(())
    }

    /// Updates the account. Each argument is optional (`None` leaves it as it is); all are
    /// checked before any is applied.
    ///
    /// # Errors
    /// A non-finite value, negative margin or account value, or leverage below 1.
    pub fn set_account(
        &mut self,
        position: Option<f64>,
        available_margin: Option<f64>,
        account_value: Option<f64>,
        leverage: Option<f64>,
    ) -> Result<()> {
        if let Some(p) = position {
            check::finite("position", p)?;
        }
        if let Some(m) = available_margin {
            check::non_negative("available_margin", m)?;
        }
        if let Some(v) = account_value {
            check::non_negative("account_value", v)?;
        }
        if let Some(l) = leverage {
            if !(l.is_finite() && l >= 1.0) {
                return Err(crate::Error::invalid("leverage", l, "must be >= 1"));
            }
        }
        let a = &mut self.account;
        if let Some(p) = position {
            a.position = p;
        }
        if let Some(m) = available_margin {
            a.available_margin = m;
        }
        if let Some(v) = account_value {
            a.account_value = v;
        }
        if let Some(l) = leverage {
            a.leverage = l;
        }
        a.known = a.known || available_margin.is_some();
        self.limits_dirty = true;
        Ok(())
    }

    /// The equity the current UTC day opened with (SPEC 10: the live loop knows the calendar and
    /// the losses carried across restarts); `None` returns to the engine's own 24 h windows.
    ///
    /// # Errors
    /// A non-finite or negative value.
    pub fn set_day_start_equity(&mut self, equity: Option<f64>) -> Result<()> {
        if let Some(v) = equity {
            check::non_negative("day_start_equity", v)?;
        }
        self.day_start_equity = equity;
        Ok(())
    }

    /// The address quota from `userRateLimit` (`nRequestsUsed`, `nRequestsCap`).
    pub fn set_quota(&mut self, used: u64, cap: u64) {
        self.quota = AddressQuota {
            used,
            cap,
            known: true,
        };
    }

    /// Overrides the signal integrator: from now on the cycle uses `s` (research, tests, and
    /// backtests that model signals themselves) until `clear_signal_override`.
    pub fn set_signals(&mut self, s: SignalView) {
        self.signals = s;
        self.signal_override = Some(s);
    }

    /// Back to the signal integrator's view.
    pub fn clear_signal_override(&mut self) {
        self.signal_override = None;
    }

    pub fn integrator(&self) -> &SignalIntegrator {
        &self.integrator
    }

    /// Hyperliquid top of book (from a book or bbo frame) received at `recv_ms`.
    ///
    /// # Errors
    /// Non-finite or negative prices or sizes.
    pub fn on_hl_top(
        &mut self,
        bid_px: f64,
        bid_sz: f64,
        ask_px: f64,
        ask_sz: f64,
        recv_ms: u64,
    ) -> Result<()> {
        check::non_negative("bid_px", bid_px)?;
        check::non_negative("bid_sz", bid_sz)?;
        check::non_negative("ask_px", ask_px)?;
        check::non_negative("ask_sz", ask_sz)?;
        let m = &mut self.market;
        m.best_bid = bid_px;
        m.bid_sz = bid_sz;
        m.best_ask = ask_px;
        m.ask_sz = ask_sz;
        self.note_hl_alive(recv_ms);
        if self.market.has_top() {
            let mid = self.market.mid();
            self.integrator.on_hl_mid(mid, recv_ms as i64)?;
        }
        Ok(())
    }

    /// Any sign of life from Hyperliquid market data (book, bbo, pong).
    pub fn note_hl_alive(&mut self, recv_ms: u64) {
        self.market.hl_recv_ms = Some(self.market.hl_recv_ms.map_or(recv_ms, |t| t.max(recv_ms)));
    }

    /// Binance best bid/offer received at `recv_ms` (already in Hyperliquid price units).
    ///
    /// # Errors
    /// Non-finite or negative prices.
    pub fn on_binance_top(&mut self, bid_px: f64, ask_px: f64, recv_ms: u64) -> Result<()> {
        check::non_negative("binance bid_px", bid_px)?;
        check::non_negative("binance ask_px", ask_px)?;
        let mult = self.cfg.lead.price_multiplier;
        if bid_px > 0.0 && ask_px >= bid_px {
            // The integrator applies the price multiplier itself: give it the lead's own units.
            self.integrator
                .on_binance_bbo(bid_px / mult, ask_px / mult, recv_ms as i64)?;
        }
        let m = &mut self.market;
        m.binance_bid = bid_px;
        m.binance_ask = ask_px;
        m.binance_recv_ms = Some(m.binance_recv_ms.map_or(recv_ms, |t| t.max(recv_ms)));
        Ok(())
    }

    // ---- user frames and exchange responses ----

    /// Applies an `orderUpdates`, `userFills` or `user` (userEvents) frame. Returns how many
    /// entries changed the engine's state.
    ///
    /// # Errors
    /// A malformed frame (the engine is unchanged).
    pub fn on_user_frame(&mut self, frame: &[u8], recv_ms: u64) -> Result<usize> {
        let parsed = parse_user_frame(frame, &self.cfg.asset)?;
        Ok(match parsed {
            UserFrame::Orders(updates) => {
                let mut n = 0;
                for u in updates {
                    n +=
                        usize::from(self.apply_order_update(
                            u.oid, u.cloid, u.side, u.px, u.sz, u.status, recv_ms,
                        ));
                }
                n
            }
            UserFrame::Fills { snapshot, fills } => {
                let mut n = 0;
                for f in fills {
                    if self.seen_tid(f.tid) {
                        continue;
                    }
                    if !snapshot {
                        self.apply_fill(&f, recv_ms);
                        n += 1;
                    }
                }
                n
            }
            UserFrame::NonUserCancel(oids) => {
                let mut n = 0;
                for oid in oids {
                    if let Some(i) = self.orders.position_by_oid(oid) {
                        self.order_gone(i, false);
                        n += 1;
                    }
                }
                n
            }
            UserFrame::Ignored => 0,
        })
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
        if o.state != OrderState::PendingNew || filled || o.filled_any {
            self.ladder
                .fill_model
                .record(o.depth_bps, filled || o.filled_any);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_order_update(
        &mut self,
        oid: u64,
        cloid: Option<u128>,
        side: Side,
        px: f64,
        sz: f64,
        status: UpdateStatus,
        recv_ms: u64,
    ) -> bool {
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
        if self.market.has_top() {
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
                    mid_at_fill: mid,
                    predicted_bps: predicted,
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
        let slot = self
            .batches
            .iter()
            .position(|b| b.is_some_and(|b| b.id == batch_id))
            .ok_or(EngineError::UnknownBatch(batch_id))?;
        let batch = self.batches[slot].take().expect("found above");
        let status_of = |index: u32| -> Option<ActionStatus> {
            match &reply {
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
                (ActionKind::Place | ActionKind::Modify, true, ActionStatus::Resting { oid }) => {
                    let ord = self.orders.get_mut(i);
                    ord.oid = Some(oid);
                    ord.state = OrderState::Resting;
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
                (ActionKind::Place | ActionKind::Modify, true, ActionStatus::Filled { .. }) => {
                    self.orders.drop_replaced(i);
                    if let Some(j) = self.orders.position_by_cloid(o.cloid) {
                        self.order_gone(j, true);
                    }
                    i = 0;
                    continue;
                }
                (ActionKind::Place | ActionKind::Modify, true, ActionStatus::Error(_)) => {
                    // Never placed. For a modify the old order is still there as far as we
                    // know: back to resting (if it is in fact gone, cancelling it later clears
                    // it, and meanwhile it is counted, which is the safe side).
                    let new = self.orders.remove(i);
                    if let Some(old) = new.replaces {
                        if let Some(j) = self.orders.position_by_cloid(old) {
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

    // ---- the cycle ----

    /// Runs one cycle at `now_ms` (same clock as every `recv_ms`). Allocation-free in steady
    /// state. The output is valid until the next call.
    pub fn cycle(&mut self, now_ms: u64) -> &CycleOutput {
        self.cycles += 1;
        self.bucket.refill(now_ms);
        self.process_markouts(now_ms);
        self.refresh_signals(now_ms);
        self.out.now_ms = now_ms;
        self.out.mode = ExecutionMode::Flat;
        self.out.zone = PositionZone::Green;
        self.out.quotes.bids.clear();
        self.out.quotes.asks.clear();
        self.out.actions.len = 0;
        let widening = self.quota.widening(
            self.cfg.impulse_control.quota_low_watermark,
            self.cfg.reconcile.max_quota_widening,
        );
        self.out.diagnostics = CycleDiagnostics {
            position: self.account.position,
            quota_widening: widening,
            requote_interval_ms: (self.cfg.impulse_control.min_requote_interval_ms as f64
                * widening) as u64,
            bid_mult: 1.0,
            ask_mult: 1.0,
            ..Default::default()
        };
        let mut batches = CycleBatches::default();
        if let Some(reason) = self.blocking_reason(now_ms) {
            self.out.diagnostics.flat_reason = reason;
            self.cancel_all(now_ms, &mut batches);
            return self.finish(&batches);
        }
        let mid = self.market.mid();
        self.out.diagnostics.mid = mid;
        let limits = self.limits.expect("checked by blocking_reason");
        let governor = self.governor.expect("built with the limits");
        let configured_max = limits.max_position;
        self.out.diagnostics.configured_max = configured_max;
        let position = self.account.position;
        let assessment = governor.assess(position);
        self.out.zone = assessment.zone;
        let daily_loss = self.daily_loss_hit(now_ms);
        if assessment.zone == PositionZone::Kill || daily_loss {
            let first = !self.in_kill;
            self.in_kill = true;
            self.out.diagnostics.flat_reason = if daily_loss {
                FlatReason::DailyLoss
            } else {
                FlatReason::Kill
            };
            if first || daily_loss || !self.cfg.risk.kill_unwind || position == 0.0 {
                self.cancel_all(now_ms, &mut batches);
                return self.finish(&batches);
            }
            return self.kill_unwind(now_ms, mid, configured_max, &mut batches);
        }
        self.in_kill = false;
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
        // Risk overlay: multipliers on the increasing side, capped.
        let inc = assessment.increasing_side_spread_mult;
        if inc > 1.0 {
            d.caps.set(CapFlags::ZONE);
        }
        let (mut bid_mult, mut ask_mult) = (
            if position >= 0.0 { inc } else { 1.0 },
            if position <= 0.0 { inc } else { 1.0 },
        );
        if let Some(run_over) = s.cusum_alarm {
            d.caps.set(CapFlags::CUSUM);
            match run_over {
                Side::Bid => bid_mult *= self.cfg.risk.cusum_alarm_mult,
                Side::Ask => ask_mult *= self.cfg.risk.cusum_alarm_mult,
            }
        }
        if s.regime == VolRegime::Extreme {
            d.caps.set(CapFlags::EXTREME_VOL);
            bid_mult *= self.cfg.risk.extreme_vol_mult;
            ask_mult *= self.cfg.risk.extreme_vol_mult;
        }
        let cap = self.cfg.risk.overlay_cap;
        if bid_mult > cap || ask_mult > cap {
            d.caps.set(CapFlags::OVERLAY_CAP);
        }
        bid_mult = bid_mult.min(cap);
        ask_mult = ask_mult.min(cap);
        d.bid_mult = bid_mult;
        d.ask_mult = ask_mult;
        // Effective max (SPEC 8 step 3).
        let mut eff = configured_max;
        let lev = self.account.leverage;
        let margin_cap = self.account.available_margin * lev / mid;
        if margin_cap < eff {
            eff = margin_cap;
            d.caps.set(CapFlags::MARGIN);
        }
        let zone_adj = governor.zone_adjusted_max(s.regime.volatility_fraction());
        if zone_adj < eff {
            eff = zone_adj;
            d.caps.set(CapFlags::REGIME);
        }
        let lead_stale = self.cfg.lead_venue == LeadVenue::Binance
            && self
                .market
                .binance_recv_ms
                .is_some_and(|t| now_ms.saturating_sub(t) > self.cfg.risk.binance_stale_ms);
        d.lead_stale = lead_stale;
        let lead_stale = lead_stale || s.lead_lost;
        let mut alpha_ok = s.alpha_actionable;
        if self.cfg.lead_venue == LeadVenue::Binance {
            if !s.has_had_cross_venue {
                eff = eff.min(self.cfg.signals.no_signal_cap * configured_max);
                d.caps.set(CapFlags::NO_SIGNAL);
                self.no_signal_cycles += 1;
                d.no_signal_warning = (self.no_signal_cycles - 1)
                    % u64::from(self.cfg.signals.warn_every_cycles)
                    == 0;
            } else if lead_stale {
                eff = eff.min(self.cfg.signals.lead_lost_cap * configured_max);
                d.caps.set(CapFlags::LEAD_LOST);
                alpha_ok = false;
            }
        }
        let min_order = round_size_up(
            self.cfg.runtime.min_notional * MIN_NOTIONAL_BUFFER / mid,
            self.cfg.runtime.sz_decimals,
        );
        if configured_max >= min_order && eff < min_order {
            eff = min_order;
            d.caps.set(CapFlags::MIN_ORDER_FLOOR);
        }
        d.effective_max = eff;
        // Room each side's desired ladder may fill.
        let mut room_bid = (eff - position).max(0.0);
        let mut room_ask = (eff + position).max(0.0);
        let new_exp = assessment.max_new_exposure;
        if position >= 0.0 && room_bid > new_exp {
            room_bid = new_exp;
            d.caps.set(CapFlags::NEW_EXPOSURE);
        }
        if position <= 0.0 && room_ask > new_exp {
            room_ask = new_exp;
            d.caps.set(CapFlags::NEW_EXPOSURE);
        }
        d.room_bid = room_bid;
        d.room_ask = room_ask;
        let alpha = if !alpha_ok {
            0.0
        } else if self.signal_override.is_some() {
            s.alpha_bps
        } else {
            // SPEC 4: the alpha skew scales down when it would push the position further.
            let _ = self
                .integrator
                .set_skew_context(position, configured_max, s.alpha_bps);
            self.integrator.alpha_skew_bps()
        };
        self.out.diagnostics.alpha_bps = alpha;
        let mut inp = LadderInput {
            mid,
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
                inventory_ratio: position / configured_max,
                toxicity_score: s.toxicity_score,
                thin_book: s.thin_book,
            },
            alpha_bps: alpha,
            measured_as_bps: self.adverse.ewma_bps,
            as_warmup: (self.adverse.count as f64 / AS_WARMUP_FILLS).min(1.0),
            regime: s.regime,
            position,
            effective_max: eff,
            target_liquidity: limits.target_liquidity,
            room_bid,
            room_ask,
            margin_notional: self.account.available_margin * lev,
            quote_bid: true,
            quote_ask: true,
            reduce_only: false,
            urgency: 0.0,
            bid_mult,
            ask_mult,
        };
        // Queue values at each side's innermost desired depth (SPEC 6), then the mode.
        self.ladder.quote(&inp, &mut self.scratch.ladder);
        let lad = &self.scratch.ladder;
        let bid_rank = self.queue_rank(Side::Bid, lad.bids.as_slice().first());
        let ask_rank = self.queue_rank(Side::Ask, lad.asks.as_slice().first());
        // SPEC 6: the depth of the side's innermost desired quote (after floors and rounding);
        // the touch depth when the side has no quote.
        let inner = |q: Option<&Quote>, touch: f64| q.map_or(touch, |q| q.depth_bps);
        let bid_depth = inner(lad.bids.as_slice().first(), lad.diag.bid_touch_bps);
        let ask_depth = inner(lad.asks.as_slice().first(), lad.diag.ask_touch_bps);
        let bid_value = self.queue.queue_value(bid_depth, s.toxicity, bid_rank);
        let ask_value = self.queue.queue_value(ask_depth, s.toxicity, ask_rank);
        let mode = select_mode(
            &ModeSelectionInput {
                position_zone: assessment.zone,
                toxicity_regime: s.toxicity,
                bid_has_value: bid_value > 0.0,
                ask_has_value: ask_value > 0.0,
                has_alpha: alpha_ok && alpha != 0.0,
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
        self.out.quotes = self.scratch.ladder;
        let reduce_only = matches!(mode, ExecutionMode::InventoryReduce { .. });
        let (rb, ra) = match mode {
            ExecutionMode::InventoryReduce { buy: true, .. } => (position.abs(), 0.0),
            ExecutionMode::InventoryReduce { buy: false, .. } => (0.0, position.abs()),
            _ => (room_bid, room_ask),
        };
        self.reconcile_and_emit(
            now_ms,
            mid,
            configured_max,
            rb,
            ra,
            reduce_only,
            &mut batches,
        );
        self.finish(&batches)
    }

    /// The integrator's view as of `now_ms` (one snapshot per cycle), unless overridden; a
    /// Binance feed gone stale is disabled at once (SPEC 8 step 2).
    fn refresh_signals(&mut self, now_ms: u64) {
        if self.cfg.lead_venue == LeadVenue::Binance {
            let stale = self
                .market
                .binance_recv_ms
                .is_some_and(|t| now_ms.saturating_sub(t) > self.cfg.risk.binance_stale_ms);
            if stale && !self.lead_disabled {
                self.integrator.disable_binance_signals();
            }
            self.lead_disabled = stale;
        }
        let snap = self.integrator.snapshot(now_ms as i64);
        self.signals = match self.signal_override {
            Some(s) => s,
            None => SignalView::from_snapshot(&snap),
        };
    }

    /// The reasons to quote nothing that come before the governor, in SPEC 8 order.
    fn blocking_reason(&mut self, now_ms: u64) -> Option<FlatReason> {
        if !self.market.has_top() {
            return Some(FlatReason::NoBook);
        }
        let stale = self
            .market
            .hl_recv_ms
            .is_none_or(|t| now_ms.saturating_sub(t) > self.cfg.risk.hl_stale_ms);
        if stale {
            return Some(FlatReason::HlStale);
        }
        if !self.account.known {
            return Some(FlatReason::NoAccount);
        }
        let mid = self.market.mid();
        if self.limits_dirty || (mid / self.limits_mid - 1.0).abs() > 0.005 {
            self.refresh_limits(mid);
        }
        match self.limits {
            Some(l) if l.max_position > 0.0 => None,
            _ => Some(FlatReason::NotViable),
        }
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

    /// Visible size at `px` on `side`: from the Hyperliquid book when it holds that side
    /// (frames), else from the top of book alone (the typed `on_hl_top` path).
    fn visible_qty(&self, side: Side, px: f64) -> f64 {
        let book = self.hl_book.book();
        if !book.side(side).is_empty() {
            let ticks = (px * self.hl_book.px_scale().one() as f64).round() as i64;
            return self.hl_book.sz_scale().to_f64(book.qty_at(side, ticks));
        }
        let (best, sz) = match side {
            Side::Bid => (self.market.best_bid, self.market.bid_sz),
            Side::Ask => (self.market.best_ask, self.market.ask_sz),
        };
        if px == best {
            sz
        } else {
            0.0
        }
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
            if o.side == side && o.px == q.px && o.state == OrderState::Resting {
                return (o.queue_ahead / level).clamp(0.0, 1.0);
            }
        }
        1.0
    }

    fn kill_unwind(
        &mut self,
        now_ms: u64,
        mid: f64,
        configured_max: f64,
        batches: &mut CycleBatches,
    ) -> &CycleOutput {
        let position = self.account.position;
        let buy = position < 0.0;
        self.out.diagnostics.unwinding = true;
        self.out.diagnostics.reduce_only = true;
        self.out.mode = ExecutionMode::Flat;
        let limits = self.limits.expect("checked");
        let s = self.signals;
        let inp = LadderInput {
            mid,
            best_bid: self.market.best_bid,
            best_ask: self.market.best_ask,
            sz_decimals: self.cfg.runtime.sz_decimals,
            min_notional: self.cfg.runtime.min_notional,
            sigma_bps: s.sigma_bps,
            kappa: s.kappa,
            a_intensity: s.a_intensity,
            gamma_base: limits.risk_aversion,
            risk: RiskFeatures::default(),
            alpha_bps: 0.0,
            measured_as_bps: self.adverse.ewma_bps,
            as_warmup: 0.0,
            regime: s.regime,
            position,
            effective_max: configured_max,
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
        };
        self.ladder.quote(&inp, &mut self.scratch.ladder);
        self.out.quotes = self.scratch.ladder;
        self.reconcile_and_emit(
            now_ms,
            mid,
            configured_max,
            inp.room_bid,
            inp.room_ask,
            true,
            batches,
        );
        self.finish(batches)
    }

    fn cancel_all(&mut self, now_ms: u64, batches: &mut CycleBatches) {
        for i in 0..self.orders.len() {
            if self.orders.get(i).state != OrderState::PendingCancel {
                self.emit_cancel(i, now_ms, batches);
            }
        }
    }

    fn emit_cancel(&mut self, i: usize, now_ms: u64, batches: &mut CycleBatches) -> bool {
        let Some((batch, index)) = batches.slot(ActionKind::Cancel, &mut self.next_batch) else {
            return false;
        };
        let o = *self.orders.get(i);
        if !self.out.actions.push(Action {
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

    #[allow(clippy::too_many_arguments)]
    fn reconcile_and_emit(
        &mut self,
        now_ms: u64,
        mid: f64,
        configured_max: f64,
        room_bid: f64,
        room_ask: f64,
        reduce_only: bool,
        batches: &mut CycleBatches,
    ) {
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
        // Invariant limits: position + buys <= max, -position + sells <= max.
        let buy_limit = configured_max - position;
        let sell_limit = configured_max + position;
        let mut exposure = self.orders.exposure();
        let mut emitted_requotes = 0u32;
        for side in [Side::Bid, Side::Ask] {
            let room = match side {
                Side::Bid => room_bid,
                Side::Ask => room_ask,
            };
            let desired = *self.out.quotes.side(side);
            let desired = desired.as_slice();
            let dec = &mut self.scratch.decisions;
            dec.clear();
            reconcile_side(mid, side, desired, self.orders.as_slice(), &params, dec);
            // Kept orders must fit in the room: cancel the deepest keeps that do not.
            let mut kept = 0.0;
            let n = self.scratch.decisions.as_slice().len();
            for k in 0..n {
                if let Decision::Keep { order, .. } = self.scratch.decisions.as_slice()[k] {
                    let sz = self.orders.get(order).sz;
                    if kept + sz > room * (1.0 + SIZE_EPS) + SIZE_EPS {
                        self.scratch.decisions.set(k, Decision::Cancel { order });
                    } else {
                        kept += sz;
                    }
                }
            }
            for k in 0..n {
                if let Decision::Cancel { order } = self.scratch.decisions.as_slice()[k] {
                    self.emit_cancel(order, now_ms, batches);
                }
            }
            let limit = match side {
                Side::Bid => buy_limit,
                Side::Ask => sell_limit,
            };
            for k in 0..n {
                let dec = self.scratch.decisions.as_slice()[k];
                let (quote, old) = match dec {
                    Decision::Place { quote } => (quote, None),
                    Decision::Modify { order, quote } => (quote, Some(order)),
                    _ => continue,
                };
                let q = desired[quote];
                let side_exp = match side {
                    Side::Bid => exposure.buys,
                    Side::Ask => exposure.sells,
                };
                let fits_invariant = side_exp + q.sz <= limit * (1.0 + SIZE_EPS) + SIZE_EPS;
                let fits_room = kept + q.sz <= room * (1.0 + SIZE_EPS) + SIZE_EPS;
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
                    self.out.diagnostics.deferred += 1;
                    self.out.diagnostics.throttled |= throttled;
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
                    kept += q.sz;
                    match side {
                        Side::Bid => exposure.buys += q.sz,
                        Side::Ask => exposure.sells += q.sz,
                    }
                } else {
                    self.out.diagnostics.deferred += 1;
                }
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
        let Some((batch, index)) = batches.slot(ActionKind::Place, &mut self.next_batch) else {
            return false;
        };
        let mut o = self.new_order(q, reduce_only, now_ms);
        o.batch = batch;
        o.index = index;
        if !self.out.actions.push(Action {
            kind: ActionKind::Place,
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
        batches.commit(ActionKind::Place);
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
        if !self.out.actions.push(Action {
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

    fn finish(&mut self, batches: &CycleBatches) -> &CycleOutput {
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

    fn process_markouts(&mut self, now_ms: u64) {
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
            let edge = sign * (mid - m.px) / m.px * 1e4 - fee;
            let adverse = -sign * (mid - m.mid_at_fill) / m.mid_at_fill * 1e4;
            let a = &mut self.adverse;
            a.ewma_bps = if a.count == 0 {
                adverse
            } else {
                a.ewma_bps + AS_EWMA_ALPHA * (adverse - a.ewma_bps)
            };
            a.count += 1;
            self.ladder.kelly.record(edge);
            self.queue.record_outcome(m.predicted_bps, edge);
            self.markout_len -= 1;
            self.markouts[i] = self.markouts[self.markout_len];
        }
    }
}

/// Batch ids of one cycle, one per action kind, allocated on first use.
#[derive(Debug, Default)]
struct CycleBatches {
    /// (id, count) per kind: cancel, modify, place.
    ids: [Option<(u64, u32)>; 3],
}

impl CycleBatches {
    fn idx(kind: ActionKind) -> usize {
        match kind {
            ActionKind::Cancel => 0,
            ActionKind::Modify => 1,
            ActionKind::Place => 2,
        }
    }

    /// The (batch id, index) the next action of `kind` gets; `commit` makes it count.
    fn slot(&mut self, kind: ActionKind, next: &mut u64) -> Option<(u64, u32)> {
        let e = &mut self.ids[Self::idx(kind)];
        if e.is_none() {
            *e = Some((*next, 0));
            *next += 1;
        }
        e.map(|(id, n)| (id, n))
    }

    fn commit(&mut self, kind: ActionKind) {
        if let Some((_, n)) = &mut self.ids[Self::idx(kind)] {
            *n += 1;
        }
    }

    fn used(&self) -> impl Iterator<Item = (ActionKind, (u64, u32))> + '_ {
        [ActionKind::Cancel, ActionKind::Modify, ActionKind::Place]
            .into_iter()
            .zip(self.ids)
            .filter_map(|(k, e)| e.filter(|(_, n)| *n > 0).map(|e| (k, e)))
    }
}
