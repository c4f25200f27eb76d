//! Python classes of `mmfast_core::signals` (SPEC 4, 9): the `SignalIntegrator`, fed raw frames
//! or values with the local receive time in ms, and the frozen `SignalSnapshot` it returns once
//! per cycle. The snapshot keeps the core struct and converts fields on access, so `snapshot()`
//! builds one Python object.

use mmfast_core::config::MarketMakerConfig;
use mmfast_core::signals::{
    FlowDecomposition as CoreFlow, LeadLagSignal as CoreLeadLag, SignalFeed,
    SignalSnapshot as CoreSnapshot,
};
use mmfast_core::types::VolRegime;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::config::PyMarketMakerConfig;
use crate::decision::ToxicityRegime;
use crate::errors::IntoPyResult;

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

fn regime_name(r: VolRegime) -> &'static str {
    match r {
        VolRegime::Quiet => "quiet",
        VolRegime::Normal => "normal",
        VolRegime::Volatile => "volatile",
        VolRegime::Extreme => "extreme",
    }
}

/// The lead-lag signal of one cycle (SPEC 4).
#[pyclass(module = "mmfast._core", frozen, get_all)]
#[derive(Clone, Copy)]
pub struct LeadLagSignal {
    lag_ms: i32,
    correlation: f64,
    predicted_move_bps: f64,
    actionable: bool,
}

impl From<CoreLeadLag> for LeadLagSignal {
    fn from(l: CoreLeadLag) -> Self {
        Self {
            lag_ms: l.lag_ms,
            correlation: l.correlation,
            predicted_move_bps: l.predicted_move_bps,
            actionable: l.actionable,
        }
    }
}

#[pymethods]
impl LeadLagSignal {
    fn __repr__(&self) -> String {
        format!(
            "LeadLagSignal(lag_ms={}, correlation={:.4}, predicted_move_bps={:.3}, actionable={})",
            self.lag_ms,
            self.correlation,
            self.predicted_move_bps,
            py_bool(self.actionable)
        )
    }
}

/// What trade markouts say about the flow (SPEC 4 "InformedFlowEstimator").
#[pyclass(module = "mmfast._core", frozen, get_all)]
#[derive(Clone, Copy)]
pub struct FlowDecomposition {
    informed: f64,
    noise: f64,
    toxicity_score: f64,
    markout_short_bps: f64,
    markout_long_bps: f64,
    trades: u64,
    warmup: f64,
}

impl From<CoreFlow> for FlowDecomposition {
    fn from(f: CoreFlow) -> Self {
        Self {
            informed: f.informed,
            noise: f.noise,
            toxicity_score: f.toxicity_score,
            markout_short_bps: f.markout_short_bps,
            markout_long_bps: f.markout_long_bps,
            trades: f.trades,
            warmup: f.warmup,
        }
    }
}

#[pymethods]
impl FlowDecomposition {
    fn __repr__(&self) -> String {
        format!(
            "FlowDecomposition(informed={:.3}, noise={:.3}, toxicity_score={:.3}, trades={})",
            self.informed, self.noise, self.toxicity_score, self.trades
        )
    }
}

/// Everything the signals say at one time; returned by `SignalIntegrator.snapshot`.
#[pyclass(module = "mmfast._core", frozen)]
pub struct SignalSnapshot {
    s: CoreSnapshot,
}

