//! The risk plan of one cycle (SPEC 3, SPEC 8 steps 1-3), as one pure function of the cycle's
//! risk inputs: whether to quote, cancel everything or unwind, and if quoting, the zone, the
//! overlay's multipliers, the effective max, each side's room and the caps that applied.
//!
//! A new monitor is one new field of [`RiskInputs`] (filled in `QuoteEngine::risk_inputs`) and
//! one new line here: a [`FlatReason`] when it stops quoting, a [`CapFlags`] bit when it cuts
//! the max or widens a side. The engine copies the plan into the diagnostics as a whole, so the
//! Python diagnostics dict (`caps` names, `flat_reason` string) follows without other edits.

use super::output::{CapFlags, CycleDiagnostics, FlatReason};
use super::views::{MarketView, SignalView};
use crate::config::{LeadVenue, MarketMakerConfig, ResolvedLimits};
use crate::governor::{InventoryGovernor, PositionZone};
use crate::params::MIN_NOTIONAL_BUFFER;
use crate::strategy::round_size_up;
use crate::types::{Side, VolRegime};

/// What the risk plan reads. The stateful inputs (the limits resolved at the current mid, the
/// day's opening equity) are read by the engine only when the plan reaches them, in SPEC 8 order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiskInputs {
    pub now_ms: u64,
    pub market: MarketView,
    pub signals: SignalView,
    /// No Hyperliquid book, bbo or pong within `risk.hl_stale_ms`.
    pub hl_stale: bool,
    /// `set_account` has given the margin.
    pub account_known: bool,
    pub position: f64,
    pub available_margin: f64,
    pub leverage: f64,
    /// The limits at the current mid and their governor; `None` when no valid order fits.
    pub limits: Option<(ResolvedLimits, InventoryGovernor)>,
    /// Equity lost since the day began reached `risk.daily_loss_limit_usd`.
    pub daily_loss: bool,
    /// The previous cycle was in Kill (the first Kill cycle only cancels).
    pub in_kill: bool,
    /// Cycles quoted so far without a cross-venue signal (paces the no-signal warning).
    pub no_signal_cycles: u64,
}

/// What the cycle does after the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stance {
    /// Quote the ladder of the mode `select_mode` picks.
    Quote,
    /// Cancel every order and quote nothing (`flat_reason` says why).
    #[default]
    CancelAll,
    /// Kill: reduce-only quotes at the touch on the reducing side (SPEC 3 `kill_unwind`).
    Unwind,
}

/// The plan: the stance and every number of SPEC 8 steps 1-3. Fields past the point where the
/// plan stopped keep their defaults (as the diagnostics always have).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiskPlan {
    pub stance: Stance,
    pub flat_reason: FlatReason,
    pub zone: PositionZone,
    pub mid: f64,
    pub configured_max: f64,
    pub effective_max: f64,
    /// Overlay multipliers on each side's spread, capped at `risk.overlay_cap`.
    pub bid_mult: f64,
    pub ask_mult: f64,
    /// Room each side's desired ladder may fill.
    pub room_bid: f64,
    pub room_ask: f64,
    pub caps: CapFlags,
    /// The Binance feed went stale after being live.
    pub lead_stale: bool,
    /// The lead signal may skew quotes this cycle.
    pub alpha_ok: bool,
    pub no_signal_warning: bool,
    /// Kill latched for the next cycle.
    pub in_kill: bool,
}

impl RiskPlan {
    fn flat(reason: FlatReason, in_kill: bool) -> Self {
        Self {
            stance: Stance::CancelAll,
            flat_reason: reason,
            zone: PositionZone::Green,
            mid: 0.0,
            configured_max: 0.0,
            effective_max: 0.0,
            bid_mult: 1.0,
            ask_mult: 1.0,
            room_bid: 0.0,
            room_ask: 0.0,
            caps: CapFlags::default(),
            lead_stale: false,
            alpha_ok: false,
            no_signal_warning: false,
            in_kill,
        }
    }

    /// Writes the plan's part of the diagnostics.
    pub fn write(&self, d: &mut CycleDiagnostics) {
        d.flat_reason = self.flat_reason;
        d.mid = self.mid;
        d.configured_max = self.configured_max;
        d.effective_max = self.effective_max;
        d.bid_mult = self.bid_mult;
        d.ask_mult = self.ask_mult;
        d.room_bid = self.room_bid;
        d.room_ask = self.room_ask;
        d.caps = self.caps;
        d.lead_stale = self.lead_stale;
        d.no_signal_warning = self.no_signal_warning;
    }
}

