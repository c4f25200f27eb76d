//! Configuration of the simulated exchange and its market models (SPEC 11).
//!
//! The venue is a separate program from the bot, so its knobs live here rather than in
//! `MarketMakerConfig`; every field has a default and the whole struct is read from JSON (the
//! Python venue builds it from its command line or a config file).

use serde::{Deserialize, Serialize};

use super::queue::QueueModel;
use crate::check;
use crate::error::{Error, Result};

/// Where the background book and the market's own trades come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarketKind {
    /// A fixed book around each asset's `mid`, no trades of its own: for deterministic tests.
    Static,
    /// The seeded jump-diffusion market of [`super::market`].
    #[default]
    Synthetic,
    /// Driven from outside (replay of recordings through `apply_l2` / `apply_trade`).
    External,
}

/// Parameters of the synthetic market of one asset (SPEC 11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyntheticParams {
    /// Diffusion volatility of the mid, bps per sqrt(second).
    pub sigma_bps: f64,
    /// Poisson rate of mid jumps, per minute.
    pub jump_rate_per_min: f64,
    /// Standard deviation of a jump, bps.
    pub jump_sd_bps: f64,
    /// Time step of the mid path, ms.
    pub step_ms: u64,
    /// Binance leads Hyperliquid by this many ms (negative: Hyperliquid leads).
    pub lag_ms: i64,
    /// Half-spread of the background book around the mid, bps (at least one tick).
    pub half_spread_bps: f64,
    /// Background levels per side.
    pub levels: usize,
    /// Gap between the touch and the second level, bps (0: levels one tick apart); each
    /// further gap is `level_spacing_growth` times the one before.
    pub level_spacing_bps: f64,
    pub level_spacing_growth: f64,
    /// Size of the touch level, USD; deeper levels grow by `level_growth` per level.
    pub level_usd: f64,
    pub level_growth: f64,
    /// Log-normal noise on level sizes per block (0: a frozen profile).
    pub size_noise: f64,
    /// Market orders per second on each side, reaching depth >= d bps with rate
    /// `trade_rate * exp(-kappa * d)`.
    pub trade_rate: f64,
    /// Decay of trade depth, per bps.
    pub kappa: f64,
    /// Median size of a market order, USD (log-normal with log-sd `trade_size_sigma`).
    pub trade_usd: f64,
    pub trade_size_sigma: f64,
    /// Toxic bursts per minute (0 disables): a drift and one-sided flow for `toxic_duration_ms`.
    pub toxic_rate_per_min: f64,
    pub toxic_duration_ms: u64,
    pub toxic_drift_bps_per_s: f64,
    /// Multiplier on the market-order rate in the burst's direction.
    pub toxic_flow_mult: f64,
    /// Permanent move of the true mid, bps in the order's direction, after each informed market
    /// order: the burst's extra orders (a share `1 - 1/toxic_flow_mult` of its side's flow) trade
    /// at the stale price, then the price follows them (Binance at once, Hyperliquid `lag_ms`
    /// later). 0: bursts only drift.
    pub toxic_impact_bps: f64,
    /// Binance aggregated trades per second.
    pub binance_trade_rate: f64,
    /// Binance half-spread around its mid, bps (at least one Binance tick).
    pub binance_half_spread_bps: f64,
    /// Binance price step.
    pub binance_tick: f64,
}

impl Default for SyntheticParams {
    fn default() -> Self {
        Self {
            sigma_bps: 2.0,
            jump_rate_per_min: 0.5,
            jump_sd_bps: 8.0,
            step_ms: 10,
            lag_ms: 150,
            half_spread_bps: 0.5,
            levels: 30,
            level_spacing_bps: 0.5,
            level_spacing_growth: 1.25,
            level_usd: 2_500.0,
            level_growth: 0.3,
            size_noise: 0.1,
            trade_rate: 5.0,
            kappa: 0.5,
            trade_usd: 3_000.0,
            trade_size_sigma: 1.3,
            toxic_rate_per_min: 0.0,
            toxic_duration_ms: 5_000,
            toxic_drift_bps_per_s: 3.0,
            toxic_flow_mult: 3.0,
            toxic_impact_bps: 0.0,
            binance_trade_rate: 10.0,
            binance_half_spread_bps: 0.1,
            binance_tick: 0.01,
        }
    }
}

impl SyntheticParams {
    fn validate(&self, coin: &str) -> Result<()> {
        let _ = coin;
        check::non_negative("synthetic.sigma_bps", self.sigma_bps)?;
        check::non_negative("synthetic.jump_rate_per_min", self.jump_rate_per_min)?;
        check::non_negative("synthetic.jump_sd_bps", self.jump_sd_bps)?;
        if self.step_ms == 0 {
            return Err(Error::invalid("synthetic.step_ms", 0, "must be > 0"));
        }
        check::non_negative("synthetic.half_spread_bps", self.half_spread_bps)?;
        if self.levels == 0 || self.levels > 200 {
            return Err(Error::invalid(
                "synthetic.levels",
                self.levels,
                "must be in [1, 200]",
            ));
        }
        check::positive("synthetic.level_usd", self.level_usd)?;
        check::non_negative("synthetic.level_growth", self.level_growth)?;
        check::in_range("synthetic.size_noise", self.size_noise, 0.0, 2.0)?;
        check::non_negative("synthetic.trade_rate", self.trade_rate)?;
        check::positive("synthetic.kappa", self.kappa)?;
        check::positive("synthetic.trade_usd", self.trade_usd)?;
        check::in_range(
            "synthetic.trade_size_sigma",
            self.trade_size_sigma,
            0.0,
            4.0,
        )?;
        check::non_negative("synthetic.level_spacing_bps", self.level_spacing_bps)?;
        check::in_range(
            "synthetic.level_spacing_growth",
            self.level_spacing_growth,
            1.0,
            3.0,
        )?;
        check::non_negative("synthetic.toxic_rate_per_min", self.toxic_rate_per_min)?;
        check::finite(
            "synthetic.toxic_drift_bps_per_s",
            self.toxic_drift_bps_per_s,
        )?;
        check::positive("synthetic.toxic_flow_mult", self.toxic_flow_mult)?;
        check::in_range(
            "synthetic.toxic_impact_bps",
            self.toxic_impact_bps,
            0.0,
            100.0,
        )?;
        check::non_negative("synthetic.binance_trade_rate", self.binance_trade_rate)?;
        check::non_negative(
            "synthetic.binance_half_spread_bps",
            self.binance_half_spread_bps,
        )?;
        check::positive("synthetic.binance_tick", self.binance_tick)?;
        Ok(())
    }
}

