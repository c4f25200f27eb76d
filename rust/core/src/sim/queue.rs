//! Queue position of our resting orders (SPEC 6, 11).
//!
//! The venue's market book holds background liquidity (the market model's size per level) and
//! real orders (accounts trading on the venue). Each real order remembers how much background
//! size is ahead of it. Trades consume the queue from the front, so they always move the order
//! up. A cancel of background size at the level is split between ahead and behind by a
//! probabilistic rule (hftbacktest's `ProbQueueModel` family):
//!
//! `share_ahead = cancel_weight * f(ahead) / (f(ahead) + f(behind))`, `f(x) = x^power`.
//!
//! `cancel_weight = 0` is the risk-averse model: only trades move the order up (plus the physical
//! cap: the size ahead can never exceed what is left at the level). `cancel_weight = 1,
//! power = 1` cancels pro rata; larger powers send cancels to the longer side of the queue.

use serde::{Deserialize, Serialize};

use crate::check;
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueModel {
    /// Weight in [0, 1] of the probabilistic share of cancels taken from ahead of the order.
    pub cancel_weight: f64,
    /// Exponent of `f(x) = x^power` (>= 0).
    pub power: f64,
}

impl Default for QueueModel {
    /// hftbacktest's commonly used power-2 probabilistic queue.
    fn default() -> Self {
        Self {
            cancel_weight: 1.0,
            power: 2.0,
        }
    }
}

impl QueueModel {
    /// The most conservative setting: only trades advance the order.
    pub const RISK_AVERSE: QueueModel = QueueModel {
        cancel_weight: 0.0,
        power: 1.0,
    };

    /// # Errors
    /// `Error::Invalid` naming the field when a parameter is out of its domain.
    pub fn validate(&self) -> Result<()> {
        check::in_range("queue.cancel_weight", self.cancel_weight, 0.0, 1.0)?;
        check::in_range("queue.power", self.power, 0.0, 16.0)?;
        Ok(())
    }

    /// Size ahead of an order after `cancelled` lots of background left a level that held
    /// `total` lots of background, `ahead` of them in front of the order.
    pub fn after_cancel(&self, ahead: f64, total: f64, cancelled: f64) -> f64 {
        let front = ahead.clamp(0.0, total);
        let back = total - front;
        let (ff, fb) = (front.powf(self.power), back.powf(self.power));
        let share = if ff + fb > 0.0 { ff / (ff + fb) } else { 0.5 };
        let mut from_front = cancelled * self.cancel_weight * share;
        let from_back = cancelled - from_front;
        if from_back > back {
            // Not enough behind the order to absorb its part: the rest must have been ahead.
            from_front += from_back - back;
        }
        (front - from_front).clamp(0.0, (total - cancelled).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_averse_ignores_cancels_until_the_level_runs_short() {
        let q = QueueModel::RISK_AVERSE;
        // 10 ahead, 20 behind: a cancel of 15 comes entirely from behind.
        assert_eq!(q.after_cancel(10.0, 30.0, 15.0), 10.0);
        // a cancel of 25 cannot come from behind only: 5 must have been ahead.
        assert_eq!(q.after_cancel(10.0, 30.0, 25.0), 5.0);
    }

    #[test]
    fn pro_rata_splits_by_queue_share() {
        let q = QueueModel {
            cancel_weight: 1.0,
            power: 1.0,
        };
        // 10 of 40 ahead: a quarter of a 20-lot cancel is taken from the front.
        assert!((q.after_cancel(10.0, 40.0, 20.0) - 5.0).abs() < 1e-12);
    }

    #[test]
    fn power_two_favours_the_longer_side() {
        let q = QueueModel::default();
        // front 10, back 30: share 100 / (100 + 900) = 0.1 of a 10-lot cancel.
        assert!((q.after_cancel(10.0, 40.0, 10.0) - 9.0).abs() < 1e-12);
    }

    #[test]
    fn never_increases_and_never_exceeds_remaining_level() {
        let models = [
            QueueModel::RISK_AVERSE,
            QueueModel::default(),
            QueueModel {
                cancel_weight: 0.5,
                power: 0.0,
            },
        ];
        for q in models {
            for total in [0.0, 1.0, 7.0, 100.0] {
                for i in 0..=10 {
                    let ahead = total * f64::from(i) / 10.0;
                    for j in 0..=10 {
                        let c = total * f64::from(j) / 10.0;
                        let a = q.after_cancel(ahead, total, c);
                        assert!(a <= ahead + 1e-12 && a >= 0.0 && a <= total - c + 1e-12);
                    }
                }
            }
        }
    }

    #[test]
    fn validate_names_the_field() {
        let bad = QueueModel {
            cancel_weight: 1.5,
            power: 1.0,
        };
        let e = bad.validate().unwrap_err().to_string();
        assert!(
            e.contains("queue.cancel_weight") && e.contains("1.5"),
            "{e}"
        );
    }
}
