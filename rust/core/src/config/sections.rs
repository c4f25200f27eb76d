//! The config's sections. Each has the SPEC's defaults and a `validate` that reports through the
//! shared `Checker`, one line per rule.

use serde::{Deserialize, Serialize};

use super::Checker;

/// Hyperliquid network: selects URLs and the phantom-agent source ("a" mainnet, "b" testnet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    Mainnet,
    /// The default: real money only when the config says mainnet (and the operator confirms).
    #[default]
    Testnet,
}

/// The lead market for cross-venue signals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LeadConfig {
    /// Binance USD-M symbol, e.g. "ETHUSDT" (kPEPE leads from "1000PEPEUSDT").
    pub symbol: String,
    /// Hyperliquid price = Binance price x multiplier.
    pub price_multiplier: f64,
}

impl Default for LeadConfig {
    fn default() -> Self {
        Self {
            symbol: "ETHUSDT".to_string(),
            price_multiplier: 1.0,
        }
    }
}

/// Risk overlay, circuit breakers and the pre-send guard (SPEC 3, 8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RiskConfig {
    /// Cap on the product of zone and breaker multipliers on the increasing side.
    pub overlay_cap: f64,
    /// After Kill cancels everything, unwind a position at or above max with reduce-only quotes.
    pub kill_unwind: bool,
    /// Hyperliquid market data older than this cancels everything until fresh.
    pub hl_stale_ms: u64,
    /// Binance data older than this disables the lead signal and applies the lead-lost cap.
    pub binance_stale_ms: u64,
    /// A book side that went empty is quoted against from its last valid touch for this long
    /// (thin markets empty a side now and then); then the book counts as missing. 0 disables.
    pub one_sided_hold_ms: u64,
    /// Equity loss since the UTC day began that triggers Kill; 0 disables.
    pub daily_loss_limit_usd: f64,
    /// Pre-send guard: a quote further than this from mid is refused.
    pub price_band_bps: f64,
    /// Multiplier on the increasing side while a CUSUM alarm is active.
    pub cusum_alarm_mult: f64,
    /// Multiplier on both sides in the Extreme volatility regime.
    pub extreme_vol_mult: f64,
    /// Taker exit: when the lead signal's predicted move against the position is at least this
    /// many bps, the position is taken out at once with a reduce-only IOC order (0: off). A
    /// maker cannot leave a position while a move runs against it: its reducing quote sits on
    /// the side the flow does not take. Worth it only when the move left exceeds the taker fee.
    pub taker_exit_bps: f64,
    /// The exit's limit: this far through the opposite touch, bps (what it may pay to go).
    pub taker_exit_slippage_bps: f64,
    /// At most one exit per this window, ms (the IOC's answer and fills settle in between).
    pub taker_exit_cooldown_ms: u64,
}

impl Default for RiskConfig {
    fn default() -> Self {
        Self {
            overlay_cap: 3.0,
            kill_unwind: true,
            hl_stale_ms: 3_000,
            binance_stale_ms: 5_000,
            one_sided_hold_ms: 3_000,
            daily_loss_limit_usd: 0.0,
            price_band_bps: 200.0,
            cusum_alarm_mult: 1.5,
            extreme_vol_mult: 1.5,
            taker_exit_bps: 0.0,
            taker_exit_slippage_bps: 4.0,
            taker_exit_cooldown_ms: 2_000,
        }
    }
}

impl RiskConfig {
    pub(super) fn validate(&self, c: &mut Checker) {
        c.range("risk.overlay_cap", self.overlay_cap, 1.0, 100.0, true);
        if self.hl_stale_ms == 0 {
            c.fail("risk.hl_stale_ms", "0", "must be > 0");
        }
        if self.binance_stale_ms == 0 {
            c.fail("risk.binance_stale_ms", "0", "must be > 0");
        }
        c.non_negative("risk.daily_loss_limit_usd", self.daily_loss_limit_usd);
        c.positive("risk.price_band_bps", self.price_band_bps);
        c.range(
            "risk.cusum_alarm_mult",
            self.cusum_alarm_mult,
            1.0,
            10.0,
            true,
        );
        c.range(
            "risk.extreme_vol_mult",
            self.extreme_vol_mult,
            1.0,
            10.0,
            true,
        );
        c.non_negative("risk.taker_exit_bps", self.taker_exit_bps);
        // The exit's limit price must pass the pre-send guard's band.
        c.range(
            "risk.taker_exit_slippage_bps",
            self.taker_exit_slippage_bps,
            0.0,
            self.price_band_bps.max(0.0),
            true,
        );
    }
}

/// The operational kill switch and its monitors (SPEC 10), checked about once a second outside
/// the hot path. Hard limits kill (the state persists across restarts until `mmfast reset-kill`);
/// soft monitors pause (cancel everything, keep the connections, resume once clear).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MonitorConfig {
    /// Hard: kill when PnL falls this fraction below its peak since the run began; 0 disables.
    pub drawdown_frac: f64,
    /// The drawdown counts only once the peak PnL reached this (no kill from a $0.02 peak).
    pub drawdown_min_peak_usd: f64,
    /// Soft: pause when |position| moved more than this fraction of max position ...
    pub position_velocity_frac: f64,
    /// ... within this window.
    pub position_velocity_window_s: f64,
    /// Soft: pause when the mid moved more than this many bps ...
    pub price_velocity_bps: f64,
    /// ... within this window.
    pub price_velocity_window_s: f64,
    /// Soft: pause when the newest Hyperliquid market data is older than this.
    pub stale_data_s: f64,
    /// Soft: pause when the address budget (`userRateLimit` cap minus used) is below this.
    pub min_budget_headroom: u64,
    /// A soft condition must stay clear this long before quoting resumes.
    pub resume_after_s: f64,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            drawdown_frac: 0.5,
            drawdown_min_peak_usd: 50.0,
            position_velocity_frac: 2.0,
            position_velocity_window_s: 60.0,
            price_velocity_bps: 100.0,
            price_velocity_window_s: 10.0,
            stale_data_s: 5.0,
            min_budget_headroom: 500,
            resume_after_s: 5.0,
        }
    }
}

