//! Python classes of `mmfast_core::strategy` and `mmfast_core::engine` (SPEC 7-9).

use mmfast_core::engine::{
    cloid_hex, ActionKind, CycleDiagnostics, FlatReason, OrderState, OrderStep, QuoteEngine,
};
use mmfast_core::strategy::{
    LadderInput, LadderOutput, LadderStrategy as CoreLadder, Quote, RiskFeatures,
};
use mmfast_core::types::{Side, ToxicityRegime, VolRegime};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::config::PyMarketMakerConfig;
use crate::decision::{ExecutionMode, PositionZone};
use crate::errors::{finite, side_arg, IntoPyResult};

fn regime_arg(name: &str) -> PyResult<VolRegime> {
    match name.to_ascii_lowercase().as_str() {
        "quiet" => Ok(VolRegime::Quiet),
        "normal" => Ok(VolRegime::Normal),
        "volatile" => Ok(VolRegime::Volatile),
        "extreme" => Ok(VolRegime::Extreme),
        _ => Err(PyValueError::new_err(format!(
            "regime = {name:?}: expected quiet, normal, volatile or extreme"
        ))),
    }
}

/// Quotes of one side as an `(n, 4)` float array: level, px, sz, depth_bps.
fn side_array<'py>(
    py: Python<'py>,
    quotes: &[mmfast_core::strategy::Quote],
) -> Bound<'py, PyArray2<f64>> {
    let mut v = Vec::with_capacity(quotes.len() * 4);
    for q in quotes {
        v.extend_from_slice(&[f64::from(q.level), q.px, q.sz, q.depth_bps]);
    }
    Array2::from_shape_vec((quotes.len(), 4), v)
        .expect("n x 4")
        .into_pyarray(py)
}

/// `(bids, asks, diagnostics)` of one ladder computation.
type LadderResult<'py> = (
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyDict>,
);

/// The GLFT ladder of SPEC 7 on its own, for research and differential tests: one call returns
/// both sides' desired quotes for the inputs given. The engine uses the same code each cycle.
#[pyclass(module = "mmfast._core", name = "LadderStrategy", frozen)]
pub struct PyLadderStrategy {
    inner: CoreLadder,
}

#[pymethods]
impl PyLadderStrategy {
    #[new]
    fn new(config: &PyMarketMakerConfig) -> Self {
        Self {
            inner: CoreLadder::new(&config.inner),
        }
    }

