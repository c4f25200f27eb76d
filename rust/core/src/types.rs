//! Small enums shared across components (signals produce them, the governor, mode selection and
//! the ladder consume them).

use serde::{Deserialize, Serialize};

/// Order-flow toxicity regime (SPEC 4). Cold start is `Normal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ToxicityRegime {
    Benign,
    #[default]
    Normal,
    Toxic,
}

/// Volatility regime from the fast/slow volatility ratio (SPEC 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum VolRegime {
    Quiet,
    #[default]
    Normal,
    Volatile,
    Extreme,
}

impl VolRegime {
    /// The fraction fed to `InventoryGovernor::zone_adjusted_max`: 0 for Quiet/Normal, 0.5
    /// Volatile, 1.0 Extreme (SPEC 4).
    pub fn volatility_fraction(self) -> f64 {
        match self {
            VolRegime::Quiet | VolRegime::Normal => 0.0,
            VolRegime::Volatile => 0.5,
            VolRegime::Extreme => 1.0,
        }
    }
}

/// Order side. `Bid` buys, `Ask` sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Side {
    Bid,
    Ask,
}

impl Side {
    pub fn is_buy(self) -> bool {
        matches!(self, Side::Bid)
    }

    pub fn from_is_buy(is_buy: bool) -> Self {
        if is_buy {
            Side::Bid
        } else {
            Side::Ask
        }
    }

    pub fn opposite(self) -> Self {
        match self {
            Side::Bid => Side::Ask,
            Side::Ask => Side::Bid,
        }
    }
}