impl MonitorConfig {
    pub(super) fn validate(&self, c: &mut Checker) {
        c.range("monitors.drawdown_frac", self.drawdown_frac, 0.0, 1.0, true);
        c.non_negative("monitors.drawdown_min_peak_usd", self.drawdown_min_peak_usd);
        c.positive(
            "monitors.position_velocity_frac",
            self.position_velocity_frac,
        );
        c.positive(
            "monitors.position_velocity_window_s",
            self.position_velocity_window_s,
        );
        c.positive("monitors.price_velocity_bps", self.price_velocity_bps);
        c.positive(
            "monitors.price_velocity_window_s",
            self.price_velocity_window_s,
        );
        c.positive("monitors.stale_data_s", self.stale_data_s);
        c.non_negative("monitors.resume_after_s", self.resume_after_s);
    }
}

/// Signal integration and no-signal safety (SPEC 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignalConfig {
    /// The predicted move prices the quotes (the side it runs toward steps away by all of it,
    /// the other leans in; false: it is still learned, gates and lifts the no-signal cap, but
    /// never moves a quote). Off by default, on in `examples/config_rebate.toml`: at the
    /// tier-0 fee nothing trades on the calibrated presets, at the rebate tier it improves the
    /// 5 s markout (issue 14 note).
    pub lead_skew: bool,
    /// The toxicity regime acts (Toxic: flat or reduce-only; Benign/Toxic: the queue value's
    /// adverse-selection estimate and the risk model's toxicity feature). False: always Normal.
    pub toxicity: bool,
    /// A CUSUM alarm widens the side about to be run over (false: never alarms for the engine).
    pub cusum: bool,
    /// Quote cap as a fraction of max until the first valid cross-venue signal.
    pub no_signal_cap: f64,
    /// Quote cap while the lead feed is lost after having been live.
    pub lead_lost_cap: f64,
    /// Log the no-signal warning every this many cycles.
    pub warn_every_cycles: u32,
    /// The inventory skew is clamped to this fraction of the half-spread quoted at q = 0 (the
    /// alpha moves the reference price instead: `strategy::ladder::alpha_shift_bps`).
    pub skew_clamp_fraction: f64,
    /// Lead-lag: lags from -max to +max ms are scanned.
    pub max_lag_ms: u32,
    /// Lead-lag: step between candidate lags.
    pub lag_step_ms: u32,
    /// A lag below this is not actionable (too short to act on).
    pub min_actionable_lag_ms: u32,
    /// Cap on the predicted Hyperliquid move. 20 bps: a lead-venue jump of 5-15 bps is the
    /// move the side it runs toward must step away from (capped at 5, a 15 bps jump seen
    /// 150 ms ahead still filled a bid 10.6 bps through; issue 14).
    pub max_predicted_move_bps: f64,
    /// The lead venue's flow is one-sided when its 1 s signed-volume imbalance is at least this
    /// in size (in [0, 1]); the adverse-selection buffer is learned apart for such times.
    pub flow_state_imbalance: f64,
    /// The lead's own move over this window (ms; 0 off) joins the predicted move while it is
    /// at least `lead_momentum_min_bps` in size: an informed burst keeps moving for seconds,
    /// where the lead gap covers only the last `lag_ms` of it.
    pub lead_momentum_ms: u32,
    pub lead_momentum_min_bps: f64,
    /// Runs of Hyperliquid taker orders (`signals::runs`): a side is in a run when its orders
    /// arrive at this multiple of their ordinary rate (Page's CUSUM, > 1) ...
    pub run_rate_mult: f64,
    /// ... by this much evidence (log-likelihood ratio; about `threshold / ln(mult)` orders in
    /// quick succession) ...
    pub run_threshold: f64,
    /// ... against the ordinary rate counted over this exponential window, s ...
    pub run_rate_window_s: f64,
    /// ... once this many taker orders have been seen. A run is one-sided flow: the side it
    /// runs into is priced with the buffer learned there (as for the lead's one-sided flow).
    pub run_min_orders: u32,
    /// Model gate: a signal whose rolling information coefficient falls below this is muted.
    pub gate_ic_floor: f64,
    /// Model gate: information coefficient at which a signal gets its full weight (linear
    /// ramp from the floor).
    pub gate_ic_full: f64,
    /// Model gate: outcomes kept per signal for its rolling information coefficient.
    pub gate_window: u32,
    /// Model gate: a signal with fewer recorded outcomes than this contributes nothing.
    pub gate_min_outcomes: u32,
    /// Model gate: a prediction is recorded (and later scored) every this many ms.
    pub gate_sample_ms: u64,
    /// Horizon over which the Binance flow imbalance is scored against the Hyperliquid move.
    pub flow_gate_horizon_ms: u64,
    /// Lead-lag: length of history each lag score uses.
    pub lag_window_ms: u64,
    /// Lead-lag: grid steps needed before the first scan (and for an actionable signal).
    pub lag_min_samples: u32,
    /// Lead-lag: a new scan starts at most this often (scans run a slice per update).
    pub lag_recompute_ms: u64,
    /// Lead-lag: shuffled-data scores kept for the permutation test.
    pub lag_null_pool: u32,
    /// Lead-lag: shuffles scored per scan once the pool is full (it is filled on the first).
    pub lag_permutations_per_scan: u32,
    /// Lead-lag: the best lag must beat this quantile of the shuffled scores (SPEC 4: 0.95).
    pub lag_significance_quantile: f64,
    /// Lead-lag stability: the last this many scans taken at least `lag_stability_spacing_ms`
    /// apart, and the latest scan, must all be significant ...
    pub lag_stability_count: u32,
    /// ... with best lags within this span. Hyperliquid's mid moves in block-sized steps, so the
    /// correlation has a plateau from the true lag over the next block or two and the best lag
    /// jitters along it.
    pub lag_stability_tol_ms: u32,
    /// Spacing of the scans the stability check compares. At the window length (the default)
    /// they score disjoint data: consecutive scans share almost all their data, so a chance
    /// peak that clears the test once would otherwise look stable.
    pub lag_stability_spacing_ms: u64,
    /// Lead-lag: slices of scan work done per market-data update (amortises the scan); four
    /// times as many while the first scan fills the shuffled-score pool.
    pub lag_work_per_update: u32,
    /// Lead-lag: the best lag's correlation must reach this to be actionable.
    pub lead_min_correlation: f64,
    /// Half-life of the mean Binance-Hyperliquid basis the divergence is measured from.
    pub basis_half_life_s: f64,
    /// CUSUM drift allowance, in standard deviations of the divergence.
    pub cusum_drift: f64,
    /// CUSUM alarm threshold, in standard deviations.
    pub cusum_threshold: f64,
    /// The divergence is fed to the CUSUM every this many ms.
    pub cusum_sample_ms: u64,
    /// An alarm stays active this long after the last trigger.
    pub cusum_cooldown_ms: u64,
    /// Half-life of the CUSUM's own mean and variance of the divergence.
    pub cusum_half_life_s: f64,
    /// Samples the CUSUM learns from before it may alarm.
    pub cusum_min_samples: u32,
    /// Trade markout horizons (SPEC 4: 1 s and 5 s).
    pub markout_short_ms: u64,
    pub markout_long_ms: u64,
    /// Weight of the short markout in the toxicity score (the long one gets the rest).
    pub markout_short_weight: f64,
    /// Toxicity hysteresis on the markout hit score: Normal -> Toxic at or above `toxic_enter`,
    /// back below `toxic_exit`; Normal -> Benign at or below `benign_enter`, back above
    /// `benign_exit`. On Binance BTC and ETH futures recordings (Aug 2024) the score of ordinary
    /// flow ranged 0.06 to 0.19.
    pub toxic_enter: f64,
    pub toxic_exit: f64,
    pub benign_enter: f64,
    pub benign_exit: f64,
    /// Resolved trades needed before the toxicity regime may leave Normal.
    pub flow_min_trades: u32,
    /// Resolved trades at which the measured markout has its full weight (warm-up progress).
    pub flow_warmup_trades: u32,
}

