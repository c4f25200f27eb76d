//! The pre-send guard (SPEC 8 step 7), independent of the engine: every order of an action
//! must be post-only (ALO) unless reduce-only, priced within `risk.price_band_bps` of the last
//! mid, and sized within the single-order cap; and the action must keep the safety invariant of
//! SPEC 3 per direction against the guard's own ledger (position + every resting and in-flight
//! order, a modify counting old and new), for each direction the action adds an order to, and
//! only those: an order on the side that reduces the position meets a room of max + |position|
//! there, so a reducing order passes even with |position| above the max (Kill must be able to
//! unwind, SPEC 3, 10), while nothing can be added on the side already over the limit. Cancels
//! never add exposure and are never checked. The whole action is refused when any order breaks
//! a rule.

use super::ledger::{Ledger, EPS};

/// One order of an action, as it will go on the wire.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuardOrder {
    pub is_buy: bool,
    pub px: f64,
    pub sz: f64,
    pub reduce_only: bool,
    /// Time in force ALO.
    pub post_only: bool,
}

/// The ceiling and cap the guard enforces: the `ResolvedLimits` of the engine's last
/// resolution (`super::resolve_limits`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuardLimits {
    /// The configured hard max on |position| (coin), not the engine's effective max.
    pub max_position: f64,
    pub single_order_cap: f64,
    pub price_band_bps: f64,
}

pub struct Guard {
    pub limits: GuardLimits,
    /// The mid the guard saw last on the market feed.
    pub mid: Option<f64>,
    pub ledger: Ledger,
    pub refusals: u64,
}

impl Guard {
    pub fn new(limits: GuardLimits) -> Self {
        Self {
            limits,
            mid: None,
            ledger: Ledger::default(),
            refusals: 0,
        }
    }

    /// `Ok` when the orders of one action may go out; else why not (for the log and the engine).
    ///
    /// # Errors
    /// The first rule an order breaks, in words naming the value and the limit.
    pub fn check(&self, orders: &[GuardOrder]) -> Result<(), String> {
        let lim = &self.limits;
        let (mut buy, mut sell) = self.ledger.exposure();
        let (mut adds_buy, mut adds_sell) = (false, false);
        for o in orders {
            self.check_order(o)?;
            if o.is_buy {
                buy += o.sz;
                adds_buy = true;
            } else {
                sell += o.sz;
                adds_sell = true;
            }
        }
        if adds_buy && buy > lim.max_position + EPS {
            return Err(format!(
                "safety invariant: position + resting and in-flight buys would be {buy:.8} > \
                 max_position {:.8}",
                lim.max_position
            ));
        }
        if adds_sell && sell > lim.max_position + EPS {
            return Err(format!(
                "safety invariant: -position + resting and in-flight sells would be {sell:.8} > \
                 max_position {:.8}",
                lim.max_position
            ));
        }
        Ok(())
    }

    fn check_order(&self, o: &GuardOrder) -> Result<(), String> {
        let lim = &self.limits;
        if !o.post_only && !o.reduce_only {
            return Err("quote not post-only: quotes must be Alo".to_string());
        }
        if !(o.px > 0.0 && o.sz > 0.0 && o.px.is_finite() && o.sz.is_finite()) {
            return Err(format!("order price {} / size {} must be > 0", o.px, o.sz));
        }
        match self.mid {
            None if !o.reduce_only => {
                return Err("no mid seen yet: quotes are refused until the book is live".into())
            }
            Some(mid) => {
                let bps = (o.px - mid).abs() / mid * 1e4;
                if bps > lim.price_band_bps {
                    return Err(format!(
                        "price {} is {bps:.1} bps from mid {mid} (band {} bps)",
                        o.px, lim.price_band_bps
                    ));
                }
            }
            None => {}
        }
        if o.sz > lim.single_order_cap + EPS && !o.reduce_only {
            return Err(format!(
                "size {} above the single-order cap {:.8}",
                o.sz, lim.single_order_cap
            ));
        }
        Ok(())
    }
}
