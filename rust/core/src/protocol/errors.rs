//! The exchange's own per-order error strings (PROTOCOL 3.3, 4.3), as production sends them
//! before the ` asset=<id>` suffix: the simulator answers with them, and the engine and the
//! pre-send ledger read them back, so the wording lives here once.

pub const TICK: &str = "Price must be divisible by tick size.";
pub const MARGIN: &str = "Insufficient margin to place order.";
pub const REDUCE_ONLY: &str = "Reduce only order would increase position.";
pub const IOC_CANCEL: &str = "Order could not immediately match against any resting orders.";
pub const CANCEL_MISSING: &str = "Order was never placed, already canceled, or filled.";
pub const MODIFY_MISSING: &str = "Cannot modify canceled or filled order";
pub const TRIGGER_PX: &str = "Invalid TP/SL price.";
/// Not documented; the simulator's wording for a size that is not a whole number of lots.
pub const BAD_SIZE: &str = "Order has invalid size.";
/// Not documented; the simulator's wording for the open-order cap of PROTOCOL 5.2.
pub const TOO_MANY_ORDERS: &str = "Too many open orders.";

/// Whether an order status error says the order it targets is gone (filled or cancelled): the
/// answer to a cancel or a modify of an order the exchange no longer holds.
pub fn is_missing_order(msg: &str) -> bool {
    // Without the trailing period and the ` asset=` suffix: both vary.
    msg.contains(&CANCEL_MISSING[..CANCEL_MISSING.len() - 1]) || msg.contains(MODIFY_MISSING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_order_is_read_from_both_answers_with_or_without_suffix() {
        assert!(is_missing_order(CANCEL_MISSING));
        assert!(is_missing_order(&format!("{CANCEL_MISSING} asset=4")));
        assert!(is_missing_order(MODIFY_MISSING));
        assert!(is_missing_order("Order was never placed, already canceled, or filled"));
        assert!(!is_missing_order(MARGIN));
        assert!(!is_missing_order("Post only order would have immediately matched"));
    }
}