impl Default for SignalConfig {
    fn default() -> Self {
        Self {
            lead_skew: false,
            toxicity: true,
            cusum: true,
            no_signal_cap: 0.30,
            lead_lost_cap: 0.30,
            warn_every_cycles: 10,
            skew_clamp_fraction: 0.8,
            max_lag_ms: 500,
            lag_step_ms: 25,
            min_actionable_lag_ms: 25,
            max_predicted_move_bps: 20.0,
            flow_state_imbalance: 0.4,
            lead_momentum_ms: 0,
            lead_momentum_min_bps: 1.5,
            run_rate_mult: 6.0,
            run_threshold: 3.0,
            run_rate_window_s: 60.0,
            run_min_orders: 50,
            gate_ic_floor: 0.02,
            gate_ic_full: 0.10,
            gate_window: 300,
            gate_min_outcomes: 50,
            gate_sample_ms: 100,
            flow_gate_horizon_ms: 1_000,
            lag_window_ms: 60_000,
            lag_min_samples: 1_200,
            lag_recompute_ms: 1_000,
            lag_null_pool: 40,
            lag_permutations_per_scan: 2,
            lag_significance_quantile: 0.95,
            lag_stability_count: 2,
            lag_stability_tol_ms: 100,
            lag_stability_spacing_ms: 60_000,
            lag_work_per_update: 1,
            lead_min_correlation: 0.05,
            basis_half_life_s: 60.0,
            cusum_drift: 1.0,
            cusum_threshold: 10.0,
            cusum_sample_ms: 250,
            cusum_cooldown_ms: 5_000,
            cusum_half_life_s: 300.0,
            cusum_min_samples: 40,
            markout_short_ms: 1_000,
            markout_long_ms: 5_000,
            markout_short_weight: 0.5,
            toxic_enter: 0.35,
            toxic_exit: 0.25,
            benign_enter: 0.0,
            benign_exit: 0.05,
            flow_min_trades: 20,
            flow_warmup_trades: 100,
        }
    }
}

