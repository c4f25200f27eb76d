//! The inventory governor (SPEC 3): position zones, the new-exposure allowance and the
//! increasing-side spread multiplier. It is the first check of every cycle.

use serde::{Deserialize, Serialize};

use crate::check::{self, Result};

/// Position zone by `|position| / max_position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PositionZone {
    Green,
    Yellow,
    Red,
    Kill,
}

/// Zone boundaries as fractions of max position (SPEC 3 defaults 0.6 / 0.8 / 1.0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ZoneThresholds {
    pub yellow: f64,
    pub red: f64,
    pub kill: f64,
    /// New exposure stops at the Red boundary: an order that adds to |position| is never larger
    /// than what carries it to `red x max` (off by default, SPEC 3's allowance alone).
    pub adds_stop_at_red: bool,
}

impl Default for ZoneThresholds {
    fn default() -> Self {
        Self {
            yellow: 0.6,
            red: 0.8,
            kill: 1.0,
            adds_stop_at_red: false,
        }
    }
}

/// One assessment of a position against the configured max.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PositionAssessment {
    pub zone: PositionZone,
    /// How much further |position| may grow: Green `max - |q|`, Yellow half of that, else 0;
    /// with `adds_stop_at_red`, never past `red x max`.
    pub max_new_exposure: f64,
    pub position_ratio: f64,
    pub position: f64,
    pub is_long: bool,
    /// Spread multiplier on the side that would increase |position|: 1, ramp to 2, 2, 3.
    pub increasing_side_spread_mult: f64,
}

/// True iff an order on this side reduces |position|; false when flat (SPEC 3).
pub fn is_reducing(position: f64, is_buy: bool) -> bool {
    (position > 0.0 && !is_buy) || (position < 0.0 && is_buy)
}

/// Enforces the configured max position as a hard ceiling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InventoryGovernor {
    max_position: f64,
    zones: ZoneThresholds,
}

/// Relative slack when comparing a would-be position with the max: an order that lands exactly on
/// the max (up to f64 representation error of lot arithmetic) is allowed, anything above is not.
const FIT_EPS: f64 = 1e-9;

impl InventoryGovernor {
    /// Builds a governor with the SPEC's zone thresholds.
    ///
    /// # Errors
    /// `max_position` must be finite and > 0.
    pub fn new(max_position: f64) -> Result<Self> {
        Self::with_zones(max_position, ZoneThresholds::default())
    }

    /// Builds a governor with explicit zone thresholds (validated by the config).
    ///
    /// # Errors
    /// `max_position` must be finite and > 0.
    pub fn with_zones(max_position: f64, zones: ZoneThresholds) -> Result<Self> {
        check::positive("max_position", max_position)?;
        Ok(Self {
            max_position,
            zones,
        })
    }

    pub fn max_position(&self) -> f64 {
        self.max_position
    }

    /// Classifies `position`. A non-finite position is treated as Kill (the conservative answer
    /// to a corrupted input); callers validate inputs at the boundary.
    pub fn assess(&self, position: f64) -> PositionAssessment {
        let abs = position.abs();
        let ratio = if position.is_finite() {
            abs / self.max_position
        } else {
            f64::INFINITY
        };
        let z = &self.zones;
        let zone = if ratio >= z.kill {
            PositionZone::Kill
        } else if ratio >= z.red {
            PositionZone::Red
        } else if ratio >= z.yellow {
            PositionZone::Yellow
        } else {
            PositionZone::Green
        };
        let room = (self.max_position - abs).max(0.0);
        let (mut max_new_exposure, mult) = match zone {
            PositionZone::Green => (room, 1.0),
            PositionZone::Yellow => (0.5 * room, 1.0 + (ratio - z.yellow) / (z.red - z.yellow)),
            PositionZone::Red => (0.0, 2.0),
            PositionZone::Kill => (0.0, 3.0),
        };
        if z.adds_stop_at_red {
            // Just short of the boundary: a fill of the whole allowance stays in Yellow.
            let to_red = z.red * self.max_position * (1.0 - 1e-6) - abs;
            max_new_exposure = max_new_exposure.min(to_red.max(0.0));
        }
        PositionAssessment {
            zone,
            max_new_exposure,
            position_ratio: ratio,
            position,
            is_long: position > 0.0,
            increasing_side_spread_mult: mult,
        }
    }