    /// Returns `(bids, asks, diagnostics)`: two `(n, 4)` arrays (level, px, sz, depth_bps),
    /// nearest the touch first, and a dict of the intermediate numbers.
    #[pyo3(signature = (
        *, mid, best_bid, best_ask, sz_decimals, position, effective_max, target_liquidity,
        room_bid, room_ask, min_notional = 10.0, sigma_bps = 2.0, kappa = 0.25, a_intensity = 0.5,
        gamma_base = 0.02, vol_ratio = 1.0, inventory_ratio = 0.0, toxicity_score = 0.0,
        thin_book = 0.0, alpha_bps = 0.0, alpha_lean_bps = None, measured_as_bps = 0.0,
        as_warmup = 0.0,
        regime = "normal", margin_notional = f64::INFINITY, quote_bid = true, quote_ask = true,
        reduce_only = false, urgency = 0.0, bid_mult = 1.0, ask_mult = 1.0, flow_side = None,
        flow_as_bps = 0.0, flow_as_warmup = 0.0
    ))]
    #[allow(clippy::too_many_arguments)]
    fn quote<'py>(
        &self,
        py: Python<'py>,
        mid: f64,
        best_bid: f64,
        best_ask: f64,
        sz_decimals: u32,
        position: f64,
        effective_max: f64,
        target_liquidity: f64,
        room_bid: f64,
        room_ask: f64,
        min_notional: f64,
        sigma_bps: f64,
        kappa: f64,
        a_intensity: f64,
        gamma_base: f64,
        vol_ratio: f64,
        inventory_ratio: f64,
        toxicity_score: f64,
        thin_book: f64,
        alpha_bps: f64,
        alpha_lean_bps: Option<f64>,
        measured_as_bps: f64,
        as_warmup: f64,
        regime: &str,
        margin_notional: f64,
        quote_bid: bool,
        quote_ask: bool,
        reduce_only: bool,
        urgency: f64,
        bid_mult: f64,
        ask_mult: f64,
        flow_side: Option<&str>,
        flow_as_bps: f64,
        flow_as_warmup: f64,
    ) -> PyResult<LadderResult<'py>> {
        for (name, v) in [
            ("mid", mid),
            ("position", position),
            ("effective_max", effective_max),
            ("target_liquidity", target_liquidity),
            ("room_bid", room_bid),
            ("room_ask", room_ask),
            ("min_notional", min_notional),
            ("sigma_bps", sigma_bps),
            ("kappa", kappa),
            ("a_intensity", a_intensity),
            ("gamma_base", gamma_base),
            ("alpha_bps", alpha_bps),
            ("alpha_lean_bps", alpha_lean_bps.unwrap_or(alpha_bps)),
            ("urgency", urgency),
            ("bid_mult", bid_mult),
            ("ask_mult", ask_mult),
        ] {
            finite(name, v)?;
        }
        for (name, v) in [
            ("mid", mid),
            ("kappa", kappa),
            ("a_intensity", a_intensity),
            ("gamma_base", gamma_base),
            ("min_notional", min_notional),
        ] {
            mmfast_core::check::positive(name, v).py()?;
        }
        if sz_decimals > 10 {
            return Err(PyValueError::new_err(format!(
                "sz_decimals = {sz_decimals}: must be <= 10"
            )));
        }
        let inp = LadderInput {
            mid,
            best_bid,
            best_ask,
            sz_decimals,
            min_notional,
            sigma_bps,
            kappa,
            a_intensity,
            gamma_base,
            risk: RiskFeatures {
                vol_ratio,
                inventory_ratio,
                toxicity_score,
                thin_book,
            },
            alpha_bps,
            // Without a lean given, the other side moves in by the whole move.
            alpha_lean_bps: alpha_lean_bps.unwrap_or(alpha_bps),
            measured_as_bps,
            as_warmup,
            flow_side: flow_side.map(|s| side_arg("flow_side", s)).transpose()?,
            flow_as_bps,
            flow_as_warmup,
            regime: regime_arg(regime)?,
            position,
            effective_max,
            target_liquidity,
            room_bid,
            room_ask,
            margin_notional,
            quote_bid,
            quote_ask,
            reduce_only,
            urgency,
            bid_mult,
            ask_mult,
        };
        let mut out = Box::<LadderOutput>::default();
        self.inner.quote(&inp, &mut out);
        let d = &out.diag;
        let diag = PyDict::new(py);
        for (k, v) in [
            ("gamma", d.gamma),
            ("c1", d.c1),
            ("c2", d.c2),
            ("half_spread_bps", d.half_spread_bps),
            ("skew_bps", d.skew_bps),
            ("as_buffer_bps", d.as_buffer_bps),
            ("floor_bps", d.floor_bps),
            ("bid_touch_bps", d.bid_touch_bps),
            ("ask_touch_bps", d.ask_touch_bps),
            ("bid_total", d.bid_total),
            ("ask_total", d.ask_total),
            ("single_order_fraction", d.single_order_fraction),
            ("kelly_fraction", d.kelly_fraction),
        ] {
            diag.set_item(k, v)?;
        }
        diag.set_item("levels_fundable", d.levels_fundable)?;
        Ok((
            side_array(py, out.bids.as_slice()),
            side_array(py, out.asks.as_slice()),
            diag,
        ))
    }
}

