//! The matching engine shared by the local venue and the backtester (SPEC 11).
//!
//! - [`rules`]: tick, lot, min notional and the exchange's error strings
//! - [`book`], [`queue`]: the market book with queue positions of real orders
//! - [`engine`]: accounts, blocks, fees, margin, self-trade prevention, modify, limits
//! - [`ledger`]: per-account position, PnL, fees and safety-invariant breaches
//! - [`limits`]: nonces, address budget helpers and IP weight
//! - [`market`]: the seeded synthetic market (Hyperliquid and a leading Binance)
//! - [`info`]: `/info` answers and stream payloads as JSON
//!
//! Actions are [`crate::protocol::Action`]s: the venue reads them from JSON
//! (`Action::from_json`), the backtester hands the engine's batches over typed.

pub mod book;
pub mod config;
pub mod engine;
pub mod info;
pub mod ledger;
pub mod limits;
pub mod market;
pub mod presets;
pub mod queue;
pub mod rng;
pub mod rules;
pub mod stats;

#[cfg(test)]
mod tests;

pub use book::SimBook;
pub use config::{AssetConfig, MarketKind, SimConfig, SyntheticParams};
pub use engine::{AccountState, BlockOutput, FillEvent, MatchingEngine, OrderEvent, TradeEvent};
pub use market::SyntheticMarket;
pub use queue::QueueModel;

/// Errors of the simulator that are not exchange responses (those are data, not errors).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{0}")]
    Rejected(String),
}
