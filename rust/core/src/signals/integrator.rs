//! The signal integrator (SPEC 4 "SignalIntegrator", "No-signal safety"): feeds every estimator
//! from market data values and turns them into one [`SignalSnapshot`] per quote cycle.
//!
//! Feeding: `on_hl_mid`, `on_hl_trade`, `on_binance_bbo`, `on_binance_trade`, each with the
//! local receive time in ms. Times are taken as non-decreasing: an input stamped earlier than
//! one already seen is processed at the latest time seen (two feeds stamped on one clock can
//! interleave by a ms). A bad value (NaN, <= 0, ask < bid) is refused with an error naming it,
//! and nothing changes.
//!
//! Cross-venue wiring: both mids go onto the lag grid; at every closed grid step the mean basis
//! is updated, and every `gate_sample_ms` two predictions are recorded with the Hyperliquid mid,
//! to be scored against Hyperliquid's move once their horizons pass: the lead's move over the
//! last lag (the lead-lag prediction) and Binance's 1 s imbalance (the flow prediction). The model
//! gate thus sees the outcome of every prediction, actionable or not (SPEC 4 "ModelGating").
//! Every `cusum_sample_ms` the divergence goes to the CUSUM.
//!
//! The predicted move (SPEC 4: "the current cross-venue gap scaled by the signal's strength") is
//! `weight x strength x gap`, where the gap is the lead's move over the last `lag_ms`: under the
//! fitted model (Hyperliquid = lead `lag_ms` earlier + basis) that is exactly the cross-venue gap
//! without Hyperliquid's own quote noise. The raw basis divergence would also "predict" the noise
//! reverting, and on unrelated synthetic markets that alone kept the gate open (IC 0.08).
//! `strength` is the gate's least-squares slope of realised on predicted move, clamped to
//! [0, 1]; `weight` is the gate weight. To it is added the flow prediction through its own gate
//! (`weight x slope x imbalance_1s`) and, when `lead_momentum_ms` is set, the lead's own move
//! over that window while it is at least `lead_momentum_min_bps`; the sum is capped at
//! `max_predicted_move_bps`.
//!
//! Safety (SPEC 4): `has_had_cross_venue` turns true at the first snapshot whose lead signal
//! is actionable and stays true. Before that the quote cap is `no_signal_cap` and the snapshot
//! raises `no_signal_warning` on the first such cycle and every `warn_every_cycles` after (the
//! core does not log; the caller does). After it, a lost lead feed (disabled, or warm and silent
//! for `binance_stale_ms`) caps at `lead_lost_cap` until the next Binance quote. A feed that has
//! never been warm is not stale. With `lead_venue = "none"` the lead inputs are ignored and no
//! cap applies. The cap is a fraction of max position; flooring it at one minimum order is the
//! engine's job (it knows the order size).

use super::cross_venue::{CrossVenueAnalyzer, CrossVenueFeatures};
use super::cusum::{CusumDetector, CusumState};
use super::flow::{FlowDecomposition, InformedFlowEstimator};
use super::gating::{GatedSignal, ModelGating};
use super::kappa::RegimeKappaEstimator;
use super::lead_lag::{GridStep, LagAnalyzer, LagEstimate, LeadLagSignal};
use super::ring::Ring;
use super::runs::TakerRunDetector;
use super::volatility::{SpikeFilter, VolatilityEstimator};
use super::TimeMs;
use crate::check;
use crate::config::{LeadVenue, MarketMakerConfig};
use crate::error::Error;
use crate::params::SpreadProfile;
use crate::types::{ToxicityRegime, VolRegime};
use crate::Result;

/// Seed of the permutation test's shuffles: fixed, so that a run is a function of its inputs.
const LAG_SEED: u64 = 0x6d6d_6661_7374_0004;

/// Why the quote cap is below 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CapReason {
    #[default]
    None,
    /// No valid cross-venue signal yet (`no_signal_cap`).
    NoSignal,
    /// The lead feed is lost after having been live (`lead_lost_cap`).
    LeadLost,
}

impl CapReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CapReason::None => "none",
            CapReason::NoSignal => "no_signal",
            CapReason::LeadLost => "lead_lost",
        }
    }
}

/// What the engine set with `set_skew_context`.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct SkewContext {
    pub position: f64,
    pub max_position: f64,
    /// Alpha in bps: positive when the price is expected to rise.
    pub signal_alpha: f64,
}