impl SignalConfig {
    pub(super) fn validate(&self, c: &mut Checker) {
        c.range("signals.no_signal_cap", self.no_signal_cap, 0.0, 1.0, true);
        c.range("signals.lead_lost_cap", self.lead_lost_cap, 0.0, 1.0, true);
        c.range(
            "signals.skew_clamp_fraction",
            self.skew_clamp_fraction,
            0.0,
            1.0,
            true,
        );
        c.positive(
            "signals.max_predicted_move_bps",
            self.max_predicted_move_bps,
        );
        c.range(
            "signals.flow_state_imbalance",
            self.flow_state_imbalance,
            0.0,
            1.0,
            true,
        );
        if self.lead_momentum_ms > 10_000 {
            c.fail(
                "signals.lead_momentum_ms",
                &self.lead_momentum_ms.to_string(),
                "must be in [0, 10000] (0 switches it off)",
            );
        }
        c.non_negative("signals.lead_momentum_min_bps", self.lead_momentum_min_bps);
        if !(self.run_rate_mult.is_finite() && self.run_rate_mult > 1.0) {
            c.fail(
                "signals.run_rate_mult",
                &self.run_rate_mult.to_string(),
                "must be a finite number > 1 (a run is a rate above the ordinary one)",
            );
        }
        c.positive("signals.run_threshold", self.run_threshold);
        c.positive("signals.run_rate_window_s", self.run_rate_window_s);
        c.range("signals.gate_ic_floor", self.gate_ic_floor, -1.0, 1.0, true);
        if self.lag_step_ms == 0 || self.lag_step_ms > self.max_lag_ms.max(1) {
            c.fail(
                "signals.lag_step_ms",
                &self.lag_step_ms.to_string(),
                "must be in [1, max_lag_ms]",
            );
        }
        if self.warn_every_cycles == 0 {
            c.fail("signals.warn_every_cycles", "0", "must be >= 1");
        }
        c.range("signals.gate_ic_full", self.gate_ic_full, -1.0, 1.0, true);
        if self.gate_ic_full <= self.gate_ic_floor {
            c.fail(
                "signals.gate_ic_full",
                &self.gate_ic_full.to_string(),
                "must be > gate_ic_floor",
            );
        }
        c.count("signals.gate_window", self.gate_window, 2, 100_000);
        c.count(
            "signals.gate_min_outcomes",
            self.gate_min_outcomes,
            2,
            self.gate_window.max(2),
        );
        c.millis("signals.gate_sample_ms", self.gate_sample_ms);
        c.millis("signals.flow_gate_horizon_ms", self.flow_gate_horizon_ms);
        let step = u64::from(self.lag_step_ms.max(1));
        let max_lag = u64::from(self.max_lag_ms);
        if self.lag_window_ms < 4 * (max_lag + step) || self.lag_window_ms / step > 1_000_000 {
            c.fail(
                "signals.lag_window_ms",
                &self.lag_window_ms.to_string(),
                "must be >= 4 x (max_lag_ms + lag_step_ms) and <= 1e6 lag steps",
            );
        }
        c.count(
            "signals.lag_min_samples",
            self.lag_min_samples,
            16,
            u32::try_from(self.lag_window_ms / step).unwrap_or(u32::MAX),
        );
        c.millis("signals.lag_recompute_ms", self.lag_recompute_ms);
        c.count("signals.lag_null_pool", self.lag_null_pool, 4, 10_000);
        c.count(
            "signals.lag_permutations_per_scan",
            self.lag_permutations_per_scan,
            1,
            self.lag_null_pool.max(1),
        );
        c.range(
            "signals.lag_significance_quantile",
            self.lag_significance_quantile,
            0.5,
            1.0,
            false,
        );
        c.count(
            "signals.lag_stability_count",
            self.lag_stability_count,
            1,
            100,
        );
        if self.lag_stability_spacing_ms > 86_400_000 {
            c.fail(
                "signals.lag_stability_spacing_ms",
                &self.lag_stability_spacing_ms.to_string(),
                "must be <= 86400000 ms",
            );
        }
        c.count(
            "signals.lag_work_per_update",
            self.lag_work_per_update,
            1,
            10_000,
        );
        c.range(
            "signals.lead_min_correlation",
            self.lead_min_correlation,
            0.0,
            1.0,
            true,
        );
        c.positive("signals.basis_half_life_s", self.basis_half_life_s);
        c.non_negative("signals.cusum_drift", self.cusum_drift);
        c.positive("signals.cusum_threshold", self.cusum_threshold);
        c.millis("signals.cusum_sample_ms", self.cusum_sample_ms);
        c.positive("signals.cusum_half_life_s", self.cusum_half_life_s);
        c.count(
            "signals.cusum_min_samples",
            self.cusum_min_samples,
            2,
            1_000_000,
        );
        c.millis("signals.markout_short_ms", self.markout_short_ms);
        if self.markout_long_ms <= self.markout_short_ms {
            c.fail(
                "signals.markout_long_ms",
                &self.markout_long_ms.to_string(),
                "must be > markout_short_ms",
            );
        }
        c.range(
            "signals.markout_short_weight",
            self.markout_short_weight,
            0.0,
            1.0,
            true,
        );
        let t = [
            self.benign_enter,
            self.benign_exit,
            self.toxic_exit,
            self.toxic_enter,
        ];
        let ordered = t.iter().all(|x| x.is_finite() && (-1.0..=1.0).contains(x))
            && t[0] < t[1]
            && t[1] <= t[2]
            && t[2] < t[3];
        if !ordered {
            c.fail(
                "signals.toxic_enter",
                &format!("{}/{}/{}/{}", t[0], t[1], t[2], t[3]),
                "need -1 <= benign_enter < benign_exit <= toxic_exit < toxic_enter <= 1",
            );
        }
        if self.flow_warmup_trades == 0 {
            c.fail("signals.flow_warmup_trades", "0", "must be >= 1");
        }
    }
}

