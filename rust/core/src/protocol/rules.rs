//! Hyperliquid price and size rules for perps (SPEC 0, PROTOCOL 4.3): at most 5 significant
//! figures and at most `6 - szDecimals` decimals, integer prices always valid; sizes in multiples
//! of `10^-szDecimals`. Bids round down and asks up, so rounding never moves a quote toward the
//! touch; sizes round down, so rounding never takes an order over a cap.
//!
//! Arithmetic is done on the scaled value `x * 10^decimals` with a relative tolerance of 1e-12
//! (thousands of ulps, far below any tick; 1e-9 let an ask of 2003017.0019 count as the integer
//! 2003017 and round toward the touch): a price such as 1234.5 is `12344.999999999998` after
//! scaling in f64 and must count as on the grid, not be pushed one step down.

/// Most decimals a perp price may have.
pub const MAX_PERP_DECIMALS: u32 = 6;
/// Significant figures allowed in a non-integer price.
pub const SIG_FIGS: i32 = 5;
const GRID_EPS: f64 = 1e-12;

/// Powers of ten up to 10^12, exact in f64.
const POW10: [f64; 13] = [
    1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
];

#[inline]
fn pow10(n: u32) -> f64 {
    POW10[(n as usize).min(POW10.len() - 1)]
}

/// Decimals a price of this magnitude may carry: `min(6 - szDecimals, 5 - integer digits)`,
/// never negative (prices of 100000 and above are integers).
#[inline]
pub fn price_decimals(px: f64, sz_decimals: u32) -> u32 {
    let max_dec = MAX_PERP_DECIMALS.saturating_sub(sz_decimals) as i32;
    // Digits before the point: 1 for [1, 10), 0 for [0.1, 1), -1 for [0.01, 0.1), ...
    let int_digits = if px > 0.0 {
        px.log10().floor() as i32 + 1
    } else {
        1
    };
    (SIG_FIGS - int_digits).clamp(0, max_dec) as u32
}

/// The price grid step at `px`: `10^-price_decimals(px)`.
#[inline]
pub fn price_tick(px: f64, sz_decimals: u32) -> f64 {
    1.0 / pow10(price_decimals(px, sz_decimals))
}

#[inline]
fn round_scaled(x: f64, dec: u32, up: bool) -> f64 {
    let s = pow10(dec);
    let v = x * s;
    let r = v.round();
    let on_grid = (v - r).abs() <= GRID_EPS * r.abs().max(1.0);
    let n = if on_grid {
        r
    } else if up {
        v.ceil()
    } else {
        v.floor()
    };
    n / s
}

/// Rounds a bid price down (`up = false`) or an ask price up (`up = true`) to the nearest valid
/// Hyperliquid perp price. Values already valid are returned unchanged.
#[inline]
pub fn round_price(px: f64, sz_decimals: u32, up: bool) -> f64 {
    if !(px.is_finite() && px > 0.0) {
        return px;
    }
    let dec = price_decimals(px, sz_decimals);
    // Rounding down across a power of ten (10.0001 -> 10) lands on a coarser-or-equal grid and
    // stays valid; rounding up across one (99999.5 -> 100000) lands exactly on the power of ten,
    // an integer, also valid. A bid below the smallest step rounds to 0: callers drop it.
    round_scaled(px, dec, up)
}

/// True when `px` is a valid perp price for `sz_decimals` (PROTOCOL 4.3).
pub fn is_valid_price(px: f64, sz_decimals: u32) -> bool {
    if !(px.is_finite() && px > 0.0) {
        return false;
    }
    if (px - px.round()).abs() <= GRID_EPS * px.abs().max(1.0) {
        return true; // integers are always valid
    }
    let dec = price_decimals(px, sz_decimals);
    let v = px * pow10(dec);
    (v - v.round()).abs() <= GRID_EPS * v.abs().max(1.0)
}

/// Rounds a size down to `sz_decimals`.
pub fn round_size_down(sz: f64, sz_decimals: u32) -> f64 {
    if !(sz.is_finite() && sz > 0.0) {
        return 0.0;
    }
    round_scaled(sz, sz_decimals, false)
}

/// Rounds a size up to `sz_decimals` (for minimum sizes).
pub fn round_size_up(sz: f64, sz_decimals: u32) -> f64 {
    if !(sz.is_finite() && sz > 0.0) {
        return 0.0;
    }
    round_scaled(sz, sz_decimals, true)
}

// ---- the same grid on integer units of `10^-(6 - szDecimals)` (the simulator's prices) ----