/// Everything the signals say at one time (SPEC 4 "Outputs per cycle").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignalSnapshot {
    pub time_ms: TimeMs,
    pub lead_lag: LeadLagSignal,
    /// The lag scan behind `lead_lag`.
    pub lag: LagEstimate,
    pub flow: FlowDecomposition,
    pub toxicity: ToxicityRegime,
    /// Fast volatility, bps per sqrt(s).
    pub sigma_bps: f64,
    pub sigma_slow_bps: f64,
    pub regime: VolRegime,
    pub regime_volatility_fraction: f64,
    /// The kappa the ladder should use (robust when available, Hip3 blend), per bps.
    pub kappa: f64,
    /// Fill intensity at the mid, per s.
    pub intensity_a: f64,
    pub robust_kappa: Option<f64>,
    pub cross_venue: CrossVenueFeatures,
    /// The direction of one-sided taker flow now (`SignalIntegrator::flow_dir`).
    pub flow_dir: i8,
    pub cusum: CusumState,
    /// The de-meaned divergence the CUSUM last scored, bps.
    pub cusum_divergence_bps: f64,
    pub has_had_cross_venue: bool,
    /// Cap on quoted size as a fraction of max position (1 when uncapped).
    pub quote_cap_fraction: f64,
    pub cap_reason: CapReason,
    /// True on the cycles where the caller should log the no-signal warning.
    pub no_signal_warning: bool,
    /// Cycles run under the no-signal cap so far.
    pub cycles_without_signal: u64,
    pub lead_fresh: bool,
    pub hl_fresh: bool,
    pub lead_disabled: bool,
    /// The alpha part of the skew after position scaling, bps.
    pub alpha_skew_bps: f64,
    pub lead_gate_weight: f64,
    pub lead_gate_ic: f64,
    pub flow_gate_weight: f64,
    pub flow_gate_ic: f64,
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
struct Pending {
    due: TimeMs,
    prediction: f64,
    hl_log: f64,
}

/// The part of the state each closed grid step touches.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct StepState {
    cross: CrossVenueAnalyzer,
    gating: ModelGating,
    cusum: CusumDetector,
    pending_lead: Ring<Pending>,
    pending_flow: Ring<Pending>,
    /// The lead's log-mid at the last `max_lag + 2` grid steps, the newest at `last_index`.
    lead_hist: Ring<f64>,
    last_index: i64,
    step_ms: TimeMs,
    gate_every: i64,
    cusum_every: i64,
    flow_horizon_ms: TimeMs,
    min_lag_ms: i32,
}

impl StepState {
    /// The lead's log-mid at grid index `g`, if still held.
    #[inline]
    fn lead_at(&self, g: i64) -> Option<f64> {
        let back = self.last_index - g;
        if back < 0 || back >= self.lead_hist.len() as i64 {
            return None;
        }
        self.lead_hist.get(self.lead_hist.len() - 1 - back as usize)
    }

    /// The lead's move over the `lag_ms` before `time_ms` (its log-mid then being `lead_log`):
    /// the move Hyperliquid, `lag_ms` behind, has not made yet.
    #[inline]
    fn lead_gap(&self, lead_log: f64, time_ms: TimeMs, lag_ms: i32) -> Option<f64> {
        let g = (time_ms - TimeMs::from(lag_ms)).div_euclid(self.step_ms);
        self.lead_at(g).map(|past| lead_log - past)
    }