/// SPEC 8 steps 1-3: the reasons to quote nothing (no book, stale Hyperliquid data, no account,
/// no viable limit), the governor (Kill and the daily loss limit cancel, then unwind), the risk
/// overlay, the effective max and the rooms.
pub fn plan(i: &RiskInputs, cfg: &MarketMakerConfig) -> RiskPlan {
    let risk = &cfg.risk;
    if !i.market.has_top() {
        return RiskPlan::flat(FlatReason::NoBook, i.in_kill);
    }
    if i.hl_stale {
        return RiskPlan::flat(FlatReason::HlStale, i.in_kill);
    }
    if !i.account_known {
        return RiskPlan::flat(FlatReason::NoAccount, i.in_kill);
    }
    let Some((limits, governor)) = i.limits else {
        return RiskPlan::flat(FlatReason::NotViable, i.in_kill);
    };
    let mid = i.market.mid();
    let configured_max = limits.max_position;
    let position = i.position;
    let assessment = governor.assess(position);
    let mut p = RiskPlan {
        mid,
        configured_max,
        zone: assessment.zone,
        ..RiskPlan::flat(FlatReason::None, i.in_kill)
    };
    // Governor: Kill (or the day's loss limit) cancels everything, then unwinds from the next
    // cycle on (SPEC 3).
    if assessment.zone == PositionZone::Kill || i.daily_loss {
        let first = !i.in_kill;
        p.in_kill = true;
        p.flat_reason = if i.daily_loss {
            FlatReason::DailyLoss
        } else {
            FlatReason::Kill
        };
        let unwind = !(first || i.daily_loss || !risk.kill_unwind || position == 0.0);
        p.stance = if unwind {
            Stance::Unwind
        } else {
            Stance::CancelAll
        };
        return p;
    }
    p.stance = Stance::Quote;
    p.in_kill = false;
    let s = &i.signals;
    // Risk overlay: multipliers on the increasing side, capped.
    let inc = assessment.increasing_side_spread_mult;
    if inc > 1.0 {
        p.caps.set(CapFlags::ZONE);
    }
    let (mut bid_mult, mut ask_mult) = (
        if position >= 0.0 { inc } else { 1.0 },
        if position <= 0.0 { inc } else { 1.0 },
    );
    if let Some(run_over) = s.cusum_alarm {
        p.caps.set(CapFlags::CUSUM);
        match run_over {
            Side::Bid => bid_mult *= risk.cusum_alarm_mult,
            Side::Ask => ask_mult *= risk.cusum_alarm_mult,
        }
    }
    if s.regime == VolRegime::Extreme {
        p.caps.set(CapFlags::EXTREME_VOL);
        bid_mult *= risk.extreme_vol_mult;
        ask_mult *= risk.extreme_vol_mult;
    }
    let cap = risk.overlay_cap;
    if bid_mult > cap || ask_mult > cap {
        p.caps.set(CapFlags::OVERLAY_CAP);
    }
    p.bid_mult = bid_mult.min(cap);
    p.ask_mult = ask_mult.min(cap);
    // Effective max (SPEC 8 step 3).
    let mut eff = configured_max;
    let margin_cap = i.available_margin * i.leverage / mid;
    if margin_cap < eff {
        eff = margin_cap;
        p.caps.set(CapFlags::MARGIN);
    }
    let zone_adj = governor.zone_adjusted_max(s.regime.volatility_fraction());
    if zone_adj < eff {
        eff = zone_adj;
        p.caps.set(CapFlags::REGIME);
    }
    let binance_lead = cfg.lead_venue == LeadVenue::Binance;
    p.lead_stale = binance_lead && i.market.binance_stale(i.now_ms, risk.binance_stale_ms);
    p.alpha_ok = s.alpha_actionable;
    if binance_lead {
        if !s.has_had_cross_venue {
            eff = eff.min(cfg.signals.no_signal_cap * configured_max);
            p.caps.set(CapFlags::NO_SIGNAL);
            p.no_signal_warning =
                i.no_signal_cycles % u64::from(cfg.signals.warn_every_cycles) == 0;
        } else if p.lead_stale || s.lead_lost {
            eff = eff.min(cfg.signals.lead_lost_cap * configured_max);
            p.caps.set(CapFlags::LEAD_LOST);
            p.alpha_ok = false;
        }
    }
    let min_order = round_size_up(
        cfg.runtime.min_notional * MIN_NOTIONAL_BUFFER / mid,
        cfg.runtime.sz_decimals,
    );
    if configured_max >= min_order && eff < min_order {
        eff = min_order;
        p.caps.set(CapFlags::MIN_ORDER_FLOOR);
    }
    p.effective_max = eff;
    // Room each side's desired ladder may fill.
    let mut room_bid = (eff - position).max(0.0);
    let mut room_ask = (eff + position).max(0.0);
    let new_exp = assessment.max_new_exposure;
    if position >= 0.0 && room_bid > new_exp {
        room_bid = new_exp;
        p.caps.set(CapFlags::NEW_EXPOSURE);
    }
    if position <= 0.0 && room_ask > new_exp {
        room_ask = new_exp;
        p.caps.set(CapFlags::NEW_EXPOSURE);
    }
    p.room_bid = room_bid;
    p.room_ask = room_ask;
    p
}
