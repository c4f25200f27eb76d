//! The quote engine (SPEC 8, 9): owns the market state, the models and our orders, and runs one
//! cycle of SPEC 8 on demand. It never reads a clock: every input carries the local receive time
//! in ms and `cycle(now_ms)` is told the time, so a backtest is deterministic.
//!
//! - [`quote_engine`][]: `QuoteEngine`'s state, construction and setters
//! - [`cycle`][]: the cycle as its list of stages
//! - [`risk_plan`][]: SPEC 8 steps 1-3 as one pure function (stance, zone, overlay, effective
//!   max, rooms, caps, reason to go flat)
//! - [`emit`][]: reconcile desired quotes against our orders and emit the actions
//! - [`exit`][]: the taker exit, a reduce-only IOC when the lead signal runs against the
//!   position
//! - [`output`][]: what a cycle produces (actions, diagnostics, cap flags, flat reasons)
//! - [`views`][]: the market and signal views the cycle reads
//! - [`market`][]: Hyperliquid and Binance market inputs (typed and frames)
//! - [`lifecycle`][]: exchange answers, order updates, fills and markouts (typed entries; the
//!   byte entries parse with [`frames`][] and apply through them)
//! - [`orders`][]: our orders resting and in flight, exposure per direction, cloids
//! - [`reconcile`][]: keep / modify / cancel / place decisions, token bucket, address quota
//! - [`state`][]: versioned learned state for warm restarts
//! - [`wire`][]: a cycle's batches as [`crate::protocol::Action`]s, ready to sign

pub mod cycle;
pub mod emit;
pub mod exit;
pub mod frames;
pub mod lifecycle;
pub mod market;
pub mod orders;
pub mod output;
pub mod quote_engine;
pub mod reconcile;
pub mod risk_plan;
pub mod state;
pub mod views;
pub mod wire;

pub use frames::{ActionStatus, ExchangeReply, Fill, OrderUpdate, UpdateStatus, UserFrame};
pub use lifecycle::AdverseSelection;
pub use orders::{cloid_hex, parse_cloid, CloidGen, OrderState, TrackedOrder};
pub use output::{
    ActionKind, Actions, CapFlags, CycleDiagnostics, CycleOutput, FlatReason, OrderStep,
    MAX_ACTIONS,
};
pub use quote_engine::QuoteEngine;
pub use risk_plan::{plan as risk_plan, RiskInputs, RiskPlan, Stance};
pub use views::{MarketView, SignalView};
pub use wire::BatchWire;

/// Relative slack of the exposure checks (lot arithmetic in f64).
const SIZE_EPS: f64 = 1e-9;

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