/// Rounds a price to the Hyperliquid perp grid (PROTOCOL 4.3): down for a bid (`is_bid`), up
/// for an ask, so rounding never moves a quote toward the touch.
#[pyfunction]
fn round_price(px: f64, sz_decimals: u32, is_bid: bool) -> PyResult<f64> {
    finite("px", px)?;
    Ok(mmfast_core::strategy::round_price(px, sz_decimals, !is_bid))
}

/// Parses a user frame (`orderUpdates`, `userFills`, `user`) as the engine would, applying
/// nothing: raises `EngineError` when it is malformed or carries absurd values (issue 13 item
/// 7), so the bot can refuse it before its own ledger and PnL see it.
#[pyfunction]
fn check_user_frame(frame: &[u8], coin: &str) -> PyResult<()> {
    mmfast_core::engine::frames::parse_user_frame(frame, coin)
        .map(|_| ())
        .map_err(|e| crate::errors::to_py(e.into()))
}

/// True when `px` is a valid Hyperliquid perp price for `sz_decimals`.
#[pyfunction]
fn is_valid_price(px: f64, sz_decimals: u32) -> bool {
    mmfast_core::strategy::is_valid_price(px, sz_decimals)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyLadderStrategy>()?;
    m.add_class::<PyQuoteEngine>()?;
    m.add_class::<PyCycleOutput>()?;
    m.add_class::<PyOrderStep>()?;
    m.add_class::<PyQuote>()?;
    m.add_function(wrap_pyfunction!(round_price, m)?)?;
    m.add_function(wrap_pyfunction!(is_valid_price, m)?)?;
    m.add_function(wrap_pyfunction!(check_user_frame, m)?)?;
    m.add_function(wrap_pyfunction!(reconcile_side, m)?)?;
    Ok(())
}

// ---- the quote engine ----

fn side_str(s: Side) -> &'static str {
    match s {
        Side::Bid => "bid",
        Side::Ask => "ask",
    }
}

fn toxicity_arg(s: &str) -> PyResult<ToxicityRegime> {
    match s.to_ascii_lowercase().as_str() {
        "benign" => Ok(ToxicityRegime::Benign),
        "normal" => Ok(ToxicityRegime::Normal),
        "toxic" => Ok(ToxicityRegime::Toxic),
        _ => Err(PyValueError::new_err(format!(
            "toxicity = {s:?}: expected benign, normal or toxic"
        ))),
    }
}

/// One desired quote of a cycle.
#[pyclass(module = "mmfast._core", name = "Quote", frozen, get_all)]
#[derive(Clone)]
pub struct PyQuote {
    side: &'static str,
    px: f64,
    sz: f64,
    level: u32,
    depth_bps: f64,
}

#[pymethods]
impl PyQuote {
    fn __repr__(&self) -> String {
        format!(
            "Quote(side={:?}, px={}, sz={}, level={}, depth_bps={:.3})",
            self.side, self.px, self.sz, self.level, self.depth_bps
        )
    }
}

/// One order-level step of a cycle. `kind` is "place", "cancel", "modify" or "take" (the taker
/// exit's reduce-only IOC); `cloid` is the new
/// order's (place, modify) or the target's (cancel; None for an order that is not ours, cancel it
/// by `oid`); `oid` is the target's exchange id (cancel, modify) when known; `target_cloid` the
/// replaced order's cloid (modify). Steps with the same `batch` form one exchange action
/// (`order`, `cancelByCloid` or `batchModify`) with the items in `index` order; give the
/// exchange's answer to it back with `on_exchange_response(frame, recv_ms, batch)`.
#[pyclass(module = "mmfast._core", name = "OrderStep", frozen, get_all)]
#[derive(Clone)]
pub struct PyOrderStep {
    kind: &'static str,
    side: &'static str,
    px: f64,
    sz: f64,
    cloid: Option<String>,
    oid: Option<u64>,
    target_cloid: Option<String>,
    reduce_only: bool,
    level: u32,
    batch: u64,
    index: u32,
}