/// Estimator half-lives and model priors (SPEC 4, 7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StochasticConfig {
    pub vol_half_life_s: f64,
    pub vol_slow_half_life_s: f64,
    /// Volatility prior in bps/sqrt(s), used until the estimator is warm.
    pub sigma_prior_bps: f64,
    /// Fill-intensity decay per bps of depth.
    pub kappa_prior: f64,
    /// Fill intensity at the mid, per second.
    pub a_prior: f64,
    /// Weight of the robust kappa in the Hip3 blend (SPEC 4: 0.6).
    pub hip3_kappa_blend: f64,
    pub kappa_half_life_s: f64,
    pub flow_half_life_s: f64,
    /// Volatility: mid updates closer than this to the last sample are folded into the next one
    /// (damps the bid-ask bounce of the mid).
    pub vol_min_interval_ms: u64,
    /// Volatility: a gap longer than this restarts the return chain without a sample.
    pub vol_max_gap_ms: u64,
    /// Regime from fast/slow volatility: Quiet below the first, Normal below the second,
    /// Volatile below the third, else Extreme (SPEC 4: 0.7, 1.5, 3).
    pub vol_quiet_below: f64,
    pub vol_normal_below: f64,
    pub vol_volatile_below: f64,
    /// Kappa: trade prints needed before a regime's own fit replaces the prior.
    pub kappa_min_trades: u32,
    /// Kappa: prints needed before `robust_kappa` (median-based) is available.
    pub kappa_robust_min_trades: u32,
    /// Regime hysteresis: a regime is left only once the fast/slow ratio is past its bound by
    /// this fraction of the bound (0.15: Volatile entered at 1.5, left below 1.275).
    pub vol_regime_hysteresis: f64,
    /// The slow volatility's prior counts as this many seconds of data (the fast one's as its
    /// half-life), so the slow estimate leaves the prior within minutes, not half an hour.
    pub vol_slow_prior_s: f64,
    /// Fill-intensity fit: the priors count as this many seconds of observation (shrinkage
    /// towards the prior; a short burst cannot swing A or kappa by orders of magnitude).
    pub intensity_prior_s: f64,
    /// Hard bounds on the fitted kappa (per bps) and A (per s): a finite, positive GLFT
    /// half-spread whatever the data.
    pub kappa_min: f64,
    pub kappa_max: f64,
    pub a_min: f64,
    pub a_max: f64,
}

impl Default for StochasticConfig {
    fn default() -> Self {
        Self {
            vol_half_life_s: 60.0,
            vol_slow_half_life_s: 1800.0,
            sigma_prior_bps: 2.0,
            kappa_prior: 0.25,
            a_prior: 0.5,
            hip3_kappa_blend: 0.6,
            kappa_half_life_s: 300.0,
            flow_half_life_s: 60.0,
            vol_min_interval_ms: 1000,
            vol_max_gap_ms: 10_000,
            vol_quiet_below: 0.7,
            vol_normal_below: 1.5,
            vol_volatile_below: 3.0,
            kappa_min_trades: 30,
            kappa_robust_min_trades: 50,
            vol_regime_hysteresis: 0.15,
            vol_slow_prior_s: 300.0,
            intensity_prior_s: 60.0,
            kappa_min: 0.02,
            kappa_max: 5.0,
            a_min: 0.01,
            a_max: 50.0,
        }
    }
}