    #[inline]
    fn on_step(&mut self, s: &GridStep, lag_ms: i32) {
        self.cross.on_step(s, self.step_ms);
        self.lead_hist.push(s.lead_log_bps);
        self.last_index = s.index;
        let div = self
            .cross
            .divergence(s.lead_log_bps, s.hl_log_bps)
            .unwrap_or(0.0);
        while let Some(p) = self.pending_lead.front() {
            if p.due > s.time_ms {
                break;
            }
            let outcome = s.hl_log_bps - p.hl_log;
            self.gating
                .record(GatedSignal::LeadLag, p.prediction, outcome);
            self.pending_lead.pop_front();
        }
        while let Some(p) = self.pending_flow.front() {
            if p.due > s.time_ms {
                break;
            }
            let outcome = s.hl_log_bps - p.hl_log;
            self.gating
                .record(GatedSignal::BinanceFlow, p.prediction, outcome);
            self.pending_flow.pop_front();
        }
        if s.index.rem_euclid(self.gate_every) == 0 {
            if lag_ms >= self.min_lag_ms {
                if let Some(gap) = self.lead_gap(s.lead_log_bps, s.time_ms, lag_ms) {
                    self.pending_lead.push(Pending {
                        due: s.time_ms + TimeMs::from(lag_ms),
                        prediction: gap,
                        hl_log: s.hl_log_bps,
                    });
                }
            }
            let imbalance = self.cross.lead_flow.features(s.time_ms).imbalance_1s;
            self.pending_flow.push(Pending {
                due: s.time_ms + self.flow_horizon_ms,
                prediction: imbalance,
                hl_log: s.hl_log_bps,
            });
        }
        if s.index.rem_euclid(self.cusum_every) == 0 {
            self.cusum.update(div, s.time_ms);
        }
    }
}

/// Combines the estimators of SPEC 4 for one Hyperliquid asset and its lead market.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SignalIntegrator {
    lead_enabled: bool,
    price_multiplier: f64,
    profile: SpreadProfile,
    no_signal_cap: f64,
    lead_lost_cap: f64,
    warn_every: u64,
    hl_stale_ms: TimeMs,
    lead_stale_ms: TimeMs,
    min_lag_ms: i32,
    min_correlation: f64,
    max_move_bps: f64,
    flow_state_imbalance: f64,
    momentum_ms: i32,
    momentum_min_bps: f64,
    vol: VolatilityEstimator,
    /// Sweep-robust Hyperliquid mid (volatility, trade depths, markouts, basis).
    mid_filter: SpikeFilter,
    lag: LagAnalyzer,
    flow: InformedFlowEstimator,
    kappa: RegimeKappaEstimator,
    #[serde(default)]
    runs: TakerRunDetector,
    steps: StepState,
    hl_log: Option<f64>,
    lead_log: Option<f64>,
    last_hl: Option<TimeMs>,
    last_lead: Option<TimeMs>,
    clock: TimeMs,
    lead_disabled: bool,
    has_had_cross_venue: bool,
    cycles: u64,
    cycles_without_signal: u64,
    skew: SkewContext,
    ignored_lead_inputs: u64,
}

impl Default for SignalIntegrator {
    /// An integrator with the default configuration.
    fn default() -> Self {
        Self::new(&MarketMakerConfig::default())
    }
}

impl SignalIntegrator {
    /// An integrator for `cfg` (taken as validated: `MarketMakerConfig` is validated when it is
    /// loaded or built from Python).
    pub fn new(cfg: &MarketMakerConfig) -> Self {
        let s = &cfg.signals;
        let step = u64::from(s.lag_step_ms.max(1));
        let gate_every = (s.gate_sample_ms / step).max(1) as i64;
        let cusum_every = (s.cusum_sample_ms / step).max(1) as i64;
        let lead_pending = (u64::from(s.max_lag_ms) / s.gate_sample_ms.max(1)) as usize + 2;
        let flow_pending = (s.flow_gate_horizon_ms / s.gate_sample_ms.max(1)) as usize + 2;
        Self {
            lead_enabled: cfg.lead_venue == LeadVenue::Binance,
            price_multiplier: cfg.lead.price_multiplier,
            profile: cfg.spread_profile,
            no_signal_cap: s.no_signal_cap,
            lead_lost_cap: s.lead_lost_cap,
            warn_every: u64::from(s.warn_every_cycles.max(1)),
            hl_stale_ms: cfg.risk.hl_stale_ms as TimeMs,
            lead_stale_ms: cfg.risk.binance_stale_ms as TimeMs,
            min_lag_ms: s.min_actionable_lag_ms as i32,
            min_correlation: s.lead_min_correlation,
            max_move_bps: s.max_predicted_move_bps,
            flow_state_imbalance: s.flow_state_imbalance,
            momentum_ms: s.lead_momentum_ms as i32,
            momentum_min_bps: s.lead_momentum_min_bps,
            vol: VolatilityEstimator::new(&cfg.stochastic),
            mid_filter: SpikeFilter::default(),
            lag: LagAnalyzer::new(s, LAG_SEED),
            flow: InformedFlowEstimator::new(s, &cfg.stochastic),
            runs: TakerRunDetector::new(s),
            kappa: RegimeKappaEstimator::new(&cfg.stochastic),
            steps: StepState {
                cross: CrossVenueAnalyzer::new(s),
                gating: ModelGating::new(s),
                cusum: CusumDetector::new(s),
                pending_lead: Ring::new(lead_pending),
                pending_flow: Ring::new(flow_pending),
                lead_hist: Ring::new(
                    (u64::from(s.max_lag_ms.max(s.lead_momentum_ms)) / step) as usize + 2,
                ),
                last_index: 0,
                step_ms: step as TimeMs,
                gate_every,
                cusum_every,
                flow_horizon_ms: s.flow_gate_horizon_ms as TimeMs,
                min_lag_ms: s.min_actionable_lag_ms as i32,
            },
            hl_log: None,
            lead_log: None,
            last_hl: None,
            last_lead: None,
            clock: TimeMs::MIN,
            lead_disabled: false,
            has_had_cross_venue: false,
            cycles: 0,
            cycles_without_signal: 0,
            skew: SkewContext::default(),
            ignored_lead_inputs: 0,
        }
    }

