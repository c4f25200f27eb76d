//! The market and signal views the cycle reads: kept up to date by the frame handlers (market)
//! and by one integrator snapshot per cycle (signals), or set directly by research and tests.

use serde::{Deserialize, Serialize};

use super::QuoteEngine;
use crate::config::{LeadVenue, MarketMakerConfig, SignalConfig};
use crate::signals::{CapReason, SignalSnapshot};
use crate::types::{Side, ToxicityRegime, VolRegime};

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
    /// The last valid touch of each side `(px, sz, recv_ms)`, for a side that goes empty.
    pub last_bid: (f64, f64, u64),
    pub last_ask: (f64, f64, u64),
}

impl MarketView {
    /// Remembers each side that has a touch now (called by the frame handlers).
    pub fn remember_sides(&mut self, recv_ms: u64) {
        if self.best_bid > 0.0 {
            self.last_bid = (self.best_bid, self.bid_sz, recv_ms);
        }
        if self.best_ask > 0.0 {
            self.last_ask = (self.best_ask, self.ask_sz, recv_ms);
        }
    }

    /// A one-sided book (issue 13 item 5): puts back the missing side's last valid touch when
    /// it is at most `hold_ms` old and still on its side of the other one. True when it did.
    pub fn fill_missing_side(&mut self, now_ms: u64, hold_ms: u64) -> bool {
        let fresh = |t: u64| hold_ms > 0 && now_ms.saturating_sub(t) <= hold_ms;
        if self.best_bid <= 0.0 && self.best_ask > 0.0 {
            let (px, sz, t) = self.last_bid;
            if px > 0.0 && px < self.best_ask && fresh(t) {
                (self.best_bid, self.bid_sz) = (px, sz);
                return true;
            }
        } else if self.best_ask <= 0.0 && self.best_bid > 0.0 {
            let (px, sz, t) = self.last_ask;
            if px > self.best_bid && fresh(t) {
                (self.best_ask, self.ask_sz) = (px, sz);
                return true;
            }
        }
        false
    }

    pub fn has_top(&self) -> bool {
        self.best_bid > 0.0 && self.best_ask > 0.0 && self.best_bid < self.best_ask
    }

    pub fn mid(&self) -> f64 {
        0.5 * (self.best_bid + self.best_ask)
    }

    /// No Hyperliquid book, bbo or pong within `stale_ms` of `now_ms` (or none ever).
    pub fn hl_stale(&self, now_ms: u64, stale_ms: u64) -> bool {
        self.hl_recv_ms
            .is_none_or(|t| now_ms.saturating_sub(t) > stale_ms)
    }

    /// A Binance feed that was live has been silent for more than `stale_ms`.
    pub fn binance_stale(&self, now_ms: u64, stale_ms: u64) -> bool {
        self.binance_recv_ms
            .is_some_and(|t| now_ms.saturating_sub(t) > stale_ms)
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
    /// The direction of one-sided taker flow, 0 when there is none: the side it runs into (bids
    /// when it sells) is priced with the buffer learned there.
    pub flow_dir: i8,
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
            flow_dir: 0,
        }
    }

    /// The view of one integrator snapshot. `alpha_bps` is the lead signal's predicted move;
    /// the cycle turns it into the alpha skew with the position context (SPEC 4). A signal
    /// switched off in `sig` (`signals.lead_skew`, `toxicity`, `cusum`) reads as its neutral
    /// value: learned as before, acted on never.
    pub fn from_snapshot(s: &SignalSnapshot, sig: &SignalConfig) -> Self {
        let toxicity = if sig.toxicity {
            s.toxicity
        } else {
            ToxicityRegime::Normal
        };
        Self {
            sigma_bps: s.sigma_bps,
            vol_ratio: if s.sigma_slow_bps > 0.0 {
                s.sigma_bps / s.sigma_slow_bps
            } else {
                1.0
            },
            regime: s.regime,
            toxicity,
            toxicity_score: if sig.toxicity {
                s.flow.toxicity_score
            } else {
                0.0
            },
            kappa: s.kappa,
            a_intensity: s.intensity_a,
            alpha_bps: if sig.lead_skew {
                s.lead_lag.predicted_move_bps
            } else {
                0.0
            },
            alpha_actionable: s.lead_lag.actionable,
            has_had_cross_venue: s.has_had_cross_venue,
            // +1: the lead venue moved above Hyperliquid, our asks are about to be lifted.
            cusum_alarm: match (sig.cusum && s.cusum.alarm, s.cusum.direction) {
                (true, d) if d > 0 => Some(Side::Ask),
                (true, d) if d < 0 => Some(Side::Bid),
                _ => None,
            },
            thin_book: 0.0,
            lead_lost: s.cap_reason == CapReason::LeadLost,
            flow_dir: s.flow_dir,
        }
    }
}

impl QuoteEngine {
    /// The integrator's view as of `now_ms` (one snapshot per cycle), unless overridden; a
    /// Binance feed gone stale is disabled at once (SPEC 8 step 2).
    pub(super) fn refresh_signals(&mut self, now_ms: u64) {
        if self.cfg.lead_venue == LeadVenue::Binance {
            let stale = self
                .market
                .binance_stale(now_ms, self.cfg.risk.binance_stale_ms);
            if stale && !self.lead_disabled {
                self.integrator.disable_binance_signals();
            }
            self.lead_disabled = stale;
        }
        let snap = self.integrator.snapshot(now_ms as i64);
        self.signals = match self.signal_override {
            Some(s) => s,
            None => SignalView::from_snapshot(&snap, &self.cfg.signals),
        };
    }

    /// Visible size at `px` on `side`: from the Hyperliquid book when it holds that side
    /// (frames), else from the top of book alone (the typed `on_hl_top` path).
    pub(super) fn visible_qty(&self, side: Side, px: f64) -> f64 {
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
}