#[pymethods]
impl SignalSnapshot {
    #[getter]
    fn time_ms(&self) -> i64 {
        self.s.time_ms
    }
    #[getter]
    fn lead_lag(&self) -> LeadLagSignal {
        self.s.lead_lag.into()
    }
    #[getter]
    fn flow(&self) -> FlowDecomposition {
        self.s.flow.into()
    }
    #[getter]
    fn toxicity(&self) -> ToxicityRegime {
        self.s.toxicity.into()
    }
    /// Fast volatility, bps per sqrt(s).
    #[getter]
    fn sigma_bps(&self) -> f64 {
        self.s.sigma_bps
    }
    #[getter]
    fn sigma_slow_bps(&self) -> f64 {
        self.s.sigma_slow_bps
    }
    /// "quiet", "normal", "volatile" or "extreme".
    #[getter]
    fn regime(&self) -> &'static str {
        regime_name(self.s.regime)
    }
    #[getter]
    fn regime_volatility_fraction(&self) -> f64 {
        self.s.regime_volatility_fraction
    }
    /// The kappa the ladder uses (per bps).
    #[getter]
    fn kappa(&self) -> f64 {
        self.s.kappa
    }
    #[getter]
    fn intensity_a(&self) -> f64 {
        self.s.intensity_a
    }
    #[getter]
    fn robust_kappa(&self) -> Option<f64> {
        self.s.robust_kappa
    }
    #[getter]
    fn cusum_divergence_bps(&self) -> f64 {
        self.s.cusum_divergence_bps
    }
    #[getter]
    fn cusum_alarm(&self) -> bool {
        self.s.cusum.alarm
    }
    /// +1 when the last alarm was upward (asks about to be run over), -1 downward, 0 none.
    #[getter]
    fn cusum_direction(&self) -> i8 {
        self.s.cusum.direction
    }
    #[getter]
    fn basis_bps(&self) -> f64 {
        self.s.cross_venue.basis_bps
    }
    #[getter]
    fn divergence_bps(&self) -> f64 {
        self.s.cross_venue.divergence_bps
    }
    #[getter]
    fn flow_agreement(&self) -> f64 {
        self.s.cross_venue.flow_agreement
    }
    /// Binance signed-volume imbalance at 1 s, 5 s and 30 s.
    #[getter]
    fn lead_imbalance(&self) -> (f64, f64, f64) {
        let f = self.s.cross_venue.lead_flow;
        (f.imbalance_1s, f.imbalance_5s, f.imbalance_30s)
    }
    /// Hyperliquid signed-volume imbalance at 1 s, 5 s and 30 s.
    #[getter]
    fn hl_imbalance(&self) -> (f64, f64, f64) {
        let f = self.s.cross_venue.hl_flow;
        (f.imbalance_1s, f.imbalance_5s, f.imbalance_30s)
    }
    #[getter]
    fn has_had_cross_venue(&self) -> bool {
        self.s.has_had_cross_venue
    }
    /// Cap on quoted size as a fraction of max position (1.0 when uncapped).
    #[getter]
    fn quote_cap_fraction(&self) -> f64 {
        self.s.quote_cap_fraction
    }
    /// "none", "no_signal" or "lead_lost".
    #[getter]
    fn cap_reason(&self) -> &'static str {
        self.s.cap_reason.as_str()
    }
    /// True on the cycles where the no-signal warning should be logged.
    #[getter]
    fn no_signal_warning(&self) -> bool {
        self.s.no_signal_warning
    }
    #[getter]
    fn cycles_without_signal(&self) -> u64 {
        self.s.cycles_without_signal
    }
    #[getter]
    fn lead_fresh(&self) -> bool {
        self.s.lead_fresh
    }
    #[getter]
    fn hl_fresh(&self) -> bool {
        self.s.hl_fresh
    }
    #[getter]
    fn lead_disabled(&self) -> bool {
        self.s.lead_disabled
    }
    #[getter]
    fn alpha_skew_bps(&self) -> f64 {
        self.s.alpha_skew_bps
    }
    #[getter]
    fn lag_significant(&self) -> bool {
        self.s.lag.significant
    }
    #[getter]
    fn lag_stable(&self) -> bool {
        self.s.lag.stable
    }
    #[getter]
    fn lag_null_threshold(&self) -> f64 {
        self.s.lag.null_threshold
    }
    #[getter]
    fn lag_scans(&self) -> u64 {
        self.s.lag.scans
    }
    #[getter]
    fn lead_gate_weight(&self) -> f64 {
        self.s.lead_gate_weight
    }
    #[getter]
    fn lead_gate_ic(&self) -> f64 {
        self.s.lead_gate_ic
    }
    #[getter]
    fn flow_gate_weight(&self) -> f64 {
        self.s.flow_gate_weight
    }
    #[getter]
    fn flow_gate_ic(&self) -> f64 {
        self.s.flow_gate_ic
    }

    /// Every scalar field as a flat dict (for logs and metrics).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.s;
        let d = PyDict::new(py);
        d.set_item("time_ms", s.time_ms)?;
        d.set_item("lag_ms", s.lead_lag.lag_ms)?;
        d.set_item("correlation", s.lead_lag.correlation)?;
        d.set_item("predicted_move_bps", s.lead_lag.predicted_move_bps)?;
        d.set_item("actionable", s.lead_lag.actionable)?;
        d.set_item("lag_significant", s.lag.significant)?;
        d.set_item("lag_stable", s.lag.stable)?;
        d.set_item("lag_null_threshold", s.lag.null_threshold)?;
        d.set_item("lag_scans", s.lag.scans)?;
        d.set_item("informed", s.flow.informed)?;
        d.set_item("toxicity_score", s.flow.toxicity_score)?;
        d.set_item("markout_short_bps", s.flow.markout_short_bps)?;
        d.set_item("markout_long_bps", s.flow.markout_long_bps)?;
        d.set_item("flow_trades", s.flow.trades)?;
        d.set_item("flow_warmup", s.flow.warmup)?;
        d.set_item(
            "toxicity",
            match s.toxicity {
                mmfast_core::types::ToxicityRegime::Benign => "benign",
                mmfast_core::types::ToxicityRegime::Normal => "normal",
                mmfast_core::types::ToxicityRegime::Toxic => "toxic",
            },
        )?;
        d.set_item("sigma_bps", s.sigma_bps)?;
        d.set_item("sigma_slow_bps", s.sigma_slow_bps)?;
        d.set_item("regime", regime_name(s.regime))?;
        d.set_item("regime_volatility_fraction", s.regime_volatility_fraction)?;
        d.set_item("kappa", s.kappa)?;
        d.set_item("intensity_a", s.intensity_a)?;
        d.set_item("robust_kappa", s.robust_kappa)?;
        d.set_item("basis_bps", s.cross_venue.basis_bps)?;
        d.set_item("divergence_bps", s.cross_venue.divergence_bps)?;
        d.set_item("flow_agreement", s.cross_venue.flow_agreement)?;
        d.set_item("cusum_divergence_bps", s.cusum_divergence_bps)?;
        d.set_item("cusum_alarm", s.cusum.alarm)?;
        d.set_item("cusum_direction", s.cusum.direction)?;
        d.set_item("cusum_alarms", s.cusum.alarms)?;
        d.set_item("has_had_cross_venue", s.has_had_cross_venue)?;
        d.set_item("quote_cap_fraction", s.quote_cap_fraction)?;
        d.set_item("cap_reason", s.cap_reason.as_str())?;
        d.set_item("no_signal_warning", s.no_signal_warning)?;
        d.set_item("cycles_without_signal", s.cycles_without_signal)?;
        d.set_item("lead_fresh", s.lead_fresh)?;
        d.set_item("hl_fresh", s.hl_fresh)?;
        d.set_item("lead_disabled", s.lead_disabled)?;
        d.set_item("alpha_skew_bps", s.alpha_skew_bps)?;
        d.set_item("lead_gate_weight", s.lead_gate_weight)?;
        d.set_item("lead_gate_ic", s.lead_gate_ic)?;
        d.set_item("flow_gate_weight", s.flow_gate_weight)?;
        d.set_item("flow_gate_ic", s.flow_gate_ic)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let s = &self.s;
        format!(
            "SignalSnapshot(time_ms={}, lag_ms={}, actionable={}, toxicity={:?}, sigma_bps={:.3}, \
             regime={}, kappa={:.4}, quote_cap_fraction={}, cap_reason={})",
            s.time_ms,
            s.lead_lag.lag_ms,
            py_bool(s.lead_lag.actionable),
            s.toxicity,
            s.sigma_bps,
            regime_name(s.regime),
            s.kappa,
            s.quote_cap_fraction,
            s.cap_reason.as_str()
        )
    }
}