/// One perp listed on the venue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssetConfig {
    /// `"ETH"`, or `"dex:NAME"` for a HIP-3 asset of dex `dex`.
    pub coin: String,
    pub sz_decimals: u32,
    pub max_leverage: u32,
    /// Starting mid (the static market's fixed mid).
    pub mid: f64,
    /// Binance USD-M symbol whose feed the venue serves for this asset ("" for none).
    pub binance_symbol: String,
    /// Hyperliquid price = Binance price x multiplier.
    pub binance_multiplier: f64,
    pub synthetic: SyntheticParams,
}

impl Default for AssetConfig {
    fn default() -> Self {
        Self {
            coin: "ETH".into(),
            sz_decimals: 4,
            max_leverage: 25,
            mid: 3000.0,
            binance_symbol: "ETHUSDT".into(),
            binance_multiplier: 1.0,
            synthetic: SyntheticParams::default(),
        }
    }
}

/// The whole simulated exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    pub maker_fee_bps: f64,
    pub taker_fee_bps: f64,
    pub min_notional_usd: f64,
    /// Open orders per account before `+1 per 5M USDC volume` (PROTOCOL 5.2), capped at 5000.
    pub open_order_limit: usize,
    /// Address budget before volume: 1 request per USDC traded plus this.
    pub request_buffer: u64,
    /// Cross leverage of a new account on each asset (capped by the asset's max).
    pub default_leverage: u32,
    /// REST weight per IP per minute; 0 disables IP limits.
    pub ip_weight_per_min: u32,
    /// Volume an account must have traded before `scheduleCancel` is allowed.
    pub schedule_cancel_min_volume: f64,
    pub queue: QueueModel,
    pub market: MarketKind,
    /// Seed of the synthetic market; asset `i` uses `seed + i`.
    pub seed: u64,
    pub assets: Vec<AssetConfig>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            maker_fee_bps: 1.5,
            taker_fee_bps: 4.5,
            min_notional_usd: 10.0,
            open_order_limit: 1000,
            request_buffer: 10_000,
            default_leverage: 20,
            ip_weight_per_min: 1200,
            schedule_cancel_min_volume: 1_000_000.0,
            queue: QueueModel::default(),
            market: MarketKind::Synthetic,
            seed: 1,
            assets: vec![
                AssetConfig::default(),
                AssetConfig {
                    coin: "BTC".into(),
                    sz_decimals: 5,
                    max_leverage: 40,
                    mid: 100_000.0,
                    binance_symbol: "BTCUSDT".into(),
                    synthetic: SyntheticParams {
                        binance_tick: 0.1,
                        ..SyntheticParams::default()
                    },
                    ..AssetConfig::default()
                },
            ],
        }
    }
}

impl SimConfig {
    /// Parses JSON and validates it.
    ///
    /// # Errors
    /// `Error::Invalid` naming the field and value.
    pub fn from_json(text: &str) -> Result<Self> {
        let cfg: SimConfig = serde_json::from_str(text)
            .map_err(|e| Error::invalid("sim config", e, "is not a valid venue config"))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// # Errors
    /// `Error::Invalid` naming the first bad field and its value.
    pub fn validate(&self) -> Result<()> {
        check::in_range("maker_fee_bps", self.maker_fee_bps, -10.0, 100.0)?;
        check::in_range("taker_fee_bps", self.taker_fee_bps, -10.0, 100.0)?;
        check::non_negative("min_notional_usd", self.min_notional_usd)?;
        check::non_negative(
            "schedule_cancel_min_volume",
            self.schedule_cancel_min_volume,
        )?;
        if self.default_leverage == 0 {
            return Err(Error::invalid("default_leverage", 0, "must be >= 1"));
        }
        self.queue.validate()?;
        if self.assets.is_empty() {
            return Err(Error::invalid(
                "assets",
                "[]",
                "the venue needs at least one asset",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for a in &self.assets {
            if a.coin.is_empty() || !seen.insert(a.coin.clone()) {
                return Err(Error::invalid(
                    "assets.coin",
                    &a.coin,
                    "must be unique and non-empty",
                ));
            }
            if a.sz_decimals > 6 {
                return Err(Error::invalid(
                    "assets.sz_decimals",
                    a.sz_decimals,
                    "must be <= 6",
                ));
            }
            if a.max_leverage == 0 {
                return Err(Error::invalid("assets.max_leverage", 0, "must be >= 1"));
            }
            check::positive("assets.mid", a.mid)?;
            check::positive("assets.binance_multiplier", a.binance_multiplier)?;
            a.synthetic.validate(&a.coin)?;
        }
        Ok(())
    }
}