fn ndigits(mut v: i64) -> u32 {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

/// True iff `px` (in units of `10^-px_decimals`) is a valid Hyperliquid price: at most 5
/// significant figures, or an integer (integers are always valid).
pub fn price_valid(px: i64, px_decimals: u32) -> bool {
    if px <= 0 {
        return false;
    }
    let one = 10i64.pow(px_decimals);
    if px % one == 0 {
        return true;
    }
    let mut v = px;
    while v % 10 == 0 {
        v /= 10;
    }
    ndigits(v) <= 5
}

/// The price step at `px`: `10^(digits - 5)` units, never coarser than one whole unit of price.
pub fn tick_at(px: i64, px_decimals: u32) -> i64 {
    let e = ndigits(px.max(1)).saturating_sub(5).min(px_decimals);
    10i64.pow(e)
}

/// Rounds `px` to a valid price, down for bids and up for asks.
pub fn round_to_tick(px: i64, px_decimals: u32, down: bool) -> i64 {
    let mut p = px.max(1);
    for _ in 0..3 {
        let t = tick_at(p, px_decimals);
        let r = if down {
            p.div_euclid(t) * t
        } else {
            (p + t - 1).div_euclid(t) * t
        };
        if price_valid(r, px_decimals) {
            return r.max(t);
        }
        p = r;
    }
    p
}

/// The next valid price one tick away from `px` (up for asks, down for bids).
pub fn step_px(px: i64, px_decimals: u32, up: bool) -> i64 {
    if up {
        round_to_tick(px + tick_at(px, px_decimals), px_decimals, false)
    } else {
        let t = tick_at((px - 1).max(1), px_decimals);
        round_to_tick((px - t).max(1), px_decimals, true)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn protocol_4_3_cases() {
        // szDecimals 0 for the magnitude rules alone (6 decimals allowed by the second rule).
        assert!(is_valid_price(1234.5, 0));
        assert!(!is_valid_price(1234.56, 0), "6 significant figures");
        assert!(is_valid_price(0.001234, 0));
        assert!(!is_valid_price(0.0012345, 0), "7 decimals > 6");
        assert!(is_valid_price(123456.0, 0), "integers are always valid");
        assert!(!is_valid_price(12345.6, 0));
        // szDecimals 1: at most 5 decimals.
        assert!(is_valid_price(0.01234, 1));
        assert!(!is_valid_price(0.012345, 1));
        // BTC (szDecimals 5): 1 decimal at most.
        assert!(is_valid_price(90901.0, 5));
        assert!(!is_valid_price(9090.15, 5));
        assert!(is_valid_price(9090.1, 5));
    }

    #[test]
    fn bids_round_down_asks_up() {
        assert_eq!(round_price(1234.56, 0, false), 1234.5);
        assert_eq!(round_price(1234.56, 0, true), 1234.6);
        assert_eq!(round_price(0.0012345, 0, false), 0.001234);
        assert_eq!(round_price(0.0012345, 0, true), 0.001235);
        assert_eq!(round_price(123456.7, 0, false), 123456.0);
        assert_eq!(round_price(123456.2, 0, true), 123457.0);
        assert_eq!(round_price(99999.5, 0, true), 100000.0);
        assert_eq!(round_price(1234.5, 0, false), 1234.5, "on-grid stays");
        assert_eq!(round_price(1234.5, 0, true), 1234.5, "on-grid stays");
        // ETH szDecimals 4: 2 decimals.
        assert_eq!(round_price(3123.456, 4, false), 3123.4);
        assert_eq!(round_price(3123.456, 4, true), 3123.5);
        assert_eq!(round_price(312.3456, 4, false), 312.34);
    }

    #[test]
    fn sizes_round_to_lots() {
        assert_eq!(round_size_down(0.01479, 4), 0.0147);
        assert_eq!(round_size_down(0.0147, 4), 0.0147);
        assert_eq!(round_size_up(0.01471, 4), 0.0148);
        assert_eq!(
            round_size_down(1.0 - 0.9, 1),
            0.1,
            "f64 error is not a lot lost"
        );
        assert_eq!(
            round_size_up(0.1 * 3.0, 1),
            0.3,
            "f64 error is not a lot gained"
        );
        assert_eq!(round_size_down(-1.0, 2), 0.0);
        assert_eq!(round_size_down(f64::NAN, 2), 0.0);
    }

    #[test]
    fn large_integer_prices_round_outward() {
        // Regression (proptest): 2003017.0019 is not an integer; an ask must go up.
        assert_eq!(round_price(2_003_017.001_9, 0, true), 2_003_018.0);
        assert_eq!(round_price(2_003_017.001_9, 0, false), 2_003_017.0);
        assert!(!is_valid_price(2_003_017.001_9, 0));
    }

    proptest! {
        #[test]
        fn rounded_prices_are_valid_and_directional(
            mant in 1.0f64..10.0, exp in -5i32..7, szd in 0u32..6,
        ) {
            let px = mant * 10f64.powi(exp);
            // Prices with room for 5 significant figures on this grid (smaller ones are not
            // quotable on such an asset at all).
            prop_assume!(px >= 10f64.powi(4 - (6 - szd as i32)));
            let down = round_price(px, szd, false);
            let up = round_price(px, szd, true);
            prop_assert!(is_valid_price(down, szd), "{px} -> {down}");
            prop_assert!(is_valid_price(up, szd), "{px} -> {up}");
            prop_assert!(down <= px * (1.0 + 1e-12) && up >= px * (1.0 - 1e-12));
            // Never more than one grid step away.
            let tick = price_tick(px, szd);
            prop_assert!(px - down <= tick * (1.0 + 1e-9) && up - px <= tick * (1.0 + 1e-9));
            // Idempotent.
            prop_assert_eq!(round_price(down, szd, false), down);
            prop_assert_eq!(round_price(up, szd, true), up);
        }
    }
}
