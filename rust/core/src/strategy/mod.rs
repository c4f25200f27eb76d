//! The GLFT ladder, depth generation, fill model, sizing and exchange rounding (SPEC 7, issue 5).
//!
//! - [`glft`][]: the closed form and the `CalibratedRiskModel` (gamma)
//! - [`depth`][]: `DynamicDepthGenerator`
//! - [`sizing`][]: `BayesianFillModel`, `KellySizer`
//! - [`rounding`][]: Hyperliquid price and size rules
//! - [`ladder`][]: `LadderStrategy`, which puts them together into both sides' quotes
//! - [`avellaneda_stoikov`][]: the plain Avellaneda-Stoikov baseline the ladder stage runs
//!   instead when `strategy = "avellaneda_stoikov"`

pub mod avellaneda_stoikov;
pub mod depth;
pub mod glft;
pub mod ladder;
/// The exchange's rounding rules are [`crate::protocol::rules`]'s.
pub use crate::protocol::rules as rounding;
pub mod sizing;

pub use avellaneda_stoikov::{AvellanedaStoikov, QuoteStrategy};
pub use depth::DynamicDepthGenerator;
pub use glft::{CalibratedRiskModel, GlftCoefficients, RiskFeatures};
pub use ladder::{
    EmptySide, IntensityBounds, LadderDiagnostics, LadderInput, LadderOutput, LadderStrategy,
    Quote, SideQuotes, MAX_LEVELS,
};
pub use rounding::{is_valid_price, price_tick, round_price, round_size_down, round_size_up};
pub use sizing::{BayesianFillModel, KellySizer};

#[cfg(test)]
mod tests;
