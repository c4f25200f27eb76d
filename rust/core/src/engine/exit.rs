//! The taker exit (`risk.taker_exit_bps`, off by default): when the lead signal's predicted
//! move runs against the position by at least the threshold, the position is taken out at once
//! with one reduce-only IOC order priced `risk.taker_exit_slippage_bps` through the opposite
//! touch.
//!
//! Why a maker needs it: a quote that reduces the position rests on the side the move does not
//! take (long in a falling market: the ask, while the sellers hit bids), so a position caught
//! by an informed burst rides all of it; the lead venue shows the burst a few hundred ms before
//! Hyperliquid prices it. Paying the taker fee is worth it only when the move still to come is
//! larger than the fee, which is what the threshold says.
//!
//! One exit in flight at a time, at most one per `risk.taker_exit_cooldown_ms`; the exit is an
//! ordinary tracked order (`TrackedOrder::ioc`) counted in the exposure and checked against the
//! safety invariant like any other, gone with its answer (filled, in part or whole, or refused
//! for want of a match), never requoted or cancelled by reconcile.

use super::emit::CycleBatches;
use super::output::ActionKind;
use super::risk_plan::RiskPlan;
use super::QuoteEngine;
use crate::params::MIN_NOTIONAL_BUFFER;
use crate::protocol::rules::{round_price, round_size_down};
use crate::strategy::Quote;
use crate::types::Side;

/// What the exit would send: `None` when it is off, the move is not against the position by the
/// threshold, or there is no position or no touch to cross. A pure function of the cycle's
/// inputs (the engine adds the in-flight, cooldown and invariant checks).
///
/// `predicted_move_bps` is the lead signal's (> 0 up). Returns `(side, px, sz)`: the side of
/// the order (`Ask` sells), its limit price rounded away from the touch's far side (a sell
/// rounds down, a buy up: the limit stays at least the slippage through) and the position's
/// size rounded down to the exchange's lot.
pub fn exit_order(
    position: f64,
    predicted_move_bps: f64,
    threshold_bps: f64,
    slippage_bps: f64,
    best_bid: f64,
    best_ask: f64,
    sz_decimals: u32,
) -> Option<(Side, f64, f64)> {
    if !(threshold_bps > 0.0 && position != 0.0 && predicted_move_bps.is_finite()) {
        return None;
    }
    let long = position > 0.0;
    let against = if long {
        -predicted_move_bps
    } else {
        predicted_move_bps
    };
    if against < threshold_bps {
        return None;
    }
    let (side, touch, sign) = if long {
        (Side::Ask, best_bid, -1.0)
    } else {
        (Side::Bid, best_ask, 1.0)
    };
    if !(touch.is_finite() && touch > 0.0) {
        return None;
    }
    let px = round_price(
        touch * (1.0 + sign * slippage_bps * 1e-4),
        sz_decimals,
        !long,
    );
    let sz = round_size_down(position.abs(), sz_decimals);
    (px > 0.0 && sz > 0.0).then_some((side, px, sz))
}

impl QuoteEngine {
    /// Emits the taker exit when `exit_order` asks for one and nothing stands in the way: an
    /// exit already in flight, the cooldown, an order below the exchange's minimum notional,
    /// the tracker full, or the safety invariant (a reducing order of at most |position| always
    /// keeps it while the resting orders do; checked anyway, as every order is).
    pub(super) fn taker_exit(&mut self, now_ms: u64, plan: &RiskPlan, batches: &mut CycleBatches) {
        let r = &self.cfg.risk;
        if r.taker_exit_bps <= 0.0 || !plan.alpha_ok {
            return;
        }
        let position = self.account.position;
        let Some((side, px, sz)) = exit_order(
            position,
            self.signals.alpha_bps,
            r.taker_exit_bps,
            r.taker_exit_slippage_bps,
            self.market.best_bid,
            self.market.best_ask,
            self.cfg.runtime.sz_decimals,
        ) else {
            return;
        };
        let cooling = self
            .last_exit_ms
            .is_some_and(|t| now_ms < t.saturating_add(r.taker_exit_cooldown_ms));
        let in_flight = self.orders.as_slice().iter().any(|o| o.ioc);
        let min_notional = self.cfg.runtime.min_notional * MIN_NOTIONAL_BUFFER;
        if cooling || in_flight || sz * px < min_notional || self.orders.is_full() {
            return;
        }
        if !self
            .orders
            .exposure()
            .fits(side, sz, position, plan.configured_max)
        {
            return;
        }
        let mid = plan.mid;
        let q = Quote {
            side,
            level: 0,
            px,
            sz,
            depth_bps: if mid > 0.0 {
                (px - mid).abs() / mid * 1e4
            } else {
                0.0
            },
        };
        if !self.emit_new(ActionKind::Take, &q, true, now_ms, batches) {
            return;
        }
        self.bucket.force_take();
        self.last_exit_ms = Some(now_ms);
        self.out.diagnostics.taker_exit = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BID: f64 = 2999.9;
    const ASK: f64 = 3000.1;

    #[test]
    fn exit_order_hand_computed() {
        // Long 0.25, the lead says 6 bps down, threshold 5, 2 bps through: sell at
        // 2999.9 x (1 - 2e-4) = 2999.30002, rounded down to the 0.1 tick (ETH, 4 size decimals).
        assert_eq!(
            exit_order(0.25, -6.0, 5.0, 2.0, BID, ASK, 4),
            Some((Side::Ask, 2999.3, 0.25))
        );
        // Short 0.12345, 5 bps up: buy at 3000.1 x 1.0002 = 3000.70002, rounded up: 3000.8.
        assert_eq!(
            exit_order(-0.12345, 5.0, 5.0, 2.0, BID, ASK, 4),
            Some((Side::Bid, 3000.8, 0.1234))
        );
        // No slippage: the touch itself.
        assert_eq!(
            exit_order(0.5, -5.0, 5.0, 0.0, BID, ASK, 4),
            Some((Side::Ask, BID, 0.5))
        );
    }

    #[test]
    fn no_exit_below_the_threshold_with_the_move_or_off() {
        assert_eq!(exit_order(0.25, -4.9, 5.0, 2.0, BID, ASK, 4), None);
        assert_eq!(
            exit_order(0.25, 6.0, 5.0, 2.0, BID, ASK, 4),
            None,
            "in our favour"
        );
        assert_eq!(
            exit_order(-0.25, -6.0, 5.0, 2.0, BID, ASK, 4),
            None,
            "in our favour"
        );
        assert_eq!(exit_order(0.0, -60.0, 5.0, 2.0, BID, ASK, 4), None, "flat");
        assert_eq!(exit_order(0.25, -60.0, 0.0, 2.0, BID, ASK, 4), None, "off");
        assert_eq!(exit_order(0.25, f64::NAN, 5.0, 2.0, BID, ASK, 4), None);
        assert_eq!(
            exit_order(0.25, -6.0, 5.0, 2.0, f64::NAN, ASK, 4),
            None,
            "no bid"
        );
        assert_eq!(
            exit_order(0.00004, -6.0, 5.0, 2.0, BID, ASK, 4),
            None,
            "below a lot"
        );
    }
}
