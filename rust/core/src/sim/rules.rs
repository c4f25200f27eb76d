//! Hyperliquid's order rules as the simulator applies them, and the exchange's own error strings
//! (PROTOCOL 3.3, 4.3). The rules themselves (price grid, decimal strings) are
//! [`crate::protocol`]'s.
//!
//! Prices and sizes are exact integers inside the simulator: a price is counted in units of
//! `10^-(6 - szDecimals)` and a size in lots of `10^-szDecimals`, so that `px * sz * 1e-6` is the
//! notional in USD for every perp.

use serde::{Deserialize, Serialize};

pub use crate::protocol::decimal::{fmt_f64, fmt_scaled, parse_scaled, DecimalError};
pub use crate::protocol::rules::{price_valid, round_to_tick, step_px, tick_at};

/// Per-order error strings, as production sends them before the ` asset=<id>` suffix.
pub mod msg {
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
}

/// One tradable perp as the simulator sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetSpec {
    /// Wire asset id: index in its dex's universe, or `100000 + dex_index * 10000 + index`.
    pub id: u32,
    /// Coin name on the wire: `"ETH"`, or `"dex:NAME"` for a HIP-3 asset.
    pub coin: String,
    pub sz_decimals: u32,
    pub max_leverage: u32,
    /// HIP-3 dex name, `""` for the main perp dex.
    pub dex: String,
    /// Index of the dex in `perpDexs` (0 = main dex).
    pub dex_index: u32,
    /// Index in the dex's `meta.universe`.
    pub index: u32,
}

impl AssetSpec {
    /// Decimals of the price grid: `6 - szDecimals` for perps.
    pub fn px_decimals(&self) -> u32 {
        6u32.saturating_sub(self.sz_decimals)
    }

    pub fn with_suffix(&self, text: &str) -> String {
        format!("{text} asset={}", self.id)
    }

    /// `Post only order would have immediately matched, bbo was <bid>@<ask>. asset=<id>`.
    pub fn alo_error(&self, bid: Option<i64>, ask: Option<i64>) -> String {
        let d = self.px_decimals();
        let f = |p: Option<i64>| p.map_or_else(|| "None".to_string(), |p| fmt_scaled(p, d));
        format!(
            "Post only order would have immediately matched, bbo was {}@{}. asset={}",
            f(bid),
            f(ask),
            self.id
        )
    }

    pub fn min_notional_error(&self, min_notional: f64) -> String {
        self.with_suffix(&format!(
            "Order must have minimum value of ${}.",
            fmt_f64(min_notional, 2)
        ))
    }

    pub fn px_to_f64(&self, px: i64) -> f64 {
        px as f64 / 10f64.powi(self.px_decimals() as i32)
    }

    pub fn sz_to_f64(&self, sz: i64) -> f64 {
        sz as f64 / 10f64.powi(self.sz_decimals as i32)
    }

    pub fn fmt_px(&self, px: i64) -> String {
        fmt_scaled(px, self.px_decimals())
    }

    pub fn fmt_sz(&self, sz: i64) -> String {
        fmt_scaled(sz, self.sz_decimals)
    }

    /// Rounds a float size to the nearest lot.
    pub fn sz_from_f64(&self, sz: f64) -> i64 {
        (sz * 10f64.powi(self.sz_decimals as i32)).round() as i64
    }