impl StochasticConfig {
    pub(super) fn validate(&self, c: &mut Checker) {
        c.positive("stochastic.vol_half_life_s", self.vol_half_life_s);
        c.positive("stochastic.vol_slow_half_life_s", self.vol_slow_half_life_s);
        c.positive("stochastic.sigma_prior_bps", self.sigma_prior_bps);
        c.positive("stochastic.kappa_prior", self.kappa_prior);
        c.positive("stochastic.a_prior", self.a_prior);
        c.range(
            "stochastic.hip3_kappa_blend",
            self.hip3_kappa_blend,
            0.0,
            1.0,
            true,
        );
        c.positive("stochastic.kappa_half_life_s", self.kappa_half_life_s);
        c.positive("stochastic.flow_half_life_s", self.flow_half_life_s);
        if self.vol_max_gap_ms <= self.vol_min_interval_ms {
            c.fail(
                "stochastic.vol_max_gap_ms",
                &self.vol_max_gap_ms.to_string(),
                "must be > vol_min_interval_ms",
            );
        }
        let r = [
            self.vol_quiet_below,
            self.vol_normal_below,
            self.vol_volatile_below,
        ];
        if !(r.iter().all(|x| x.is_finite()) && 0.0 < r[0] && r[0] < r[1] && r[1] < r[2]) {
            c.fail(
                "stochastic.vol_quiet_below",
                &format!("{}/{}/{}", r[0], r[1], r[2]),
                "need 0 < vol_quiet_below < vol_normal_below < vol_volatile_below",
            );
        }
        c.count(
            "stochastic.kappa_min_trades",
            self.kappa_min_trades,
            1,
            1_000_000,
        );
        c.count(
            "stochastic.kappa_robust_min_trades",
            self.kappa_robust_min_trades,
            1,
            1_000_000,
        );
        c.range(
            "stochastic.vol_regime_hysteresis",
            self.vol_regime_hysteresis,
            0.0,
            0.5,
            true,
        );
        c.positive("stochastic.vol_slow_prior_s", self.vol_slow_prior_s);
        c.positive("stochastic.intensity_prior_s", self.intensity_prior_s);
        c.positive("stochastic.kappa_min", self.kappa_min);
        c.positive("stochastic.a_min", self.a_min);
        if !(self.kappa_max.is_finite() && self.kappa_max > self.kappa_min) {
            c.fail(
                "stochastic.kappa_max",
                &self.kappa_max.to_string(),
                "must be finite and > kappa_min",
            );
        }
        if !(self.a_max.is_finite() && self.a_max > self.a_min) {
            c.fail(
                "stochastic.a_max",
                &self.a_max.to_string(),
                "must be finite and > a_min",
            );
        }
        for (field, prior, lo, hi) in [
            (
                "stochastic.kappa_prior",
                self.kappa_prior,
                self.kappa_min,
                self.kappa_max,
            ),
            ("stochastic.a_prior", self.a_prior, self.a_min, self.a_max),
        ] {
            if !(lo..=hi).contains(&prior) {
                c.fail(
                    field,
                    &prior.to_string(),
                    "must lie within its [min, max] bounds",
                );
            }
        }
    }
}

/// Single-order cap as a fraction of effective max, per volatility regime (SPEC 7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SingleOrderFractions {
    pub quiet: f64,
    pub normal: f64,
    pub volatile: f64,
    pub extreme: f64,
}

impl Default for SingleOrderFractions {
    fn default() -> Self {
        Self {
            quiet: 0.50,
            normal: 0.25,
            volatile: 0.15,
            extreme: 0.10,
        }
    }
}

/// The GLFT ladder (SPEC 7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LadderConfig {
    pub num_levels: u32,
    /// Floor on each side's distance from mid (8.01 bps; 2.5 in the paper profile).
    pub min_half_spread_bps: f64,
    /// Prior of the adverse-selection buffer, blended with measured markouts by warm-up.
    pub as_prior_bps: f64,
    /// Geometric spacing of successive levels.
    pub depth_ratio: f64,
    pub single_order_fraction: SingleOrderFractions,
    /// Mix of the calibrated risk model's gamma with the plain gamma (0 plain, 1 calibrated).
    pub risk_model_blend: f64,
    /// Kelly multiplier (quarter Kelly) and its activation rules.
    pub kelly_fraction: f64,
    pub kelly_min_fills: u32,
    pub kelly_min_win_rate: f64,
    pub kelly_min_edge_bps: f64,
    pub kelly_max_fraction: f64,
    /// Outside reduce-only, the side that reduces the position offers at least this share of
    /// |position| (0: the target size, 1: the whole position), never less than the target.
    pub reduce_size_share: f64,
}

impl Default for LadderConfig {
    fn default() -> Self {
        Self {
            num_levels: 5,
            min_half_spread_bps: 8.01,
            as_prior_bps: 3.0,
            depth_ratio: 1.5,
            single_order_fraction: SingleOrderFractions::default(),
            risk_model_blend: 1.0,
            kelly_fraction: 0.25,
            kelly_min_fills: 20,
            kelly_min_win_rate: 0.55,
            kelly_min_edge_bps: 2.0,
            kelly_max_fraction: 0.5,
            reduce_size_share: 0.0,
        }
    }
}

/// The Avellaneda-Stoikov baseline (`strategy = "avellaneda_stoikov"`,
/// `strategy/avellaneda_stoikov.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AvellanedaStoikovConfig {
    /// The constant horizon `T - t` of the reservation price and spread, s. 12 s matches GLFT's
    /// inventory term at the SPEC priors.
    pub horizon_s: f64,
}

impl Default for AvellanedaStoikovConfig {
    fn default() -> Self {
        Self { horizon_s: 12.0 }
    }
}

impl LadderConfig {
    pub(super) fn validate(&self, c: &mut Checker) {
        if self.num_levels == 0 || self.num_levels > 50 {
            c.fail(
                "ladder.num_levels",
                &self.num_levels.to_string(),
                "must be in [1, 50]",
            );
        }
        c.positive("ladder.min_half_spread_bps", self.min_half_spread_bps);
        c.non_negative("ladder.as_prior_bps", self.as_prior_bps);
        c.range("ladder.depth_ratio", self.depth_ratio, 1.0, 10.0, true);
        let f = &self.single_order_fraction;
        for (name, x) in [
            ("ladder.single_order_fraction.quiet", f.quiet),
            ("ladder.single_order_fraction.normal", f.normal),
            ("ladder.single_order_fraction.volatile", f.volatile),
            ("ladder.single_order_fraction.extreme", f.extreme),
        ] {
            if !(x.is_finite() && x > 0.0 && x <= 1.0) {
                c.fail(name, &x.to_string(), "must be in (0, 1]");
            }
        }
        c.range(
            "ladder.risk_model_blend",
            self.risk_model_blend,
            0.0,
            1.0,
            true,
        );
        c.range("ladder.kelly_fraction", self.kelly_fraction, 0.0, 1.0, true);
        c.range(
            "ladder.kelly_min_win_rate",
            self.kelly_min_win_rate,
            0.0,
            1.0,
            true,
        );
        c.non_negative("ladder.kelly_min_edge_bps", self.kelly_min_edge_bps);
        c.range(
            "ladder.kelly_max_fraction",
            self.kelly_max_fraction,
            0.0,
            1.0,
            true,
        );
        c.range(
            "ladder.reduce_size_share",
            self.reduce_size_share,
            0.0,
            1.0,
            true,
        );
    }
}

