//! The queue-value heuristic (SPEC 6): expected edge of resting at a depth, net of adverse
//! selection, queue position, fee and the measured prediction bias.

use serde::{Deserialize, Serialize};

use crate::types::ToxicityRegime;

/// Parameters of the heuristic; defaults are the SPEC's. The Normal regime's adverse selection
/// is not here: it is the ladder's adverse-selection buffer (`ladder.as_prior_bps` blended with
/// the measured markouts), handed in with [`QueueValueHeuristic::set_normal_as_bps`], so the
/// ladder's depth and the queue value price one number (the old `queue.as_normal_bps` is read as
/// `ladder.as_prior_bps`: `config::DEPRECATED_ALIASES`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueValueConfig {
    /// Expected adverse selection in the Benign and Toxic regimes, bps.
    pub as_benign_bps: f64,
    pub as_toxic_bps: f64,
    /// Share of the depth lost at the back of a full queue.
    pub queue_penalty: f64,
    /// EWMA weight of each new prediction error.
    pub bias_alpha: f64,
}

impl Default for QueueValueConfig {
    fn default() -> Self {
        Self {
            as_benign_bps: 1.0,
            as_toxic_bps: 8.0,
            queue_penalty: 0.30,
            bias_alpha: 0.05,
        }
    }
}

/// Level-by-level quote filter by expected value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueValueHeuristic {
    cfg: QueueValueConfig,
    /// The Normal regime's adverse selection: the ladder's buffer, set every cycle.
    normal_as_bps: f64,
    fee_bps: f64,
    prediction_bias_bps: f64,
    outcome_count: u64,
}

impl Default for QueueValueHeuristic {
    fn default() -> Self {
        Self::new(QueueValueConfig::default(), 1.5, 3.0)
    }
}

impl QueueValueHeuristic {
    /// `normal_as_bps`: the Normal regime's adverse selection until the first
    /// `set_normal_as_bps` (the ladder's prior, `ladder.as_prior_bps`).
    pub fn new(cfg: QueueValueConfig, fee_bps: f64, normal_as_bps: f64) -> Self {
        Self {
            cfg,
            normal_as_bps,
            fee_bps,
            prediction_bias_bps: 0.0,
            outcome_count: 0,
        }
    }

    /// The Normal regime's adverse selection from now on: the ladder's buffer of this cycle.
    /// A value that is not finite is ignored.
    pub fn set_normal_as_bps(&mut self, bps: f64) {
        if bps.is_finite() {
            self.normal_as_bps = bps;
        }
    }

    /// Expected adverse selection in bps for a regime.
    pub fn adverse_selection_bps(&self, toxicity: ToxicityRegime) -> f64 {
        match toxicity {
            ToxicityRegime::Benign => self.cfg.as_benign_bps,
            ToxicityRegime::Normal => self.normal_as_bps,
            ToxicityRegime::Toxic => self.cfg.as_toxic_bps,
        }
    }

    /// `depth - AS(toxicity) - depth * penalty * rank - fee - bias`; `queue_rank` is clamped
    /// to [0, 1].
    pub fn queue_value(&self, depth_bps: f64, toxicity: ToxicityRegime, queue_rank: f64) -> f64 {
        let rank = queue_rank.clamp(0.0, 1.0);
        depth_bps
            - self.adverse_selection_bps(toxicity)
            - depth_bps * self.cfg.queue_penalty * rank
            - self.fee_bps
            - self.prediction_bias_bps
    }

    /// True when the queue value is strictly positive.
    pub fn should_quote(&self, depth_bps: f64, toxicity: ToxicityRegime, queue_rank: f64) -> bool {
        self.queue_value(depth_bps, toxicity, queue_rank) > 0.0
    }

    /// Feeds one fill's 5 s markout: `realised_bps` is the edge captured against the mid 5 s
    /// later, net of fee. Non-finite values are ignored so that one bad markout cannot poison
    /// the bias.
    pub fn record_outcome(&mut self, predicted_bps: f64, realised_bps: f64) {
        let err = predicted_bps - realised_bps;
        if !err.is_finite() {
            return;
        }
        self.prediction_bias_bps += self.cfg.bias_alpha * (err - self.prediction_bias_bps);
        self.outcome_count += 1;
    }

    /// Restores a learned bias (warm restart, SPEC 9).
    pub fn restore(&mut self, prediction_bias_bps: f64, outcome_count: u64) {
        self.prediction_bias_bps = prediction_bias_bps;
        self.outcome_count = outcome_count;
    }

    pub fn prediction_bias_bps(&self) -> f64 {
        self.prediction_bias_bps
    }

    pub fn outcome_count(&self) -> u64 {
        self.outcome_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_per_toxicity_hand_computed() {
        let q = QueueValueHeuristic::default();
        // 8.01 - 1 - 0 - 1.5 = 5.51
        assert!((q.queue_value(8.01, ToxicityRegime::Benign, 0.0) - 5.51).abs() < 1e-12);
        // 8.01 - 3 - 1.5 = 3.51
        assert!((q.queue_value(8.01, ToxicityRegime::Normal, 0.0) - 3.51).abs() < 1e-12);
        // 8.01 - 8 - 1.5 = -1.49
        assert!((q.queue_value(8.01, ToxicityRegime::Toxic, 0.0) + 1.49).abs() < 1e-12);
        // 10 - 3 - 10*0.3*0.5 - 1.5 = 4.0
        assert!((q.queue_value(10.0, ToxicityRegime::Normal, 0.5) - 4.0).abs() < 1e-12);
        assert!(q.should_quote(8.01, ToxicityRegime::Normal, 0.0));
        assert!(!q.should_quote(8.01, ToxicityRegime::Toxic, 0.0));
        assert!(
            !q.should_quote(4.5, ToxicityRegime::Normal, 0.0),
            "exactly zero is not > 0"
        );
    }

    #[test]
    fn bias_is_an_ewma_of_prediction_error() {
        let mut q = QueueValueHeuristic::default();
        q.record_outcome(5.0, 1.0); // err 4 -> 0.05 * 4 = 0.2
        assert!((q.prediction_bias_bps() - 0.2).abs() < 1e-12);
        q.record_outcome(5.0, 1.0); // 0.2 + 0.05 * (4 - 0.2) = 0.39
        assert!((q.prediction_bias_bps() - 0.39).abs() < 1e-12);
        q.record_outcome(f64::NAN, 1.0);
        assert_eq!(q.outcome_count(), 2);
        assert!((q.queue_value(8.01, ToxicityRegime::Normal, 0.0) - (3.51 - 0.39)).abs() < 1e-12);
    }

    #[test]
    fn the_normal_regime_prices_the_ladders_buffer() {
        let mut q = QueueValueHeuristic::new(QueueValueConfig::default(), -0.3, 0.5);
        // 2 - 0.5 - 0 + 0.3 = 1.8: the prior handed in at construction.
        assert!((q.queue_value(2.0, ToxicityRegime::Normal, 0.0) - 1.8).abs() < 1e-12);
        q.set_normal_as_bps(1.25); // the measured buffer of a later cycle
        assert!((q.queue_value(2.0, ToxicityRegime::Normal, 0.0) - 1.05).abs() < 1e-12);
        q.set_normal_as_bps(f64::NAN);
        assert_eq!(q.adverse_selection_bps(ToxicityRegime::Normal), 1.25);
        // The other regimes keep their own numbers.
        assert_eq!(q.adverse_selection_bps(ToxicityRegime::Benign), 1.0);
        assert_eq!(q.adverse_selection_bps(ToxicityRegime::Toxic), 8.0);
    }
}
