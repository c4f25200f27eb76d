//! The quote engine (SPEC 8, 9): owns the market state, the models and our orders, and runs one
//! cycle of SPEC 8 on demand. It never reads a clock: every input carries the local receive time
//! in ms and `cycle(now_ms)` is told the time, so a backtest is deterministic.
//!
//! - [`orders`][]: our orders resting and in flight, exposure per direction, cloids
//! - [`reconcile`][]: keep / modify / cancel / place decisions, token bucket, address quota
//! - [`market`][]: Hyperliquid and Binance market frames into the engine's market view
//! - [`frames`][]: user frames (orderUpdates, userFills, userEvents) and exchange responses
//! - [`cycle`][]: `QuoteEngine` and the cycle itself
//! - [`state`][]: versioned learned state for warm restarts

pub mod cycle;
pub mod frames;
pub mod market;
pub mod orders;
pub mod reconcile;
pub mod state;

pub use cycle::{
    Action, ActionKind, Actions, CapFlags, CycleDiagnostics, CycleOutput, FlatReason, MarketView,
    QuoteEngine, SignalView, MAX_ACTIONS,
};
pub use orders::{cloid_hex, parse_cloid, CloidGen, OrderState, TrackedOrder};

/// Errors of the engine's inputs. The engine's state is unchanged after any of them.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A user frame or exchange response that could not be parsed.
    #[error("malformed {what}: {reason}")]
    Frame { what: &'static str, reason: String },
    /// A response for a batch id the engine did not emit or already settled.
    #[error("unknown batch_id = {0}: no action batch in flight with this id")]
    UnknownBatch(u64),
    /// A saved state that cannot be restored.
    #[error("cannot load state: {0}")]
    State(String),
}

#[cfg(test)]
mod tests;