impl From<&OrderStep> for PyOrderStep {
    fn from(a: &OrderStep) -> Self {
        Self {
            kind: a.kind.as_str(),
            side: side_str(a.side),
            px: a.px,
            sz: a.sz,
            cloid: (a.cloid != 0).then(|| cloid_hex(a.cloid)),
            oid: a.oid,
            target_cloid: a.target_cloid.filter(|c| *c != 0).map(cloid_hex),
            reduce_only: a.reduce_only,
            level: a.level,
            batch: a.batch,
            index: a.index,
        }
    }
}

#[pymethods]
impl PyOrderStep {
    fn __repr__(&self) -> String {
        format!(
            "OrderStep(kind={:?}, side={:?}, px={}, sz={}, cloid={:?}, oid={:?}, reduce_only={}, \
             batch={}, index={})",
            self.kind,
            self.side,
            self.px,
            self.sz,
            self.cloid,
            self.oid,
            self.reduce_only,
            self.batch,
            self.index
        )
    }
}

/// What one cycle decided. `quotes`, `actions` and `diagnostics` are built on first access, so a
/// cycle that only needs `actions` pays for nothing else.
#[pyclass(module = "mmfast._core", name = "CycleOutput", frozen)]
pub struct PyCycleOutput {
    now_ms: u64,
    mode: mmfast_core::mode::ExecutionMode,
    zone: mmfast_core::governor::PositionZone,
    quotes: Vec<Quote>,
    actions: Vec<OrderStep>,
    diag: CycleDiagnostics,
}

#[pymethods]
impl PyCycleOutput {
    #[getter]
    fn now_ms(&self) -> u64 {
        self.now_ms
    }

    #[getter]
    fn mode(&self) -> ExecutionMode {
        ExecutionMode(self.mode)
    }

    #[getter]
    fn zone(&self) -> PositionZone {
        self.zone.into()
    }

    /// Desired quotes, bids then asks, nearest the touch first.
    #[getter]
    fn quotes(&self) -> Vec<PyQuote> {
        self.quotes
            .iter()
            .map(|q| PyQuote {
                side: side_str(q.side),
                px: q.px,
                sz: q.sz,
                level: q.level,
                depth_bps: q.depth_bps,
            })
            .collect()
    }

    /// Exchange actions; actions with the same `batch` are one exchange action (send the cancel
    /// batch first: it frees room).
    #[getter]
    fn actions(&self) -> Vec<PyOrderStep> {
        self.actions.iter().map(PyOrderStep::from).collect()
    }

    /// Number of actions (without building them).
    #[getter]
    fn n_actions(&self) -> usize {
        self.actions.len()
    }

    /// Number of taker exits among them (reduce-only IOCs, kind "take"), without building them.
    #[getter]
    fn n_takes(&self) -> usize {
        self.actions
            .iter()
            .filter(|a| a.kind == ActionKind::Take)
            .count()
    }