/// Combines the SPEC 4 estimators for one Hyperliquid asset and its lead market. Fed raw frames
/// (`on_hl_frame`, `on_binance_frame`) or values (`on_hl_mid`, `on_hl_trade`, `on_binance_bbo`,
/// `on_binance_trade`), each with the local receive time in ms; `snapshot(time_ms)` once per
/// cycle. `SignalIntegrator()` uses the defaults and takes frames of any coin;
/// `SignalIntegrator(config)` follows the config and keeps only its asset and lead symbol.
#[pyclass(module = "mmfast._core")]
pub struct SignalIntegrator {
    inner: SignalFeed,
}

#[pymethods]
impl SignalIntegrator {
    #[new]
    #[pyo3(signature = (config = None))]
    fn new(config: Option<&PyMarketMakerConfig>) -> Self {
        let inner = match config {
            Some(c) => SignalFeed::new(&c.inner),
            None => SignalFeed::unfiltered(&MarketMakerConfig::default()),
        };
        Self { inner }
    }

    /// One raw Hyperliquid frame (`l2Book`, `bbo`, `trades`; others ignored) received at
    /// `recv_ms`. Returns True when it fed the signals.
    fn on_hl_frame(&mut self, frame: &[u8], recv_ms: i64) -> PyResult<bool> {
        let fx = self.inner.on_hl_frame(frame, recv_ms).py()?;
        Ok(fx.mid || fx.trades > 0)
    }