/// Keep-or-replace rules for resting orders (SPEC 8 step 6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReconcileConfig {
    /// Keep a resting order whose price is within this many bps of the desired price.
    pub max_bps_diff: f64,
    /// Keep it when its size is within this fraction of the desired size.
    pub size_tolerance: f64,
    /// At most this many exchange actions per cycle.
    pub max_actions_per_cycle: u32,
    /// Use batchModify where the venue allows instead of cancel + place.
    pub use_modify: bool,
    /// The planner widens max_bps_diff up to this factor when the address quota runs low.
    pub max_quota_widening: f64,
    /// Expected value one exchange action costs, in bps, when the planner ranks actions.
    pub action_cost_bps: f64,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        Self {
            max_bps_diff: 3.0,
            size_tolerance: 0.2,
            max_actions_per_cycle: 20,
            use_modify: true,
            max_quota_widening: 3.0,
            action_cost_bps: 3.0,
        }
    }
}

impl ReconcileConfig {
    pub(super) fn validate(&self, c: &mut Checker) {
        c.positive("reconcile.max_bps_diff", self.max_bps_diff);
        c.range(
            "reconcile.size_tolerance",
            self.size_tolerance,
            0.0,
            1.0,
            true,
        );
        if self.max_actions_per_cycle == 0 {
            c.fail("reconcile.max_actions_per_cycle", "0", "must be >= 1");
        }
        c.range(
            "reconcile.max_quota_widening",
            self.max_quota_widening,
            1.0,
            10.0,
            true,
        );
        c.non_negative("reconcile.action_cost_bps", self.action_cost_bps);
    }
}

/// Pacing of requotes and of the exchange-action budget (SPEC 8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImpulseControlConfig {
    /// A cycle runs at most this often.
    pub min_requote_interval_ms: u64,
    /// ... and at least this often.
    pub max_cycle_interval_ms: u64,
    /// Token budget of exchange actions per minute, below Hyperliquid's limits.
    pub actions_per_minute: u32,
    /// Bucket depth: actions that may be spent at once.
    pub burst: u32,
    /// Address quota headroom below which the planner starts to economise.
    pub quota_low_watermark: u64,
}

impl Default for ImpulseControlConfig {
    fn default() -> Self {
        Self {
            min_requote_interval_ms: 100,
            max_cycle_interval_ms: 5_000,
            actions_per_minute: 600,
            burst: 40,
            quota_low_watermark: 2_000,
        }
    }
}

impl ImpulseControlConfig {
    pub(super) fn validate(&self, c: &mut Checker) {
        if self.max_cycle_interval_ms < self.min_requote_interval_ms {
            c.fail(
                "impulse_control.max_cycle_interval_ms",
                &self.max_cycle_interval_ms.to_string(),
                "must be >= min_requote_interval_ms",
            );
        }
        if self.actions_per_minute == 0 {
            c.fail("impulse_control.actions_per_minute", "0", "must be >= 1");
        }
        if self.burst == 0 {
            c.fail("impulse_control.burst", "0", "must be >= 1");
        }
    }
}

/// Collateral of the perp dex.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CollateralInfo {
    pub token: String,
}

impl Default for CollateralInfo {
    fn default() -> Self {
        Self {
            token: "USDC".to_string(),
        }
    }
}

/// Facts about the asset computed at startup from `meta` (never read from the file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetRuntimeConfig {
    pub asset_id: u32,
    pub sz_decimals: u32,
    /// Max price decimals: 6 - szDecimals for perps.
    pub price_decimals: u32,
    pub lot_size: f64,
    pub min_notional: f64,
}

impl Default for AssetRuntimeConfig {
    fn default() -> Self {
        Self {
            asset_id: 0,
            sz_decimals: 4,
            price_decimals: 2,
            lot_size: 1e-4,
            min_notional: 10.0,
        }
    }
}

impl AssetRuntimeConfig {
    /// Runtime facts for a perp with `sz_decimals` at `asset_id` (SPEC 0 price rules).
    pub fn perp(asset_id: u32, sz_decimals: u32) -> Self {
        Self {
            asset_id,
            sz_decimals,
            price_decimals: 6u32.saturating_sub(sz_decimals),
            lot_size: 10f64.powi(-(sz_decimals as i32)),
            min_notional: 10.0,
        }
    }
}