    /// True iff the order increases |position| and the resulting |position| is above max.
    pub fn would_exceed(&self, current_position: f64, order_size: f64, is_buy: bool) -> bool {
        let signed = if is_buy { order_size } else { -order_size };
        let new_abs = (current_position + signed).abs();
        new_abs > current_position.abs() && new_abs > self.max_position * (1.0 + FIT_EPS)
    }

    /// True iff an order on this side reduces |position|; false when flat.
    pub fn is_reducing(&self, position: f64, is_buy: bool) -> bool {
        is_reducing(position, is_buy)
    }

    /// `max_position * (1 - 0.7 f)` with `f` clamped to [0, 1]; a NaN fraction counts as 1
    /// (Extreme), the conservative reading.
    pub fn zone_adjusted_max(&self, regime_volatility_fraction: f64) -> f64 {
        let f = if regime_volatility_fraction.is_nan() {
            1.0
        } else {
            regime_volatility_fraction.clamp(0.0, 1.0)
        };
        self.max_position * (1.0 - 0.7 * f)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn gov() -> InventoryGovernor {
        InventoryGovernor::new(1.0).unwrap()
    }

    #[test]
    fn zone_boundaries_exact_and_just_below() {
        let g = gov();
        let below = |x: f64| x - 1e-12;
        assert_eq!(g.assess(0.0).zone, PositionZone::Green);
        assert_eq!(g.assess(below(0.6)).zone, PositionZone::Green);
        assert_eq!(g.assess(0.6).zone, PositionZone::Yellow);
        assert_eq!(g.assess(-0.6).zone, PositionZone::Yellow);
        assert_eq!(g.assess(below(0.8)).zone, PositionZone::Yellow);
        assert_eq!(g.assess(0.8).zone, PositionZone::Red);
        assert_eq!(g.assess(below(1.0)).zone, PositionZone::Red);
        assert_eq!(g.assess(1.0).zone, PositionZone::Kill);
        assert_eq!(g.assess(-2.5).zone, PositionZone::Kill);
        assert_eq!(g.assess(f64::NAN).zone, PositionZone::Kill);
    }

    #[test]
    fn exposure_and_multiplier_per_zone() {
        let g = InventoryGovernor::new(2.0).unwrap();
        let a = g.assess(0.5); // ratio 0.25
        assert_eq!(a.max_new_exposure, 1.5);
        assert_eq!(a.increasing_side_spread_mult, 1.0);
        let a = g.assess(-1.4); // ratio 0.7: half-way through Yellow
        assert!((a.max_new_exposure - 0.3).abs() < 1e-12);
        assert!((a.increasing_side_spread_mult - 1.5).abs() < 1e-12);
        assert!(!a.is_long);
        let a = g.assess(1.7); // Red
        assert_eq!(
            (a.max_new_exposure, a.increasing_side_spread_mult),
            (0.0, 2.0)
        );
        let a = g.assess(2.0); // Kill
        assert_eq!(
            (a.max_new_exposure, a.increasing_side_spread_mult),
            (0.0, 3.0)
        );
    }

    #[test]
    fn adds_stop_at_red_caps_the_allowance_at_the_boundary() {
        let zones = ZoneThresholds {
            adds_stop_at_red: true,
            ..ZoneThresholds::default()
        };
        let g = InventoryGovernor::with_zones(2.0, zones).unwrap();
        let off = InventoryGovernor::new(2.0).unwrap();
        // Green at 0.5: SPEC 3 allows 1.5, the boundary 1.6 - 0.5 = 1.1 (less 1e-6 of 1.6).
        assert!((off.assess(0.5).max_new_exposure - 1.5).abs() < 1e-12);
        assert!((g.assess(0.5).max_new_exposure - (1.1 - 1.6e-6)).abs() < 1e-12);
        // Yellow at -1.4: half the room, 0.3, is more than the 0.2 left to Red.
        assert!((off.assess(-1.4).max_new_exposure - 0.3).abs() < 1e-12);
        let a = g.assess(-1.4);
        assert!((a.max_new_exposure - (0.2 - 1.6e-6)).abs() < 1e-12);
        // A fill of the whole allowance stays in Yellow.
        assert_eq!(
            g.assess(-1.4 - a.max_new_exposure).zone,
            PositionZone::Yellow
        );
        // Yellow at 1.5: the boundary's 0.1 binds against half the room's 0.25.
        assert!((g.assess(1.5).max_new_exposure - (0.1 - 1.6e-6)).abs() < 1e-12);
        // Red and Kill are unchanged, and nothing is ever negative.
        assert_eq!(g.assess(1.7).max_new_exposure, 0.0);
        assert_eq!(g.assess(2.5).max_new_exposure, 0.0);
    }

    #[test]
    fn would_exceed_and_reducing() {
        let g = gov();
        assert!(
            !g.would_exceed(0.7, 0.3, true),
            "landing exactly on max is allowed"
        );
        assert!(g.would_exceed(0.7, 0.31, true));
        assert!(!g.would_exceed(1.5, 0.2, false), "reducing never exceeds");
        assert!(g.would_exceed(-0.9, 0.2, false));
        assert!(
            g.would_exceed(-0.9, 2.0, true),
            "a flip past the max on the other side exceeds"
        );
        assert!(g.is_reducing(0.5, false));
        assert!(g.is_reducing(-0.5, true));
        assert!(!g.is_reducing(0.0, true));
        assert!(!g.is_reducing(0.0, false));
        assert!(!g.is_reducing(0.5, true));
    }

    #[test]
    fn zone_adjusted_max_values() {
        let g = InventoryGovernor::new(10.0).unwrap();
        assert_eq!(g.zone_adjusted_max(0.0), 10.0);
        assert!((g.zone_adjusted_max(0.5) - 6.5).abs() < 1e-12);
        assert!((g.zone_adjusted_max(1.0) - 3.0).abs() < 1e-12);
        assert!((g.zone_adjusted_max(f64::NAN) - 3.0).abs() < 1e-12);
        assert!((g.zone_adjusted_max(7.0) - 3.0).abs() < 1e-12);
    }

    #[test]
    fn rejects_bad_max() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = InventoryGovernor::new(bad).unwrap_err().to_string();
            assert!(e.contains("max_position"), "{e}");
        }
    }

    proptest! {
        #[test]
        fn zone_monotone_in_abs_position(max in 0.001f64..1e6, a in 0f64..3.0, b in 0f64..3.0) {
            let g = InventoryGovernor::new(max).unwrap();
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(g.assess(lo * max).zone <= g.assess(hi * max).zone);
            prop_assert!(g.assess(-lo * max).zone <= g.assess(hi * max).zone);
        }

        #[test]
        fn would_exceed_iff_increasing_and_above(
            max in 0.001f64..1e4, pos in -2.0f64..2.0, size in 0f64..2.0, is_buy: bool,
        ) {
            let g = InventoryGovernor::new(max).unwrap();
            let (pos, size) = (pos * max, size * max);
            let new = if is_buy { pos + size } else { pos - size };
            let increases = new.abs() > pos.abs();
            let above = new.abs() > max * (1.0 + FIT_EPS);
            prop_assert_eq!(g.would_exceed(pos, size, is_buy), increases && above);
            if g.is_reducing(pos, is_buy) && size <= 2.0 * pos.abs() {
                prop_assert!(!g.would_exceed(pos, size, is_buy));
            }
        }
    }
}
