//! Execution-mode selection (SPEC 5): a pure function from zone, toxicity, queue value and alpha
//! to what the cycle quotes.

use serde::{Deserialize, Serialize};

use crate::governor::PositionZone;
use crate::types::ToxicityRegime;

/// What the cycle does this time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ExecutionMode {
    /// Cancel every resting order and quote nothing.
    Flat,
    /// The GLFT ladder on the flagged sides.
    Maker { bid: bool, ask: bool },
    /// Quote only the side that reduces |position|, nearer the touch as urgency rises to 1.
    /// `buy` is true when the reducing side is the bid (the position is short).
    InventoryReduce { urgency: f64, buy: bool },
}

impl ExecutionMode {
    pub fn kind(&self) -> &'static str {
        match self {
            ExecutionMode::Flat => "Flat",
            ExecutionMode::Maker { .. } => "Maker",
            ExecutionMode::InventoryReduce { .. } => "InventoryReduce",
        }
    }

    /// True when the mode quotes the bid.
    pub fn bid(&self) -> bool {
        match *self {
            ExecutionMode::Flat => false,
            ExecutionMode::Maker { bid, .. } => bid,
            ExecutionMode::InventoryReduce { buy, .. } => buy,
        }
    }

    /// True when the mode quotes the ask.
    pub fn ask(&self) -> bool {
        match *self {
            ExecutionMode::Flat => false,
            ExecutionMode::Maker { ask, .. } => ask,
            ExecutionMode::InventoryReduce { buy, .. } => !buy,
        }
    }

    /// Urgency of an inventory reduction, 0 for the other modes.
    pub fn urgency(&self) -> f64 {
        match *self {
            ExecutionMode::InventoryReduce { urgency, .. } => urgency,
            _ => 0.0,
        }
    }
}

/// Which rule set `select_mode` applies after the four safety rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModePolicy {
    /// The seed's seven rules, one-sided quoting included.
    #[default]
    Seed,
    /// Rules 1-4, then both sides always: skew and zone multipliers do the rest.
    SkewOnly,
}

/// Inputs of one mode decision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModeSelectionInput {
    pub position_zone: PositionZone,
    pub toxicity_regime: ToxicityRegime,
    pub bid_has_value: bool,
    pub ask_has_value: bool,
    pub has_alpha: bool,
    pub position: f64,
}

/// Urgency of the Red-zone reduction (rule 2).
pub const RED_URGENCY: f64 = 1.0;
/// Urgency of the toxic-flow reduction (rule 4).
pub const TOXIC_URGENCY: f64 = 0.7;