    #[inline]
    fn tick(&mut self, t: TimeMs) -> TimeMs {
        let t = t.max(self.clock);
        self.clock = t;
        t
    }

    /// The lag of the last scan, for the step hooks' gate samples (0 before any scan).
    #[inline]
    fn scan_lag_ms(&self) -> i32 {
        let e = self.lag.estimate();
        if e.scans > 0 {
            e.lag_ms
        } else {
            0
        }
    }

    /// Feeds Hyperliquid's mid at local receive time `time_ms`.
    ///
    /// # Errors
    /// `mid` not finite and > 0 (nothing is changed).
    #[inline]
    pub fn on_hl_mid(&mut self, mid: f64, time_ms: TimeMs) -> Result<()> {
        check::positive("mid", mid)?;
        let t = self.tick(time_ms);
        let x = mid.ln() * 1e4;
        // Estimators of the price's own path read the sweep-robust mid; the lag scan reads the
        // raw one (the filter's one-update delay would bias the lag).
        let robust = self.mid_filter.update(x, t);
        self.vol.update_log(robust, t);
        self.flow.on_mid(robust, t);
        self.kappa.advance(t, self.vol.regime());
        self.hl_log = Some(robust);
        self.last_hl = Some(t);

        if self.lead_enabled {
            let lag_ms = self.scan_lag_ms();
            let steps = &mut self.steps;
            self.lag.on_hl_log(x, t, |s| steps.on_step(s, lag_ms));
            self.lag.work(t);
        }
        Ok(())
    }

    /// Feeds one Hyperliquid trade print: price, size, and whether the taker bought.
    ///
    /// # Errors
    /// `px` not finite and > 0, or `sz` not finite and >= 0 (nothing is changed).
    #[inline]
    pub fn on_hl_trade(&mut self, px: f64, sz: f64, is_buy: bool, time_ms: TimeMs) -> Result<()> {
        check::positive("px", px)?;
        check::non_negative("sz", sz)?;
        let t = self.tick(time_ms);
        self.steps.cross.hl_flow.on_trade(sz, is_buy, t);
        self.runs.on_trade(is_buy, t);
        if let Some(m) = self.hl_log {
            let depth = (px.ln() * 1e4 - m).abs();
            self.kappa.on_trade(depth, is_buy, t, self.vol.regime());
            self.flow.on_trade(is_buy, t, m);
        }
        Ok(())
    }

    /// Feeds the lead venue's best bid and ask (Binance futures bookTicker). The lead price is
    /// the mid times `lead.price_multiplier`. Ignored with `lead_venue = "none"`. Brings the
    /// lead feed back after `disable_binance_signals`.
    ///
    /// # Errors
    /// `bid` or `ask` not finite and > 0, or `ask < bid` (nothing is changed).
    #[inline]
    pub fn on_binance_bbo(&mut self, bid: f64, ask: f64, time_ms: TimeMs) -> Result<()> {
        check::positive("bid", bid)?;
        check::positive("ask", ask)?;
        if ask < bid {
            return Err(Error::invalid("ask", ask, "must be >= bid"));
        }
        self.on_lead_mid_checked(0.5 * (bid + ask), time_ms);
        Ok(())
    }

