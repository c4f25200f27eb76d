//! Learned state for warm restarts (SPEC 9): fill posteriors, Kelly statistics, the queue-value
//! prediction bias, the measured adverse selection and the signal integrator (volatility, kappa
//! fits, lead-lag scans and their shuffled-score pool, model-gate skill, basis, CUSUM, flow), as
//! versioned JSON bytes. Orders and the account are not carried: after a restart the exchange is
//! the truth (SPEC 10). The integrator is carried whole, so that a restored engine fed what the
//! original is fed decides as it would have; its estimators handle the time gap of the restart as
//! they handle a feed gap (a lead silent past `binance_stale_ms` caps at `lead_lost_cap` until
//! its next quote). It is restored only under the same signal settings it was built with (they
//! size its windows): a changed setting starts the signals cold and `signals_restored` says so.

use serde::{Deserialize, Serialize};

use super::EngineError;
use super::{AdverseSelection, QuoteEngine};
use crate::config::MarketMakerConfig;
use crate::signals::SignalIntegrator;
use crate::strategy::{BayesianFillModel, KellySizer};

/// Bumped whenever the layout below changes; versions before `MIN_STATE_VERSION` are refused
/// with a clear message. Version 1 had no integrator: it restores with cold signals.
pub const STATE_VERSION: u32 = 2;
const MIN_STATE_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct LearnedState {
    format: String,
    version: u32,
    asset: String,
    fill_model: BayesianFillModel,
    kelly: KellySizer,
    queue_bias_bps: f64,
    queue_outcomes: u64,
    adverse: AdverseSelection,
    #[serde(default)]
    signals: Option<SignalState>,
}

#[derive(Serialize, Deserialize)]
struct SignalState {
    /// The settings the integrator was built from (`signal_settings`).
    settings: serde_json::Value,
    integrator: SignalIntegrator,
}

/// Every setting `SignalIntegrator::new` reads: an integrator is restored only under equal ones.
fn signal_settings(cfg: &MarketMakerConfig) -> serde_json::Value {
    serde_json::json!({
        "signals": cfg.signals,
        "stochastic": cfg.stochastic,
        "lead_venue": cfg.lead_venue,
        "price_multiplier": cfg.lead.price_multiplier,
        "spread_profile": cfg.spread_profile,
        "hl_stale_ms": cfg.risk.hl_stale_ms,
        "binance_stale_ms": cfg.risk.binance_stale_ms,
    })
}

const FORMAT: &str = "mmfast.engine.state";

impl QuoteEngine {
    /// The learned state as versioned JSON bytes.
    pub fn save_state(&self) -> Vec<u8> {
        let st = LearnedState {
            format: FORMAT.to_string(),
            version: STATE_VERSION,
            asset: self.cfg.asset.clone(),
            fill_model: self.ladder.fill_model.clone(),
            kelly: self.ladder.kelly.clone(),
            queue_bias_bps: self.queue.prediction_bias_bps(),
            queue_outcomes: self.queue.outcome_count(),
            adverse: self.adverse,
            signals: Some(SignalState {
                settings: signal_settings(&self.cfg),
                integrator: self.integrator.clone(),
            }),
        };
        serde_json::to_vec(&st).expect("state serializes")
    }

    /// A new engine for `cfg` carrying the learned state saved by `save_state`.
    ///
    /// # Errors
    /// Bytes that are not a saved state, a version this build does not read, a state saved for
    /// another asset, or an invalid config.
    pub fn load_state(cfg: MarketMakerConfig, bytes: &[u8], seed: u64) -> crate::Result<Self> {
        let st: LearnedState = serde_json::from_slice(bytes)
            .map_err(|e| EngineError::State(format!("not an engine state: {e}")))?;
        if st.format != FORMAT {
            return Err(
                EngineError::State(format!("format = {:?}: not {FORMAT:?}", st.format)).into(),
            );
        }
        if !(MIN_STATE_VERSION..=STATE_VERSION).contains(&st.version) {
            return Err(EngineError::State(format!(
                "version = {}: this build reads versions {MIN_STATE_VERSION} to {STATE_VERSION}",
                st.version
            ))
            .into());
        }
        if st.asset != cfg.asset {
            return Err(EngineError::State(format!(
                "asset = {:?}: saved for another asset than {:?}",
                st.asset, cfg.asset
            ))
            .into());
        }
        if !st.queue_bias_bps.is_finite() || !st.adverse.ewma_bps.is_finite() {
            return Err(EngineError::State("non-finite learned value".to_string()).into());
        }
        let mut e = QuoteEngine::new(cfg, seed)?;
        e.ladder.fill_model = st.fill_model;
        e.ladder.kelly = st.kelly;
        e.queue.restore(st.queue_bias_bps, st.queue_outcomes);
        e.adverse = st.adverse;
        if let Some(sig) = st.signals {
            if sig.settings == signal_settings(&e.cfg) {
                e.integrator = sig.integrator;
                e.signals_restored = true;
            }
        }
        Ok(e)
    }

    /// True when `load_state` restored the signal integrator (false for a new engine, a state
    /// saved before version 2, or one saved under other signal settings).
    pub fn signals_restored(&self) -> bool {
        self.signals_restored
    }
}