/// Returns the first rule of SPEC 5 that matches.
pub fn select_mode(input: &ModeSelectionInput, policy: ModePolicy) -> ExecutionMode {
    let reduce = |urgency| ExecutionMode::InventoryReduce {
        urgency,
        buy: input.position < 0.0,
    };
    let toxic = input.toxicity_regime == ToxicityRegime::Toxic;
    let flat_position = input.position == 0.0;
    match input.position_zone {
        PositionZone::Kill => return ExecutionMode::Flat,
        PositionZone::Red if !flat_position => return reduce(RED_URGENCY),
        _ => {}
    }
    if toxic {
        return if flat_position {
            ExecutionMode::Flat
        } else {
            reduce(TOXIC_URGENCY)
        };
    }
    if policy == ModePolicy::SkewOnly {
        return ExecutionMode::Maker {
            bid: true,
            ask: true,
        };
    }
    if input.position_zone == PositionZone::Yellow && !flat_position {
        let long = input.position > 0.0;
        return ExecutionMode::Maker {
            bid: !long,
            ask: long,
        };
    }
    if !input.bid_has_value && !input.ask_has_value && !input.has_alpha {
        // Rule 6 stops quoting when no side has value, but a position must stay workable: a
        // positioned bot that goes Flat here holds its inventory with no order to reduce it (the
        // deadlock SPEC 4 rules out; seen in paper runs once the prediction bias grew). It keeps
        // the reducing side instead.
        if flat_position {
            return ExecutionMode::Flat;
        }
        let long = input.position > 0.0;
        return ExecutionMode::Maker {
            bid: !long,
            ask: long,
        };
    }
    ExecutionMode::Maker {
        bid: input.bid_has_value || input.has_alpha,
        ask: input.ask_has_value || input.has_alpha,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PositionZone::*;
    use ToxicityRegime::*;

    fn input(zone: PositionZone, tox: ToxicityRegime, position: f64) -> ModeSelectionInput {
        ModeSelectionInput {
            position_zone: zone,
            toxicity_regime: tox,
            bid_has_value: true,
            ask_has_value: true,
            has_alpha: false,
            position,
        }
    }

    fn seed(i: ModeSelectionInput) -> ExecutionMode {
        select_mode(&i, ModePolicy::Seed)
    }

    #[test]
    fn rule1_kill_is_flat_even_when_toxic_or_valued() {
        assert_eq!(seed(input(Kill, Benign, 1.0)), ExecutionMode::Flat);
        assert_eq!(seed(input(Kill, Toxic, -1.0)), ExecutionMode::Flat);
    }

    #[test]
    fn rule2_red_reduces_at_full_urgency_before_toxicity() {
        let m = seed(input(Red, Toxic, 0.9));
        assert_eq!(
            m,
            ExecutionMode::InventoryReduce {
                urgency: 1.0,
                buy: false
            }
        );
        assert!(m.ask() && !m.bid());
        let m = seed(input(Red, Normal, -0.9));
        assert!(m.bid() && !m.ask());
    }

    #[test]
    fn rule3_toxic_and_flat_is_flat() {
        assert_eq!(seed(input(Green, Toxic, 0.0)), ExecutionMode::Flat);
    }

    #[test]
    fn rule4_toxic_and_positioned_reduces() {
        let m = seed(input(Green, Toxic, 0.1));
        assert_eq!(
            m,
            ExecutionMode::InventoryReduce {
                urgency: 0.7,
                buy: false
            }
        );
        let m = seed(input(Yellow, Toxic, -0.7));
        assert_eq!(
            m,
            ExecutionMode::InventoryReduce {
                urgency: 0.7,
                buy: true
            }
        );
    }

    #[test]
    fn rule5_yellow_quotes_the_reducing_side_only() {
        assert_eq!(
            seed(input(Yellow, Normal, 0.7)),
            ExecutionMode::Maker {
                bid: false,
                ask: true
            }
        );
        assert_eq!(
            seed(input(Yellow, Benign, -0.7)),
            ExecutionMode::Maker {
                bid: true,
                ask: false
            }
        );
    }

    #[test]
    fn rule6_positioned_keeps_the_reducing_side() {
        let mut i = input(Green, Normal, -0.2);
        i.bid_has_value = false;
        i.ask_has_value = false;
        assert_eq!(
            seed(i),
            ExecutionMode::Maker {
                bid: true,
                ask: false
            }
        );
        i.position = 0.3;
        assert_eq!(
            seed(i),
            ExecutionMode::Maker {
                bid: false,
                ask: true
            }
        );
    }

    #[test]
    fn rule6_no_value_no_alpha_is_flat() {
        let mut i = input(Green, Normal, 0.0);
        i.bid_has_value = false;
        i.ask_has_value = false;
        assert_eq!(seed(i), ExecutionMode::Flat);
        i.has_alpha = true;
        assert_eq!(
            seed(i),
            ExecutionMode::Maker {
                bid: true,
                ask: true
            }
        );
    }

    #[test]
    fn rule7_sides_with_value() {
        let mut i = input(Green, Normal, 0.2);
        i.ask_has_value = false;
        assert_eq!(
            seed(i),
            ExecutionMode::Maker {
                bid: true,
                ask: false
            }
        );
        assert_eq!(
            seed(input(Green, Normal, 0.0)),
            ExecutionMode::Maker {
                bid: true,
                ask: true
            }
        );
    }

    #[test]
    fn skew_only_keeps_safety_rules_then_quotes_both() {
        let p = ModePolicy::SkewOnly;
        assert_eq!(
            select_mode(&input(Kill, Normal, 1.0), p),
            ExecutionMode::Flat
        );
        assert_eq!(
            select_mode(&input(Green, Toxic, 0.0), p),
            ExecutionMode::Flat
        );
        let mut i = input(Yellow, Normal, 0.7);
        i.bid_has_value = false;
        i.ask_has_value = false;
        assert_eq!(
            select_mode(&i, p),
            ExecutionMode::Maker {
                bid: true,
                ask: true
            }
        );
    }
}