    /// The valid price nearest `px` on the side that never moves toward the touch:
    /// bids round down, asks round up (SPEC 0).
    pub fn px_from_f64(&self, px: f64, is_bid: bool) -> i64 {
        let scaled = px * 10f64.powi(self.px_decimals() as i32);
        let raw = if is_bid {
            scaled.floor()
        } else {
            scaled.ceil()
        } as i64;
        round_to_tick(raw.max(1), self.px_decimals(), is_bid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_tick_examples() {
        // PROTOCOL 4.3 examples. szDecimals 4 (ETH): 2 price decimals.
        assert_eq!(parse_scaled("1234.5", 2), Ok(123_450));
        assert!(price_valid(123_450, 2));
        assert_eq!(parse_scaled("1234.56", 2), Ok(123_456));
        assert!(!price_valid(123_456, 2));
        // integers are always valid, whatever their significant figures
        assert!(price_valid(parse_scaled("123456", 2).unwrap(), 2));
        assert!(!price_valid(parse_scaled("12345.6", 2).unwrap(), 2));
        // szDecimals 0: 6 decimals
        assert!(price_valid(parse_scaled("0.001234", 6).unwrap(), 6));
        assert_eq!(parse_scaled("0.0012345", 6), Err(DecimalError::TooPrecise));
        // szDecimals 1: 5 decimals
        assert!(price_valid(parse_scaled("0.01234", 5).unwrap(), 5));
        assert_eq!(parse_scaled("0.012345", 5), Err(DecimalError::TooPrecise));
    }

    #[test]
    fn parse_refuses_malformed_and_keeps_trailing_zeros_exact() {
        for bad in ["", ".", "-1", "1e3", "1.2.3", "abc", " 1"] {
            assert_eq!(parse_scaled(bad, 2), Err(DecimalError::Malformed), "{bad}");
        }
        assert_eq!(parse_scaled("1.2300000", 2), Ok(123));
        assert_eq!(parse_scaled(".5", 2), Ok(50));
        assert_eq!(parse_scaled("7.", 2), Ok(700));
    }

    #[test]
    fn formatting_is_the_wire_form() {
        assert_eq!(fmt_scaled(123_450, 2), "1234.5");
        assert_eq!(fmt_scaled(9_090_100, 1), "909010");
        assert_eq!(fmt_scaled(1, 6), "0.000001");
        assert_eq!(fmt_scaled(0, 3), "0");
        assert_eq!(fmt_scaled(-1500, 3), "-1.5");
        assert_eq!(fmt_f64(0.01500, 6), "0.015");
        assert_eq!(fmt_f64(-0.0000001, 6), "0");
        assert_eq!(fmt_f64(10.0, 2), "10");
    }

    #[test]
    fn ticks_follow_significant_figures_and_cap_at_one() {
        // ETH near 3000 with 2 decimals: 0.1 = 10 units
        assert_eq!(tick_at(300_000, 2), 10);
        // BTC near 100000 with 1 decimal: 5 sf would be 10, integers cap it at 1 = 10 units
        assert_eq!(tick_at(1_000_000, 1), 10);
        assert_eq!(tick_at(999_990, 1), 10);
        assert_eq!(tick_at(12_345, 1), 1);
        assert_eq!(round_to_tick(300_017, 2, true), 300_010);
        assert_eq!(round_to_tick(300_011, 2, false), 300_020);
        assert_eq!(step_px(100_000, 2, false), 99_999); // 1000.00 -> 999.99
        assert_eq!(step_px(99_999, 2, true), 100_000);
    }

    #[test]
    fn rounding_always_lands_on_valid_prices() {
        for px in (1..2_000_000).step_by(997) {
            for d in [0, 1, 2, 4, 6] {
                for down in [true, false] {
                    let r = round_to_tick(px, d, down);
                    assert!(price_valid(r, d), "{px} {d} {down} -> {r}");
                    if down {
                        assert!(r <= px.max(tick_at(r, d)));
                    } else {
                        assert!(r >= px);
                    }
                }
            }
        }
    }

    #[test]
    fn alo_error_matches_observed_text() {
        let a = AssetSpec {
            id: 0,
            coin: "BTC".into(),
            sz_decimals: 5,
            max_leverage: 40,
            dex: String::new(),
            dex_index: 0,
            index: 0,
        };
        assert_eq!(
            a.alo_error(Some(909_010), Some(909_020)),
            "Post only order would have immediately matched, bbo was 90901@90902. asset=0"
        );
        assert_eq!(
            a.min_notional_error(10.0),
            "Order must have minimum value of $10. asset=0"
        );
    }
}