    /// One raw Binance USD-M frame (`bookTicker`, `aggTrade`, `trade`, diff depth or the REST
    /// depth body) received at `recv_ms`. Returns True when it fed the signals.
    fn on_binance_frame(&mut self, frame: &[u8], recv_ms: i64) -> PyResult<bool> {
        let fx = self.inner.on_binance_frame(frame, recv_ms).py()?;
        Ok(fx.mid || fx.trades > 0)
    }

    fn on_hl_mid(&mut self, mid: f64, time_ms: i64) -> PyResult<()> {
        self.inner.signals_mut().on_hl_mid(mid, time_ms).py()
    }

    /// One Hyperliquid print; `is_buy` when the taker bought.
    fn on_hl_trade(&mut self, px: f64, sz: f64, is_buy: bool, time_ms: i64) -> PyResult<()> {
        self.inner
            .signals_mut()
            .on_hl_trade(px, sz, is_buy, time_ms)
            .py()
    }

    fn on_binance_bbo(&mut self, bid: f64, ask: f64, time_ms: i64) -> PyResult<()> {
        self.inner
            .signals_mut()
            .on_binance_bbo(bid, ask, time_ms)
            .py()
    }

    /// One Binance aggregated trade; `buyer_is_maker` is the stream's `m`.
    fn on_binance_trade(
        &mut self,
        px: f64,
        qty: f64,
        buyer_is_maker: bool,
        time_ms: i64,
    ) -> PyResult<()> {
        self.inner
            .signals_mut()
            .on_binance_trade(px, qty, buyer_is_maker, time_ms)
            .py()
    }

    /// Everything as of `time_ms`; call once per quote cycle (it counts cycles for the
    /// no-signal warning and latches `has_had_cross_venue`).
    fn snapshot(&mut self, time_ms: i64) -> SignalSnapshot {
        SignalSnapshot {
            s: self.inner.signals_mut().snapshot(time_ms),
        }
    }

    /// The lead-lag signal as of `time_ms`, without counting a cycle.
    fn lead_lag(&self, time_ms: i64) -> LeadLagSignal {
        self.inner.signals().lead_lag(time_ms).into()
    }

    /// The lead feed is lost: the lead signal is non-actionable at once and the lead-lost cap
    /// applies until the next Binance quote.
    fn disable_binance_signals(&mut self) {
        self.inner.signals_mut().disable_binance_signals();
    }

    fn set_skew_context(
        &mut self,
        position: f64,
        max_position: f64,
        signal_alpha: f64,
    ) -> PyResult<()> {
        self.inner
            .signals_mut()
            .set_skew_context(position, max_position, signal_alpha)
            .py()
    }

    /// Runs the lag scan in progress (or one due) to completion now (research and tests).
    fn finish_lag_scan(&mut self, time_ms: i64) {
        self.inner.signals_mut().finish_lag_scan(time_ms);
    }

    #[getter]
    fn has_had_cross_venue(&self) -> bool {
        self.inner.signals().has_had_cross_venue()
    }

    /// The Hyperliquid book's mid from the frames fed, if any.
    #[getter]
    fn hl_mid(&self) -> Option<f64> {
        self.inner.hl_book().mid()
    }

    fn __repr__(&self) -> String {
        let s = self.inner.signals();
        format!(
            "SignalIntegrator(lead_enabled={}, has_had_cross_venue={}, cycles={}, lag_scans={})",
            py_bool(s.lead_enabled()),
            py_bool(s.has_had_cross_venue()),
            s.cycles(),
            s.lag_analyzer().estimate().scans
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SignalIntegrator>()?;
    m.add_class::<SignalSnapshot>()?;
    m.add_class::<LeadLagSignal>()?;
    m.add_class::<FlowDecomposition>()?;
    Ok(())
}