    /// Feeds the lead venue's mid directly (before the price multiplier).
    ///
    /// # Errors
    /// `mid` not finite and > 0 (nothing is changed).
    pub fn on_binance_mid(&mut self, mid: f64, time_ms: TimeMs) -> Result<()> {
        check::positive("mid", mid)?;
        self.on_lead_mid_checked(mid, time_ms);
        Ok(())
    }

    #[inline]
    fn on_lead_mid_checked(&mut self, mid: f64, time_ms: TimeMs) {
        if !self.lead_enabled {
            self.ignored_lead_inputs += 1;
            return;
        }
        let t = self.tick(time_ms);
        let x = (mid * self.price_multiplier).ln() * 1e4;
        self.lead_disabled = false;
        self.lead_log = Some(x);
        self.last_lead = Some(t);
        let lag_ms = self.scan_lag_ms();
        let steps = &mut self.steps;
        self.lag.on_lead_log(x, t, |s| steps.on_step(s, lag_ms));
        self.lag.work(t);
    }

    /// Feeds one Binance aggregated trade; `buyer_is_maker` is the stream's `m` (true: the
    /// seller was the aggressor). Ignored with `lead_venue = "none"`.
    ///
    /// # Errors
    /// `px` not finite and > 0, or `qty` not finite and >= 0 (nothing is changed).
    #[inline]
    pub fn on_binance_trade(
        &mut self,
        px: f64,
        qty: f64,
        buyer_is_maker: bool,
        time_ms: TimeMs,
    ) -> Result<()> {
        check::positive("px", px)?;
        check::non_negative("qty", qty)?;
        if !self.lead_enabled {
            self.ignored_lead_inputs += 1;
            return Ok(());
        }
        let t = self.tick(time_ms);
        self.steps.cross.lead_flow.on_trade(qty, !buyer_is_maker, t);
        Ok(())
    }

    /// The lead feed is lost: forgets its staleness state and the lag grid, makes the lead
    /// signal non-actionable at once and applies the lead-lost cap until the next Binance
    /// quote (SPEC 4). Learned statistics (gate skill, basis, null distribution) are kept.
    pub fn disable_binance_signals(&mut self) {
        if !self.lead_enabled {
            return;
        }
        self.lead_disabled = true;
        self.last_lead = None;
        self.lead_log = None;
        self.lag.reset();
        self.steps.pending_lead.clear();
        self.steps.pending_flow.clear();
        self.steps.lead_hist.clear();
        self.steps.cusum.reset_sums();
    }

    /// Records the engine's position, max position and the alpha (bps, positive when the price
    /// is expected to rise) that the skew is built from.
    ///
    /// # Errors
    /// Non-finite values or `max_position <= 0` (nothing is changed).
    pub fn set_skew_context(
        &mut self,
        position: f64,
        max_position: f64,
        signal_alpha: f64,
    ) -> Result<()> {
        check::finite("position", position)?;
        check::positive("max_position", max_position)?;
        check::finite("signal_alpha", signal_alpha)?;
        self.skew = SkewContext {
            position,
            max_position,
            signal_alpha,
        };
        Ok(())
    }

    pub fn skew_context(&self) -> SkewContext {
        self.skew
    }

    /// The alpha skew in bps: the signal alpha, scaled down by `1 - |position| / max` when it
    /// would push the position further the way it already leans (leaning into alpha must not
    /// carry the book to its limit; alpha that reduces the position applies in full).
    pub fn alpha_skew_bps(&self) -> f64 {
        let s = self.skew;
        if s.signal_alpha * s.position > 0.0 {
            let room = (1.0 - s.position.abs() / s.max_position).clamp(0.0, 1.0);
            s.signal_alpha * room
        } else {
            s.signal_alpha
        }
    }

    fn lead_fresh(&self, now: TimeMs) -> bool {
        !self.lead_disabled && self.last_lead.is_some_and(|t| now - t < self.lead_stale_ms)
    }

    fn hl_fresh(&self, now: TimeMs) -> bool {
        self.last_hl.is_some_and(|t| now - t < self.hl_stale_ms)
    }

    /// The lead feed is lost: disabled, or warm once and silent for `binance_stale_ms`.
    fn lead_lost(&self, now: TimeMs) -> bool {
        self.lead_disabled
            || self
                .last_lead
                .is_some_and(|t| now - t >= self.lead_stale_ms)
    }

