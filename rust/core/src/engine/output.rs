//! What one cycle produces (SPEC 8): the actions (one exchange action per batch), the desired
//! quotes, and the diagnostics behind them, with the cap flags and the reason to quote nothing.

use serde::{Deserialize, Serialize};

use crate::governor::PositionZone;
use crate::mode::ExecutionMode;
use crate::strategy::{EmptySide, LadderOutput};
use crate::types::{Side, ToxicityRegime, VolRegime};

/// Actions one cycle may emit.
pub const MAX_ACTIONS: usize = 256;

/// What an action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionKind {
    Place,
    Cancel,
    Modify,
    /// A reduce-only IOC order that takes liquidity (the taker exit, `risk.taker_exit_bps`).
    Take,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Place => "place",
            ActionKind::Cancel => "cancel",
            ActionKind::Modify => "modify",
            ActionKind::Take => "take",
        }
    }
}

/// One order-level step of a cycle: place, modify or cancel one order. The steps of one batch
/// are the items of one exchange action, [`crate::protocol::Action`] (built by
/// [`super::BatchWire`], the only translation). Kept in the engine's units (f64, u128 cloids):
/// wire decimals are formatted outside the cycle, when the batch is signed or simulated.
/// Places and modifies are post-only (ALO); a take is a reduce-only IOC.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderStep {
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

const EMPTY_ACTION: OrderStep = OrderStep {
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
    items: [OrderStep; MAX_ACTIONS],
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
    pub fn as_slice(&self) -> &[OrderStep] {
        &self.items[..self.len]
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn clear(&mut self) {
        self.len = 0;
    }

    pub(super) fn push(&mut self, a: OrderStep) -> bool {
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

    pub(super) fn set(&mut self, flag: u32) {
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
    /// One book side was empty and is quoted against from its last valid touch.
    pub one_sided: bool,
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
    /// The same, per side (the budget is shared fairly: `reconcile::fair_order`).
    pub deferred_bid: u32,
    pub deferred_ask: u32,
    /// Desired quotes held this cycle because an order of ours at their price may still rest
    /// (its cancel or modify unconfirmed): one order per price (`reconcile`, issue 13).
    pub held: u32,
    /// Why a side has no desired quote this cycle (`Quoted` when it has): a Maker cycle with room
    /// and no quote on a side says why here (issue 13 item 4).
    pub bid_empty: EmptySide,
    pub ask_empty: EmptySide,
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
    /// One-sided taker flow this cycle: +1 buys, -1 sells, 0 none (the side it runs into is
    /// priced with the adverse selection learned there).
    pub flow_dir: i8,
    /// The taker exit sent a reduce-only IOC this cycle (`risk.taker_exit_bps`).
    pub taker_exit: bool,
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