    /// Half-spread, skew, effective max, caps applied, reason for Flat, pacing, exposure.
    #[getter]
    fn diagnostics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = &self.diag;
        let out = PyDict::new(py);
        for (k, v) in [
            ("mid", d.mid),
            ("position", d.position),
            ("configured_max", d.configured_max),
            ("effective_max", d.effective_max),
            ("half_spread_bps", d.half_spread_bps),
            ("skew_bps", d.skew_bps),
            ("bid_touch_bps", d.bid_touch_bps),
            ("ask_touch_bps", d.ask_touch_bps),
            ("bid_mult", d.bid_mult),
            ("ask_mult", d.ask_mult),
            ("bid_queue_value", d.bid_queue_value),
            ("ask_queue_value", d.ask_queue_value),
            ("room_bid", d.room_bid),
            ("room_ask", d.room_ask),
            ("exposure_buys", d.exposure_buys),
            ("exposure_sells", d.exposure_sells),
            ("quota_widening", d.quota_widening),
            ("sigma_bps", d.sigma_bps),
            ("vol_ratio", d.vol_ratio),
            ("kappa", d.kappa),
            ("a_intensity", d.a_intensity),
            ("toxicity_score", d.toxicity_score),
            ("alpha_bps", d.alpha_bps),
        ] {
            out.set_item(k, v)?;
        }
        let caps: Vec<&str> = d.caps.names().collect();
        out.set_item("caps", caps)?;
        out.set_item(
            "flat_reason",
            (d.flat_reason != FlatReason::None).then(|| d.flat_reason.as_str()),
        )?;
        out.set_item("reduce_only", d.reduce_only)?;
        out.set_item("one_sided", d.one_sided)?;
        out.set_item("unwinding", d.unwinding)?;
        out.set_item("throttled", d.throttled)?;
        out.set_item("requote_interval_ms", d.requote_interval_ms)?;
        out.set_item("tokens", d.tokens)?;
        out.set_item("deferred", d.deferred)?;
        out.set_item("deferred_bid", d.deferred_bid)?;
        out.set_item("deferred_ask", d.deferred_ask)?;
        out.set_item("held", d.held)?;
        out.set_item("bid_empty", d.bid_empty.as_str())?;
        out.set_item("ask_empty", d.ask_empty.as_str())?;
        out.set_item("lead_stale", d.lead_stale)?;
        out.set_item("no_signal_warning", d.no_signal_warning)?;
        out.set_item("has_had_cross_venue", d.has_had_cross_venue)?;
        out.set_item("flow_dir", d.flow_dir)?;
        out.set_item("taker_exit", d.taker_exit)?;
        out.set_item("regime", format!("{:?}", d.regime).to_ascii_lowercase())?;
        out.set_item("toxicity", format!("{:?}", d.toxicity).to_ascii_lowercase())?;
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!(
            "CycleOutput(now_ms={}, mode={}, zone={:?}, quotes={}, actions={})",
            self.now_ms,
            self.mode.kind(),
            self.zone,
            self.quotes.len(),
            self.actions.len()
        )
    }
}

fn seed_arg(seed: Option<u64>) -> u64 {
    // Without a seed, a per-process random one: std's hasher keys come from the OS.
    seed.unwrap_or_else(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(std::process::id().into());
        h.finish()
    })
}

/// `(cloid, oid, side, px, sz, state)` of one tracked order.
type OrderRow = (
    Option<String>,
    Option<u64>,
    &'static str,
    f64,
    f64,
    &'static str,
);

/// The quote engine (SPEC 8, 9). Feed it frames and the account, call `cycle(now_ms)`; it never
/// reads a clock. `seed` makes this process's cloid prefix (random when omitted; pass a fixed
/// one in a backtest for reproducible cloids).
#[pyclass(module = "mmfast._core", name = "QuoteEngine")]
pub struct PyQuoteEngine {
    pub(crate) inner: QuoteEngine,
}

impl PyQuoteEngine {
    /// One cycle, as the Python `CycleOutput` (also `OrderPath.decide`'s first half).
    pub(crate) fn run_cycle(&mut self, now_ms: u64) -> PyCycleOutput {
        let out = self.inner.cycle(now_ms);
        let mut quotes = Vec::with_capacity(out.quotes.bids.len() + out.quotes.asks.len());
        quotes.extend_from_slice(out.quotes.bids.as_slice());
        quotes.extend_from_slice(out.quotes.asks.as_slice());
        PyCycleOutput {
            now_ms,
            mode: out.mode,
            zone: out.zone,
            quotes,
            actions: out.actions.as_slice().to_vec(),
            diag: out.diagnostics,
        }
    }
}

#[pymethods]
impl PyQuoteEngine {
    #[new]
    #[pyo3(signature = (config, *, seed = None))]
    fn new(config: &PyMarketMakerConfig, seed: Option<u64>) -> PyResult<Self> {
        Ok(Self {
            inner: QuoteEngine::new(config.inner.clone(), seed_arg(seed)).py()?,
        })
    }