    /// The lead-lag signal as of `now` (does not count a cycle).
    pub fn lead_lag(&self, now: TimeMs) -> LeadLagSignal {
        self.lead_lag_with(now, self.steps.cross.lead_flow.features(now).imbalance_1s)
    }

    /// `lead_lag` given the lead's 1 s flow imbalance as of `now` (the snapshot has it already).
    fn lead_lag_with(&self, now: TimeMs, imbalance: f64) -> LeadLagSignal {
        let e = self.lag.estimate();
        let mut out = LeadLagSignal {
            lag_ms: e.lag_ms,
            correlation: e.correlation,
            predicted_move_bps: 0.0,
            actionable: false,
        };
        if !self.lead_enabled {
            return out;
        }
        let gating = &self.steps.gating;
        let weight = gating.weight(GatedSignal::LeadLag);
        out.actionable = self.lead_fresh(now)
            && self.hl_fresh(now)
            && self.lag.has_min_samples()
            && e.significant
            && e.stable
            && e.lag_ms >= self.min_lag_ms
            && e.correlation >= self.min_correlation
            && weight > 0.0;
        if out.actionable {
            let gap = self
                .lead_log
                .and_then(|b| self.steps.lead_gap(b, now, e.lag_ms))
                .unwrap_or(0.0);
            let strength = gating.slope(GatedSignal::LeadLag).clamp(0.0, 1.0);
            // The lead venue's 1 s flow imbalance, through its own gate (weight from its
            // information coefficient, the least-squares slope in bps per unit of imbalance):
            // an informed burst shows in the lead's flow while the gap still covers only the
            // last `lag_ms` of it (issue 14, toxic preset: with this term the engine's loss
            // there fell from -17.8 to -11.9 USD per 30 min, 20 seeds, buffer off).
            let flow = gating.weight(GatedSignal::BinanceFlow)
                * gating.slope(GatedSignal::BinanceFlow)
                * imbalance;
            out.predicted_move_bps = (weight * strength * gap + flow + self.lead_momentum_bps(now))
                .clamp(-self.max_move_bps, self.max_move_bps);
        }
        out
    }

    /// The lead's move over the last `signals.lead_momentum_ms`, bps, when it is at least
    /// `signals.lead_momentum_min_bps` in size, else 0 (and 0 when off). A burst moves the lead
    /// for seconds; the gap sees `lag_ms` of it. The threshold keeps ordinary noise out: with
    /// none, calm lost 1.5 USD per 30 min to quotes pushed off the touch (issue 14 note).
    pub fn lead_momentum_bps(&self, now: TimeMs) -> f64 {
        if self.momentum_ms <= 0 {
            return 0.0;
        }
        let m = self
            .lead_log
            .and_then(|b| self.steps.lead_gap(b, now, self.momentum_ms))
            .unwrap_or(0.0);
        if m.abs() >= self.momentum_min_bps {
            m
        } else {
            0.0
        }
    }

    /// The direction of one-sided taker flow as of `now`: +1 (buys) or -1 (sells) while
    /// Hyperliquid's taker orders run on one side (`signals::runs`), else while the lead venue's
    /// 1 s signed-volume imbalance is at least `signals.flow_state_imbalance` in size; 0
    /// otherwise. The engine learns the adverse selection of the side such flow runs into apart.
    pub fn flow_dir(&self, now: TimeMs) -> i8 {
        self.flow_dir_with(now, self.steps.cross.lead_flow.features(now).imbalance_1s)
    }

    #[inline]
    fn flow_dir_with(&self, now: TimeMs, lead_imbalance_1s: f64) -> i8 {
        let run = self.runs.dir(now);
        if run != 0 {
            run
        } else if !self.lead_enabled || lead_imbalance_1s.abs() < self.flow_state_imbalance {
            0
        } else if lead_imbalance_1s > 0.0 {
            1
        } else {
            -1
        }
    }

    /// The quote cap as a fraction of max position, and why.
    pub fn quote_cap(&self, now: TimeMs) -> (f64, CapReason) {
        if !self.lead_enabled {
            (1.0, CapReason::None)
        } else if !self.has_had_cross_venue {
            (self.no_signal_cap, CapReason::NoSignal)
        } else if self.lead_lost(now) {
            (self.lead_lost_cap, CapReason::LeadLost)
        } else {
            (1.0, CapReason::None)
        }
    }