/// The live loop: endpoints, keys, connection health, gateway pacing and the watchdog (SPEC 10).
/// Secrets are never here: the key comes from `MMFAST_PRIVATE_KEY` or the keystore file named
/// below, whose password comes from `MMFAST_KEYSTORE_PASSWORD`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LiveConfig {
    /// Hyperliquid REST base URL; empty selects the network's (mainnet or testnet).
    pub api_url: String,
    /// Hyperliquid websocket URL; empty derives it from `api_url` (`ws(s)://.../ws`).
    pub ws_url: String,
    /// Binance USD-M websocket base; the routed paths `/public` and `/market` are appended.
    pub binance_ws_url: String,
    /// Subscribe to Binance partial depth (`<s>@depth5@100ms`) beside bookTicker and aggTrade.
    pub binance_depth: bool,
    /// Encrypted keystore JSON used when `MMFAST_PRIVATE_KEY` is unset; empty for none.
    pub keystore: String,
    /// The account an agent (API wallet) key trades for; empty when the key is the account's.
    pub master_address: String,
    /// Application-level ping cadence on Hyperliquid sockets (below the exchange's 60 s idle
    /// close); a socket also pings whenever it has heard nothing for `risk.hl_stale_ms / 3`.
    pub ping_interval_s: f64,
    /// A socket whose ping has had no pong for this long is dead and reconnected.
    pub pong_timeout_s: f64,
    /// Reconnect backoff: first delay, doubling (with full jitter) up to the max.
    pub reconnect_min_s: f64,
    pub reconnect_max_s: f64,
    /// Posts in flight on the order socket; the exchange allows 100.
    pub max_inflight_posts: u32,
    /// A post with no answer after this long is looked up with `orderStatus`.
    pub post_timeout_ms: u64,
    /// `expiresAfter` on quote actions: now + this.
    pub expires_after_ms: u64,
    /// Periodic reconciliation of orders and position against the exchange.
    pub reconcile_interval_s: f64,
    /// Refuse to start when the local clock is further than this from the exchange's.
    pub max_clock_skew_ms: u64,
    /// The watchdog cancels everything when the event loop has not run for this long.
    pub loop_stall_ms: u64,
    /// Refresh the exchange's dead-man switch (`scheduleCancel`) while healthy.
    pub schedule_cancel: bool,
    /// Horizon of the dead-man switch (>= 5 s).
    pub schedule_cancel_s: f64,
    /// REST weight budget per minute and IP (Hyperliquid: 1200).
    pub ip_weight_per_minute: u32,
    /// SQLite checkpoint (fills, daily PnL, learned state for a warm restart); empty disables.
    pub checkpoint: String,
    /// Prometheus metrics on 127.0.0.1 at this port; 0 disables.
    pub metrics_port: u16,
    /// Run the event loop under real-time scheduling (`SCHED_FIFO`) at this priority (1-99),
    /// so that other work on the machine cannot keep it waiting for a CPU when a frame
    /// arrives (the tail of tick-to-order); 0 (the default) leaves the scheduler alone. Needs
    /// root or `CAP_SYS_NICE` (or an `rtprio` limit).
    pub realtime_priority: u32,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            api_url: String::new(),
            ws_url: String::new(),
            binance_ws_url: "wss://fstream.binance.com".to_string(),
            binance_depth: false,
            keystore: String::new(),
            master_address: String::new(),
            ping_interval_s: 50.0,
            pong_timeout_s: 4.0,
            reconnect_min_s: 0.25,
            reconnect_max_s: 30.0,
            max_inflight_posts: 100,
            post_timeout_ms: 5_000,
            expires_after_ms: 10_000,
            reconcile_interval_s: 60.0,
            max_clock_skew_ms: 2_000,
            loop_stall_ms: 1_000,
            schedule_cancel: false,
            schedule_cancel_s: 30.0,
            ip_weight_per_minute: 1_200,
            checkpoint: String::new(),
            metrics_port: 0,
            realtime_priority: 0,
        }
    }
}

impl LiveConfig {
    pub(super) fn validate(&self, c: &mut Checker) {
        c.positive("live.ping_interval_s", self.ping_interval_s);
        c.positive("live.pong_timeout_s", self.pong_timeout_s);
        c.positive("live.reconnect_min_s", self.reconnect_min_s);
        if !(self.reconnect_max_s.is_finite() && self.reconnect_max_s >= self.reconnect_min_s) {
            c.fail(
                "live.reconnect_max_s",
                &self.reconnect_max_s.to_string(),
                "must be >= live.reconnect_min_s",
            );
        }
        if !(1..=100).contains(&self.max_inflight_posts) {
            c.fail(
                "live.max_inflight_posts",
                &self.max_inflight_posts.to_string(),
                "must be in [1, 100] (the exchange's limit)",
            );
        }
        for (name, v) in [
            ("live.post_timeout_ms", self.post_timeout_ms),
            ("live.expires_after_ms", self.expires_after_ms),
            ("live.max_clock_skew_ms", self.max_clock_skew_ms),
            ("live.loop_stall_ms", self.loop_stall_ms),
        ] {
            if v == 0 {
                c.fail(name, "0", "must be > 0");
            }
        }
        c.positive("live.reconcile_interval_s", self.reconcile_interval_s);
        if !(self.schedule_cancel_s.is_finite() && self.schedule_cancel_s >= 5.0) {
            c.fail(
                "live.schedule_cancel_s",
                &self.schedule_cancel_s.to_string(),
                "must be >= 5 (the exchange's minimum)",
            );
        }
        if self.ip_weight_per_minute == 0 {
            c.fail("live.ip_weight_per_minute", "0", "must be > 0");
        }
        if self.realtime_priority > 99 {
            c.fail(
                "live.realtime_priority",
                &self.realtime_priority.to_string(),
                "must be in [0, 99] (0: normal scheduling; 1-99: SCHED_FIFO priority)",
            );
        }
    }
}
