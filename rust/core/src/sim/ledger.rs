//! The venue's own ledger per account: position, entry, realised PnL, fees, volume, and an
//! independent count of safety-invariant breaches (SPEC 3, 11).

use std::collections::BTreeSet;

/// Position of one account in one asset. Sizes in lots, prices in USD.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Position {
    pub szi: i64,
    pub entry_px: f64,
    pub realized: f64,
    pub fees: f64,
    pub volume: f64,
    pub n_fills: u64,
    /// Resting buy and sell size of the account in this asset, lots.
    pub resting_buy: i64,
    pub resting_sell: i64,
    /// USD notional of the resting orders that need margin (all but reduce-only).
    pub resting_notional: f64,
    pub leverage: u32,
    /// Configured max position in lots (the bot's hard ceiling), if the venue was told it; under
    /// a USD limit, its coin ceiling at the venue's mid of the last check.
    pub max_position: Option<i64>,
    /// A USD limit `(usd, tolerance)` instead: see `MatchingEngine::set_max_position_usd`.
    pub max_position_usd: Option<(f64, f64)>,
    /// Currently in breach on the long / short side.
    pub in_breach: [bool; 2],
    /// Breaches counted on this asset (each entry into breach, per direction).
    pub breaches: u64,
    /// Largest excess over max seen, lots.
    pub max_excess: i64,
}

/// What a fill did to a position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FillEffect {
    pub start_szi: i64,
    pub closed_pnl: f64,
    pub dir: &'static str,
}

impl Position {
    /// Applies a fill of `sz` lots at `px` (USD per coin; `lot` coins per lot).
    pub fn apply_fill(&mut self, is_buy: bool, px: f64, sz: i64, lot: f64, fee: f64) -> FillEffect {
        let start = self.szi;
        let signed = if is_buy { sz } else { -sz };
        let mut closed_pnl = 0.0;
        if start == 0 || (start > 0) == is_buy {
            let old = start.unsigned_abs() as f64;
            let add = sz as f64;
            self.entry_px = (self.entry_px * old + px * add) / (old + add);
        } else {
            let closing = sz.min(start.abs());
            let sign = if start > 0 { 1.0 } else { -1.0 };
            closed_pnl = (px - self.entry_px) * sign * closing as f64 * lot;
            if sz > start.abs() {
                self.entry_px = px; // flipped: the remainder opens at this price
            } else if start + signed == 0 {
                self.entry_px = 0.0;
            }
        }
        self.szi = start + signed;
        self.realized += closed_pnl;
        self.fees += fee;
        self.volume += px * sz as f64 * lot;
        self.n_fills += 1;
        FillEffect {
            start_szi: start,
            closed_pnl,
            dir: direction(start, self.szi),
        }
    }

    /// Re-checks the safety invariant (SPEC 3) from what the venue sees: position plus resting
    /// buys, and minus position plus resting sells, each within max. Counts entries into breach.
    pub fn check_invariant(&mut self) -> bool {
        let Some(max) = self.max_position else {
            return false;
        };
        let long = self.szi + self.resting_buy;
        let short = -self.szi + self.resting_sell;
        let mut newly = false;
        for (i, exposure) in [long, short].into_iter().enumerate() {
            let breach = exposure > max;
            if breach {
                self.max_excess = self.max_excess.max(exposure - max);
                if !self.in_breach[i] {
                    self.breaches += 1;
                    newly = true;
                }
            }
            self.in_breach[i] = breach;
        }
        newly
    }
}

fn direction(start: i64, end: i64) -> &'static str {
    match (start.signum(), end.signum()) {
        (0, 1) | (1, 1) if end >= start => "Open Long",
        (1, 1) | (1, 0) => "Close Long",
        (0, -1) | (-1, -1) if end <= start => "Open Short",
        (-1, -1) | (-1, 0) => "Close Short",
        (1, -1) => "Long > Short",
        (-1, 1) => "Short > Long",
        _ => "Open Long",
    }
}

/// One account on the venue.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub address: String,
    /// Deposited USDC plus realised PnL minus fees.
    pub usdc: f64,
    /// One position per asset, same order as the engine's assets.
    pub positions: Vec<Position>,
    pub cum_volume: f64,
    pub n_requests: u64,
    pub last_limited_ms: u64,
    pub open: BTreeSet<u64>,
    pub schedule_cancel: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_realised_and_directions_hand_computed() {
        let mut p = Position::default();
        let lot = 0.01;
        // buy 2 coins at 100, then 2 at 110: entry 105
        let e = p.apply_fill(true, 100.0, 200, lot, 0.03);
        assert_eq!((e.dir, e.start_szi, e.closed_pnl), ("Open Long", 0, 0.0));
        p.apply_fill(true, 110.0, 200, lot, 0.0);
        assert!((p.entry_px - 105.0).abs() < 1e-12);
        // sell 1 at 120: +15
        let e = p.apply_fill(false, 120.0, 100, lot, 0.0);
        assert_eq!(e.dir, "Close Long");
        assert!((e.closed_pnl - 15.0).abs() < 1e-9);
        // sell 5 at 100: closes 3 (-15) and opens 2 short at 100
        let e = p.apply_fill(false, 100.0, 500, lot, 0.0);
        assert_eq!(e.dir, "Long > Short");
        assert!((e.closed_pnl + 15.0).abs() < 1e-9);
        assert_eq!(p.szi, -200);
        assert_eq!(p.entry_px, 100.0);
        let e = p.apply_fill(true, 90.0, 200, lot, 0.0);
        assert_eq!(e.dir, "Close Short");
        assert!((e.closed_pnl - 20.0).abs() < 1e-9);
        assert_eq!(p.szi, 0);
        assert!((p.realized - 20.0).abs() < 1e-9);
        assert!((p.fees - 0.03).abs() < 1e-12);
        assert!((p.volume - (200.0 + 220.0 + 120.0 + 500.0 + 180.0)).abs() < 1e-9);
    }

    #[test]
    fn breaches_count_entries_per_direction() {
        let mut p = Position {
            max_position: Some(10),
            ..Position::default()
        };
        p.resting_buy = 10;
        assert!(!p.check_invariant());
        p.resting_buy = 11;
        assert!(p.check_invariant());
        // still in breach: not counted again
        assert!(!p.check_invariant());
        p.resting_buy = 0;
        p.resting_sell = 12;
        assert!(p.check_invariant());
        assert_eq!(p.breaches, 2);
        assert_eq!(p.max_excess, 2);
        p.resting_sell = 0;
        p.check_invariant();
        p.szi = -11;
        assert!(p.check_invariant());
        assert_eq!(p.breaches, 3);
    }
}