    /// Everything as of `now`; call once per quote cycle. Counts the cycle for the no-signal
    /// warning, latches `has_had_cross_venue` on the first actionable lead signal, and runs a
    /// slice of pending lag-scan work.
    pub fn snapshot(&mut self, now: TimeMs) -> SignalSnapshot {
        if self.lead_enabled {
            self.lag.work(now.max(self.clock));
        }
        // The flow features once per cycle: the predicted move and the flow state read them.
        let cross_venue = self.steps.cross.features(now, self.lead_log, self.hl_log);
        let lead_lag = self.lead_lag_with(now, cross_venue.lead_flow.imbalance_1s);

        if lead_lag.actionable {
            self.has_had_cross_venue = true;
        }
        self.cycles += 1;
        let (cap, reason) = self.quote_cap(now);
        let mut warn = false;
        if reason == CapReason::NoSignal {
            self.cycles_without_signal += 1;
            warn = (self.cycles_without_signal - 1) % self.warn_every == 0;
        }
        let regime = self.vol.regime();
        // A taker order whose block is over counts in this cycle's fit.
        self.kappa.advance(now.max(self.clock), regime);
        let gating = &self.steps.gating;
        let cusum = self.steps.cusum.state(now);
        SignalSnapshot {
            time_ms: now,
            lead_lag,
            lag: *self.lag.estimate(),
            flow: self.flow.decomposition(),
            toxicity: self.flow.regime(),
            sigma_bps: self.vol.sigma_bps(),
            sigma_slow_bps: self.vol.sigma_slow_bps(),
            regime,
            regime_volatility_fraction: regime.volatility_fraction(),
            kappa: self.kappa.ladder_kappa(regime, self.profile),
            intensity_a: self.kappa.intensity_a(regime),
            robust_kappa: self.kappa.robust_kappa(regime),
            flow_dir: self.flow_dir_with(now, cross_venue.lead_flow.imbalance_1s),

            cross_venue,
            cusum,
            cusum_divergence_bps: cusum.divergence_bps,
            has_had_cross_venue: self.has_had_cross_venue,
            quote_cap_fraction: cap,
            cap_reason: reason,
            no_signal_warning: warn,
            cycles_without_signal: self.cycles_without_signal,
            lead_fresh: self.lead_fresh(now),
            hl_fresh: self.hl_fresh(now),
            lead_disabled: self.lead_disabled,
            alpha_skew_bps: self.alpha_skew_bps(),
            lead_gate_weight: gating.weight(GatedSignal::LeadLag),
            lead_gate_ic: gating.ic(GatedSignal::LeadLag),
            flow_gate_weight: gating.weight(GatedSignal::BinanceFlow),
            flow_gate_ic: gating.ic(GatedSignal::BinanceFlow),
        }
    }

    /// True once a valid cross-venue signal has been seen (sticky).
    pub fn has_had_cross_venue(&self) -> bool {
        self.has_had_cross_venue
    }

    /// True unless `lead_venue = "none"`.
    pub fn lead_enabled(&self) -> bool {
        self.lead_enabled
    }

    /// Snapshots taken so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Lead-venue inputs ignored because `lead_venue = "none"`.
    pub fn ignored_lead_inputs(&self) -> u64 {
        self.ignored_lead_inputs
    }

    pub fn volatility(&self) -> &VolatilityEstimator {
        &self.vol
    }

    pub fn lag_analyzer(&self) -> &LagAnalyzer {
        &self.lag
    }

    pub fn informed_flow(&self) -> &InformedFlowEstimator {
        &self.flow
    }

    pub fn regime_kappa(&self) -> &RegimeKappaEstimator {
        &self.kappa
    }

    pub fn cross_venue(&self) -> &CrossVenueAnalyzer {
        &self.steps.cross
    }

    pub fn gating(&self) -> &ModelGating {
        &self.steps.gating
    }

    pub fn cusum(&self) -> &CusumDetector {
        &self.steps.cusum
    }

    /// Runs the lag scan in progress (or one due) to completion now, instead of a slice per
    /// update: for research and tests; the live path never needs it.
    pub fn finish_lag_scan(&mut self, now: TimeMs) {
        self.lag.finish_scan(now);
    }
}