    /// A new engine carrying the learned state of `save_state` (versioned).
    #[staticmethod]
    #[pyo3(signature = (config, state, *, seed = None))]
    fn load_state(config: &PyMarketMakerConfig, state: &[u8], seed: Option<u64>) -> PyResult<Self> {
        Ok(Self {
            inner: QuoteEngine::load_state(config.inner.clone(), state, seed_arg(seed)).py()?,
        })
    }

    /// Learned state (fill posteriors, Kelly statistics, queue bias, adverse selection, the
    /// signal integrator) as bytes.
    fn save_state<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.save_state())
    }

    /// True when `load_state` restored the signal integrator too (same signal settings).
    #[getter]
    fn signals_restored(&self) -> bool {
        self.inner.signals_restored()
    }

    /// The asset's exchange facts from `meta`: asset id and szDecimals.
    fn set_runtime(&mut self, asset_id: u32, sz_decimals: u32) -> PyResult<()> {
        self.inner.set_runtime(asset_id, sz_decimals).py()
    }

    /// Account state; each keyword is optional (None keeps the current value).
    #[pyo3(signature = (*, position = None, available_margin = None, account_value = None, leverage = None))]
    fn set_account(
        &mut self,
        position: Option<f64>,
        available_margin: Option<f64>,
        account_value: Option<f64>,
        leverage: Option<f64>,
    ) -> PyResult<()> {
        self.inner
            .set_account(position, available_margin, account_value, leverage)
            .py()
    }

    /// The equity the current UTC day opened with, for the daily loss limit (None: the engine's
    /// own 24 h windows of `now_ms`, right only when `now_ms` is epoch time).
    #[pyo3(signature = (equity))]
    fn set_day_start_equity(&mut self, equity: Option<f64>) -> PyResult<()> {
        self.inner.set_day_start_equity(equity).py()
    }

    /// Address quota from `userRateLimit`: `nRequestsUsed`, `nRequestsCap`.
    fn set_quota(&mut self, used: u64, cap: u64) {
        self.inner.set_quota(used, cap);
    }

    /// One raw Hyperliquid market frame (`l2Book`, `bbo`, `trades`, `pong`, ...) received at
    /// `recv_ms`; returns True when the top of book changed.
    fn on_hl_frame(&mut self, frame: &[u8], recv_ms: u64) -> PyResult<bool> {
        self.inner.on_hl_frame(frame, recv_ms).py()
    }

    /// One raw Binance USD-M market frame (`bookTicker`, `aggTrade`, ...) received at
    /// `recv_ms`; returns True when the lead venue's best bid/offer changed.
    fn on_binance_frame(&mut self, frame: &[u8], recv_ms: u64) -> PyResult<bool> {
        self.inner.on_binance_frame(frame, recv_ms).py()
    }

    /// Hyperliquid top of book as numbers (the frame path does the same from raw bytes).
    fn on_hl_top(
        &mut self,
        bid_px: f64,
        bid_sz: f64,
        ask_px: f64,
        ask_sz: f64,
        recv_ms: u64,
    ) -> PyResult<()> {
        self.inner
            .on_hl_top(bid_px, bid_sz, ask_px, ask_sz, recv_ms)
            .py()
    }

    /// Binance best bid/offer as numbers, in Hyperliquid price units.
    fn on_binance_top(&mut self, bid_px: f64, ask_px: f64, recv_ms: u64) -> PyResult<()> {
        self.inner.on_binance_top(bid_px, ask_px, recv_ms).py()
    }

    /// Overrides parts of the signal view (research, tests, backtests that model signals
    /// themselves). Unnamed fields keep their value.
    #[pyo3(signature = (
        *, sigma_bps = None, vol_ratio = None, regime = None, toxicity = None,
        toxicity_score = None, kappa = None, a_intensity = None, alpha_bps = None,
        alpha_actionable = None, has_had_cross_venue = None, cusum_alarm = None, thin_book = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn set_signals(
        &mut self,
        sigma_bps: Option<f64>,
        vol_ratio: Option<f64>,
        regime: Option<&str>,
        toxicity: Option<&str>,
        toxicity_score: Option<f64>,
        kappa: Option<f64>,
        a_intensity: Option<f64>,
        alpha_bps: Option<f64>,
        alpha_actionable: Option<bool>,
        has_had_cross_venue: Option<bool>,
        cusum_alarm: Option<&str>,
        thin_book: Option<f64>,
    ) -> PyResult<()> {
        let mut s = *self.inner.signals();
        for (name, v) in [
            ("sigma_bps", sigma_bps),
            ("vol_ratio", vol_ratio),
            ("toxicity_score", toxicity_score),
            ("alpha_bps", alpha_bps),
            ("thin_book", thin_book),
        ] {
            if let Some(v) = v {
                finite(name, v)?;
            }
        }
        for (name, v) in [("kappa", kappa), ("a_intensity", a_intensity)] {
            if let Some(v) = v {
                mmfast_core::check::positive(name, v).py()?;
            }
        }
        if let Some(v) = sigma_bps {
            s.sigma_bps = v.max(0.0);
        }
        if let Some(v) = vol_ratio {
            s.vol_ratio = v;
        }
        if let Some(r) = regime {
            s.regime = regime_arg(r)?;
        }
        if let Some(t) = toxicity {
            s.toxicity = toxicity_arg(t)?;
        }
        if let Some(v) = toxicity_score {
            s.toxicity_score = v;
        }
        if let Some(v) = kappa {
            s.kappa = v;
        }
        if let Some(v) = a_intensity {
            s.a_intensity = v;
        }
        if let Some(v) = alpha_bps {
            s.alpha_bps = v;
        }
        if let Some(v) = alpha_actionable {
            s.alpha_actionable = v;
        }
        if let Some(v) = has_had_cross_venue {
            s.has_had_cross_venue = v;
        }
        if let Some(c) = cusum_alarm {
            s.cusum_alarm = if c.is_empty() || c == "none" {
                None
            } else {
                Some(side_arg("cusum_alarm", c)?)
            };
        }
        if let Some(v) = thin_book {
            s.thin_book = v;
        }
        self.inner.set_signals(s);
        Ok(())
    }

    /// An `orderUpdates`, `userFills` or `user` (userEvents) frame; returns how many entries
    /// changed the engine's state.
    fn on_user_frame(&mut self, frame: &[u8], recv_ms: u64) -> PyResult<usize> {
        self.inner.on_user_frame(frame, recv_ms).py()
    }

    /// The exchange's answer (the `/exchange` body or the websocket `post` response) to the
    /// action batch `batch_id` (the `batch` of the actions it carried).
    fn on_exchange_response(
        &mut self,
        frame: &[u8],
        recv_ms: u64,
        batch_id: u64,
    ) -> PyResult<usize> {
        self.inner
            .on_exchange_response(frame, recv_ms, batch_id)
            .py()
    }

    /// Runs one cycle at `now_ms` (the clock of every `recv_ms`).
    fn cycle(&mut self, now_ms: u64) -> PyCycleOutput {
        self.run_cycle(now_ms)
    }

    #[getter]
    fn position(&self) -> f64 {
        self.inner.position()
    }

    /// The limits of the engine's last resolve (`resolve_limits` at the mark it last
    /// re-resolved at), or None before it has a book and an account.
    #[getter]
    fn limits(&self) -> Option<crate::decision::ResolvedLimits> {
        self.inner.limits().map(Into::into)
    }

    /// `(buys, sells)`: size that resting and in-flight orders could still trade per direction.
    #[getter]
    fn exposure(&self) -> (f64, f64) {
        let e = self.inner.exposure();
        (e.buys, e.sells)
    }

    /// Our tracked orders as `(cloid, oid, side, px, sz, state)` tuples.
    #[getter]
    fn orders(&self) -> Vec<OrderRow> {
        self.inner
            .orders()
            .iter()
            .map(|o| {
                (
                    (o.cloid != 0).then(|| cloid_hex(o.cloid)),
                    o.oid,
                    side_str(o.side),
                    o.px,
                    o.sz,
                    match o.state {
                        OrderState::PendingNew => "pending_new",
                        OrderState::Resting => "resting",
                        OrderState::PendingCancel => "pending_cancel",
                    },
                )
            })
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "QuoteEngine(asset={:?}, position={}, orders={})",
            self.inner.config().asset,
            self.inner.position(),
            self.inner.orders().len()
        )
    }
}

