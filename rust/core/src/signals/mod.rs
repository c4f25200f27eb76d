//! Signals (SPEC 4): volatility, lead-lag, flow toxicity, fill intensity, model gating, CUSUM,
//! and the [`SignalIntegrator`] that combines them for the quote engine.
//!
//! Every estimator is deterministic given its inputs and the timestamps it is fed: there is no
//! clock inside. Live, every input carries the local monotonic receive time in ms (the one
//! clock for lead-lag and staleness; the venues' own timestamps are different clocks). Every
//! estimator's memory is fixed at construction (ring buffers, [`ring::Ring`]) and a steady-state
//! update allocates nothing.
//!
//! One file per estimator:
//! - [`volatility`]: [`VolatilityEstimator`], EWMA of squared returns per elapsed time, regime
//! - [`lead_lag`]: [`LagAnalyzer`], grid cross-correlation with a permutation test
//! - [`flow`]: [`InformedFlowEstimator`], 1 s / 5 s markouts, toxicity with hysteresis
//! - [`kappa`]: [`RegimeKappaEstimator`], exponential fill-intensity fit per regime
//! - [`cross_venue`]: [`FlowAnalyzer`] ([`BinanceFlowAnalyzer`]), [`CrossVenueAnalyzer`]
//! - [`gating`]: [`ModelGating`], rolling information coefficient per signal
//! - [`cusum`]: [`CusumDetector`], two-sided CUSUM on the de-meaned divergence
//! - [`runs`]: [`TakerRunDetector`], CUSUM on each side's rate of Hyperliquid taker orders
//! - [`integrator`]: [`SignalIntegrator`], no-signal safety, caps, skew context
//! - [`feed`]: [`SignalFeed`], raw Hyperliquid and Binance frames into an integrator

pub mod cross_venue;
pub mod cusum;
pub mod feed;
pub mod flow;
pub mod gating;
pub mod integrator;
pub mod kappa;
pub mod lead_lag;
pub mod ring;
pub mod rng;
pub mod runs;
pub mod volatility;

#[cfg(test)]
mod tests;

pub use cross_venue::{
    BinanceFlowAnalyzer, CrossVenueAnalyzer, CrossVenueFeatures, FlowAnalyzer, FlowFeatureVec,
};
pub use cusum::{CusumDetector, CusumState};
pub use feed::{FrameEffect, SignalFeed};
pub use flow::{FlowDecomposition, InformedFlowEstimator};
pub use gating::{GatedSignal, ModelGating};
pub use integrator::{CapReason, SignalIntegrator, SignalSnapshot, SkewContext};
pub use kappa::RegimeKappaEstimator;
pub use lead_lag::{LagAnalyzer, LagEstimate, LeadLagSignal};
pub use runs::TakerRunDetector;
pub use volatility::VolatilityEstimator;

/// Time in ms on the caller's clock (local receive time live, event time in a backtest).
pub type TimeMs = i64;

/// `2^(-dt / half_life)`: the weight left on old data after `dt`.
#[inline]
pub(crate) fn decay(dt: f64, half_life: f64) -> f64 {
    (-std::f64::consts::LN_2 * dt / half_life).exp()
}
