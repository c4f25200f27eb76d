//! Named synthetic markets (`synthetic:calm`, `synthetic:default`, `synthetic:toxic`), shared by
//! `mmfast paper` and `mmfast backtest` (SPEC 11).

use super::config::SyntheticParams;
use crate::error::{Error, Result};

pub const PRESETS: [&str; 3] = ["calm", "default", "toxic"];

impl SyntheticParams {
    /// The parameters of preset `name` for `coin` (the Binance tick depends on the coin).
    ///
    /// # Errors
    /// `Error::Invalid` for an unknown preset.
    pub fn preset(name: &str, coin: &str) -> Result<Self> {
        let base = SyntheticParams {
            kappa: 0.25,
            binance_tick: if coin == "BTC" { 0.1 } else { 0.01 },
            ..SyntheticParams::default()
        };
        Ok(match name {
            "default" => base,
            "calm" => SyntheticParams {
                sigma_bps: 1.0,
                jump_rate_per_min: 0.1,
                trade_rate: 1.0,
                ..base
            },
            "toxic" => SyntheticParams {
                toxic_rate_per_min: 2.0,
                toxic_duration_ms: 5_000,
                toxic_drift_bps_per_s: 3.0,
                toxic_flow_mult: 4.0,
                lag_ms: 200,
                ..base
            },
            _ => {
                return Err(Error::invalid(
                    "market preset",
                    name,
                    "expected calm, default or toxic",
                ))
            }
        })
    }
}