#[allow(clippy::too_many_arguments)]
/// Reconcile decisions for one side (SPEC 8 step 6), for differential tests: `desired` is the
/// side's `(px, sz)` nearest the touch first, `orders` every live order as `(side, px, sz,
/// state)`. Returns `("keep", order, quote)`, `("modify", order, quote)`, `("cancel", order)` and
/// `("place", quote)` tuples, indices into the two lists.
#[pyfunction]
fn reconcile_side(
    py: Python<'_>,
    mid: f64,
    side: &str,
    desired: Vec<(f64, f64)>,
    orders: Vec<(String, f64, f64, String)>,
    max_bps_diff: f64,
    size_tolerance: f64,
    use_modify: bool,
) -> PyResult<Vec<Py<PyAny>>> {
    use mmfast_core::engine::reconcile::{self, Decision, Decisions, ReconcileParams};
    use mmfast_core::engine::TrackedOrder;
    mmfast_core::check::positive("mid", mid).py()?;
    let side = side_arg("side", side)?;
    if desired.len() > mmfast_core::strategy::MAX_LEVELS
        || orders.len() > mmfast_core::engine::orders::MAX_ORDERS
    {
        return Err(PyValueError::new_err("too many desired quotes or orders"));
    }
    let quotes: Vec<Quote> = desired
        .iter()
        .enumerate()
        .map(|(i, &(px, sz))| Quote {
            side,
            level: i as u32,
            px,
            sz,
            depth_bps: 0.0,
        })
        .collect();
    let mut tracked = Vec::with_capacity(orders.len());
    for (i, (s, px, sz, state)) in orders.iter().enumerate() {
        tracked.push(TrackedOrder {
            cloid: i as u128 + 1,
            oid: Some(i as u64 + 1),
            side: side_arg("orders.side", s)?,
            px: *px,
            sz: *sz,
            reduce_only: false,
            state: match state.as_str() {
                "pending_new" => OrderState::PendingNew,
                "resting" => OrderState::Resting,
                "pending_cancel" => OrderState::PendingCancel,
                _ => {
                    return Err(PyValueError::new_err(format!(
                        "orders.state = {state:?}: expected pending_new, resting or pending_cancel"
                    )))
                }
            },
            depth_bps: 0.0,
            batch: 0,
            index: 0,
            replaces: None,
            queue_ahead: 0.0,
            filled_any: false,
            sent_ms: 0,
            ioc: false,
        });
    }
    let mut out = Box::<Decisions>::default();
    let params = ReconcileParams {
        max_bps_diff,
        size_tolerance,
        use_modify,
    };
    reconcile::reconcile_side(mid, side, &quotes, &tracked, &params, &mut out);
    out.as_slice()
        .iter()
        .map(|d| {
            Ok(match *d {
                Decision::Keep { order, quote } => ("keep", order, quote).into_pyobject(py)?,
                Decision::Modify { order, quote } => ("modify", order, quote).into_pyobject(py)?,
                Decision::Cancel { order } => ("cancel", order).into_pyobject(py)?,
                Decision::Place { quote } => ("place", quote).into_pyobject(py)?,
                Decision::Hold { quote } => ("hold", quote).into_pyobject(py)?,
            }
            .into_any()
            .unbind())
        })
        .collect()
}
