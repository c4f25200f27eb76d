//! Learned state for warm restarts (SPEC 9): fill posteriors, Kelly statistics, the queue-value
//! prediction bias and the measured adverse selection, as versioned JSON bytes. Market data,
//! orders and the account are not carried: after a restart the exchange is the truth (SPEC 10).

use serde::{Deserialize, Serialize};

use super::EngineError;
use super::{AdverseSelection, QuoteEngine};
use crate::config::MarketMakerConfig;
use crate::strategy::{BayesianFillModel, KellySizer};

/// Bumped whenever the layout below changes; older versions are refused with a clear message.
pub const STATE_VERSION: u32 = 1;

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
        if st.version != STATE_VERSION {
            return Err(EngineError::State(format!(
                "version = {}: this build reads version {STATE_VERSION}",
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
        Ok(e)
    }
}
