//! The backtester (SPEC 11): the live `QuoteEngine` over recorded or synthetic markets through
//! the venue's own `MatchingEngine`, with feed and order latency, the venue's block cadence and
//! intra-block order, and a summary whose PnL parts add up.
//!
//! - [`latency`]: constant or percentile latency models
//! - [`accounting`]: PnL split, markouts, zones, uptime, series (summary.json)
//! - [`cycle_stats`]: time shares of the engine's decisions (mode, empty sides, at touch)
//! - [`events`]: recordings decoded into typed records
//! - [`cache`]: the binary cache of decoded recordings
//! - [`replay`]: recorded markets (Hyperliquid or Binance, with Binance as the lead)
//! - [`runner`]: the loop
//! - [`calibrate`]: the engine's priors fitted on a recording or a synthetic market

pub mod accounting;
pub mod cache;
pub mod calibrate;
pub mod cycle_stats;
pub mod events;
pub mod latency;
pub mod replay;
pub mod runner;

#[cfg(test)]
mod tests;

pub use accounting::{Accounting, Fills, Series};
pub use calibrate::{calibrate_recording, calibrate_synthetic, Calibration};
pub use latency::Latency;
pub use runner::{Backtest, BacktestSpec, BACKTEST_ADDRESS};
